// The request API of tc-store run (tools/tc-store/requests.h) on a real
// ledger, without sockets: every method, its errors by reason, batches that
// commit or refuse as one, since and its retention window, and the metrics
// the requests leave behind.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "chain_builder.h"
#include "requests.h"
#include "signed_vote.h"
#include "temp_dir.h"
#include "test_chain.h"
#include "wire/address.h"

using namespace tc;
using store::protocol::Event;
using store::protocol::Packer;
using test::Addr;
using test::ChainBuilder;
using test::Key;
using test::MadeBlock;
using test::MasternodeKeys;

namespace {

constexpr uint64_t kCoin = util::Amount::kUnitsPerCoin;
constexpr uint64_t kFee = 10'000;

std::string AddrText(uint8_t n) {
    return wire::Address{wire::Network::kDevnet, Addr(n)}.ToString();
}

// One masternode (Key(100)) and only alice funded.
wire::Genesis MakeGenesis() {
    wire::Genesis g = test::MakeGenesis("requests-test", 1);
    g.allocations = {{Addr(1), util::Amount::FromUnits(1000 * kCoin)}};
    return g;
}

struct Reply {
    bool ok = false;
    msgpack::object_handle handle;
    const msgpack::object& result() const { return handle.get().via.array.ptr[3]; }
    std::string error() const {
        return ok ? "" : std::string(result().via.str.ptr, result().via.str.size);
    }
};

// The value of `key` in a reply map.
const msgpack::object& At(const msgpack::object& map, const std::string& key) {
    for (const auto& kv : map.via.map) {
        if (kv.key.as<std::string>() == key) return kv.val;
    }
    throw std::runtime_error("no " + key + " in the reply");
}

util::ByteView Bin(const msgpack::object& o) {
    return store::protocol::BinView(o);
}

void PackPair(Packer& p, const MadeBlock& made) {
    p.pack_array(2);
    store::protocol::PackBin(p, wire::Encode(made.block));
    store::protocol::PackBin(p, wire::Encode(made.cert));
}

class RequestsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(crypto::InitSodium().ok());
        auto ledger = ledger::Ledger::Init(m_dir.path() + "/ledger", MakeGenesis());
        ASSERT_TRUE(ledger.ok()) << ledger.error().message;
        m_ledger = std::move(*ledger);
        m_chain = std::make_unique<ChainBuilder>(MakeGenesis(), MasternodeKeys(1));
        Reset({});
    }

    void Reset(const store::RequestLimits& limits) {
        m_requests = std::make_unique<store::Requests>(*m_ledger, limits, m_metrics);
    }

    Reply Call(std::string_view method, const std::function<void(Packer&)>& params) {
        auto body = store::protocol::EncodeRequest(++m_id, method, params);
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

    Reply CallUint(std::string_view method, uint64_t value) {
        return Call(method, [&](Packer& p) {
            p.pack_array(1);
            p.pack_uint64(value);
        });
    }

    Reply CallBin(std::string_view method, util::ByteView bytes) {
        return Call(method, [&](Packer& p) {
            p.pack_array(1);
            store::protocol::PackBin(p, bytes);
        });
    }

    Reply ApplyBatch(const std::vector<MadeBlock>& blocks) {
        return Call("apply", [&](Packer& p) {
            p.pack_array(static_cast<uint32_t>(blocks.size()));
            for (const auto& b : blocks) PackPair(p, b);
        });
    }

    uint64_t Height() { return m_ledger->GetStatus()->height; }

    // A transfer of `amount` from `in` (owned by key `owner`) to `to`.
    wire::Transaction Pay(const ledger::Utxo& in, uint8_t owner, const wire::PubKeyHash& to,
                          uint64_t amount, size_t outputs = 1) {
        wire::Transaction tx;
        tx.inputs = {in.outpoint};
        for (size_t i = 0; i < outputs; ++i) tx.outputs.push_back({amount, to});
        tx.outputs.push_back({in.amount - outputs * amount - kFee, Addr(owner)});
        auto key = Key(owner);
        m_chain->Sign(tx, {&key});
        return tx;
    }

    ledger::Utxo Alice() { return m_ledger->GetUtxos(Addr(1), 1)->front(); }

    test::TempDir m_dir;
    std::unique_ptr<ledger::Ledger> m_ledger;
    std::unique_ptr<ChainBuilder> m_chain;
    store::Metrics m_metrics;
    std::unique_ptr<store::Requests> m_requests;
    std::vector<Event> m_events;
    uint64_t m_id = 0;
};

}  // namespace

TEST_F(RequestsTest, PingStatusAndUnknownMethods) {
    auto ping = Call("ping");
    ASSERT_TRUE(ping.ok);
    EXPECT_EQ(ping.result().as<std::string>(), "pong");
    auto status = Call("status");
    ASSERT_TRUE(status.ok);
    EXPECT_EQ(At(status.result(), "height").via.u64, 0u);
    EXPECT_EQ(At(status.result(), "chain").as<std::string>(), "requests-test");
    auto nope = Call("nope");
    ASSERT_FALSE(nope.ok);
    EXPECT_NE(nope.error().find("unknown method \"nope\""), std::string::npos) << nope.error();
    // Garbage gets id 0 and the reason.
    std::vector<Event> events;
    const uint8_t junk[] = {0xc1};
    auto reply = m_requests->Handle(junk, events);
    auto h = msgpack::unpack(reply.data(), reply.size());
    EXPECT_EQ(h.get().via.array.ptr[1].via.u64, 0u);
    EXPECT_FALSE(h.get().via.array.ptr[2].via.boolean);
}

TEST_F(RequestsTest, ApplyTakesOnePairOrABatchAndReportsTheEvents) {
    auto b1 = m_chain->Next({Pay(Alice(), 1, Addr(2), kCoin)});
    auto one = Call("apply", [&](Packer& p) {
        p.pack_array(2);
        store::protocol::PackBin(p, wire::Encode(b1.block));
        store::protocol::PackBin(p, wire::Encode(b1.cert));
    });
    ASSERT_TRUE(one.ok) << one.error();
    EXPECT_EQ(one.result().via.u64, 1u);
    ASSERT_EQ(m_events.size(), 1u);
    EXPECT_EQ(m_events[0], (Event{1, 1, wire::BlockHash(b1.block.header)}));

    std::vector<MadeBlock> batch = {m_chain->Next({}), m_chain->Next({}), m_chain->Next({})};
    auto many = ApplyBatch(batch);
    ASSERT_TRUE(many.ok) << many.error();
    EXPECT_EQ(many.result().via.u64, 4u);
    ASSERT_EQ(m_events.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(m_events[i], (Event{i + 2, i + 2, wire::BlockHash(batch[i].block.header)}));
    }
    EXPECT_EQ(Height(), 4u);
    EXPECT_EQ(m_metrics.blocks_applied.load(), 4u);
    EXPECT_EQ(m_metrics.apply_count.load(), 2u);
    EXPECT_EQ(m_metrics.height.load(), 4u);
}

TEST_F(RequestsTest, ARefusedBlockRefusesTheBatchNamingItsIndex) {
    auto b1 = m_chain->Next({});
    auto b2 = m_chain->MakeBlock({});
    b2.block.header.prev_hash[0] ^= 1;
    b2.cert = m_chain->Certify(b2.block.header, 0);
    auto refused = ApplyBatch({b1, b2});
    ASSERT_FALSE(refused.ok);
    EXPECT_EQ(refused.error().rfind("apply: refused: batch[1]: block 2: ", 0), 0u)
        << refused.error();
    EXPECT_NE(refused.error().find("bad-prev-hash"), std::string::npos) << refused.error();
    EXPECT_TRUE(m_events.empty());
    EXPECT_EQ(Height(), 0u);
    EXPECT_EQ(m_metrics.apply_errors.load(), 1u);

    // A block that does not decode is bad params, naming where.
    auto broken = Call("apply", [&](Packer& p) {
        p.pack_array(1);
        p.pack_array(2);
        store::protocol::PackBin(p, util::Bytes{1, 2, 3});
        store::protocol::PackBin(p, wire::Encode(b1.cert));
    });
    ASSERT_FALSE(broken.ok);
    EXPECT_EQ(broken.error().rfind("apply: bad-params: batch[0].block", 0), 0u) << broken.error();

    Reset({.max_batch = 1});
    auto too_many = ApplyBatch({b1, b2});
    ASSERT_FALSE(too_many.ok);
    EXPECT_NE(too_many.error().find("exceeds --max-batch 1"), std::string::npos)
        << too_many.error();
    EXPECT_EQ(Height(), 0u);
}

TEST_F(RequestsTest, BlockByHeightOrHashWithItsCertificate) {
    auto b1 = m_chain->Next({Pay(Alice(), 1, Addr(2), kCoin)});
    ASSERT_TRUE(ApplyBatch({b1}).ok);
    const wire::Hash hash = wire::BlockHash(b1.block.header);
    for (const Reply& r : {CallUint("block", 1), CallBin("block", hash)}) {
        ASSERT_TRUE(r.ok) << r.error();
        EXPECT_EQ(At(r.result(), "height").via.u64, 1u);
        auto block = wire::DecodeBlock(Bin(At(r.result(), "block")));
        ASSERT_TRUE(block.ok());
        EXPECT_EQ(*block, b1.block);
        auto cert = wire::DecodeCertificate(Bin(At(r.result(), "certificate")));
        ASSERT_TRUE(cert.ok());
        EXPECT_EQ(*cert, b1.cert);
        util::ByteView got = Bin(At(r.result(), "hash"));
        EXPECT_TRUE(std::equal(got.begin(), got.end(), hash.begin(), hash.end()));
    }
    auto genesis = CallUint("block", 0);
    ASSERT_TRUE(genesis.ok);
    EXPECT_TRUE(At(genesis.result(), "certificate").is_nil());

    auto missing = CallUint("block", 9);
    ASSERT_FALSE(missing.ok);
    EXPECT_EQ(missing.error().rfind("block: not-found: block 9", 0), 0u) << missing.error();
    auto unknown = CallBin("block", wire::Hash{});
    EXPECT_EQ(unknown.error().rfind("block: not-found: ", 0), 0u) << unknown.error();
    auto bad = CallBin("block", util::Bytes{1, 2});
    EXPECT_EQ(bad.error().rfind("block: bad-params: ", 0), 0u) << bad.error();
    EXPECT_EQ(store::protocol::ErrcOfReply(missing.error()), util::Errc::kNotFound);
    EXPECT_EQ(store::protocol::ErrcOfReply(bad.error()), util::Errc::kInvalid);
}

TEST_F(RequestsTest, TxByTxid) {
    auto t1 = Pay(Alice(), 1, Addr(2), kCoin);
    auto t2 = Pay(Alice(), 1, Addr(3), kCoin);  // same input: only t1 goes in
    auto b1 = m_chain->Next({t1});
    ASSERT_TRUE(ApplyBatch({b1}).ok);
    auto r = CallBin("tx", wire::TxId(t1));
    ASSERT_TRUE(r.ok) << r.error();
    EXPECT_EQ(At(r.result(), "height").via.u64, 1u);
    EXPECT_EQ(At(r.result(), "position").via.u64, 0u);
    auto tx = wire::DecodeTransaction(Bin(At(r.result(), "tx")));
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(wire::TxId(*tx), wire::TxId(t1));
    auto missing = CallBin("tx", wire::TxId(t2));
    EXPECT_EQ(missing.error().rfind("tx: not-found: ", 0), 0u) << missing.error();
    auto bad = CallUint("tx", 1);
    EXPECT_EQ(bad.error().rfind("tx: bad-params: ", 0), 0u) << bad.error();
}

TEST_F(RequestsTest, UtxosComeInPagesWithTheNextStart) {
    ASSERT_TRUE(ApplyBatch({m_chain->Next({Pay(Alice(), 1, Addr(3), kCoin, 5)})}).ok);
    Reset({.max_utxos = 2});
    auto page = [&](const std::optional<wire::OutPoint>& after, uint64_t limit) {
        return Call("utxos", [&](Packer& p) {
            p.pack_array(3);
            store::protocol::PackStr(p, AddrText(3));
            if (after) {
                p.pack_array(2);
                store::protocol::PackBin(p, after->txid);
                p.pack_uint32(after->vout);
            } else {
                p.pack_nil();
            }
            p.pack_uint64(limit);
        });
    };
    std::vector<uint32_t> vouts;
    std::optional<wire::OutPoint> after;
    int pages = 0;
    do {
        // A limit above --max-utxos is cut to it.
        auto r = page(after, 100);
        ASSERT_TRUE(r.ok) << r.error();
        ++pages;
        const auto& list = At(r.result(), "utxos").via.array;
        EXPECT_LE(list.size, 2u);
        for (const auto& u : list) {
            vouts.push_back(u.via.array.ptr[1].as<uint32_t>());
            EXPECT_EQ(u.via.array.ptr[2].via.u64, kCoin);
        }
        const auto& next = At(r.result(), "next");
        if (next.is_nil()) {
            after.reset();
        } else {
            wire::OutPoint op;
            util::ByteView txid = Bin(next.via.array.ptr[0]);
            std::copy(txid.begin(), txid.end(), op.txid.begin());
            op.vout = next.via.array.ptr[1].as<uint32_t>();
            after = op;
        }
    } while (after && pages < 10);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(vouts, (std::vector<uint32_t>{0, 1, 2, 3, 4}));

    auto main_net = Call("utxos", [&](Packer& p) {
        p.pack_array(1);
        store::protocol::PackStr(p, wire::Address{wire::Network::kMain, Addr(3)}.ToString());
    });
    EXPECT_EQ(main_net.error().rfind("utxos: bad-params: address: ", 0), 0u) << main_net.error();
    auto just_address = Call("utxos", [&](Packer& p) {
        p.pack_array(1);
        store::protocol::PackStr(p, AddrText(2));
    });
    ASSERT_TRUE(just_address.ok);
    EXPECT_EQ(At(just_address.result(), "utxos").via.array.size, 0u);
}

TEST_F(RequestsTest, MasternodesEffectiveAtAHeight) {
    auto r = Call("masternodes");
    ASSERT_TRUE(r.ok) << r.error();
    EXPECT_EQ(At(r.result(), "height").via.u64, 1u);
    const auto& set = At(r.result(), "masternodes").via.array;
    ASSERT_EQ(set.size, 1u);
    util::ByteView key = Bin(At(set.ptr[0], "key"));
    auto want = Key(100).public_key();
    EXPECT_TRUE(std::equal(key.begin(), key.end(), want.begin(), want.end()));
    EXPECT_EQ(At(set.ptr[0], "endpoint").as<std::string>(), "127.0.0.1:7000");
    EXPECT_EQ(At(set.ptr[0], "payout").as<std::string>(), AddrText(200));
    EXPECT_TRUE(At(set.ptr[0], "collateral").is_nil());
    auto at = CallUint("masternodes", 1000);
    ASSERT_TRUE(at.ok);
    EXPECT_EQ(At(at.result(), "height").via.u64, 1000u);
    auto bad = Call("masternodes", [](Packer& p) {
        p.pack_array(1);
        store::protocol::PackStr(p, "tip");
    });
    EXPECT_EQ(bad.error().rfind("masternodes: bad-params: ", 0), 0u) << bad.error();
}

TEST_F(RequestsTest, EvidenceIsEmptyOnANewLedger) {
    auto r = Call("evidence");
    ASSERT_TRUE(r.ok) << r.error();
    EXPECT_EQ(At(r.result(), "evidence").via.array.size, 0u);
    EXPECT_FALSE(At(r.result(), "truncated").via.boolean);
}

// add-evidence: tc-pbft hands a pair over; the store checks and writes it,
// and `evidence` lists it.
TEST_F(RequestsTest, AddEvidenceChecksWritesOnceAndEvidenceListsIt) {
    const auto key = Key(100);  // the one masternode of MakeGenesis
    const auto vote = [&](const char* digest) {
        return test::VoteBytes(m_chain->chain_id(), key, 0, 1, 0,
                               crypto::Blake2b256(util::AsBytes(digest)));
    };
    auto add = [&](const util::Bytes& a, const util::Bytes& b) {
        return Call("add-evidence", [&](Packer& p) {
            p.pack_array(2);
            store::protocol::PackBin(p, a);
            store::protocol::PackBin(p, b);
        });
    };
    auto r = add(vote("a"), vote("b"));
    ASSERT_TRUE(r.ok) << r.error();
    EXPECT_TRUE(At(r.result(), "added").via.boolean);
    EXPECT_EQ(At(r.result(), "phase").as<std::string>(), "PREPARE");
    EXPECT_EQ(At(r.result(), "height").via.u64, 1u);
    EXPECT_EQ(At(r.result(), "view").via.u64, 0u);
    const util::ByteView signer = Bin(At(r.result(), "key"));
    EXPECT_TRUE(
        std::equal(signer.begin(), signer.end(), key.public_key().begin(), key.public_key().end()));
    r = add(vote("a"), vote("b"));
    ASSERT_TRUE(r.ok) << r.error();
    EXPECT_FALSE(At(r.result(), "added").via.boolean);

    r = add(vote("a"), vote("a"));
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error().rfind("add-evidence: refused: ", 0), 0u) << r.error();
    r = Call("add-evidence", [&](Packer& p) {
        p.pack_array(1);
        store::protocol::PackBin(p, vote("a"));
    });
    ASSERT_FALSE(r.ok);
    EXPECT_NE(r.error().find("params must be [first (bin), second (bin)]"), std::string::npos);
    const auto ahead = [&](const char* digest) {
        return test::VoteBytes(m_chain->chain_id(), key, 0, 5, 0,
                               crypto::Blake2b256(util::AsBytes(digest)));
    };
    r = add(ahead("a"), ahead("b"));
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error().rfind("add-evidence: failed: ", 0), 0u) << r.error();

    r = Call("evidence");
    ASSERT_TRUE(r.ok) << r.error();
    ASSERT_EQ(At(r.result(), "evidence").via.array.size, 1u);
    EXPECT_NE(store::RenderMetrics(m_metrics).find("tc_store_evidence_stored_total 1\n"),
              std::string::npos);
}

TEST_F(RequestsTest, SinceReplaysWithinTheRetentionWindow) {
    std::vector<MadeBlock> blocks;
    for (int i = 0; i < 5; ++i) blocks.push_back(m_chain->Next({}));
    ASSERT_TRUE(ApplyBatch(blocks).ok);
    Reset({.event_retention = 3});
    auto r = CallUint("since", 2);
    ASSERT_TRUE(r.ok) << r.error();
    const auto& events = r.result().via.array;
    ASSERT_EQ(events.size, 3u);
    for (uint32_t i = 0; i < 3; ++i) {
        auto e = store::protocol::DecodeEvent(events.ptr[i]);
        ASSERT_TRUE(e.ok());
        EXPECT_EQ(*e, (Event{i + 3, i + 3, wire::BlockHash(blocks[i + 2].block.header)}));
    }
    auto none = CallUint("since", 5);
    ASSERT_TRUE(none.ok);
    EXPECT_EQ(none.result().via.array.size, 0u);
    auto gap = CallUint("since", 1);
    ASSERT_FALSE(gap.ok);
    EXPECT_EQ(gap.error().rfind("since: gap-beyond-retention: ", 0), 0u) << gap.error();
    EXPECT_EQ(store::protocol::ErrcOfReply(gap.error()), util::Errc::kConflict);
    auto ahead = CallUint("since", 6);
    EXPECT_EQ(ahead.error().rfind("since: bad-params: seq 6 is ahead of the tip 5", 0), 0u)
        << ahead.error();
}

TEST_F(RequestsTest, MetricsCountRequestsByMethod) {
    (void)Call("ping");
    (void)Call("ping");
    (void)Call("nope");
    ASSERT_TRUE(ApplyBatch({m_chain->Next({})}).ok);
    const std::string text = store::RenderMetrics(m_metrics);
    for (const char* line :
         {"tc_store_requests_total{method=\"ping\"} 2\n",
          "tc_store_requests_total{method=\"other\"} 1\n",
          "tc_store_requests_total{method=\"apply\"} 1\n", "tc_store_height 1\n",
          "tc_store_blocks_applied_total 1\n", "tc_store_apply_errors_total 0\n",
          "tc_store_apply_seconds_bucket{le=\"+Inf\"} 1\n", "tc_store_apply_seconds_count 1\n",
          "# TYPE tc_store_apply_seconds histogram\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << " not in:\n" << text;
    }
    EXPECT_NE(text.find("tc_store_map_size_bytes "), std::string::npos);
}
