// The pool's checks (tools/tc-pool/check.h) against a real ledger: an
// accepted transfer becomes a pool entry, and each refusal comes with its
// reason and a detail naming the field. The rules are the ledger's own
// (ledger::CheckTx), so where it matters the test also shows the ledger
// deciding the same way.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "chain_builder.h"
#include "check.h"
#include "crypto/domain.h"
#include "mempool.h"
#include "temp_dir.h"
#include "test_chain.h"
#include "wire/codec.h"

using namespace tc;
using ledger::Ledger;
using ledger::Utxo;
using pool::Checked;
using test::Addr;
using test::ChainBuilder;
using test::Key;
using test::MadeBlock;
using test::MasternodeKeys;
using test::TempDir;

namespace {

constexpr uint64_t kCoin = util::Amount::kUnitsPerCoin;
constexpr uint64_t kFee = 10'000;

wire::Genesis MakeGenesis(size_t masternodes) {
    wire::Genesis g = test::MakeGenesis("pool-check-test", masternodes);
    g.max_tx_bytes = 2048;
    return g;
}

class PoolCheckTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(crypto::InitSodium().ok()); }

    void Start(size_t masternodes) {
        wire::Genesis g = MakeGenesis(masternodes);
        auto ledger = Ledger::Init(m_dir.path() + "/ledger", g);
        ASSERT_TRUE(ledger.ok()) << ledger.error().message;
        m_ledger = std::move(*ledger);
        std::vector<crypto::SecretKey> keys = MasternodeKeys(masternodes);
        keys.push_back(Key(110));  // for a masternode registered later
        m_chain = std::make_unique<ChainBuilder>(g, std::move(keys));
    }

    Ledger& L() { return *m_ledger; }
    ChainBuilder& C() { return *m_chain; }

    void Apply(std::vector<wire::Transaction> txs) {
        MadeBlock made = C().MakeBlock(std::move(txs));
        auto status = L().ApplyBlock(made.block, made.cert, {});
        ASSERT_TRUE(status.ok()) << status.error().message;
        C().Advance(made.block);
    }

    // What the ledger says of tx as the next block's only tx ("" if accepted).
    std::string LedgerVerdict(const wire::Transaction& tx) {
        MadeBlock made = C().MakeBlock({tx});
        ledger::ApplyOptions verify;
        verify.verify_witnesses = true;
        auto status = L().ApplyBlock(made.block, made.cert, verify);
        if (status.ok()) {
            C().Advance(made.block);
            return "";
        }
        return status.error().message;
    }

    Utxo First(uint8_t owner) {
        auto utxos = L().GetUtxos(Addr(owner), 10);
        EXPECT_TRUE(utxos.ok() && !utxos->empty());
        return utxos.ok() && !utxos->empty() ? utxos->front() : Utxo{};
    }

    wire::Transaction Pay(const Utxo& in, uint8_t owner, const wire::PubKeyHash& to,
                          uint64_t amount, uint64_t fee = kFee) {
        wire::Transaction tx;
        tx.inputs = {in.outpoint};
        tx.outputs = {{amount, to}};
        if (in.amount > amount + fee) tx.outputs.push_back({in.amount - amount - fee, Addr(owner)});
        Sign(tx, owner);
        return tx;
    }

    void Sign(wire::Transaction& tx, uint8_t signer) {
        auto key = Key(signer);
        C().Sign(tx, {&key});
    }

    wire::Transaction Register(const Utxo& in, uint8_t owner, uint8_t masternode, uint8_t payout) {
        wire::Transaction tx;
        tx.kind = wire::TxKind::kRegister;
        tx.inputs = {in.outpoint};
        uint64_t collateral = C().genesis().collateral.units();
        tx.outputs = {{collateral, Addr(payout)}, {in.amount - collateral - kFee, Addr(owner)}};
        tx.payload =
            wire::RegisterPayload{Key(masternode).public_key(), "10.0.0.1:7100", Addr(payout)};
        Sign(tx, owner);
        return tx;
    }

    wire::Transaction Retire(uint8_t masternode, uint8_t signer) {
        wire::Transaction tx;
        tx.kind = wire::TxKind::kRetire;
        tx.payload = wire::RetirePayload{Key(masternode).public_key()};
        Sign(tx, signer);
        return tx;
    }

    Checked Check(const util::Bytes& bytes) {
        auto chain = pool::LoadChainState(L());
        EXPECT_TRUE(chain.ok()) << chain.error().message;
        auto checked = pool::CheckForPool(*chain, pool::LookupIn(L()), bytes);
        EXPECT_TRUE(checked.ok()) << checked.error().message;
        return checked.ok() ? std::move(*checked) : Checked{};
    }
    Checked Check(const wire::Transaction& tx) { return Check(wire::Encode(tx)); }

    // Refused with `reason`, the detail starting with `field` (when given).
    ::testing::AssertionResult Refuses(const wire::Transaction& tx, const std::string& reason,
                                       const std::string& field = "") {
        Checked c = Check(tx);
        if (!c.refusal) return ::testing::AssertionFailure() << "accepted, expected " << reason;
        if (c.refusal->reason != reason || c.refusal->detail.rfind(field, 0) != 0) {
            return ::testing::AssertionFailure()
                   << "expected " << reason << " at " << field << ", got " << c.refusal->reason
                   << ": " << c.refusal->detail;
        }
        if (c.entry.txid != wire::TxId(tx)) {
            return ::testing::AssertionFailure() << "the refusal does not carry the txid";
        }
        return ::testing::AssertionSuccess() << c.refusal->reason << ": " << c.refusal->detail;
    }

    TempDir m_dir;
    std::unique_ptr<Ledger> m_ledger;
    std::unique_ptr<ChainBuilder> m_chain;
};

bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_F(PoolCheckTest, AcceptsATransferAsAPoolEntry) {
    Start(1);
    Utxo alice = First(1);
    auto tx = Pay(alice, 1, Addr(2), 5 * kCoin);
    Checked c = Check(tx);
    ASSERT_FALSE(c.refusal) << c.refusal->reason << ": " << c.refusal->detail;
    const pool::Entry& e = c.entry;
    EXPECT_EQ(e.txid, wire::TxId(tx));
    EXPECT_EQ(e.wtxid, wire::WitnessTxId(tx));
    EXPECT_EQ(e.tx, tx);
    EXPECT_EQ(e.bytes, wire::Encode(tx).size());
    EXPECT_EQ(e.fee, kFee);
    EXPECT_EQ(e.spent, std::vector<wire::OutPoint>{alice.outpoint});
    EXPECT_EQ(e.expiry, 0u);
    EXPECT_FALSE(e.masternode);
    pool::Mempool mempool(pool::Limits{});
    ASSERT_TRUE(mempool.Add(e).accepted);
    // A second spend of the same output passes the ledger's checks alone, and
    // the pool refuses it.
    Checked other = Check(Pay(alice, 1, Addr(3), kCoin, 2 * kFee));
    ASSERT_FALSE(other.refusal);
    auto added = mempool.Add(other.entry);
    EXPECT_EQ(added.reason, "double-spend");
    // The ledger takes the first.
    EXPECT_EQ(LedgerVerdict(tx), "");
}

TEST_F(PoolCheckTest, RefusesMalformedBytes) {
    Start(1);
    Checked junk = Check(util::Bytes{0x01, 0x02, 0x03});
    ASSERT_TRUE(junk.refusal);
    EXPECT_EQ(junk.refusal->reason, "malformed");
    EXPECT_FALSE(junk.refusal->detail.empty());
    util::Bytes trailing = wire::Encode(Pay(First(1), 1, Addr(2), kCoin));
    trailing.push_back(0);
    Checked t = Check(trailing);
    ASSERT_TRUE(t.refusal);
    EXPECT_EQ(t.refusal->reason, "malformed");
    EXPECT_TRUE(Contains(t.refusal->detail, "trailing")) << t.refusal->detail;
}

TEST_F(PoolCheckTest, RefusesAContextFreeBadTx) {
    Start(1);
    auto tx = Pay(First(1), 1, Addr(2), kCoin);
    tx.outputs[0].amount = 0;
    Sign(tx, 1);
    EXPECT_TRUE(Refuses(tx, "bad-tx", "tx.outputs[0].amount: must be above zero"));
}

TEST_F(PoolCheckTest, RefusesATxAboveMaxTxBytes) {
    Start(1);
    Utxo alice = First(1);
    wire::Transaction tx;
    tx.inputs = {alice.outpoint};
    for (int i = 0; i < 80; ++i) tx.outputs.push_back({kCoin, Addr(2)});
    Sign(tx, 1);
    EXPECT_TRUE(Refuses(tx, "tx-too-large", "tx: "));
}

TEST_F(PoolCheckTest, RefusesAMissingInputAndAChildOfAnUnconfirmedTx) {
    Start(1);
    Utxo fake = First(1);
    fake.outpoint.vout = 7;
    EXPECT_TRUE(Refuses(Pay(fake, 1, Addr(2), kCoin), "missing-input",
                        "tx.inputs[0]: " + util::ToHex(fake.outpoint.txid) + ":7"));
    auto parent = Pay(First(1), 1, Addr(2), kCoin);
    ASSERT_FALSE(Check(parent).refusal);
    Utxo child{wire::OutPoint{wire::TxId(parent), 0}, kCoin, Addr(2), 0, false};
    EXPECT_TRUE(Refuses(Pay(child, 2, Addr(3), kCoin / 2), "missing-input", "tx.inputs[0]"));
    // Spent already.
    Apply({parent});
    EXPECT_TRUE(Refuses(parent, "missing-input", "tx.inputs[0]"));
}

TEST_F(PoolCheckTest, RefusesBadSignatures) {
    Start(1);
    Utxo alice = First(1);
    // Not signed.
    auto tx = Pay(alice, 1, Addr(2), kCoin);
    tx.witnesses.clear();
    EXPECT_TRUE(Refuses(tx, "bad-signature", "tx.witnesses: unsigned"));
    // Signed by a key that does not own the input.
    EXPECT_TRUE(
        Refuses(Pay(alice, 2, Addr(2), kCoin), "bad-signature", "tx.inputs[0]: wrong-owner"));
    // A broken signature: only the witness check sees it.
    tx = Pay(alice, 1, Addr(2), kCoin);
    tx.witnesses[0]->signature[5] ^= 1;
    auto chain = pool::LoadChainState(L());
    ASSERT_TRUE(chain.ok());
    auto no_witnesses = pool::CheckTx(*chain, pool::LookupIn(L()), wire::Encode(tx));
    ASSERT_TRUE(no_witnesses.ok());
    EXPECT_FALSE(no_witnesses->refusal);
    EXPECT_TRUE(Refuses(tx, "bad-signature", "tx.witnesses[0]: bad signature"));
    auto direct = pool::VerifyWitnesses(tx, chain->chain_id);
    ASSERT_TRUE(direct);
    EXPECT_EQ(direct->reason, "bad-signature");
    // Signed for another chain.
    tx = Pay(alice, 1, Addr(2), kCoin);
    wire::Hash other_chain = chain->chain_id;
    other_chain[0] ^= 1;
    auto key = Key(1);
    tx.witnesses[0]->signature = key.Sign(crypto::TxSigningMessage(other_chain, wire::TxId(tx)));
    EXPECT_TRUE(Refuses(tx, "bad-signature", "tx.witnesses[0]"));
    EXPECT_TRUE(Contains(LedgerVerdict(tx), "bad-witness"));
    // A retire signed by another key.
    EXPECT_TRUE(Refuses(Retire(100, 1), "bad-signature", "tx.witnesses[0]: retire-wrong-key"));
}

TEST_F(PoolCheckTest, RefusesAFeeBelowTheFloor) {
    Start(1);
    auto tx = Pay(First(1), 1, Addr(2), kCoin, 1);
    EXPECT_TRUE(Refuses(tx, "fee-too-low", "tx: fee 0.00000001 is below"));
    // Exactly the floor passes, as in the ledger.
    size_t size = wire::Encode(tx).size();
    auto exact = Pay(First(1), 1, Addr(2), kCoin, size);
    ASSERT_EQ(wire::Encode(exact).size(), size);
    Checked c = Check(exact);
    EXPECT_FALSE(c.refusal);
    EXPECT_EQ(c.entry.fee, size);
    EXPECT_EQ(LedgerVerdict(exact), "");
}

TEST_F(PoolCheckTest, RefusesOutputsAboveInputs) {
    Start(1);
    Utxo alice = First(1);
    wire::Transaction tx;
    tx.inputs = {alice.outpoint};
    tx.outputs = {{alice.amount + 1, Addr(2)}};
    Sign(tx, 1);
    EXPECT_TRUE(Refuses(tx, "outputs-exceed-inputs", "tx: outputs"));
}

TEST_F(PoolCheckTest, RefusesAnExpiredTxAtTheNextHeight) {
    Start(1);
    Apply({});  // tip 1: the next block is 2
    auto tx = Pay(First(1), 1, Addr(2), kCoin);
    tx.expiry = 1;
    Sign(tx, 1);
    EXPECT_TRUE(Refuses(tx, "expired", "tx.expiry: at height 1, this is 2"));
    tx.expiry = 2;  // may still be included in the next block
    Sign(tx, 1);
    Checked c = Check(tx);
    ASSERT_FALSE(c.refusal);
    EXPECT_EQ(c.entry.expiry, 2u);
}

TEST_F(PoolCheckTest, MasternodeRulesAreTheLedgers) {
    Start(2);
    // Known key.
    EXPECT_TRUE(
        Refuses(Register(First(1), 1, 100, 201), "masternode-exists", "tx.payload.masternode_key"));
    auto wrong = Register(First(1), 1, 102, 201);
    wrong.outputs[0].amount -= 1;
    wrong.outputs[1].amount += 1;
    Sign(wrong, 1);
    EXPECT_TRUE(Refuses(wrong, "collateral-amount", "tx.outputs[0].amount"));
    // Not a masternode.
    EXPECT_TRUE(Refuses(Retire(150, 150), "retire-not-masternode", "tx.payload.masternode_key"));
    // A good register: an entry naming the masternode.
    auto reg = Register(First(1), 1, 110, 201);
    Checked c = Check(reg);
    ASSERT_FALSE(c.refusal) << c.refusal->detail;
    ASSERT_TRUE(c.entry.masternode);
    EXPECT_EQ(*c.entry.masternode, Key(110).public_key());
    EXPECT_EQ(LedgerVerdict(reg), "");  // height 1: in from 3
    // Entering counts as in.
    EXPECT_TRUE(Refuses(Register(First(2), 2, 110, 202), "masternode-exists"));
    // Its collateral is locked.
    Utxo collateral{wire::OutPoint{wire::TxId(reg), 0}, 100 * kCoin, Addr(201), 1, true};
    EXPECT_TRUE(Refuses(Pay(collateral, 201, Addr(3), kCoin), "collateral-locked", "tx.inputs[0]"));
}

TEST_F(PoolCheckTest, RetireOfTheLastMasternodeIsRefused) {
    Start(1);
    EXPECT_TRUE(Refuses(Retire(100, 100), "masternode-set-empty"));
}

TEST_F(PoolCheckTest, CollateralReleasedAtTheNextHeightMaySpendInIt) {
    Start(1);
    auto reg = Register(First(1), 1, 110, 201);
    Utxo collateral{wire::OutPoint{wire::TxId(reg), 0}, 100 * kCoin, Addr(201), 1, true};
    Apply({reg});               // 1: in at 3
    Apply({Retire(110, 110)});  // 2: out at 4
    auto spend = Pay(collateral, 201, Addr(3), kCoin);
    EXPECT_TRUE(Refuses(spend, "collateral-locked"));  // next height 3: still locked
    Apply({});                                         // 3: the next block, 4, releases it
    ASSERT_TRUE(L().GetUtxo(collateral.outpoint)->locked);
    Checked c = Check(spend);
    EXPECT_FALSE(c.refusal) << c.refusal->reason << ": " << c.refusal->detail;
    EXPECT_EQ(LedgerVerdict(spend), "");
}
