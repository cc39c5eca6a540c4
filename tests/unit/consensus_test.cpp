#include <gtest/gtest.h>

#include "consensus/certificate.h"
#include "consensus/quorum.h"
#include "consensus/tx_check.h"
#include "crypto/domain.h"
#include "wire/codec.h"

using namespace tc;

TEST(Quorum, SizesForOneToTwenty) {
    // n: f, q. Any two quorums must intersect in more than f members:
    // 2q - n > f, and q honest members must be reachable: q <= n - f.
    const size_t expected_q[21] = {0, 1, 2, 2,  3,  4,  4,  5,  6,  6, 7,
                                   8, 8, 9, 10, 10, 11, 12, 12, 13, 14};
    for (size_t n = 1; n <= 20; ++n) {
        auto q = consensus::QuorumFor(n);
        EXPECT_EQ(q.f, (n - 1) / 3) << n;
        EXPECT_EQ(q.q, expected_q[n]) << n;
        EXPECT_GT(2 * q.q, n + q.f)
            << "quorums of n=" << n << " may not intersect in a correct node";
        EXPECT_LE(q.q, n - q.f) << "n=" << n << " cannot make progress with f silent";
        if (n % 3 == 1) {
            EXPECT_EQ(q.q, 2 * q.f + 1) << n;
        }
    }
}

namespace {

class CertificateTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(crypto::InitSodium().ok());
        for (int i = 0; i < 4; ++i) keys.push_back(crypto::SecretKey::Generate());
        std::sort(keys.begin(), keys.end(),
                  [](const auto& a, const auto& b) { return a.public_key() < b.public_key(); });
        for (const auto& k : keys) set.push_back(k.public_key());
        chain_id = crypto::Blake2b256(util::AsBytes("chain"));
        block_hash = crypto::Blake2b256(util::AsBytes("block"));
    }

    wire::CommitCertificate Make(std::vector<uint32_t> signers, uint64_t view = 0) {
        wire::CommitCertificate cert;
        cert.height = 9;
        cert.view = view;
        cert.block_hash = block_hash;
        auto msg = crypto::VoteSigningMessage(chain_id, 2, 9, view, block_hash);
        for (uint32_t i : signers) cert.sigs.push_back({i, keys[i].Sign(msg)});
        return cert;
    }

    util::Status Check(const wire::CommitCertificate& cert) {
        return consensus::VerifyCertificate(cert, set, chain_id, 9, block_hash);
    }

    std::vector<crypto::SecretKey> keys;
    std::vector<crypto::PublicKey> set;
    crypto::Hash256 chain_id, block_hash;
};

}  // namespace

TEST_F(CertificateTest, AcceptsAQuorum) {
    EXPECT_TRUE(Check(Make({0, 1, 2})).ok());
    EXPECT_TRUE(Check(Make({0, 1, 2, 3}, 5)).ok());
}

TEST_F(CertificateTest, RejectsLessThanAQuorum) {
    auto s = Check(Make({0, 3}));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("quorum of 4 is 3"), std::string::npos) << s.error().message;
}

TEST_F(CertificateTest, RejectsDuplicateSignerCountedTwice) {
    auto cert = Make({0, 1, 2});
    cert.sigs[2] = cert.sigs[1];
    auto s = Check(cert);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("cert.sigs[2].index"), std::string::npos) << s.error().message;
}

TEST_F(CertificateTest, RejectsSignatureForAnotherViewHeightBlockOrChain) {
    auto cert = Make({0, 1, 2}, 1);
    cert.view = 2;  // signatures were for view 1
    EXPECT_FALSE(Check(cert).ok());
    EXPECT_FALSE(consensus::VerifyCertificate(Make({0, 1, 2}), set, chain_id, 10, block_hash).ok());
    auto other_block = block_hash;
    other_block[0] ^= 1;
    EXPECT_FALSE(consensus::VerifyCertificate(Make({0, 1, 2}), set, chain_id, 9, other_block).ok());
    auto other_chain = chain_id;
    other_chain[0] ^= 1;
    auto s = consensus::VerifyCertificate(Make({0, 1, 2}), set, other_chain, 9, block_hash);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("bad signature"), std::string::npos);
}

TEST_F(CertificateTest, RejectsPrepareSignaturesAndOutsiders) {
    auto cert = Make({0, 1, 2});
    auto prepare = crypto::VoteSigningMessage(chain_id, 1, 9, 0, block_hash);
    cert.sigs[1].signature = keys[1].Sign(prepare);
    EXPECT_FALSE(Check(cert).ok());
    auto outsider = Make({0, 1, 2});
    outsider.sigs.push_back({4, outsider.sigs[0].signature});
    auto s = Check(outsider);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("outside a set of 4"), std::string::npos);
}

TEST_F(CertificateTest, SingleNodeSetNeedsOneSignature) {
    std::vector<crypto::PublicKey> one = {keys[0].public_key()};
    EXPECT_TRUE(consensus::VerifyCertificate(Make({0}), one, chain_id, 9, block_hash).ok());
}

namespace {

wire::Transaction Transfer(size_t inputs) {
    wire::Transaction tx;
    for (size_t i = 0; i < inputs; ++i) {
        tx.inputs.push_back({crypto::Blake2b256(util::AsBytes("in")), static_cast<uint32_t>(i)});
    }
    tx.outputs.push_back({5, {}});
    return tx;
}

}  // namespace

TEST(TxCheck, ContextFreeRules) {
    EXPECT_TRUE(consensus::CheckTransaction(Transfer(2)).ok());
    auto none = Transfer(0);
    EXPECT_NE(consensus::CheckTransaction(none).error().message.find("at least one input"),
              std::string::npos);
    auto dup = Transfer(2);
    dup.inputs[1] = dup.inputs[0];
    EXPECT_NE(consensus::CheckTransaction(dup).error().message.find("tx.inputs[1]"),
              std::string::npos);
    auto zero = Transfer(1);
    zero.outputs[0].amount = 0;
    EXPECT_NE(consensus::CheckTransaction(zero).error().message.find("tx.outputs[0].amount"),
              std::string::npos);
    auto overflow = Transfer(1);
    overflow.outputs = {{UINT64_MAX, {}}, {1, {}}};
    EXPECT_NE(consensus::CheckTransaction(overflow).error().message.find("overflows"),
              std::string::npos);
    wire::Transaction retire;
    retire.kind = wire::TxKind::kRetire;
    retire.payload = wire::RetirePayload{};
    EXPECT_TRUE(consensus::CheckTransaction(retire).ok());
    retire.outputs.push_back({1, {}});
    EXPECT_FALSE(consensus::CheckTransaction(retire).ok());
    auto reg = Transfer(1);
    reg.kind = wire::TxKind::kRegister;
    reg.payload = wire::RegisterPayload{{}, "no-port", {}};
    EXPECT_NE(consensus::CheckTransaction(reg).error().message.find("tx.payload.endpoint"),
              std::string::npos);
}

TEST(TxCheck, WitnessesMustCoverEverySlotForThisChain) {
    ASSERT_TRUE(crypto::InitSodium().ok());
    auto key = crypto::SecretKey::Generate();
    auto chain = crypto::Blake2b256(util::AsBytes("c"));
    auto tx = Transfer(2);
    auto s = consensus::VerifyWitnesses(tx, chain);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("unsigned"), std::string::npos);
    auto sig = key.Sign(crypto::TxSigningMessage(chain, wire::TxId(tx)));
    tx.witnesses = {wire::Witness{key.public_key(), sig}, std::nullopt};
    s = consensus::VerifyWitnesses(tx, chain);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("tx.witnesses[1]: missing"), std::string::npos);
    tx.witnesses[1] = tx.witnesses[0];
    EXPECT_TRUE(consensus::VerifyWitnesses(tx, chain).ok());
    auto other = chain;
    other[31] ^= 1;
    EXPECT_FALSE(consensus::VerifyWitnesses(tx, other).ok());
    // Witnesses do not change the txid, so a signed tx keeps its id.
    EXPECT_EQ(wire::TxId(tx), wire::TxId(Transfer(2)));
}

TEST(TxCheck, RetireMustBeSignedByTheMasternodeKey) {
    ASSERT_TRUE(crypto::InitSodium().ok());
    auto mn = crypto::SecretKey::Generate();
    auto other = crypto::SecretKey::Generate();
    auto chain = crypto::Blake2b256(util::AsBytes("c"));
    wire::Transaction tx;
    tx.kind = wire::TxKind::kRetire;
    tx.payload = wire::RetirePayload{mn.public_key()};
    auto msg = crypto::TxSigningMessage(chain, wire::TxId(tx));
    tx.witnesses = {wire::Witness{other.public_key(), other.Sign(msg)}};
    EXPECT_FALSE(consensus::VerifyWitnesses(tx, chain).ok());
    tx.witnesses = {wire::Witness{mn.public_key(), mn.Sign(msg)}};
    EXPECT_TRUE(consensus::VerifyWitnesses(tx, chain).ok());
}
