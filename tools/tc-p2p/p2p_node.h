// tc-p2p run: the links of one masternode to the others (DESIGN §5), and the
// clients of its request socket. man/tc-p2p.1 is the contract; the peer
// protocol is p2p_wire.h.
//
// LINKS. Our Ed25519 identity is converted to CURVE keys. We bind one CURVE
// ROUTER (the server) on our endpoint and open one CURVE DEALER (a client)
// to every other masternode of the registry, and to each --peer: a message
// to a peer goes on our DEALER to it (or, for a peer that has no endpoint,
// an observer, back through our ROUTER), a message from a peer arrives on
// our ROUTER named by the ZAP handler (net/zap.h), which admits only the
// registry's keys and the --observer keys. ZeroMQ reconnects a DEALER by
// itself when its peer comes back.
//
// TOPICS. pbft: what the local tc-pbft pushes goes to the other masternodes;
// what they send is published to tc-pbft labelled with their key. tx: what
// the local pool accepts from a client is sent in batches to every other
// masternode, whose tc-p2p submits it to its pool (one hop: the masternodes
// form a full mesh; a txid already seen is not sent or submitted again).
// sync: every tc-p2p announces its tip; a node behind by two blocks, or by
// one for --sync-after-ms, asks ranges of blocks with their certificates of
// several peers at once and hands them in order to tc-store's `apply`,
// which checks every certificate against the set it derives from its own
// chain. A peer whose block the store refuses is banned.
//
// LIMITS. Per peer: a token bucket for messages and one for bytes (a
// message beyond them is dropped and adds a point to the peer's score), a
// score decaying one point a second, a ban at --ban-score for
// --ban-seconds (at once for a malformed frame, an invalid transaction
// signature, a bad block, or what tc-pbft reports as a bad signature).
// --max-inbound connections, --max-outbound DEALERs, --max-message-bytes
// (ZMQ_MAXMSGSIZE), --max-peer-queue messages queued toward a peer,
// --max-seen-txs txids remembered.
//
// SOCKETS (under DATADIR/run/)
//   p2p.sock          ROUTER  ping, status, peers, ban [key hex, seconds]
//   p2p-send.sock     PULL    ["pbft", to (nil: every masternode | bin 32),
//                             bytes] and ["misbehaved", key bin 32, reason]
//   p2p-events.sock   XPUB    "in.pbft" [key bin 32, bytes];
//                             "p2p" [seq, event, peer hex, detail]
//   pool.sock, store.sock               DEALER (requests)
//   pool-events.sock, store-events.sock SUB
#pragma once

#include <iosfwd>

#include "p2p.h"
#include "util/result.h"

namespace tc::p2p {

// The daemon; returns on SIGTERM/SIGINT.
util::Status RunDaemon(const Options& opts);

util::Status PingDaemon(const Options& opts, std::ostream& out);
util::Status PrintStatus(const Options& opts, std::ostream& out);
util::Status PrintPeers(const Options& opts, std::ostream& out);
util::Status BanPeer(const Options& opts, std::ostream& out);
util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err);

}  // namespace tc::p2p
