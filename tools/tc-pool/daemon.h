// tc-pool run: the pool daemon (DESIGN §2), and the clients of its request
// socket (status, list, why, submit) and event stream (watch). The methods
// are in requests.h, the event in protocol.h; man/tc-pool.1 is the contract.
//
// SOCKETS (util::RunEndpoint, under DATADIR/run/, created 0700)
//
//   ipc://DATADIR/run/pool.sock            ROUTER, requests (requests.h)
//   ipc://DATADIR/run/pool-events.sock     XPUB, tx events (protocol.h)
//   ipc://DATADIR/run/store-events.sock    SUB, tc-store run's block events
//   ipc://DATADIR/run/store.sock           DEALER, tc-store run's `since`
//
// The loop (STYLE §5-6) polls the ROUTER, the XPUB, the SUB and a signalfd.
// A block event at the next height is read from the ledger (read-only) and
// taken (Requests::BlockCommitted); a gap in the store's seq, or a
// (re)connection ("welcome"), makes it ask the store's `since` for the
// blocks it missed. When the store does not answer, the pool keeps serving
// and asks again every --retry-ms. When the store cannot replay that far
// back (gap-beyond-retention), the pool reads the missed blocks from the
// ledger itself. SIGTERM/SIGINT finish the current request and return
// success (exit 0).
#pragma once

#include <iosfwd>

#include "pool.h"
#include "util/result.h"

namespace tc::pool {

util::Status RunDaemon(const Options& opts);
// ping: prints "pong" when the daemon answers (kIo when it does not).
util::Status PingDaemon(const Options& opts, std::ostream& out);

// status [--json]: the daemon's status map, as JSON or "KEY VALUE" lines.
util::Status PrintStatus(const Options& opts, std::ostream& out);
// list [--limit N] [--json]: "TXID FEE/BYTES" lines, best first, or a JSON
// array of {txid, fee, bytes, rate}.
util::Status PrintList(const Options& opts, std::ostream& out);
// why TXID [--json]: "STATUS [rank=N rate=R] [height=H] [reason=R detail...]"
// or a JSON object.
util::Status PrintWhy(const Options& opts, std::ostream& out);
// watch: one JSON line {seq, event, txid, reason} per event until a signal.
util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err);
// submit: hex transactions, one a line on `in`; one line per tx, "TXID
// accepted" or "TXID|- refused REASON: DETAIL" (or JSON objects with
// --json). kInvalid "N of M transactions refused" when any was.
util::Status SubmitTxs(const Options& opts, std::istream& in, std::ostream& out);

}  // namespace tc::pool
