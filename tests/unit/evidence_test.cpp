// Equivocation evidence (common/consensus/evidence.h): what counts as an
// equivocation, the entry's key and value.
#include "consensus/evidence.h"

#include <gtest/gtest.h>

#include "signed_vote.h"
#include "test_chain.h"

namespace tc {
namespace {

using consensus::CheckEquivocation;
using wire::SignedPhase;

class EvidenceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(crypto::InitSodium().ok());
        for (uint8_t i = 0; i < 4; ++i) m_keys.push_back(test::Key(static_cast<uint8_t>(100 + i)));
        for (const auto& k : m_keys) m_set.push_back(k.public_key());
        m_chain_id = crypto::Blake2b256(util::AsBytes("evidence-test"));
        m_a = crypto::Blake2b256(util::AsBytes("block a"));
        m_b = crypto::Blake2b256(util::AsBytes("block b"));
    }

    util::Bytes Vote(uint32_t signer, uint32_t replica, uint64_t h, uint64_t v,
                     const wire::Hash& digest,
                     wire::VotePhase phase = wire::VotePhase::kPrepare) const {
        return test::VoteBytes(m_chain_id, m_keys[signer], replica, h, v, digest, phase);
    }

    util::Result<consensus::Equivocation> Check(util::ByteView first, util::ByteView second) {
        consensus::SetAt set_at =
            [this](uint64_t h) -> util::Result<std::vector<crypto::PublicKey>> {
            m_asked = h;
            return m_set;
        };
        return CheckEquivocation(m_chain_id, set_at, first, second);
    }

    std::vector<crypto::SecretKey> m_keys;
    std::vector<crypto::PublicKey> m_set;
    crypto::Hash256 m_chain_id{};
    wire::Hash m_a{}, m_b{};
    uint64_t m_asked = 0;
};

TEST_F(EvidenceTest, TwoSignedVotesForOneSlotWithDifferentDigests) {
    auto who = Check(Vote(2, 2, 7, 1, m_a), Vote(2, 2, 7, 1, m_b));
    ASSERT_TRUE(who.ok()) << who.error().message;
    EXPECT_EQ(who->phase, SignedPhase::kPrepare);
    EXPECT_EQ(who->height, 7u);
    EXPECT_EQ(who->view, 1u);
    EXPECT_EQ(who->replica, 2u);
    EXPECT_EQ(who->key, m_set[2]);
    EXPECT_EQ(m_asked, 7u);  // the set at the evidence's height
    EXPECT_EQ(consensus::EquivocationText(*who).rfind("PREPARE by masternode 2 (", 0), 0u);
    auto commits = Check(Vote(0, 0, 3, 0, m_a, wire::VotePhase::kCommit),
                         Vote(0, 0, 3, 0, m_b, wire::VotePhase::kCommit));
    ASSERT_TRUE(commits.ok()) << commits.error().message;
    EXPECT_EQ(commits->phase, SignedPhase::kCommit);
}

TEST_F(EvidenceTest, AnythingElseIsNotEvidence) {
    auto expect = [&](util::Result<consensus::Equivocation> r, util::Errc code,
                      const std::string& part) {
        ASSERT_FALSE(r.ok()) << part;
        EXPECT_EQ(r.error().code, code) << r.error().message;
        EXPECT_NE(r.error().message.find(part), std::string::npos) << r.error().message;
    };
    expect(Check(Vote(1, 1, 7, 0, m_a), Vote(1, 1, 7, 0, m_a)), util::Errc::kInvalid,
           "same digest");
    expect(Check(Vote(1, 1, 7, 0, m_a), Vote(1, 1, 8, 0, m_b)), util::Errc::kInvalid,
           "different slots");
    expect(Check(Vote(1, 1, 7, 0, m_a), Vote(1, 1, 7, 1, m_b)), util::Errc::kInvalid,
           "different slots");
    expect(Check(Vote(1, 1, 7, 0, m_a), Vote(1, 1, 7, 0, m_b, wire::VotePhase::kCommit)),
           util::Errc::kInvalid, "different slots");
    expect(Check(Vote(1, 1, 7, 0, m_a), Vote(2, 2, 7, 0, m_b)), util::Errc::kInvalid,
           "different replicas");
    // Replica 1's name on replica 3's signature.
    expect(Check(Vote(1, 1, 7, 0, m_a), Vote(3, 1, 7, 0, m_b)), util::Errc::kCrypto,
           "second: bad signature");
    expect(Check(Vote(3, 1, 7, 0, m_a), Vote(1, 1, 7, 0, m_b)), util::Errc::kCrypto,
           "first: bad signature");
    expect(Check(Vote(1, 9, 7, 0, m_a), Vote(1, 9, 7, 0, m_b)), util::Errc::kInvalid,
           "replica 9 is not in the set of 4");
    util::Bytes garbage = {1, 2, 3};
    expect(Check(garbage, Vote(1, 1, 7, 0, m_b)), util::Errc::kInvalid, "first");
    util::Bytes trailing = Vote(1, 1, 7, 0, m_b);
    trailing.push_back(0);
    expect(Check(Vote(1, 1, 7, 0, m_a), trailing), util::Errc::kInvalid, "second");
    // Signed with another chain's id.
    const crypto::Hash256 other = crypto::Blake2b256(util::AsBytes("another chain"));
    expect(Check(Vote(1, 1, 7, 0, m_a), test::VoteBytes(other, m_keys[1], 1, 7, 0, m_b)),
           util::Errc::kCrypto, "second: bad signature");
    // A DECIDED is not signed by a replica.
    wire::Decided decided;
    decided.cert.height = 7;
    expect(Check(wire::Encode(wire::PbftMessage{decided}), Vote(1, 1, 7, 0, m_b)),
           util::Errc::kInvalid, "is not signed by a replica");
}

TEST_F(EvidenceTest, KeysSortByHeightAndValuesSplitBack) {
    consensus::Equivocation low{SignedPhase::kCommit, 2, 9, 3, {}};
    consensus::Equivocation high{SignedPhase::kPrepare, 10, 0, 0, {}};
    const auto k1 = consensus::EvidenceKey(low);
    const auto k2 = consensus::EvidenceKey(high);
    EXPECT_EQ(k1.size(), consensus::kEvidenceKeyBytes);
    EXPECT_LT(k1, k2);
    const util::Bytes first = Vote(1, 1, 7, 0, m_a), second = Vote(1, 1, 7, 0, m_b);
    const auto value = consensus::EvidenceValue(first, second);
    auto pair = consensus::SplitEvidenceValue(value);
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(pair->first, first);
    EXPECT_EQ(pair->second, second);
    EXPECT_FALSE(consensus::SplitEvidenceValue(util::Bytes{0, 0, 1}).ok());
    EXPECT_FALSE(consensus::SplitEvidenceValue(util::Bytes{0, 0, 0, 9, 1, 2}).ok());
}

}  // namespace
}  // namespace tc
