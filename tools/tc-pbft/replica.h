// The PBFT replica (DESIGN §4) as a deterministic state machine: Step()
// takes one input and returns the actions the driver must carry out, in
// order. No clock, socket, thread, file or randomness inside: the daemon
// (tc-pbft run) and the simulator (tc-pbft simulate) drive the same code, and
// the same inputs always give the same actions.
//
// ONE INSTANCE PER HEIGHT. The replica decides height h = committed + 1. It
// starts in view 0; the primary of (h, v) is set[(h + v) mod n].
//
//   normal case   PRE-PREPARE(h, v, block) from the primary -> the driver
//                 validates the block (ValidateBlock / BlockValidated) ->
//                 PREPARE(h, v, digest) -> q prepares: prepared ->
//                 COMMIT(h, v, digest) -> q commits: Commit(block, cert).
//   view change   the view timer fires (T(v) = min(base * 2^v, max)) ->
//                 VIEW-CHANGE(h, v+1, highest prepared certificate) -> the
//                 primary of v+1 with q of them sends NEW-VIEW carrying them
//                 and re-proposing the block of the highest prepared
//                 certificate (or a new one). A replica that sees f+1 view
//                 changes for views above its own joins the lowest of them.
//   catch-up      a replica still voting on a height another has committed
//                 gets a Decided(block, cert) from it (SendDecided), and one
//                 that sees f+1 members at a higher height asks to catch up.
//
// DURABILITY. Before every action that sends a vote of ours (pre-prepare,
// prepare, commit, view change) the replica emits Persist with the record
// that forbids contradicting it; the driver must make it durable before it
// carries out the actions that follow. A replica rebuilt with Restore() from
// those records never sends a vote contradicting one it sent before: not two
// digests for one (height, view, phase), and nothing in a view below one it
// has asked to leave.
//
// BOUNDS. Messages for views more than max_views_ahead above the current
// one, or heights more than max_heights_ahead above it, are dropped (the
// latter count as a sign that we lag). Future-height messages are held at
// most max_buffered_per_peer per peer. Every rejected message is counted for
// the peer that delivered it (Stats).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "consensus/quorum.h"
#include "crypto/keys.h"
#include "util/bytes.h"
#include "wire/pbft.h"
#include "wire/types.h"

namespace tc::pbft {

using PeerId = uint32_t;  // the driver's name for the link a message came over

// Test-only breakage (tests/unit/pbft_planted_test.cpp proves the simulator
// catches each one). Compiled in only with TC_PBFT_PLANTED_BUGS.
enum class PlantedBug : uint8_t {
    kNone,
    kDuplicateVoteCounted,  // a vote received twice counts twice
    kQuorumTwoF,            // quorum 2f instead of DESIGN §4's q
    kForgetLastVote,        // Restore() drops the last record
    kOtherViewVote,         // votes of any view count toward the current one
    kUncheckedNewView,      // NEW-VIEW accepted without checking its view changes
};

struct Config {
    crypto::Hash256 chain_id{};
    uint64_t base_timeout_ms = 2000;   // T(0), the genesis timeouts.base_ms
    uint64_t max_timeout_ms = 60'000;  // T(v) never exceeds it: genesis timeouts.max_ms
    uint64_t resend_ms = 1000;         // our latest messages for the height go out again this often
    uint64_t max_heights_ahead = 8;
    uint64_t max_views_ahead = 32;
    size_t max_buffered_per_peer = 64;
    bool verify_signatures = true;  // off only to benchmark the core without them
    PlantedBug planted = PlantedBug::kNone;
};

// What the replica must know to decide a height; the driver gives it at
// start and after every commit (HeightCommitted).
struct HeightInfo {
    uint64_t height = 1;                 // the height to decide: committed + 1
    wire::Hash prev_hash{};              // hash of block height - 1
    std::vector<crypto::PublicKey> set;  // masternode set effective at height
    std::optional<uint32_t> self;        // our index in set; none: an observer
};

// A vote of ours the driver keeps durably (Persist) and gives back to
// Restore(). For a commit, `prepared` is the certificate that justified it,
// so a restarted replica still reports it in a view change.
struct VoteRecord {
    wire::SignedPhase phase = wire::SignedPhase::kPrepare;
    uint64_t height = 0;
    uint64_t view = 0;  // for a view change: the new view
    wire::Hash digest{};
    std::optional<wire::PreparedCert> prepared;
    std::optional<wire::Block> block;  // the prepared block, with `prepared`
    bool operator==(const VoteRecord&) const = default;
};

// ---- inputs ----------------------------------------------------------------

struct MessageReceived {
    PeerId peer = 0;
    util::Bytes bytes;  // an encoded wire::PbftMessage
};
struct TimerFired {
    uint64_t id = 0;  // as in the SetTimer it answers
};
struct BlockValidated {
    uint64_t height = 0;
    wire::Hash digest{};
    bool valid = false;
};
struct ProposalReady {
    wire::Block block;  // for (height, view) of the ProposeBlock it answers
};
struct WorkPending {};  // the pool has transactions: start the clock on this height
struct HeightCommitted {
    HeightInfo next;  // the store has the block at next.height - 1
};

using Input = std::variant<MessageReceived, TimerFired, BlockValidated, ProposalReady, WorkPending,
                           HeightCommitted>;

// ---- actions ---------------------------------------------------------------

struct Persist {
    VoteRecord record;  // durable before the next action runs
};
struct Broadcast {
    util::Bytes bytes;  // to every member of the set but us
};
struct SendTo {
    PeerId peer = 0;
    util::Bytes bytes;
};
struct ProposeBlock {
    uint64_t height = 0;
    uint64_t view = 0;
    uint32_t proposer = 0;  // our index: header.proposer
};
struct ValidateBlock {
    uint64_t height = 0;
    wire::Hash digest{};
    wire::Block block;  // check it against the ledger at height - 1
};
struct Commit {
    wire::Block block;
    wire::CommitCertificate cert;
};
struct SetTimer {
    uint64_t id = 0;
    uint64_t delay_ms = 0;  // replaces any timer with the same id
};
struct CancelTimer {
    uint64_t id = 0;
};
struct SendDecided {
    PeerId peer = 0;
    uint64_t height = 0;  // send this peer our blocks and certificates from height on
};
struct CatchUp {
    PeerId peer = 0;
    uint64_t height = 0;  // peer is at least at height: fetch what we lack from it
};
struct Evidence {
    util::Bytes first;   // two messages of one replica, both validly signed,
    util::Bytes second;  // for one (height, view, phase) with different digests
};

using Action = std::variant<Persist, Broadcast, SendTo, ProposeBlock, ValidateBlock, Commit,
                            SetTimer, CancelTimer, SendDecided, CatchUp, Evidence>;

// Timer ids: the view timer and the resend timer.
inline constexpr uint64_t kViewTimer = 1;
inline constexpr uint64_t kResendTimer = 2;

// ---- counters --------------------------------------------------------------

struct PeerStats {
    uint64_t malformed = 0;      // did not decode
    uint64_t bad_signature = 0;  // a signature (or a certificate in it) did not check
    uint64_t non_member = 0;     // signed by a replica index outside the set
    uint64_t invalid = 0;        // decoded and signed, but breaks a rule (wrong primary, ...)
    uint64_t dropped = 0;        // beyond a bound (views or heights ahead, buffer full)
    uint64_t stale = 0;          // for a height we have committed
};

struct Stats {
    uint64_t height = 0;
    uint64_t view = 0;
    uint64_t view_changes = 0;  // views we entered beyond 0
    uint64_t commits = 0;
    uint64_t evidence = 0;
    size_t buffered = 0;        // future-height messages held, all peers
    size_t max_buffered = 0;    // its bound (peers seen * max_buffered_per_peer)
    size_t votes_held = 0;      // votes held for the current height
    size_t max_votes_held = 0;  // its bound
    std::map<PeerId, PeerStats> peers;
};

// What the replica holds for one view of the height it decides (VotesHeld):
// the replica indices whose validly signed PREPARE and COMMIT it has (any
// digest, ours included), and whether it has accepted a PRE-PREPARE.
struct HeldVotes {
    bool have_pre_prepare = false;
    std::vector<uint32_t> prepares;  // ascending
    std::vector<uint32_t> commits;   // ascending
};

class Replica {
  public:
    // `key` must outlive the replica (the driver owns it). The first actions
    // come from Start().
    Replica(Config config, const crypto::SecretKey& key);
    ~Replica();
    Replica(const Replica&) = delete;
    Replica& operator=(const Replica&) = delete;

    // Begins deciding info.height. Call once, after Restore() if any.
    std::vector<Action> Start(const HeightInfo& info);

    // Rebuilds what this replica voted from its durable records (any order;
    // records for heights below the one Start() gets are ignored).
    void Restore(const std::vector<VoteRecord>& records);

    std::vector<Action> Step(const Input& input);

    const Stats& stats() const { return m_stats; }
    uint64_t height() const { return m_info.height; }
    uint64_t view() const { return m_view; }
    consensus::Quorum quorum() const { return m_quorum; }
    // The votes held for `view` of the current height (nothing for a view
    // it holds no state for). Read-only: for `tc-pbft status`.
    HeldVotes VotesHeld(uint64_t view) const;

  private:
    struct ViewState;
    class Out;
    enum class Validation : uint8_t { kPending, kValid, kInvalid };

    // one handler per input kind
    void OnMessage(Out& out, PeerId peer, util::ByteView bytes);
    void OnTimer(Out& out, uint64_t id);
    void OnValidated(Out& out, const BlockValidated& v);
    void OnProposal(Out& out, wire::Block block);
    void OnWork(Out& out);
    void OnCommitted(Out& out, const HeightInfo& next);

    // messages of the current height, decoded
    void Dispatch(Out& out, PeerId peer, const wire::PbftMessage& msg, util::ByteView bytes);
    void OnPrePrepare(Out& out, PeerId peer, const wire::PrePrepare& pp, util::ByteView bytes,
                      bool reproposal);
    void OnVote(Out& out, PeerId peer, const wire::Vote& vote, util::ByteView bytes);
    void OnViewChange(Out& out, PeerId peer, const wire::ViewChange& vc, util::ByteView bytes);
    void OnNewView(Out& out, PeerId peer, const wire::NewView& nv, util::ByteView bytes);
    void OnDecided(Out& out, PeerId peer, const wire::Decided& d);

    // steps of the protocol
    void BeginHeight(Out& out);
    void ArmViewTimer(Out& out);
    void Resend(Out& out);
    void ReplayBuffered(Out& out);
    void TryPropose(Out& out);
    void TryPrepare(Out& out, uint64_t view);
    void TryCommitVote(Out& out, uint64_t view);
    void SendVote(Out& out, wire::VotePhase phase, uint64_t view, const wire::Hash& digest);
    void TryDecide(Out& out, uint64_t view);
    void Decide(Out& out, const wire::Block& block, wire::CommitCertificate cert);
    std::optional<wire::ViewChange> MakeViewChange(uint64_t new_view) const;
    void StartViewChange(Out& out, uint64_t new_view);
    void TryNewView(Out& out, uint64_t new_view);
    void EnterView(Out& out, uint64_t view);
    void PruneViews();

    // checks
    bool CheckSigned(PeerId peer, wire::SignedPhase phase, uint64_t view, const wire::Hash& digest,
                     uint32_t replica, const crypto::Signature& sig);
    bool PreparedCertValid(const wire::PreparedCert& cert) const;
    bool ViewChangeValid(const wire::ViewChange& vc, bool block_allowed) const;
    bool ProposalHeaderValid(const wire::PrePrepare& pp, bool reproposal) const;
    std::optional<wire::PreparedCert> HighestPrepared(
        const std::vector<wire::ViewChange>& vcs) const;
    bool MayVote(wire::SignedPhase phase, uint64_t view, const wire::Hash& digest) const;

    // helpers
    bool IsMember() const { return m_info.self.has_value() && !m_info.set.empty(); }
    uint32_t Self() const { return *m_info.self; }
    uint32_t PrimaryOf(uint64_t view) const;
    size_t QuorumSize() const;
    size_t Count(size_t distinct, size_t raw) const;
    uint64_t KeptViews() const;
    crypto::Signature Sign(wire::SignedPhase phase, uint64_t view, const wire::Hash& digest) const;
    ViewState& View(uint64_t view);
    void Record(Out& out, VoteRecord record);
    void ReportEvidence(Out& out, util::ByteView first, util::ByteView second);
    void Bad(PeerId peer, uint64_t PeerStats::*counter);
    void UpdateStats();

    Config m_config;
    const crypto::SecretKey* m_key;
    HeightInfo m_info;
    consensus::Quorum m_quorum;
    wire::Hash m_mnset_hash{};
    bool m_started = false;
    bool m_decided = false;  // Commit emitted for m_info.height; waiting for HeightCommitted
    bool m_clock_running = false;
    uint64_t m_view = 0;
    bool m_view_changing = false;    // we sent VIEW-CHANGE(m_view) and wait for NEW-VIEW(m_view)
    uint64_t m_max_view_change = 0;  // highest view we sent a VIEW-CHANGE for, this height
    bool m_resumed_in_view = false;  // restarted in m_view, entered by a NEW-VIEW we lack now

    std::map<uint64_t, ViewState> m_views;          // current height, by view
    std::map<wire::Hash, Validation> m_validation;  // current height, by block hash
    std::map<wire::Hash, wire::Block> m_blocks;     // proposals of the current height
    std::optional<wire::PreparedCert> m_prepared;   // our highest prepared certificate
    std::optional<wire::Block> m_prepared_block;
    std::vector<VoteRecord> m_records;         // ours, current height and above
    std::map<PeerId, uint64_t> m_peer_height;  // highest height a peer sent, if above ours
    std::map<PeerId, std::vector<util::Bytes>> m_buffer;  // future-height messages by peer
    std::map<PeerId, uint64_t> m_decided_sent;            // peer -> 1 + height sent Decided from
    uint64_t m_catchup_asked = 0;
    std::vector<util::Bytes> m_latest;  // ours to resend on this height
    Stats m_stats;
};

}  // namespace tc::pbft
