// tc-pbft run: the consensus daemon of one masternode (DESIGN §2, §4), and
// the clients of its request socket (ping, status, evidence) and event
// stream (watch). man/tc-pbft.1 (DAEMON) is the contract.
//
// The daemon drives the deterministic core (replica.h) with real time and
// real stages: it carries out the core's actions and turns what happens
// around it into the core's inputs.
//
//   Persist        appended to the vote log (vote_log.h); the log is synced
//                  before any later action of the same step runs, so no
//                  vote leaves before it is durable
//   SetTimer ...   steady-clock deadlines the poll loop waits on
//   ProposeBlock   the pool's `propose`; an empty answer at view 0 waits
//                  (no empty blocks while idle) until the pool publishes an
//                  accepted transaction, then asks again at once
//   ValidateBlock  the header's timestamp (not before the tip's, at most
//                  --max-clock-skew-ms ahead of our clock), then the pool's
//                  `validate` (the rest: txs, tx root, limits, signatures)
//   Commit         the store's `apply` [block, certificate]; once it is
//                  durable, HeightCommitted with the next height's set, read
//                  from the ledger (read-only)
//   Broadcast ...  to the other masternodes: through tc-p2p (not written
//                  yet); with n = 1 there is no one to send to
//   Evidence       kept in memory (the newest --max-evidence pairs), counted,
//                  published as an event
// A stage that does not answer within --stage-timeout-ms is asked again
// every --retry-ms; the loop keeps serving meanwhile. A block the store
// commits that did not come from us (tc-store import, say) moves the core
// to the next height too (store events).
//
// SOCKETS (under DATADIR/run/)
//   pbft.sock          ROUTER   ping -> "pong"; status -> map (below);
//                               evidence -> [[bin first, bin second], ...]
//   pbft-events.sock   XPUB     ["pbft", [seq, event, height, view, bin hash]]
//                               event: committed | view-change | evidence;
//                               seq counts the events of one run from 1; a
//                               new subscriber first gets "welcome"
//   pool.sock, store.sock               DEALER (requests)
//   pool-events.sock, store-events.sock SUB
//
// status map: height (being decided), view, primary, self (nil: observer),
// n, f, quorum, committed (last committed height), view_changes, commits,
// evidence, waiting ("transactions" | "validation" | "store" | "votes"),
// vote_log_bytes.
#pragma once

#include <iosfwd>

#include "pbft.h"
#include "util/result.h"

namespace tc::pbft {

// The daemon; returns on SIGTERM/SIGINT (success) or when it cannot go on
// safely (a vote log write fails: kIo).
util::Status RunDaemon(const Options& opts);

// The clients. ping prints "pong"; status prints "KEY VALUE" lines or JSON;
// watch prints one JSON line per event until a signal; evidence prints one
// JSON line per pair ({first, second} as hex) or a JSON array with --json.
util::Status PingDaemon(const Options& opts, std::ostream& out);
util::Status PrintStatus(const Options& opts, std::ostream& out);
util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err);
util::Status PrintEvidence(const Options& opts, std::ostream& out);

}  // namespace tc::pbft
