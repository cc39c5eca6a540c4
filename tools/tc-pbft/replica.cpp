// The PBFT replica state machine (replica.h for the contract; the protocol
// and its safety argument are in man/timecoin-protocol.7, CONSENSUS).
//
// Every handler appends actions to `out` in the order the driver must carry
// them out; a Persist always precedes the Broadcast of the vote it records.
#include "replica.h"

#include <algorithm>
#include <utility>

#include "consensus/certificate.h"
#include "crypto/domain.h"
#include "wire/codec.h"

namespace tc::pbft {

using wire::SignedPhase;

namespace {

// The votes for one digest in one (view, phase).
struct Tally {
    std::map<uint32_t, crypto::Signature> sigs;  // replica -> signature
    size_t raw = 0;                              // votes received, duplicates too
};

// The first message of a replica in one (view, phase): a second one with
// another digest is equivocation evidence, never a vote.
struct FirstSeen {
    wire::Hash digest{};
    util::Bytes bytes;
    bool reported = false;
};

}  // namespace

// Per view of the current height: the accepted proposal, the votes and the
// view changes towards it.
struct Replica::ViewState {
    std::optional<wire::PrePrepare> pre_prepare;
    wire::Hash digest{};  // of pre_prepare
    util::Bytes pre_prepare_bytes;
    bool pre_prepare_reported = false;
    std::map<wire::Hash, Tally> prepares;
    std::map<wire::Hash, Tally> commits;
    std::map<uint32_t, FirstSeen> first_prepare;
    std::map<uint32_t, FirstSeen> first_commit;
    std::map<uint32_t, wire::ViewChange> view_changes;  // towards this view
    std::map<uint32_t, FirstSeen> first_view_change;
    bool prepare_sent = false;
    bool commit_sent = false;
    bool new_view_sent = false;
    bool proposal_requested = false;
};

class Replica::Out {
  public:
    std::vector<Action> actions;
    template <typename A>
    void Add(A action) {
        actions.emplace_back(std::move(action));
    }
};

namespace {

bool Planted(const Config& config, PlantedBug bug) {
#ifdef TC_PBFT_PLANTED_BUGS
    return config.planted == bug;
#else
    (void)config;
    (void)bug;
    return false;
#endif
}

util::Bytes EncodeMessage(wire::PbftMessage msg) {
    return wire::Encode(msg);
}

}  // namespace

Replica::Replica(Config config, const crypto::SecretKey& key)
    : m_config(std::move(config)), m_key(&key) {}

Replica::~Replica() = default;

// ---- entry points -----------------------------------------------------------

void Replica::Restore(const std::vector<VoteRecord>& records) {
    m_records = records;
    if (Planted(m_config, PlantedBug::kForgetLastVote) && !m_records.empty()) {
        m_records.pop_back();
    }
}

std::vector<Action> Replica::Start(const HeightInfo& info) {
    Out out;
    m_started = true;
    m_info = info;
    BeginHeight(out);
    out.Add(SetTimer{kResendTimer, m_config.resend_ms});
    UpdateStats();
    return std::move(out.actions);
}

std::vector<Action> Replica::Step(const Input& input) {
    Out out;
    if (!m_started) return {};
    std::visit(
        [&](const auto& in) {
            using T = std::decay_t<decltype(in)>;
            if constexpr (std::is_same_v<T, MessageReceived>) {
                OnMessage(out, in.peer, in.bytes);
            } else if constexpr (std::is_same_v<T, TimerFired>) {
                OnTimer(out, in.id);
            } else if constexpr (std::is_same_v<T, BlockValidated>) {
                OnValidated(out, in);
            } else if constexpr (std::is_same_v<T, ProposalReady>) {
                OnProposal(out, in.block);
            } else if constexpr (std::is_same_v<T, WorkPending>) {
                OnWork(out);
            } else if constexpr (std::is_same_v<T, HeightCommitted>) {
                OnCommitted(out, in.next);
            }
        },
        input);
    UpdateStats();
    return std::move(out.actions);
}

// ---- heights ----------------------------------------------------------------

void Replica::BeginHeight(Out& out) {
    m_quorum = consensus::QuorumFor(std::max<size_t>(m_info.set.size(), 1));
    m_mnset_hash = consensus::MasternodeSetHash(m_info.set);
    m_views.clear();
    m_validation.clear();
    m_blocks.clear();
    m_prepared.reset();
    m_prepared_block.reset();
    m_latest.clear();
    m_decided = false;
    m_clock_running = false;
    m_view = 0;
    m_view_changing = false;
    m_resumed_in_view = false;
    m_max_view_change = 0;
    std::erase_if(m_records, [&](const VoteRecord& r) { return r.height < m_info.height; });
    std::erase_if(m_peer_height, [&](const auto& entry) { return entry.second <= m_info.height; });

    // What we voted on this height before a restart: resume in the highest
    // view we reached, with the prepared certificate our commits carried.
    for (const auto& r : m_records) {
        if (r.height != m_info.height) continue;
        if (r.phase == SignedPhase::kViewChange) {
            m_max_view_change = std::max(m_max_view_change, r.view);
        }
        if (r.view > m_view) m_view = r.view;
        if (r.prepared && (!m_prepared || r.prepared->view > m_prepared->view)) {
            m_prepared = r.prepared;
            m_prepared_block = r.block;
        }
    }
    if (m_view > 0) {
        // Entered through a VIEW-CHANGE of ours (we wait for the NEW-VIEW) or a
        // NEW-VIEW we accepted (its primary resends it).
        m_view_changing = m_max_view_change == m_view;
        m_resumed_in_view = !m_view_changing;
        m_clock_running = true;
        ArmViewTimer(out);
    }
    if (m_prepared_block) m_blocks[m_prepared->digest] = *m_prepared_block;
    if (m_view_changing && IsMember()) {
        // The same VIEW-CHANGE as before the restart (signatures are
        // deterministic), to resend and to count towards the new view.
        if (auto vc = MakeViewChange(m_view)) {
            util::Bytes bytes = EncodeMessage(*vc);
            m_latest.assign(1, bytes);
            OnViewChange(out, Self(), *vc, bytes);
        }
    }
    TryPropose(out);
    ReplayBuffered(out);
}

void Replica::OnCommitted(Out& out, const HeightInfo& next) {
    if (next.height <= m_info.height) return;  // a repeat, or news we already have
    m_info = next;
    m_stats.commits++;
    out.Add(CancelTimer{kViewTimer});
    BeginHeight(out);
}

void Replica::OnWork(Out& out) {
    if (m_decided || m_clock_running) return;
    m_clock_running = true;
    ArmViewTimer(out);
}

void Replica::ArmViewTimer(Out& out) {
    uint64_t timeout = m_config.base_timeout_ms;
    for (uint64_t v = 0; v < m_view && timeout < m_config.max_timeout_ms; ++v) timeout *= 2;
    out.Add(SetTimer{kViewTimer, std::min(timeout, m_config.max_timeout_ms)});
}

void Replica::OnTimer(Out& out, uint64_t id) {
    if (id == kResendTimer) {
        Resend(out);
        out.Add(SetTimer{kResendTimer, m_config.resend_ms});
        return;
    }
    if (id != kViewTimer || m_decided || !IsMember()) return;
    StartViewChange(out, m_view + 1);
}

void Replica::Resend(Out& out) {
    m_decided_sent.clear();
    if (!m_decided) {
        for (const auto& bytes : m_latest) out.Add(Broadcast{bytes});
    }
    // f+1 peers at higher heights: at least one correct one has moved on.
    // Ask the one with the (f+1)-th highest height, which a correct peer has
    // reached, so f liars claiming huge heights cannot send us astray.
    std::vector<std::pair<uint64_t, PeerId>> ahead;
    for (const auto& [peer, height] : m_peer_height) {
        if (height > m_info.height) ahead.emplace_back(height, peer);
    }
    if (ahead.size() >= m_quorum.f + 1) {
        std::sort(ahead.begin(), ahead.end(), std::greater<>());
        out.Add(CatchUp{ahead[m_quorum.f].second, m_info.height});
    }
}

// ---- messages ---------------------------------------------------------------

void Replica::OnMessage(Out& out, PeerId peer, util::ByteView bytes) {
    auto decoded = wire::DecodePbftMessage(bytes);
    if (!decoded) {
        Bad(peer, &PeerStats::malformed);
        return;
    }
    const wire::PbftMessage& msg = *decoded;
    uint64_t height = wire::MessageHeight(msg);
    if (height < m_info.height || (height == m_info.height && m_decided)) {
        m_stats.peers[peer].stale++;
        // A peer still voting on a height we have: send it the decision.
        if (height < m_info.height && !std::holds_alternative<wire::Decided>(msg)) {
            auto& sent = m_decided_sent[peer];
            if (height + 1 > sent) {
                sent = height + 1;
                out.Add(SendDecided{peer, height});
            }
        }
        return;
    }
    if (height > m_info.height) {
        uint64_t& seen = m_peer_height[peer];
        seen = std::max(seen, height);
        if (height > m_info.height + m_config.max_heights_ahead) {
            Bad(peer, &PeerStats::dropped);
            return;
        }
        auto& held = m_buffer[peer];
        if (held.size() >= m_config.max_buffered_per_peer) {
            Bad(peer, &PeerStats::dropped);
            return;
        }
        held.emplace_back(bytes.begin(), bytes.end());
        if (std::holds_alternative<wire::Decided>(msg) && height > m_catchup_asked) {
            m_catchup_asked = height;
            out.Add(CatchUp{peer, m_info.height});
        }
        return;
    }
    Dispatch(out, peer, msg, bytes);
}

void Replica::ReplayBuffered(Out& out) {
    std::map<PeerId, std::vector<util::Bytes>> held;
    held.swap(m_buffer);
    for (auto& [peer, list] : held) {
        for (auto& bytes : list) OnMessage(out, peer, bytes);
    }
}

void Replica::Dispatch(Out& out, PeerId peer, const wire::PbftMessage& msg, util::ByteView bytes) {
    if (const auto* pp = std::get_if<wire::PrePrepare>(&msg)) {
        if (pp->view != 0) {
            // A proposal of a later view travels inside its NEW-VIEW.
            Bad(peer, &PeerStats::invalid);
            return;
        }
        if (!CheckSigned(peer, SignedPhase::kPrePrepare, pp->view,
                         wire::BlockHash(pp->block.header), pp->replica, pp->signature)) {
            return;
        }
        OnPrePrepare(out, peer, *pp, bytes, false);
    } else if (const auto* vote = std::get_if<wire::Vote>(&msg)) {
        OnVote(out, peer, *vote, bytes);
    } else if (const auto* vc = std::get_if<wire::ViewChange>(&msg)) {
        OnViewChange(out, peer, *vc, bytes);
    } else if (const auto* nv = std::get_if<wire::NewView>(&msg)) {
        OnNewView(out, peer, *nv, bytes);
    } else if (const auto* d = std::get_if<wire::Decided>(&msg)) {
        OnDecided(out, peer, *d);
    }
}

// A pre-prepare whose signature has been checked: standalone for view 0, or
// the proposal of a NEW-VIEW we accepted.
void Replica::OnPrePrepare(Out& out, PeerId peer, const wire::PrePrepare& pp, util::ByteView bytes,
                           bool reproposal) {
    if (pp.replica != PrimaryOf(pp.view)) {
        Bad(peer, &PeerStats::invalid);
        return;
    }
    if (pp.view != m_view || m_view_changing) {
        if (pp.view > m_view) Bad(peer, &PeerStats::dropped);
        return;
    }
    wire::Hash digest = wire::BlockHash(pp.block.header);
    ViewState& vs = View(pp.view);
    if (vs.pre_prepare) {
        if (vs.digest != digest && !vs.pre_prepare_reported) {
            vs.pre_prepare_reported = true;
            ReportEvidence(out, vs.pre_prepare_bytes, bytes);
        }
        return;
    }
    if (!ProposalHeaderValid(pp, reproposal)) {
        Bad(peer, &PeerStats::invalid);
        return;
    }
    // After a restart: keep the slot for the proposal we prepared before.
    if (IsMember() && !MayVote(SignedPhase::kPrepare, pp.view, digest)) return;
    vs.pre_prepare = pp;
    vs.digest = digest;
    vs.pre_prepare_bytes.assign(bytes.begin(), bytes.end());
    m_blocks.emplace(digest, pp.block);
    OnWork(out);
    // Commits may have reached a quorum before the block they are for.
    for (auto& [view, _] : m_views) {
        TryDecide(out, view);
        if (m_decided) return;
    }
    auto known = m_validation.find(digest);
    if (known == m_validation.end()) {
        m_validation[digest] = Validation::kPending;
        out.Add(ValidateBlock{m_info.height, digest, pp.block});
        return;
    }
    TryPrepare(out, pp.view);
}

void Replica::OnValidated(Out& out, const BlockValidated& v) {
    if (v.height != m_info.height || m_decided) return;
    auto it = m_validation.find(v.digest);
    if (it == m_validation.end() || it->second != Validation::kPending) return;
    it->second = v.valid ? Validation::kValid : Validation::kInvalid;
    if (v.valid) TryPrepare(out, m_view);
}

void Replica::OnVote(Out& out, PeerId peer, const wire::Vote& vote, util::ByteView bytes) {
    if (vote.replica >= m_info.set.size()) {
        Bad(peer, &PeerStats::non_member);
        return;
    }
    if (vote.view > m_view + m_config.max_views_ahead || vote.view + KeptViews() < m_view) {
        Bad(peer, &PeerStats::dropped);
        return;
    }
    SignedPhase phase =
        vote.phase == wire::VotePhase::kPrepare ? SignedPhase::kPrepare : SignedPhase::kCommit;
    if (!CheckSigned(peer, phase, vote.view, vote.digest, vote.replica, vote.signature)) return;
    OnWork(out);

    uint64_t view = vote.view;
    if (Planted(m_config, PlantedBug::kOtherViewVote)) view = m_view;
    ViewState& vs = View(view);
    bool prepare = phase == SignedPhase::kPrepare;
    auto& firsts = prepare ? vs.first_prepare : vs.first_commit;
    auto [first, fresh] = firsts.try_emplace(vote.replica);
    if (fresh) {
        first->second.digest = vote.digest;
        first->second.bytes.assign(bytes.begin(), bytes.end());
    } else if (first->second.digest != vote.digest) {
        if (!first->second.reported) {
            first->second.reported = true;
            ReportEvidence(out, first->second.bytes, bytes);
        }
        return;
    }
    auto& tally = (prepare ? vs.prepares : vs.commits)[vote.digest];
    bool counted = tally.sigs.count(vote.replica) > 0;
    if (counted && !Planted(m_config, PlantedBug::kDuplicateVoteCounted)) return;
    tally.raw++;
    tally.sigs.emplace(vote.replica, vote.signature);
    if (prepare) {
        TryCommitVote(out, view);
    } else {
        TryDecide(out, view);
    }
}

void Replica::OnViewChange(Out& out, PeerId peer, const wire::ViewChange& vc,
                           util::ByteView bytes) {
    if (vc.replica >= m_info.set.size()) {
        Bad(peer, &PeerStats::non_member);
        return;
    }
    if (vc.new_view == 0 || vc.new_view > m_view + m_config.max_views_ahead) {
        Bad(peer, &PeerStats::dropped);
        return;
    }
    if (vc.new_view < m_view || (vc.new_view == m_view && !m_view_changing)) {
        // Behind us: our resends (the NEW-VIEW we accepted) bring it along.
        m_stats.peers[peer].stale++;
        return;
    }
    if (!CheckSigned(peer, SignedPhase::kViewChange, vc.new_view, wire::ViewChangeDigest(vc),
                     vc.replica, vc.signature)) {
        return;
    }
    if (!ViewChangeValid(vc, true)) {
        Bad(peer, &PeerStats::invalid);
        return;
    }
    ViewState& vs = View(vc.new_view);
    wire::Hash digest = wire::ViewChangeDigest(vc);
    auto [first, fresh] = vs.first_view_change.try_emplace(vc.replica);
    if (fresh) {
        first->second.digest = digest;
        first->second.bytes.assign(bytes.begin(), bytes.end());
        vs.view_changes.emplace(vc.replica, vc);
    } else if (first->second.digest != digest) {
        if (!first->second.reported) {
            first->second.reported = true;
            ReportEvidence(out, first->second.bytes, bytes);
        }
        return;
    }

    // f+1 replicas want views above ours: at least one correct replica timed
    // out, so join the lowest of those views rather than wait for our timer.
    std::map<uint32_t, uint64_t> lowest;  // replica -> lowest view above ours it asked for
    for (auto it = m_views.upper_bound(m_view); it != m_views.end(); ++it) {
        for (const auto& [replica, _] : it->second.view_changes)
            lowest.try_emplace(replica, it->first);
    }
    if (lowest.size() >= m_quorum.f + 1 && IsMember()) {
        uint64_t join = UINT64_MAX;
        for (const auto& [_, v] : lowest) join = std::min(join, v);
        // Only views we have not asked for yet; waiting in m_view is fine.
        if (join > m_view) StartViewChange(out, join);
    }
    TryNewView(out, vc.new_view);
}

void Replica::OnNewView(Out& out, PeerId peer, const wire::NewView& nv, util::ByteView bytes) {
    if (nv.view == 0 || nv.view > m_view + m_config.max_views_ahead) {
        Bad(peer, &PeerStats::dropped);
        return;
    }
    // Stale unless it is for our view and we resumed in that view after a
    // restart without its proposal.
    if (nv.view < m_view || (nv.view == m_view && !m_view_changing && !m_resumed_in_view)) {
        m_stats.peers[peer].stale++;
        return;
    }
    if (nv.replica != PrimaryOf(nv.view)) {
        Bad(peer, &PeerStats::invalid);
        return;
    }
    if (!CheckSigned(peer, SignedPhase::kNewView, nv.view, wire::NewViewDigest(nv), nv.replica,
                     nv.signature)) {
        return;
    }
    const wire::PrePrepare& pp = nv.proposal;
    wire::Hash digest = wire::BlockHash(pp.block.header);
    if (pp.height != m_info.height || pp.view != nv.view || pp.replica != nv.replica) {
        Bad(peer, &PeerStats::invalid);
        return;
    }
    if (!CheckSigned(peer, SignedPhase::kPrePrepare, pp.view, digest, pp.replica, pp.signature)) {
        return;
    }
    bool reproposal = false;
    if (!Planted(m_config, PlantedBug::kUncheckedNewView)) {
        std::set<uint32_t> replicas;
        for (const auto& vc : nv.view_changes) {
            bool ok = vc.height == m_info.height && vc.new_view == nv.view &&
                      vc.replica < m_info.set.size() && !vc.block &&
                      replicas.insert(vc.replica).second;
            if (!ok ||
                !CheckSigned(peer, SignedPhase::kViewChange, vc.new_view,
                             wire::ViewChangeDigest(vc), vc.replica, vc.signature) ||
                !ViewChangeValid(vc, false)) {
                Bad(peer, &PeerStats::invalid);
                return;
            }
        }
        if (replicas.size() < QuorumSize()) {
            Bad(peer, &PeerStats::invalid);
            return;
        }
        auto highest = HighestPrepared(nv.view_changes);
        if (highest && highest->digest != digest) {
            Bad(peer, &PeerStats::invalid);
            return;
        }
        reproposal = highest.has_value();
    }
    if (!ProposalHeaderValid(pp, reproposal)) {
        Bad(peer, &PeerStats::invalid);
        return;
    }
    EnterView(out, nv.view);
    m_latest.assign(1, util::Bytes(bytes.begin(), bytes.end()));
    OnPrePrepare(out, peer, pp, wire::Encode(wire::PbftMessage{pp}), reproposal);
}

void Replica::OnDecided(Out& out, PeerId peer, const wire::Decided& d) {
    const auto& header = d.block.header;
    wire::Hash digest = wire::BlockHash(header);
    if (header.height != m_info.height || header.prev_hash != m_info.prev_hash ||
        d.cert.block_hash != digest) {
        Bad(peer, &PeerStats::invalid);
        return;
    }
    if (m_config.verify_signatures) {
        auto ok = consensus::VerifyCertificate(d.cert, m_info.set, m_config.chain_id, m_info.height,
                                               digest);
        if (!ok) {
            Bad(peer, &PeerStats::bad_signature);
            return;
        }
    }
    Decide(out, d.block, d.cert);
}

// ---- the normal case --------------------------------------------------------

void Replica::TryPropose(Out& out) {
    if (!IsMember() || m_decided || m_view != 0 || m_view_changing) return;
    if (PrimaryOf(0) != Self()) return;
    ViewState& vs = View(0);
    if (vs.proposal_requested || vs.pre_prepare) return;
    vs.proposal_requested = true;
    out.Add(ProposeBlock{m_info.height, 0, Self()});
}

void Replica::OnProposal(Out& out, wire::Block block) {
    const auto& header = block.header;
    if (!IsMember() || m_decided || header.height != m_info.height || header.view != m_view ||
        header.proposer != Self() || PrimaryOf(m_view) != Self()) {
        return;  // an answer to a request we no longer need
    }
    ViewState& vs = View(m_view);
    if (!vs.proposal_requested || vs.pre_prepare) return;
    wire::Hash digest = wire::BlockHash(header);
    if (m_view == 0) {
        if (m_view_changing || !MayVote(SignedPhase::kPrePrepare, 0, digest)) return;
        wire::PrePrepare pp{m_info.height, 0, Self(), std::move(block),
                            Sign(SignedPhase::kPrePrepare, 0, digest)};
        Record(out, VoteRecord{SignedPhase::kPrePrepare, m_info.height, 0, digest, {}, {}});
        util::Bytes bytes = EncodeMessage(pp);
        out.Add(Broadcast{bytes});
        m_latest.assign(1, bytes);
        OnPrePrepare(out, Self(), pp, bytes, false);
        return;
    }
    // A fresh block for the NEW-VIEW we are assembling.
    m_blocks[digest] = std::move(block);
    TryNewView(out, m_view);
}

void Replica::TryPrepare(Out& out, uint64_t view) {
    if (!IsMember() || m_decided || view != m_view || m_view_changing) return;
    ViewState& vs = View(view);
    if (!vs.pre_prepare || vs.prepare_sent) return;
    auto valid = m_validation.find(vs.digest);
    if (valid == m_validation.end() || valid->second != Validation::kValid) return;
    if (!MayVote(SignedPhase::kPrepare, view, vs.digest)) return;
    vs.prepare_sent = true;
    Record(out, VoteRecord{SignedPhase::kPrepare, m_info.height, view, vs.digest, {}, {}});
    SendVote(out, wire::VotePhase::kPrepare, view, vs.digest);
}

void Replica::TryCommitVote(Out& out, uint64_t view) {
    if (!IsMember() || m_decided || view != m_view || m_view_changing) return;
    ViewState& vs = View(view);
    if (!vs.prepare_sent || vs.commit_sent) return;
    auto tally = vs.prepares.find(vs.digest);
    if (tally == vs.prepares.end() ||
        Count(tally->second.sigs.size(), tally->second.raw) < QuorumSize())
        return;
    if (!MayVote(SignedPhase::kCommit, view, vs.digest)) return;
    wire::PreparedCert cert{view, vs.digest, {}};
    for (const auto& [replica, sig] : tally->second.sigs) cert.sigs.push_back({replica, sig});
    if (!m_prepared || m_prepared->view < view) {
        m_prepared = cert;
        m_prepared_block = m_blocks.at(vs.digest);
    }
    vs.commit_sent = true;
    Record(out, VoteRecord{SignedPhase::kCommit, m_info.height, view, vs.digest, cert,
                           m_blocks.at(vs.digest)});
    SendVote(out, wire::VotePhase::kCommit, view, vs.digest);
}

void Replica::SendVote(Out& out, wire::VotePhase phase, uint64_t view, const wire::Hash& digest) {
    SignedPhase signed_phase =
        phase == wire::VotePhase::kPrepare ? SignedPhase::kPrepare : SignedPhase::kCommit;
    wire::Vote vote{wire::kVoteVersion,
                    phase,
                    m_info.height,
                    view,
                    digest,
                    Self(),
                    Sign(signed_phase, view, digest)};
    util::Bytes bytes = EncodeMessage(vote);
    out.Add(Broadcast{bytes});
    m_latest.push_back(bytes);  // goes out again until the height is decided
    OnVote(out, Self(), vote, bytes);
}

void Replica::TryDecide(Out& out, uint64_t view) {
    if (m_decided) return;
    ViewState& vs = View(view);
    for (const auto& [digest, tally] : vs.commits) {
        if (Count(tally.sigs.size(), tally.raw) < QuorumSize()) continue;
        auto block = m_blocks.find(digest);
        if (block == m_blocks.end()) continue;  // the proposal is still to come
        wire::CommitCertificate cert;
        cert.height = m_info.height;
        cert.view = view;
        cert.block_hash = digest;
        for (const auto& [replica, sig] : tally.sigs) cert.sigs.push_back({replica, sig});
        Decide(out, block->second, std::move(cert));
        return;
    }
}

void Replica::Decide(Out& out, const wire::Block& block, wire::CommitCertificate cert) {
    m_decided = true;
    m_clock_running = false;
    out.Add(CancelTimer{kViewTimer});
    out.Add(Commit{block, std::move(cert)});
}

// ---- view changes -----------------------------------------------------------

// Our VIEW-CHANGE towards new_view, signed, or none when it would contradict
// one we sent before a restart.
std::optional<wire::ViewChange> Replica::MakeViewChange(uint64_t new_view) const {
    wire::ViewChange vc;
    vc.height = m_info.height;
    vc.new_view = new_view;
    vc.replica = Self();
    vc.prepared = m_prepared;
    wire::Hash digest = wire::ViewChangeDigest(vc);
    if (!MayVote(SignedPhase::kViewChange, new_view, digest)) return std::nullopt;
    vc.signature = Sign(SignedPhase::kViewChange, new_view, digest);
    if (m_prepared) vc.block = m_prepared_block;
    return vc;
}

void Replica::StartViewChange(Out& out, uint64_t new_view) {
    if (!IsMember() || m_decided || new_view <= m_view) return;
    auto vc = MakeViewChange(new_view);
    if (!vc) return;
    Record(out, VoteRecord{SignedPhase::kViewChange,
                           m_info.height,
                           new_view,
                           wire::ViewChangeDigest(*vc),
                           {},
                           {}});
    m_max_view_change = std::max(m_max_view_change, new_view);
    m_view = new_view;
    m_view_changing = true;
    m_stats.view_changes++;
    m_clock_running = true;
    ArmViewTimer(out);
    util::Bytes bytes = EncodeMessage(*vc);
    out.Add(Broadcast{bytes});
    m_latest.assign(1, bytes);
    OnViewChange(out, Self(), *vc, bytes);
    PruneViews();
}

void Replica::TryNewView(Out& out, uint64_t new_view) {
    if (!IsMember() || m_decided || new_view != m_view || !m_view_changing) return;
    if (PrimaryOf(new_view) != Self()) return;
    ViewState& vs = View(new_view);
    if (vs.new_view_sent || vs.view_changes.size() < QuorumSize()) return;
    std::vector<wire::ViewChange> vcs;
    for (const auto& [_, vc] : vs.view_changes) {
        vcs.push_back(vc);
        vcs.back().block.reset();
    }
    auto highest = HighestPrepared(vcs);
    std::optional<wire::Block> block;
    if (highest) {
        // Re-propose the highest prepared block: ours, or one a view change carried.
        if (auto it = m_blocks.find(highest->digest); it != m_blocks.end()) block = it->second;
        for (const auto& [_, vc] : vs.view_changes) {
            if (!block && vc.block && vc.prepared && vc.prepared->digest == highest->digest) {
                block = *vc.block;
            }
        }
        if (!block) return;  // wait for a view change that carries it
    } else {
        // A fresh block, asked for once; OnProposal comes back here with it.
        for (const auto& [digest, b] : m_blocks) {
            if (b.header.view == new_view && b.header.proposer == Self() &&
                b.header.height == m_info.height) {
                block = b;
            }
        }
        if (!block) {
            if (!vs.proposal_requested) {
                vs.proposal_requested = true;
                out.Add(ProposeBlock{m_info.height, new_view, Self()});
            }
            return;
        }
    }
    wire::Hash digest = wire::BlockHash(block->header);
    if (!MayVote(SignedPhase::kPrePrepare, new_view, digest)) return;
    vs.new_view_sent = true;
    wire::NewView nv;
    nv.height = m_info.height;
    nv.view = new_view;
    nv.replica = Self();
    nv.view_changes = std::move(vcs);
    nv.proposal = wire::PrePrepare{m_info.height, new_view, Self(), *block,
                                   Sign(SignedPhase::kPrePrepare, new_view, digest)};
    nv.signature = Sign(SignedPhase::kNewView, new_view, wire::NewViewDigest(nv));
    Record(out, VoteRecord{SignedPhase::kPrePrepare, m_info.height, new_view, digest, {}, {}});
    util::Bytes bytes = EncodeMessage(nv);
    out.Add(Broadcast{bytes});
    OnNewView(out, Self(), nv, bytes);
}

void Replica::EnterView(Out& out, uint64_t view) {
    m_resumed_in_view = false;
    m_view = view;
    m_view_changing = false;
    m_clock_running = true;
    ArmViewTimer(out);
    PruneViews();
}

void Replica::PruneViews() {
    uint64_t keep = KeptViews();
    if (m_view <= keep) return;
    m_views.erase(m_views.begin(), m_views.lower_bound(m_view - keep));
}

// ---- checks -----------------------------------------------------------------

bool Replica::CheckSigned(PeerId peer, SignedPhase phase, uint64_t view, const wire::Hash& digest,
                          uint32_t replica, const crypto::Signature& sig) {
    if (replica >= m_info.set.size()) {
        Bad(peer, &PeerStats::non_member);
        return false;
    }
    if (!m_config.verify_signatures) return true;
    util::Bytes msg = crypto::VoteSigningMessage(m_config.chain_id, static_cast<uint8_t>(phase),
                                                 m_info.height, view, digest);
    if (!crypto::Verify(m_info.set[replica], msg, sig)) {
        Bad(peer, &PeerStats::bad_signature);
        return false;
    }
    return true;
}

bool Replica::PreparedCertValid(const wire::PreparedCert& cert) const {
    if (cert.sigs.size() < QuorumSize()) return false;
    util::Bytes msg =
        crypto::VoteSigningMessage(m_config.chain_id, static_cast<uint8_t>(SignedPhase::kPrepare),
                                   m_info.height, cert.view, cert.digest);
    for (size_t i = 0; i < cert.sigs.size(); ++i) {
        const auto& s = cert.sigs[i];
        if (s.index >= m_info.set.size()) return false;
        if (i > 0 && s.index <= cert.sigs[i - 1].index) return false;
        if (m_config.verify_signatures && !crypto::Verify(m_info.set[s.index], msg, s.signature)) {
            return false;
        }
    }
    return true;
}

bool Replica::ViewChangeValid(const wire::ViewChange& vc, bool block_allowed) const {
    if (vc.block && (!block_allowed || !vc.prepared ||
                     wire::BlockHash(vc.block->header) != vc.prepared->digest)) {
        return false;
    }
    if (!vc.prepared) return true;
    return vc.prepared->view < vc.new_view && PreparedCertValid(*vc.prepared);
}

bool Replica::ProposalHeaderValid(const wire::PrePrepare& pp, bool reproposal) const {
    const auto& h = pp.block.header;
    if (h.height != m_info.height || h.prev_hash != m_info.prev_hash ||
        h.mnset_hash != m_mnset_hash) {
        return false;
    }
    // A re-proposed block keeps the header it was prepared with.
    return reproposal || (h.view == pp.view && h.proposer == pp.replica);
}

std::optional<wire::PreparedCert> Replica::HighestPrepared(
    const std::vector<wire::ViewChange>& vcs) const {
    std::optional<wire::PreparedCert> best;
    for (const auto& vc : vcs) {
        if (!vc.prepared) continue;
        const auto& p = *vc.prepared;
        if (!best || p.view > best->view || (p.view == best->view && p.digest < best->digest)) {
            best = p;
        }
    }
    return best;
}

// May we send this vote? Not if we sent another digest for the same (height,
// view, phase), nor anything in a view below one we asked to leave. Sending
// the same vote again is fine: the signature is deterministic.
bool Replica::MayVote(SignedPhase phase, uint64_t view, const wire::Hash& digest) const {
    if (phase != SignedPhase::kViewChange && view < m_max_view_change) return false;
    for (const auto& r : m_records) {
        if (r.height == m_info.height && r.phase == phase && r.view == view && r.digest != digest) {
            return false;
        }
    }
    return true;
}

// ---- helpers ----------------------------------------------------------------

uint32_t Replica::PrimaryOf(uint64_t view) const {
    if (m_info.set.empty()) return 0;
    return static_cast<uint32_t>((m_info.height + view) % m_info.set.size());
}

size_t Replica::QuorumSize() const {
    if (Planted(m_config, PlantedBug::kQuorumTwoF)) return std::max<size_t>(2 * m_quorum.f, 1);
    return m_quorum.q;
}

size_t Replica::Count(size_t distinct, size_t raw) const {
    return Planted(m_config, PlantedBug::kDuplicateVoteCounted) ? raw : distinct;
}

uint64_t Replica::KeptViews() const {
    return m_config.max_views_ahead;
}

crypto::Signature Replica::Sign(SignedPhase phase, uint64_t view, const wire::Hash& digest) const {
    return m_key->Sign(crypto::VoteSigningMessage(m_config.chain_id, static_cast<uint8_t>(phase),
                                                  m_info.height, view, digest));
}

HeldVotes Replica::VotesHeld(uint64_t view) const {
    HeldVotes held;
    auto it = m_views.find(view);
    if (it == m_views.end()) return held;
    const ViewState& vs = it->second;
    held.have_pre_prepare = vs.pre_prepare.has_value();
    for (const auto& [replica, _] : vs.first_prepare) held.prepares.push_back(replica);
    for (const auto& [replica, _] : vs.first_commit) held.commits.push_back(replica);
    return held;
}

Replica::ViewState& Replica::View(uint64_t view) {
    return m_views[view];
}

void Replica::Record(Out& out, VoteRecord record) {
    // Voting again as before a restart: the record is already durable.
    if (std::find(m_records.begin(), m_records.end(), record) != m_records.end()) return;
    m_records.push_back(record);
    out.Add(Persist{std::move(record)});
}

void Replica::ReportEvidence(Out& out, util::ByteView first, util::ByteView second) {
    m_stats.evidence++;
    out.Add(Evidence{util::Bytes(first.begin(), first.end()),
                     util::Bytes(second.begin(), second.end())});
}

void Replica::Bad(PeerId peer, uint64_t PeerStats::*counter) {
    m_stats.peers[peer].*counter += 1;
}

void Replica::UpdateStats() {
    m_stats.height = m_info.height;
    m_stats.view = m_view;
    m_stats.buffered = 0;
    for (const auto& [_, list] : m_buffer) m_stats.buffered += list.size();
    m_stats.max_buffered = std::max<size_t>(m_buffer.size(), 1) * m_config.max_buffered_per_peer;
    size_t held = 0;
    for (const auto& [_, vs] : m_views) {
        held += vs.first_prepare.size() + vs.first_commit.size() + vs.view_changes.size();
    }
    m_stats.votes_held = held;
    m_stats.max_votes_held = (2 * KeptViews() + 1) * m_info.set.size() * 3;
}

}  // namespace tc::pbft
