// The request API of tc-pool run (tools/tc-pool/requests.h) on a real
// ledger, without sockets: submit and its refusals by reason, list, why,
// the events it numbers, following committed blocks (committed and
// double-spend), propose and validate with the signatures it reuses.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

// tc-store has a requests.h too, earlier on the include path: name the
// pool's by its path (its own includes then resolve beside it).
#include "../../tools/tc-pool/requests.h"
#include "chain_builder.h"
#include "temp_dir.h"
#include "wire/codec.h"

using namespace tc;
using net::Packer;
using pool::protocol::TxEvent;
using test::ChainBuilder;
using test::MadeBlock;

namespace {

constexpr uint64_t kCoin = util::Amount::kUnitsPerCoin;
constexpr uint64_t kFee = 10'000;

crypto::SecretKey Key(uint8_t n) {
    util::Bytes seed(32, n);
    return std::move(*crypto::SecretKey::FromSeed(seed));
}

wire::PubKeyHash Addr(uint8_t n) {
    return wire::KeyHash(Key(n).public_key());
}

wire::Genesis MakeGenesis() {
    wire::Genesis g;
    g.chain = "pool-daemon-test";
    g.network = wire::Network::kDevnet;
    g.time_ms = 1'700'000'000'000;
    g.allocations = {{Addr(1), util::Amount::FromUnits(1000 * kCoin)},
                     {Addr(2), util::Amount::FromUnits(500 * kCoin)}};
    g.masternodes.push_back({Key(100).public_key(), "127.0.0.1:7000", Addr(200)});
    g.collateral = util::Amount::FromUnits(100 * kCoin);
    g.activation_delay = 2;
    g.min_fee_rate = util::Amount::FromUnits(1);
    return g;
}

struct Reply {
    bool ok = false;
    msgpack::object_handle handle;
    const msgpack::object& result() const { return handle.get().via.array.ptr[3]; }
    std::string error() const { return ok ? "" : result().as<std::string>(); }
};

const msgpack::object& At(const msgpack::object& map, const std::string& key) {
    for (const auto& kv : map.via.map) {
        if (kv.key.as<std::string>() == key) return kv.val;
    }
    throw std::runtime_error("no " + key + " in the reply");
}

std::string Str(const msgpack::object& map, const std::string& key) {
    return At(map, key).as<std::string>();
}

class PoolDaemonTest : public ::testing::Test {
  protected:
    void SetUp() override { Start(pool::Limits{}); }

    // A fresh ledger at genesis and a pool with these limits.
    void Start(const pool::Limits& limits) {
        m_requests.reset();
        m_ledger.reset();
        ASSERT_TRUE(crypto::InitSodium().ok());
        auto ledger = ledger::Ledger::Init(m_dir.path() + "/ledger" + std::to_string(++m_starts),
                                           MakeGenesis());
        ASSERT_TRUE(ledger.ok()) << ledger.error().message;
        m_ledger = std::move(*ledger);
        std::vector<crypto::SecretKey> keys;
        keys.push_back(Key(100));
        m_chain = std::make_unique<ChainBuilder>(MakeGenesis(), std::move(keys));
        auto requests = pool::Requests::Create(*m_ledger, limits, pool::RequestLimits{});
        ASSERT_TRUE(requests.ok()) << requests.error().message;
        m_requests = std::move(*requests);
    }

    Reply Call(std::string_view method, const std::function<void(Packer&)>& params) {
        auto body = net::EncodeRequest(++m_id, method, params);
        m_events.clear();
        auto reply = m_requests->Handle(
            {reinterpret_cast<const uint8_t*>(body.data()), body.size()}, m_events);
        Reply r;
        r.handle = msgpack::unpack(reply.data(), reply.size());
        const auto& a = r.handle.get().via.array;
        EXPECT_EQ(a.size, 4u);
        EXPECT_EQ(a.ptr[1].via.u64, m_id);
        r.ok = a.ptr[2].via.boolean;
        return r;
    }
    Reply Call(std::string_view method) {
        return Call(method, [](Packer& p) { p.pack_array(0); });
    }

    // submit [txs...]: the result array.
    Reply Submit(const std::vector<util::Bytes>& txs) {
        return Call("submit", [&](Packer& p) {
            p.pack_array(static_cast<uint32_t>(txs.size()));
            for (const auto& tx : txs) net::PackBin(p, tx);
        });
    }
    Reply SubmitTx(const wire::Transaction& tx) { return Submit({wire::Encode(tx)}); }

    Reply Why(const wire::Hash& txid) {
        return Call("why", [&](Packer& p) {
            p.pack_array(1);
            net::PackBin(p, txid);
        });
    }

    Reply Validate(const wire::Block& block) {
        return Call("validate", [&](Packer& p) {
            p.pack_array(1);
            net::PackBin(p, wire::Encode(block));
        });
    }

    // A transfer of `amount` from `in` (owned by `owner`) to `to`, paying fee.
    wire::Transaction Pay(const ledger::Utxo& in, uint8_t owner, uint8_t to, uint64_t amount,
                          uint64_t fee = kFee) {
        wire::Transaction tx;
        tx.inputs = {in.outpoint};
        tx.outputs.push_back({amount, Addr(to)});
        tx.outputs.push_back({in.amount - amount - fee, Addr(owner)});
        auto key = Key(owner);
        m_chain->Sign(tx, {&key});
        return tx;
    }

    ledger::Utxo Coin(uint8_t owner) { return m_ledger->GetUtxos(Addr(owner), 1)->front(); }

    // Commits a block of txs to the ledger and tells the pool.
    void Commit(std::vector<wire::Transaction> txs) {
        auto made = m_chain->Next(std::move(txs));
        ASSERT_TRUE(m_ledger->ApplyBlock(made.block, made.cert, {}).ok());
        m_events.clear();
        ASSERT_TRUE(m_requests->BlockCommitted(made.block.header.height, m_events).ok());
    }

    test::TempDir m_dir;
    std::unique_ptr<ledger::Ledger> m_ledger;
    std::unique_ptr<ChainBuilder> m_chain;
    std::unique_ptr<pool::Requests> m_requests;
    std::vector<TxEvent> m_events;
    uint64_t m_id = 0;
    int m_starts = 0;  // a fresh ledger directory each Start
};

}  // namespace

TEST(PoolProtocol, EventRoundTrips) {
    TxEvent e{7, "evicted", wire::Hash{}, "pool-full"};
    e.txid[0] = 9;
    auto buf = pool::protocol::EncodeEvent(e);
    auto h = msgpack::unpack(buf.data(), buf.size());
    auto back = pool::protocol::DecodeEvent(h.get());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, e);
    auto junk = msgpack::unpack("\x93\x01\x02\x03", 4);
    EXPECT_FALSE(pool::protocol::DecodeEvent(junk.get()).ok());
}

TEST_F(PoolDaemonTest, PingStatusAndBadParams) {
    auto ping = Call("ping");
    ASSERT_TRUE(ping.ok);
    EXPECT_EQ(ping.result().as<std::string>(), "pong");
    auto status = Call("status");
    ASSERT_TRUE(status.ok);
    EXPECT_EQ(At(status.result(), "count").via.u64, 0u);
    EXPECT_EQ(At(status.result(), "height").via.u64, 0u);
    EXPECT_TRUE(At(status.result(), "lowest").is_nil());
    auto nope = Call("nope");
    EXPECT_FALSE(nope.ok);
    auto bad = Call("submit", [](Packer& p) {
        p.pack_array(1);
        p.pack_uint64(1);
    });
    ASSERT_FALSE(bad.ok);
    EXPECT_EQ(bad.error().rfind("submit: bad-params: ", 0), 0u) << bad.error();
    auto why = Call("why", [](Packer& p) { p.pack_array(0); });
    ASSERT_FALSE(why.ok);
    EXPECT_EQ(why.error().rfind("why: bad-params: ", 0), 0u) << why.error();
}

TEST_F(PoolDaemonTest, AcceptsListsAndSaysWhereATransactionIs) {
    auto tx = Pay(Coin(1), 1, 3, kCoin);
    auto r = SubmitTx(tx);
    ASSERT_TRUE(r.ok) << r.error();
    ASSERT_EQ(r.result().via.array.size, 1u);
    const auto& one = r.result().via.array.ptr[0];
    EXPECT_TRUE(At(one, "accepted").as<bool>()) << Str(one, "reason") << Str(one, "detail");
    ASSERT_EQ(m_events.size(), 1u);
    EXPECT_EQ(m_events[0], (TxEvent{1, "accepted", wire::TxId(tx), ""}));

    auto list = Call("list");
    ASSERT_TRUE(list.ok);
    ASSERT_EQ(list.result().via.array.size, 1u);
    EXPECT_EQ(list.result().via.array.ptr[0].via.array.ptr[1].via.u64, kFee);

    auto why = Why(wire::TxId(tx));
    ASSERT_TRUE(why.ok);
    EXPECT_EQ(Str(why.result(), "status"), "pending");
    EXPECT_EQ(At(why.result(), "rank").via.u64, 1u);

    // The same again: already-known, and no event.
    auto again = SubmitTx(tx);
    EXPECT_EQ(Str(again.result().via.array.ptr[0], "reason"), "already-known");
    EXPECT_TRUE(m_events.empty());
    auto status = Call("status");
    EXPECT_EQ(At(status.result(), "count").via.u64, 1u);
}

TEST_F(PoolDaemonTest, RefusesWithTheirReasons) {
    const auto coin = Coin(1);
    ASSERT_TRUE(
        At(SubmitTx(Pay(coin, 1, 3, kCoin)).result().via.array.ptr[0], "accepted").as<bool>());
    auto spend_again = Pay(coin, 1, 4, kCoin);
    auto bad_sig = Pay(Coin(2), 2, 3, kCoin);
    bad_sig.witnesses[0]->signature[0] ^= 1;
    auto cheap = Pay(Coin(2), 2, 3, kCoin, 10);
    auto r = Submit({wire::Encode(spend_again), wire::Encode(bad_sig), wire::Encode(cheap),
                     util::Bytes{0xc1, 0x00}});
    ASSERT_TRUE(r.ok) << r.error();
    const auto& a = r.result().via.array;
    ASSERT_EQ(a.size, 4u);
    EXPECT_EQ(Str(a.ptr[0], "reason"), "double-spend");
    EXPECT_EQ(Str(a.ptr[1], "reason"), "bad-signature");
    EXPECT_EQ(Str(a.ptr[2], "reason"), "fee-too-low");
    EXPECT_EQ(Str(a.ptr[3], "reason"), "malformed");
    EXPECT_TRUE(At(a.ptr[3], "txid").is_nil());
    for (uint32_t i = 0; i < 4; ++i) EXPECT_FALSE(At(a.ptr[i], "accepted").as<bool>());
    EXPECT_TRUE(m_events.empty());
    auto why = Why(wire::TxId(cheap));
    EXPECT_EQ(Str(why.result(), "status"), "refused");
    EXPECT_EQ(Str(why.result(), "reason"), "fee-too-low");
}

TEST_F(PoolDaemonTest, FollowsCommittedBlocks) {
    const auto alice = Coin(1);
    auto pooled = Pay(alice, 1, 3, kCoin);
    auto bobs = Pay(Coin(2), 2, 3, kCoin);
    ASSERT_TRUE(Submit({wire::Encode(pooled), wire::Encode(bobs)}).ok);
    // The block spends alice's coin otherwise, and includes bob's transfer.
    auto rival = Pay(alice, 1, 4, 2 * kCoin);
    Commit({rival, bobs});
    EXPECT_EQ(m_requests->height(), 1u);
    ASSERT_EQ(m_events.size(), 2u);
    EXPECT_EQ(m_events[0].event, "committed");
    EXPECT_EQ(m_events[0].txid, wire::TxId(bobs));
    EXPECT_EQ(m_events[1].event, "double-spend");
    EXPECT_EQ(m_events[1].txid, wire::TxId(pooled));
    EXPECT_EQ(m_events[1].seq, m_events[0].seq + 1);

    auto why = Why(wire::TxId(bobs));
    EXPECT_EQ(Str(why.result(), "status"), "committed");
    EXPECT_EQ(At(why.result(), "height").via.u64, 1u);
    auto lost = Why(wire::TxId(pooled));
    EXPECT_EQ(Str(lost.result(), "status"), "conflicted");
    EXPECT_EQ(Str(lost.result(), "reason"), "double-spend");
    EXPECT_EQ(At(Call("status").result(), "count").via.u64, 0u);
    EXPECT_EQ(At(Call("status").result(), "height").via.u64, 1u);

    // Spending again what the chain spent is a double spend (a genesis
    // allocation, and an output of a committed tx), not a missing input;
    // an output that never existed is a missing input.
    auto again = SubmitTx(Pay(alice, 1, 4, kCoin));
    EXPECT_EQ(Str(again.result().via.array.ptr[0], "reason"), "double-spend");
    EXPECT_NE(Str(again.result().via.array.ptr[0], "detail").find("was spent in the chain"),
              std::string::npos);
    auto bobs_out = m_ledger->GetUtxos(Addr(3), 10);
    ASSERT_TRUE(bobs_out.ok());
    ASSERT_FALSE(bobs_out->empty());
    auto spend = Pay(bobs_out->front(), 3, 5, kCoin / 2);
    Commit({spend});
    auto twice = SubmitTx(Pay(bobs_out->front(), 3, 6, kCoin / 2));
    EXPECT_EQ(Str(twice.result().via.array.ptr[0], "reason"), "double-spend");
    ledger::Utxo never = bobs_out->front();
    never.outpoint.vout = 7;
    auto missing = SubmitTx(Pay(never, 3, 6, kCoin / 2));
    EXPECT_EQ(Str(missing.result().via.array.ptr[0], "reason"), "missing-input");

    // Two blocks at once (a gap): both taken from the ledger, in order.
    auto b3 = m_chain->Next({});
    ASSERT_TRUE(m_ledger->ApplyBlock(b3.block, b3.cert, {}).ok());
    auto b4 = m_chain->Next({});
    ASSERT_TRUE(m_ledger->ApplyBlock(b4.block, b4.cert, {}).ok());
    ASSERT_TRUE(m_requests->BlockCommitted(4, m_events).ok());
    EXPECT_EQ(m_requests->height(), 4u);
    // A height not in the ledger yet is an error, and nothing moves.
    EXPECT_FALSE(m_requests->BlockCommitted(6, m_events).ok());
    EXPECT_EQ(m_requests->height(), 4u);
}

TEST_F(PoolDaemonTest, ProposesAndValidatesReusingSignatures) {
    auto a = Pay(Coin(1), 1, 3, kCoin);
    auto b = Pay(Coin(2), 2, 3, kCoin, 2 * kFee);
    ASSERT_TRUE(Submit({wire::Encode(a), wire::Encode(b)}).ok);
    auto proposed = Call("propose", [](Packer& p) {
        p.pack_array(2);
        p.pack_uint64(100);
        p.pack_uint64(1 << 20);
    });
    ASSERT_TRUE(proposed.ok) << proposed.error();
    ASSERT_EQ(proposed.result().via.array.size, 2u);
    // Higher fee rate first.
    auto first = wire::DecodeTransaction(net::BinView(proposed.result().via.array.ptr[0]));
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(wire::TxId(*first), wire::TxId(b));

    auto made = m_chain->MakeBlock({b, a});
    auto ok = Validate(made.block);
    ASSERT_TRUE(ok.ok) << ok.error();
    EXPECT_TRUE(At(ok.result(), "valid").as<bool>()) << Str(ok.result(), "detail");
    EXPECT_EQ(At(ok.result(), "reused").via.u64, 2u);
    EXPECT_EQ(At(ok.result(), "verified").via.u64, 0u);

    // A transaction the pool does not hold is verified, and a bad one refused.
    auto c = Pay(Coin(2), 2, 4, kCoin);
    c.witnesses[0]->signature[3] ^= 1;
    auto bad = Validate(m_chain->MakeBlock({a, c}).block);
    EXPECT_FALSE(At(bad.result(), "valid").as<bool>());
    EXPECT_EQ(Str(bad.result(), "reason"), "bad-signature");
    EXPECT_EQ(At(bad.result(), "verified").via.u64, 1u);

    // Two spends of one coin in a block.
    auto twice = Validate(m_chain->MakeBlock({a, Pay(Coin(1), 1, 4, kCoin)}).block);
    EXPECT_FALSE(At(twice.result(), "valid").as<bool>());
    EXPECT_EQ(Str(twice.result(), "reason"), "double-spend");

    // A block for another height.
    auto later = made.block;
    later.header.height = 5;
    auto wrong = Validate(later);
    EXPECT_EQ(Str(wrong.result(), "reason"), "bad-height");
}

TEST_F(PoolDaemonTest, EvictsForABetterRateAndCountsIt) {
    // A pool of one: a better rate takes the room, a worse one is refused.
    pool::Limits one;
    one.max_count = 1;
    Start(one);
    auto low = Pay(Coin(1), 1, 3, kCoin);
    auto high = Pay(Coin(2), 2, 3, kCoin, 3 * kFee);
    ASSERT_TRUE(SubmitTx(low).ok);
    auto r = SubmitTx(high);
    EXPECT_TRUE(At(r.result().via.array.ptr[0], "accepted").as<bool>());
    ASSERT_EQ(m_events.size(), 2u);
    EXPECT_EQ(m_events[0], (TxEvent{2, "evicted", wire::TxId(low), "pool-full"}));
    EXPECT_EQ(m_events[1], (TxEvent{3, "accepted", wire::TxId(high), ""}));
    EXPECT_EQ(Str(Why(wire::TxId(low)).result(), "status"), "evicted");
    auto again = SubmitTx(Pay(Coin(1), 1, 4, kCoin));
    EXPECT_EQ(Str(again.result().via.array.ptr[0], "reason"), "pool-full");

    const pool::Metrics& m = m_requests->metrics();
    EXPECT_EQ(m.count.load(), 1u);
    EXPECT_EQ(m.submitted.Get(0), 2u);  // accepted
    EXPECT_EQ(m.removed.Get(4), 1u);    // pool-full
    const std::string text = pool::RenderMetrics(m);
    EXPECT_NE(text.find("tc_pool_transactions 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("tc_pool_submitted_total{outcome=\"pool-full\"} 1"), std::string::npos)
        << text;
}

TEST_F(PoolDaemonTest, ProposeAndValidateCatchUpWithTheLedgerFirst) {
    auto pooled = Pay(Coin(1), 1, 3, kCoin);
    ASSERT_TRUE(SubmitTx(pooled).ok);
    // The store commits it; its event has not reached the pool yet.
    auto made = m_chain->Next({pooled});
    ASSERT_TRUE(m_ledger->ApplyBlock(made.block, made.cert, {}).ok());
    auto proposed = Call("propose", [](Packer& p) {
        p.pack_array(2);
        p.pack_uint64(100);
        p.pack_uint64(1 << 20);
    });
    ASSERT_TRUE(proposed.ok) << proposed.error();
    EXPECT_EQ(proposed.result().via.array.size, 0u);
    EXPECT_EQ(m_requests->height(), 1u);
    ASSERT_EQ(m_events.size(), 1u);
    EXPECT_EQ(m_events[0].event, "committed");
    // The late event changes nothing.
    std::vector<TxEvent> late;
    ASSERT_TRUE(m_requests->BlockCommitted(1, late).ok());
    EXPECT_TRUE(late.empty());
    // validate too: a block at height 3 once the ledger has 2.
    auto b2 = m_chain->Next({});
    ASSERT_TRUE(m_ledger->ApplyBlock(b2.block, b2.cert, {}).ok());
    auto ok = Validate(m_chain->MakeBlock({Pay(Coin(2), 2, 3, kCoin)}).block);
    EXPECT_TRUE(At(ok.result(), "valid").as<bool>()) << Str(ok.result(), "detail");
    EXPECT_EQ(m_requests->height(), 2u);
}
