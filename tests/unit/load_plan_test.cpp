// tc-load's pure parts (tools/tc-load/load_plan.h): exact fees on the
// encoded size, split planning in rounds under max_tx_bytes, percentiles.
#include "load_plan.h"

#include <gtest/gtest.h>

#include <numeric>

#include "consensus/tx_check.h"
#include "crypto/keys.h"
#include "wire/codec.h"

namespace tc::load {
namespace {

class LoadPlan : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(crypto::InitSodium().ok()); }

    static wire::PubKeyHash Addr(uint8_t b) {
        wire::PubKeyHash h{};
        h.fill(b);
        return h;
    }
    static Source Src(uint8_t tag, uint64_t amount, uint32_t vout = 0) {
        wire::Hash txid{};
        txid.fill(tag);
        return Source{wire::OutPoint{txid, vout}, amount};
    }
    static uint64_t Sum(const wire::Transaction& tx) {
        uint64_t s = 0;
        for (const auto& o : tx.outputs) s += o.amount;
        return s;
    }
};

TEST_F(LoadPlan, SignedSizeCountsWitnessesOfAnUnsignedTx) {
    wire::Transaction tx;
    tx.inputs.push_back(Src(1, 10).outpoint);
    tx.outputs.push_back(wire::TxOut{5, Addr(2)});
    const size_t unsigned_size = wire::Encode(tx).size();
    const size_t predicted = SignedSize(tx);
    EXPECT_GT(predicted, unsigned_size + 96);  // a key and a signature at least
    auto key = crypto::SecretKey::Generate();
    SignAll(tx, key, crypto::Hash256{});
    EXPECT_EQ(wire::Encode(tx).size(), predicted);
}

TEST_F(LoadPlan, TransferFeeIsExactlyRateTimesSignedSize) {
    auto key = crypto::SecretKey::Generate();
    crypto::Hash256 chain{};
    chain.fill(7);
    // Amounts on both sides of msgpack integer width boundaries.
    for (uint64_t amount : {uint64_t{300}, uint64_t{70'000}, uint64_t{66'000},
                            uint64_t{4'295'000'000}, uint64_t{1} << 40}) {
        for (uint64_t rate : {uint64_t{1}, uint64_t{3}, uint64_t{250}}) {
            auto tx = BuildTransfer(Src(1, amount), Addr(2), rate);
            if (amount < 200 * rate) {  // a transfer is ~140 bytes: cannot pay
                EXPECT_FALSE(tx.ok()) << amount << " @ " << rate;
                continue;
            }
            ASSERT_TRUE(tx.ok()) << amount << " @ " << rate << ": " << tx.error().message;
            SignAll(*tx, key, chain);
            const uint64_t fee = amount - Sum(*tx);
            EXPECT_EQ(fee, wire::Encode(*tx).size() * rate) << amount << " @ " << rate;
            EXPECT_TRUE(consensus::CheckTransaction(*tx).ok());
            EXPECT_TRUE(consensus::VerifyWitnesses(*tx, chain).ok());
        }
    }
}

TEST_F(LoadPlan, TransferTooSmallForItsFeeIsAnError) {
    auto tx = BuildTransfer(Src(1, 50), Addr(2), 1);  // ~140 bytes of fee
    ASSERT_FALSE(tx.ok());
    EXPECT_NE(tx.error().message.find("cannot pay"), std::string::npos) << tx.error().message;
}

TEST_F(LoadPlan, SplitPaysExactFeeAndReturnsChange) {
    auto tx = BuildSplit(Src(1, 1'000'000), 10, 5'000, Addr(2), Addr(3), 2);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    ASSERT_EQ(tx->outputs.size(), 11u);
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ(tx->outputs[i].amount, 5'000u);
    EXPECT_EQ(tx->outputs[10].address, Addr(3));
    auto key = crypto::SecretKey::Generate();
    SignAll(*tx, key, crypto::Hash256{});
    EXPECT_EQ(1'000'000 - Sum(*tx), wire::Encode(*tx).size() * 2);
}

TEST_F(LoadPlan, SplitWithoutRoomForChangePaysTheRestAsFee) {
    wire::Transaction shape;
    shape.inputs.push_back(Src(1, 0).outpoint);
    shape.outputs.assign(2, wire::TxOut{1'000, Addr(2)});
    const uint64_t bare_fee = SignedSize(shape);  // at 1 unit per byte
    // A few units over the bare fee: less than a change output would cost.
    auto tx = BuildSplit(Src(1, 2'000 + bare_fee + 5), 2, 1'000, Addr(2), Addr(3), 1);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    EXPECT_EQ(tx->outputs.size(), 2u);
    EXPECT_EQ(SignedSize(*tx), bare_fee);
    EXPECT_FALSE(BuildSplit(Src(1, 2'000 + bare_fee - 1), 2, 1'000, Addr(2), Addr(3), 1).ok());
}

TEST_F(LoadPlan, FanoutRespectsMaxTxBytes) {
    SplitParams p;
    p.fanout = 2000;
    p.fee_rate = 1;
    p.address = Addr(4);
    p.max_tx_bytes = 100'000;
    const uint32_t big = EffectiveFanout(p);
    EXPECT_GT(big, 1000u);
    EXPECT_LE(big, 2000u);
    p.max_tx_bytes = 2'000;
    const uint32_t small = EffectiveFanout(p);
    ASSERT_GT(small, 1u);
    // The largest that fits: one more output would not.
    SplitParams q = p;
    q.fanout = small + 1;
    q.max_tx_bytes = 1'000'000;
    EXPECT_EQ(EffectiveFanout(q), small + 1);
    p.max_tx_bytes = 50;
    EXPECT_EQ(EffectiveFanout(p), 0u);
}

TEST_F(LoadPlan, OneRoundWhenTheFaucetFansOutFarEnough) {
    SplitParams p{2'000, 100, 1, 100'000, Addr(4)};
    auto round = PlanSplitRound({Src(1, 1'000'000'000)}, 80, p);
    ASSERT_TRUE(round.ok()) << round.error().message;
    EXPECT_EQ(round->depth, 0u);
    EXPECT_EQ(round->output_amount, 2'000u);
    ASSERT_EQ(round->txs.size(), 1u);
    EXPECT_EQ(round->outputs, 80u);
    auto outs = RoundOutputs(*round);
    ASSERT_EQ(outs.size(), 80u);
    EXPECT_EQ(outs[79].outpoint.txid, wire::TxId(round->txs[0]));
    EXPECT_EQ(outs[79].outpoint.vout, 79u);
}

TEST_F(LoadPlan, RoundsFollowEachOtherUntilTheLeaves) {
    // Fan-out 10, 250 leaves from one output: 10 -> 100 -> 250 takes three rounds.
    SplitParams p{2'000, 10, 1, 100'000, Addr(4)};
    std::vector<Source> sources{Src(1, 10'000'000'000)};
    uint64_t rounds = 0, last_depth = 99;
    while (true) {
        auto round = PlanSplitRound(sources, 250, p);
        ASSERT_TRUE(round.ok()) << round.error().message;
        ++rounds;
        EXPECT_LT(round->depth, last_depth);
        last_depth = round->depth;
        for (const auto& tx : round->txs) {
            EXPECT_LE(SignedSize(tx), p.max_tx_bytes);
            EXPECT_LE(tx.outputs.size(), 11u);  // fan-out plus change
            EXPECT_GE(tx.inputs.size(), 1u);
        }
        sources = RoundOutputs(*round);
        if (round->depth == 0) break;
        ASSERT_LT(rounds, 5u);
    }
    EXPECT_EQ(rounds, 3u);
    EXPECT_EQ(sources.size(), 250u);
    for (const auto& s : sources) EXPECT_EQ(s.amount, 2'000u);
}

TEST_F(LoadPlan, SmallMaxTxBytesMeansMoreRounds) {
    SplitParams wide{2'000, 1000, 1, 100'000, Addr(4)};
    SplitParams narrow = wide;
    narrow.max_tx_bytes = 1'000;  // ~25 outputs a split
    auto a = PlanSplitRound({Src(1, 10'000'000'000)}, 500, wide);
    auto b = PlanSplitRound({Src(1, 10'000'000'000)}, 500, narrow);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->depth, 0u);
    EXPECT_EQ(b->depth, 1u);
    for (const auto& tx : b->txs) EXPECT_LE(SignedSize(tx), 1'000u);
}

TEST_F(LoadPlan, ManySourcesShareTheWorkLargestFirst) {
    SplitParams p{2'000, 10, 1, 100'000, Addr(4)};
    auto round = PlanSplitRound({Src(1, 30'000), Src(2, 100'000), Src(3, 5'000)}, 15, p);
    ASSERT_TRUE(round.ok()) << round.error().message;
    EXPECT_EQ(round->depth, 0u);
    ASSERT_EQ(round->txs.size(), 2u);
    EXPECT_EQ(round->txs[0].inputs[0], Src(2, 0).outpoint);  // the largest first
    EXPECT_EQ(round->outputs_per_tx[0], 10u);
    EXPECT_EQ(round->outputs_per_tx[1], 5u);
}

TEST_F(LoadPlan, FaucetTooSmallIsAnErrorThatSaysSo) {
    SplitParams p{2'000, 100, 1, 100'000, Addr(4)};
    auto round = PlanSplitRound({Src(1, 50'000)}, 100, p);
    ASSERT_FALSE(round.ok());
    EXPECT_NE(round.error().message.find("too little"), std::string::npos) << round.error().message;
    EXPECT_FALSE(PlanSplitRound({Src(1, 50'000)}, 0, p).ok());
}

TEST_F(LoadPlan, NearestRankPercentiles) {
    std::vector<double> s(100);
    std::iota(s.begin(), s.end(), 1.0);  // 1..100
    EXPECT_EQ(NearestRank(s, 50), 50);
    EXPECT_EQ(NearestRank(s, 90), 90);
    EXPECT_EQ(NearestRank(s, 99), 99);
    EXPECT_EQ(NearestRank(s, 100), 100);
    std::vector<double> three{30, 10, 20};
    auto p = Summarize(three);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->p50, 20);  // rank ceil(1.5) = 2
    EXPECT_EQ(p->p90, 30);  // rank ceil(2.7) = 3
    EXPECT_EQ(p->p99, 30);
    EXPECT_EQ(p->max, 30);
    auto one = Summarize({7});
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->p50, 7);
    EXPECT_FALSE(Summarize({}).has_value());
    std::vector<double> ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    EXPECT_EQ(NearestRank(ten, 50), 5);
    EXPECT_EQ(NearestRank(ten, 99), 10);
}

}  // namespace
}  // namespace tc::load
