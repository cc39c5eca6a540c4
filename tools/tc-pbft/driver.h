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
//   Broadcast      ["pbft", nil, bytes] to tc-p2p, which sends it to every
//                  other masternode of the registry
//   SendTo         ["pbft", key, bytes] to tc-p2p for that one peer
//   SendDecided    our blocks with their certificates from the height asked
//                  up to our tip (at most --decided-batch of them), read from
//                  the ledger, each as a wire Decided to that peer
//   CatchUp        logged at debug, nothing else: tc-p2p syncs by itself
//                  from the tips its peers announce, and the store's events
//                  move the core on (below)
//   Evidence       counted, published as an event, and held (the newest
//                  --max-evidence pairs) until the store's add-evidence has
//                  checked and written it to the ledger (retried every
//                  --retry-ms while the store does not answer; a pair the
//                  store refuses is logged as an error and dropped)
// Messages from tc-p2p ("in.pbft": [peer key, bytes]) become the core's
// MessageReceived; the core names peers by PeerId, which the daemon assigns
// to an Ed25519 key on first sight (P2pLink), stable for the run. When one
// makes the core count more `malformed` or `bad_signature` for that peer,
// ["misbehaved", key, "malformed" | "bad-signature"] goes to tc-p2p, which
// bans the peer. (non_member, invalid, dropped and stale are no ban: honest
// peers cause them at set changes and under load.) A message tc-p2p cannot
// take at once (--p2p-send-hwm queued) is dropped and counted: the core
// resends its latest votes every --resend-ms anyway.
//
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
//   p2p-send.sock      PUSH     to tc-p2p (connected lazily: tc-p2p may start
//                               before or after us)
//   p2p-events.sock    SUB      from tc-p2p, topic "in.pbft"
//
// status map: height (being decided), view, primary, self (nil: observer),
// n, f, quorum, committed (last committed height), view_changes, commits,
// evidence, waiting ("transactions" | "validation" | "store" | "votes"),
// vote_log_bytes; then, for the current height and view, what a stall
// lacks: have_pre_prepare (bool), missing_prepares and missing_commits (set
// indices whose vote we do not hold, ours included), missing_prepare_keys
// and missing_commit_keys (the same as hex keys); and p2p_in, p2p_out,
// p2p_dropped (messages from and to tc-p2p, and those dropped on a full
// queue). `tc-pbft status` adds what tc-p2p says: p2p ("ok" | "no answer")
// and unreachable (hex keys of the masternodes tc-p2p has no live link to or
// bans; nil when tc-p2p does not answer).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "crypto/keys.h"
#include "ledger/ledger.h"
#include "pbft.h"
#include "replica.h"
#include "util/bytes.h"
#include "util/result.h"

namespace tc::pbft {

// The daemon's link to tc-p2p: the PUSH to p2p-send.sock, the SUB to
// p2p-events.sock ("in.pbft"), and the PeerIds of the keys it has seen.
// Both sockets connect lazily. Not thread-safe.
class P2pLink {
  public:
    // PeerIds start here, well above any replica index: the core counts
    // its own votes under its index.
    static constexpr PeerId kFirstPeerId = 1u << 20;

    // kIo when a socket cannot be made or connected.
    static util::Result<P2pLink> Connect(zmq::context_t& context, const std::string& datadir,
                                         uint64_t send_hwm, uint64_t max_message_bytes);

    // The SUB to poll.
    zmq::socket_t& events() { return m_events; }

    // The PeerId of `key`, assigned on first sight.
    PeerId PeerOf(const crypto::PublicKey& key);
    // The key of a PeerId this link assigned; nullptr for any other.
    const crypto::PublicKey* KeyOf(PeerId peer) const;

    // One message of the SUB as the core's input; nullopt for anything but
    // ["in.pbft", [bin(32) key, bin bytes]] (logged at debug).
    std::optional<MessageReceived> Decode(const std::vector<zmq::message_t>& parts);

    // Queue a message for tc-p2p. false when the queue is full (the message
    // is dropped and counted) or the peer unknown.
    bool Broadcast(util::ByteView bytes);
    bool SendTo(PeerId peer, util::ByteView bytes);
    bool Misbehaved(PeerId peer, std::string_view reason);

    uint64_t received() const { return m_received; }
    uint64_t sent() const { return m_sent; }
    uint64_t dropped() const { return m_dropped; }

  private:
    P2pLink(zmq::socket_t send, zmq::socket_t events)
        : m_send(std::move(send)), m_events(std::move(events)) {}
    bool Push(const msgpack::sbuffer& buf);

    zmq::socket_t m_send;
    zmq::socket_t m_events;
    std::map<crypto::PublicKey, PeerId> m_ids;
    std::vector<crypto::PublicKey> m_keys;  // by PeerId - kFirstPeerId
    uint64_t m_received = 0;
    uint64_t m_sent = 0;
    uint64_t m_dropped = 0;
};

// What one MessageReceived step shows of a peer, from its counters before
// and after: "bad-signature" or "malformed" (a ban), nullopt otherwise.
std::optional<std::string_view> BanReason(const PeerStats& before, const PeerStats& after);

// Encoded wire Decided messages (wire::PbftMessage) of the ledger's blocks
// from `from` up to its tip, at most `max` of them; none when `from` is above
// the tip. Ledger errors pass through.
util::Result<std::vector<util::Bytes>> DecidedMessages(const ledger::Ledger& view, uint64_t from,
                                                       uint64_t max);

// The hex keys of the masternodes a tc-p2p `peers` reply (an array of maps)
// shows as unreachable: no live link, or banned. kInvalid when the reply is
// not an array.
util::Result<std::vector<std::string>> UnreachablePeers(const msgpack::object& peers);

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
