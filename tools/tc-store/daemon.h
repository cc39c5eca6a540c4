// tc-store run: the ledger daemon of one masternode (DESIGN §2), and the
// small client that ping, submit, watch and status --daemon use. The
// request methods themselves are in requests.h, the message pieces in
// protocol.h, the metrics in metrics.h; man/tc-store.1 (DAEMON) is the
// contract.
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
//   ping        []                   -> "pong"
//   status      []                   -> map: chain, chain_id (hex), network,
//                                       height, tip_hash (hex), tip_time_ms,
//                                       genesis_supply, supply, fees_burned
//                                       (str), tx_count, utxo_count,
//                                       masternodes, map_size
//   apply       [bin block, bin cert] or [[bin block, bin cert], ...]
//                                    -> height (uint) of the last block, after
//                                       one durable commit for all of them
//   block       [height | bin hash]  -> map: height, hash (bin), block (bin),
//                                       certificate (bin, nil at height 0)
//   tx          [bin txid]           -> map: txid, height, position,
//                                       block_hash (bin), tx (bin)
//   utxos       [address (str), start after ([bin txid, vout] | nil),
//                limit]              -> map: utxos [[bin txid, vout, amount,
//                                       height, locked]...], next ([bin txid,
//                                       vout] to start the next page after,
//                                       nil on the last page)
//   masternodes [] | [height]        -> map: height, masternodes [map: key
//                                       (bin), endpoint, payout (address),
//                                       collateral ([bin txid, vout] | nil)]
//   evidence    []                   -> map: evidence [[bin key, bin value]],
//                                       truncated (bool)
//   add-evidence [bin first, bin second]
//                                    -> map: added (bool; false when stored
//                                       before), phase, height, view, key
//                                       (bin); refused when the pair is not
//                                       an equivocation (consensus/evidence.h),
//                                       failed when the height is ahead of
//                                       the tip + 1 or the database is full
//   since       [seq]                -> [[seq, height, bin hash]...], the
//                                       events after seq up to the tip
//
// An error is "METHOD: REASON: detail" (protocol.h). A malformed body or an
// unknown method is ok = false with the reason; the daemon carries on. A
// request whose body has no readable id is answered with id 0.
//
// EVENT    ["block", msgpack [seq, height, block hash (bin 32)]], seq = the
// block's height, so the same across restarts: a subscriber that sees a gap
// (or reconnects) asks `since` for what it missed. A new subscriber first
// receives the single frame "welcome" (it then knows it is connected).
//
// The loop (STYLE §5-6) polls the ROUTER, the XPUB and a signalfd for
// SIGTERM/SIGINT; a signal finishes the current request, closes the sockets
// and the ledger, and run returns success (exit 0). The metrics server, when
// asked for, runs on its own thread and reads atomics only.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <vector>

#include "ledger/ledger.h"
#include "protocol.h"
#include "store.h"
#include "util/result.h"

namespace tc::store {

// What watch does with the events, without sockets: prints each once and in
// seq order, and fills a gap (or what passed while it was disconnected)
// from the daemon's `since`.
class EventFollower {
  public:
    using Since = std::function<util::Result<std::vector<protocol::Event>>(uint64_t seq)>;
    using Printer = std::function<void(const protocol::Event&)>;
    // `last`: the seq printed last (watch --since), if any.
    EventFollower(Since since, Printer print, std::optional<uint64_t> last);

    // After (re)connecting: prints the events after the last one printed.
    util::Status Connected();
    // A published event: skipped when printed already; after a gap, the
    // missed ones first. An error says why the gap could not be filled
    // (e was printed anyway).
    util::Status Received(const protocol::Event& e);
    std::optional<uint64_t> last() const { return m_last; }

  private:
    util::Status CatchUp();
    void Emit(const protocol::Event& e);

    Since m_since;
    Printer m_print;
    std::optional<uint64_t> m_last;
};

// tc-store run.
util::Status RunDaemon(const Options& opts);
// tc-store ping: "pong" on out, or kIo "no answer from ENDPOINT".
util::Status PingDaemon(const Options& opts, std::ostream& out);
// tc-store submit: sends the blocks of the export stream on `in` to apply in
// batches of opts.batch (and at most opts.max_message_bytes); one line
// "HEIGHT HASH" per acknowledged block.
util::Status SubmitChain(const Options& opts, std::istream& in, std::ostream& out);
// tc-store watch: one JSON line per block event until SIGTERM/SIGINT; on a
// gap in seq, or a reconnect, the missed events from `since` first.
util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err);
// The daemon's status reply as a ledger::Status; kIo "no answer from
// ENDPOINT" when it does not answer.
util::Result<ledger::Status> DaemonStatus(const Options& opts);

}  // namespace tc::store
