// tc-store run: the ledger daemon of one masternode (DESIGN §2), and the
// small client that ping, submit and watch use.
//
// SOCKETS (util::RunEndpoint, under DATADIR/run/, created 0700)
//
//   ipc://DATADIR/run/store.sock         ROUTER, requests
//   ipc://DATADIR/run/store-events.sock  XPUB, events
//
// REQUEST  [identity, "", body]  body = msgpack [1, id (uint), method (str),
//                                               params (array)]
// REPLY    [identity, "", body]  body = msgpack [1, id, ok (bool),
//                                               result | error (str)]
//
//   ping    []                   -> "pong"
//   status  []                   -> map: chain, chain_id (hex), network,
//                                   height, tip_hash (hex), tip_time_ms,
//                                   genesis_supply, supply, fees_burned (str),
//                                   tx_count, utxo_count, masternodes, map_size
//   apply   [bin block, bin cert] -> height (uint), after the durable commit
//
// A malformed body, an unknown method or a refused block is ok = false with
// the reason; the daemon carries on. A request whose body has no readable id
// is answered with id 0.
//
// EVENT    ["block", msgpack [seq (uint, 1, 2, ... per daemon run), height,
//                             block hash (bin 32)]]
// A new subscriber first receives the single frame "welcome" (it then knows
// it is connected).
//
// The loop (STYLE §5-6) polls the ROUTER, the XPUB and a signalfd for
// SIGTERM/SIGINT; a signal finishes the current request, closes the sockets
// and the ledger, and run returns success (exit 0).
#pragma once

#include <iosfwd>

#include "store.h"
#include "util/result.h"

namespace tc::store {

// tc-store run.
util::Status RunDaemon(const Options& opts);
// tc-store ping: "pong" on out, or kIo "no answer from ENDPOINT".
util::Status PingDaemon(const Options& opts, std::ostream& out);
// tc-store submit: sends each block of the export stream on `in` to apply;
// one line "HEIGHT HASH" per acknowledged block.
util::Status SubmitChain(const Options& opts, std::istream& in, std::ostream& out);
// tc-store watch: one JSON line per block event until SIGTERM/SIGINT.
util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err);

}  // namespace tc::store
