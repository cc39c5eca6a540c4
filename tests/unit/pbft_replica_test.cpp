// The PBFT replica, one rule a test, driven by a small synchronous harness:
// messages are delivered in order, instantly, unless a test holds or drops
// them; timers fire only when a test fires them. The seeded byzantine
// simulator (pbft_sim_test) covers the schedules this cannot.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <set>

#include "consensus/certificate.h"
#include "consensus/quorum.h"
#include "crypto/domain.h"
#include "pbft_harness.h"
#include "replica.h"
#include "signed_vote.h"
#include "wire/codec.h"

namespace tc::pbft {
namespace {

using test::ChainId;
using test::Envelope;
using test::Harness;
using wire::SignedPhase;

util::Bytes SignedVote(const crypto::SecretKey& key, uint32_t replica, wire::VotePhase phase,
                       uint64_t height, uint64_t view, const wire::Hash& digest) {
    return tc::test::VoteBytes(ChainId(), key, replica, height, view, digest, phase);
}

bool CertificateChecks(const Harness& h, size_t i, size_t height) {
    const auto& cert = h.certs(i)[height - 1];
    return consensus::VerifyCertificate(cert, h.set(), ChainId(), height,
                                        wire::BlockHash(h.chain(i)[height - 1].header))
        .ok();
}

TEST(Quorum, SizesForOneToTwenty) {
    for (size_t n = 1; n <= 20; ++n) {
        auto q = consensus::QuorumFor(n);
        EXPECT_EQ(q.f, (n - 1) / 3) << n;
        EXPECT_EQ(q.q, (n + q.f + 2) / 2) << n;
        // Two quorums share a correct masternode, and the correct ones alone
        // make a quorum.
        EXPECT_GE(2 * q.q, n + q.f + 1) << n;
        EXPECT_LE(q.q, n - q.f) << n;
        if (n % 3 == 1) {
            EXPECT_EQ(q.q, 2 * q.f + 1) << n;
        }
    }
    EXPECT_EQ(consensus::QuorumFor(1).q, 1u);
    EXPECT_EQ(consensus::QuorumFor(4).q, 3u);
    EXPECT_EQ(consensus::QuorumFor(5).q, 4u);  // ceil((5 + 1 + 1) / 2)
}

TEST(Replica, OneReplicaCommitsAlone) {
    Harness h(1);
    h.StartAll();
    h.Run();
    ASSERT_EQ(h.chain(0).size(), 3u) << "n = 1 should commit every height at once";
    EXPECT_TRUE(CertificateChecks(h, 0, 1));
    EXPECT_EQ(h.certs(0)[0].sigs.size(), 1u);
}

TEST(Replica, FourReplicasAgreeAndCertificatesVerify) {
    Harness h(4);
    h.StartAll();
    h.Run(2000);
    for (size_t i = 0; i < 4; ++i) {
        ASSERT_GE(h.chain(i).size(), 3u) << i;
        for (size_t height = 1; height <= 3; ++height) {
            EXPECT_EQ(h.chain(i)[height - 1], h.chain(0)[height - 1]);
            EXPECT_TRUE(CertificateChecks(h, i, height));
        }
    }
}

TEST(Replica, PersistsEachVoteBeforeSendingIt) {
    Harness h(4);
    h.StartAll();
    h.Run(2000);
    ASSERT_GE(h.chain(0).size(), 3u);
    EXPECT_EQ(h.m_votes_sent, 27u) << "3 heights of 1 proposal, 4 prepares, 4 commits";
    EXPECT_EQ(h.m_unpersisted, 0u) << "a vote went out before its record";
}

TEST(Replica, InvalidBlockGetsNoVotes) {
    Harness h(4);
    // Every block the primary of height 1 proposes is refused by the ledger.
    h.m_propose_hook = [&](wire::Block b) {
        if (b.header.height == 1) h.m_invalid.insert(wire::BlockHash(b.header));
        return b;
    };
    h.StartAll();
    h.Run();
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_TRUE(h.chain(i).empty()) << i;
        for (const auto& r : h.records(i)) EXPECT_NE(r.phase, SignedPhase::kPrepare) << i;
    }
}

TEST(ViewChange, ReproposesTheHighestPreparedBlock) {
    Harness h(4);
    // Lose every COMMIT of height 1: all four prepare the block of view 0
    // but nobody commits it.
    h.m_drop = [](const Envelope& e) {
        auto msg = wire::DecodePbftMessage(e.bytes);
        auto* v = std::get_if<wire::Vote>(&*msg);
        return v && v->phase == wire::VotePhase::kCommit && v->height == 1;
    };
    h.StartAll();
    h.WorkAll();
    h.Run();
    wire::Hash prepared{};
    for (size_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(h.chain(i).empty());
        bool committed_vote = false;
        for (const auto& r : h.records(i)) {
            if (r.phase == SignedPhase::kCommit) {
                committed_vote = true;
                prepared = r.digest;
            }
        }
        ASSERT_TRUE(committed_vote) << i;
    }
    // Proposals of later views would be new blocks: the new primary must
    // not use one.
    h.m_drop = nullptr;
    for (size_t i = 0; i < 4; ++i) h.Fire(i, kViewTimer);
    h.Run();
    for (size_t i = 0; i < 4; ++i) {
        ASSERT_GE(h.chain(i).size(), 1u) << i;
        EXPECT_EQ(wire::BlockHash(h.chain(i)[0].header), prepared) << i;
        EXPECT_EQ(h.certs(i)[0].view, 1u) << "committed in view 1";
        EXPECT_EQ(h.chain(i)[0].header.view, 0u) << "the header keeps its first view";
        EXPECT_TRUE(CertificateChecks(h, i, 1));
    }
}

TEST(ViewChange, FPlusOneViewChangesPullAReplicaAlong) {
    Harness h(4);
    h.m_drop = [](const Envelope& e) {
        auto msg = wire::DecodePbftMessage(e.bytes);
        return std::holds_alternative<wire::PrePrepare>(*msg);  // a silent primary, in effect
    };
    h.StartAll();
    h.Run();
    // Two replicas time out; the other two join them without a timer.
    h.m_drop = nullptr;
    h.Fire(2, kViewTimer);
    h.Fire(3, kViewTimer);
    h.Run();
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_GE(h.chain(i).size(), 1u) << i;
        EXPECT_GE(h.replica(i).stats().view_changes + h.replica(i).stats().commits, 1u) << i;
    }
}

TEST(Evidence, TwoConflictingVotesOfOneReplica) {
    Harness h(4);
    h.StartAll();
    h.m_queue.clear();
    wire::Hash a{}, b{};
    a.fill(1);
    b.fill(2);
    // Replica 3 prepares two different digests in view 0 of height 1.
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kPrepare, 1, 0, a));
    EXPECT_EQ(h.evidence(0), 0u);
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kPrepare, 1, 0, b));
    EXPECT_EQ(h.evidence(0), 1u);
    EXPECT_EQ(h.replica(0).stats().evidence, 1u);
    // Reported once, and a same-digest duplicate is not evidence.
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kPrepare, 1, 0, b));
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kPrepare, 1, 0, a));
    EXPECT_EQ(h.evidence(0), 1u);
    // Another phase is another slot.
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kCommit, 1, 0, a));
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kCommit, 1, 0, b));
    EXPECT_EQ(h.evidence(0), 2u);
}

TEST(Replica, RejectsAndCountsBadMessagesPerPeer) {
    Harness h(4);
    h.StartAll();
    h.m_queue.clear();
    wire::Hash d{};
    d.fill(7);
    h.Deliver(2, 0, util::Bytes{0x93, 0x01});  // truncated
    EXPECT_EQ(h.replica(0).stats().peers.at(2).malformed, 1u);
    // Signed by replica 3's key, claiming to be replica 1.
    h.Deliver(2, 0, SignedVote(h.key(3), 1, wire::VotePhase::kPrepare, 1, 0, d));
    EXPECT_EQ(h.replica(0).stats().peers.at(2).bad_signature, 1u);
    // An index outside the set.
    h.Deliver(2, 0, SignedVote(h.key(3), 9, wire::VotePhase::kPrepare, 1, 0, d));
    EXPECT_EQ(h.replica(0).stats().peers.at(2).non_member, 1u);
    // A signature for another chain.
    wire::Vote v{wire::kVoteVersion, wire::VotePhase::kPrepare, 1, 0, d, 3, {}};
    crypto::Hash256 other{};
    v.signature = h.key(3).Sign(crypto::VoteSigningMessage(other, 1, 1, 0, d));
    h.Deliver(2, 0, wire::Encode(wire::PbftMessage{v}));
    EXPECT_EQ(h.replica(0).stats().peers.at(2).bad_signature, 2u);
    // A prepare signature offered as a commit.
    wire::Vote c{wire::kVoteVersion, wire::VotePhase::kCommit, 1, 0, d, 3, {}};
    c.signature = h.key(3).Sign(crypto::VoteSigningMessage(ChainId(), 1, 1, 0, d));
    h.Deliver(2, 0, wire::Encode(wire::PbftMessage{c}));
    EXPECT_EQ(h.replica(0).stats().peers.at(2).bad_signature, 3u);
    EXPECT_EQ(h.replica(0).stats().votes_held, 0u) << "none of them counted";
}

TEST(Replica, VotesOfAnotherViewDoNotCount) {
    Harness h(4);
    // Replica 1's pre-prepare at view 0 is height 1's (primary (1+0)%4 = 1).
    // Prepares from three replicas but in view 1 must not make replica 0
    // prepared in view 0.
    std::vector<Envelope> held;
    h.m_drop = [&](const Envelope& e) {
        held.push_back(e);
        return true;
    };
    h.StartAll();
    h.Run();
    h.m_drop = nullptr;
    // Deliver only the pre-prepare to replica 0.
    for (const auto& e : held) {
        auto msg = wire::DecodePbftMessage(e.bytes);
        if (e.to == 0 && std::holds_alternative<wire::PrePrepare>(*msg))
            h.Deliver(e.from, 0, e.bytes);
    }
    h.m_queue.clear();
    auto pre = std::find_if(h.records(0).begin(), h.records(0).end(),
                            [](const auto& r) { return r.phase == SignedPhase::kPrepare; });
    ASSERT_NE(pre, h.records(0).end());
    // A copy: the deliveries below append to the records (and may move them).
    const wire::Hash digest = pre->digest;
    for (uint32_t r : {1u, 2u, 3u}) {
        h.Deliver(r, 0, SignedVote(h.key(r), r, wire::VotePhase::kPrepare, 1, 1, digest));
    }
    for (const auto& rec : h.records(0)) EXPECT_NE(rec.phase, SignedPhase::kCommit);
    // The same three in view 0 do.
    for (uint32_t r : {1u, 2u, 3u}) {
        h.Deliver(r, 0, SignedVote(h.key(r), r, wire::VotePhase::kPrepare, 1, 0, digest));
    }
    EXPECT_EQ(h.records(0).back().phase, SignedPhase::kCommit);
}

TEST(Bounds, FutureHeightsAreBufferedPerPeerUpToTheLimit) {
    Config config;
    config.max_buffered_per_peer = 5;
    config.max_heights_ahead = 3;
    Harness h(4, config);
    h.StartAll();
    h.m_queue.clear();
    wire::Hash d{};
    for (uint64_t i = 0; i < 50; ++i) {
        d[0] = static_cast<uint8_t>(i);
        h.Deliver(2, 0, SignedVote(h.key(2), 2, wire::VotePhase::kPrepare, 2 + i % 3, 0, d));
    }
    EXPECT_EQ(h.replica(0).stats().buffered, 5u);
    EXPECT_LE(h.replica(0).stats().buffered, h.replica(0).stats().max_buffered);
    EXPECT_EQ(h.replica(0).stats().peers.at(2).dropped, 45u);
    // Far ahead: dropped at once.
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kPrepare, 100, 0, d));
    EXPECT_EQ(h.replica(0).stats().peers.at(3).dropped, 1u);
    // Views far ahead too.
    h.Deliver(3, 0, SignedVote(h.key(3), 3, wire::VotePhase::kPrepare, 1, 1000, d));
    EXPECT_EQ(h.replica(0).stats().peers.at(3).dropped, 2u);
}

TEST(Restart, NeverContradictsAVoteSentBefore) {
    Harness h(4);
    h.StartAll();
    h.m_queue.clear();
    // Replica 0 accepts the proposal A of height 1, view 0 and prepares it.
    // It restarts; the (equivocating) primary then offers B: no vote.
    wire::Block a;
    a.header.height = 1;
    a.header.view = 0;
    a.header.proposer = 1;
    a.header.tx_root = wire::TxRoot(a.txs);
    a.header.mnset_hash = consensus::MasternodeSetHash(h.set());
    wire::Block b = a;
    b.header.timestamp_ms = 99;
    auto pre_prepare = [&](const wire::Block& block) {
        wire::PrePrepare pp{1, 0, 1, block, {}};
        pp.signature = h.key(1).Sign(
            crypto::VoteSigningMessage(ChainId(), 3, 1, 0, wire::BlockHash(block.header)));
        return wire::Encode(wire::PbftMessage{pp});
    };
    h.Deliver(1, 0, pre_prepare(a));
    ASSERT_EQ(h.records(0).size(), 1u);
    EXPECT_EQ(h.records(0)[0].digest, wire::BlockHash(a.header));
    h.Boot(0);
    h.m_queue.clear();
    h.Deliver(1, 0, pre_prepare(b));
    EXPECT_EQ(h.records(0).size(), 1u) << "no vote for B after the restart";
    // A again is fine (the same vote, resent).
    h.Deliver(1, 0, pre_prepare(a));
    ASSERT_EQ(h.m_queue.size(), 3u);
    auto msg = wire::DecodePbftMessage(h.m_queue.front().bytes);
    ASSERT_TRUE(std::holds_alternative<wire::Vote>(*msg));
    EXPECT_EQ(std::get<wire::Vote>(*msg).digest, wire::BlockHash(a.header));
}

TEST(Restart, NoVoteInAViewItAskedToLeave) {
    Harness h(4);
    h.StartAll();
    h.m_queue.clear();
    h.Step(0, WorkPending{});
    h.Fire(0, kViewTimer);  // VIEW-CHANGE to view 1
    ASSERT_EQ(h.records(0).back().phase, SignedPhase::kViewChange);
    h.Boot(0);
    EXPECT_EQ(h.replica(0).view(), 1u) << "resumes in the view it moved to";
    h.m_queue.clear();
    // A proposal of view 0 arrives late: no prepare.
    wire::Block a;
    a.header.height = 1;
    a.header.proposer = 1;
    a.header.tx_root = wire::TxRoot(a.txs);
    a.header.mnset_hash = consensus::MasternodeSetHash(h.set());
    wire::PrePrepare pp{1, 0, 1, a, {}};
    pp.signature =
        h.key(1).Sign(crypto::VoteSigningMessage(ChainId(), 3, 1, 0, wire::BlockHash(a.header)));
    size_t before = h.records(0).size();
    h.Deliver(1, 0, wire::Encode(wire::PbftMessage{pp}));
    EXPECT_EQ(h.records(0).size(), before);
}

TEST(Catchup, ALaggingReplicaGetsTheDecision) {
    Harness h(4);
    // Replica 3 hears nothing while the others commit heights 1 and 2.
    h.m_drop = [](const Envelope& e) { return e.to == 3 || e.from == 3; };
    h.StartAll();
    h.Run(3000);
    ASSERT_GE(h.chain(0).size(), 2u);
    ASSERT_TRUE(h.chain(3).empty());
    h.m_drop = nullptr;
    // Its resend timer sends its stale votes; the others answer with blocks.
    h.Step(3, WorkPending{});
    h.Fire(3, kViewTimer);
    h.Run(3000);
    EXPECT_GE(h.chain(3).size(), 2u);
    for (size_t height = 1; height <= std::min(h.chain(3).size(), h.chain(0).size()); ++height) {
        EXPECT_EQ(h.chain(3)[height - 1], h.chain(0)[height - 1]);
    }
}

}  // namespace
}  // namespace tc::pbft
