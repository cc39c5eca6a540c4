// The pool's state (tools/tc-pool/mempool.h): fee-rate order (exact, with
// the arrival tie-break), Select within block limits, eviction by count and
// bytes, conflicts, committed blocks, expiry, Why in every state, the
// history bound, and a seeded randomized comparison with a simple model.
#include "mempool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

using namespace tc;
using pool::AddResult;
using pool::Entry;
using pool::FeeRate;
using pool::Limits;
using pool::Mempool;
using pool::Removed;
using pool::TxStatus;

namespace {

wire::Hash Id(uint64_t n) {
    wire::Hash h{};
    std::memcpy(h.data(), &n, sizeof n);
    h[31] = 0xAA;  // not an outpoint's txid below
    return h;
}

wire::OutPoint Op(uint64_t n) {
    wire::Hash h{};
    std::memcpy(h.data(), &n, sizeof n);
    return wire::OutPoint{h, static_cast<uint32_t>(n % 3)};
}

// A transfer entry spending `inputs`, with the given fee and size.
Entry Make(uint64_t id, uint64_t fee, uint64_t bytes, std::vector<uint64_t> inputs = {},
           uint64_t expiry = 0) {
    Entry e;
    e.txid = Id(id);
    e.wtxid = Id(id + 1'000'000);
    if (inputs.empty()) inputs = {id + 5'000'000};
    for (uint64_t in : inputs) e.spent.push_back(Op(in));
    e.tx.inputs = e.spent;
    e.tx.expiry = expiry;
    e.bytes = bytes;
    e.fee = fee;
    e.expiry = expiry;
    return e;
}

std::vector<wire::Hash> Ids(const std::vector<const Entry*>& batch) {
    std::vector<wire::Hash> out;
    for (const auto* e : batch) out.push_back(e->txid);
    return out;
}

std::vector<wire::Hash> Ids(const std::vector<Removed>& removed) {
    std::vector<wire::Hash> out;
    for (const auto& r : removed) out.push_back(r.entry.txid);
    return out;
}

Limits Big() {
    return Limits{1000, 1u << 30, 1000};
}

}  // namespace

TEST(FeeRate, ComparesExactlyByCrossMultiplication) {
    EXPECT_TRUE((FeeRate{1, 2} == FeeRate{2, 4}));
    EXPECT_TRUE((FeeRate{1, 3} < FeeRate{333, 998}));
    EXPECT_TRUE((FeeRate{333, 999} == FeeRate{1, 3}));
    // Rates whose doubles are equal but which are not.
    const FeeRate a{(1ull << 62) + 1, 1000}, b{1ull << 62, 1000};
    ASSERT_EQ(static_cast<double>(a.fee) / a.bytes, static_cast<double>(b.fee) / b.bytes);
    EXPECT_TRUE(a > b);
    const FeeRate c{UINT64_MAX, 3}, d{UINT64_MAX - 1, 3};
    ASSERT_EQ(static_cast<double>(c.fee) / c.bytes, static_cast<double>(d.fee) / d.bytes);
    EXPECT_TRUE(c > d);  // no overflow in 128 bits
    EXPECT_EQ(a.ToString(), std::to_string((1ull << 62) + 1) + "/1000");
}

TEST(Mempool, OrdersByFeeRateExactly) {
    Mempool pool(Big());
    ASSERT_TRUE(pool.Add(Make(1, 100, 100)).accepted);                // 1
    ASSERT_TRUE(pool.Add(Make(2, 300, 100)).accepted);                // 3
    ASSERT_TRUE(pool.Add(Make(3, 1ull << 62, 1000)).accepted);        // huge
    ASSERT_TRUE(pool.Add(Make(4, (1ull << 62) + 1, 1000)).accepted);  // huge, a hair more
    ASSERT_TRUE(pool.Add(Make(5, 201, 100)).accepted);                // 2.01
    EXPECT_EQ(Ids(pool.Select(10, 1u << 20)),
              (std::vector<wire::Hash>{Id(4), Id(3), Id(2), Id(5), Id(1)}));
    auto stats = pool.GetStats();
    EXPECT_EQ(stats.count, 5u);
    EXPECT_EQ(stats.bytes, 2300u);
    ASSERT_TRUE(stats.highest && stats.lowest);
    EXPECT_EQ(stats.highest->fee, (1ull << 62) + 1);
    EXPECT_EQ(stats.lowest->fee, 100u);
}

TEST(Mempool, EqualRatesGoInArrivalOrder) {
    Mempool pool(Big());
    ASSERT_TRUE(pool.Add(Make(1, 200, 100)).accepted);
    ASSERT_TRUE(pool.Add(Make(2, 100, 50)).accepted);  // same rate as 1
    ASSERT_TRUE(pool.Add(Make(3, 400, 200)).accepted);
    ASSERT_TRUE(pool.Add(Make(4, 500, 100)).accepted);
    EXPECT_EQ(Ids(pool.Select(10, 1u << 20)),
              (std::vector<wire::Hash>{Id(4), Id(1), Id(2), Id(3)}));
    EXPECT_EQ(pool.Why(Id(1)).rank, 2u);
    EXPECT_EQ(pool.Why(Id(3)).rank, 4u);
}

TEST(Mempool, SelectRespectsMaxTxsAndMaxBytes) {
    Mempool pool(Big());
    ASSERT_TRUE(pool.Add(Make(1, 1000, 100)).accepted);  // 10
    ASSERT_TRUE(pool.Add(Make(2, 4500, 500)).accepted);  // 9
    ASSERT_TRUE(pool.Add(Make(3, 800, 100)).accepted);   // 8
    ASSERT_TRUE(pool.Add(Make(4, 700, 100)).accepted);   // 7
    EXPECT_EQ(Ids(pool.Select(2, 1u << 20)), (std::vector<wire::Hash>{Id(1), Id(2)}));
    EXPECT_EQ(Ids(pool.Select(0, 1u << 20)), std::vector<wire::Hash>{});
    // 2 does not fit after 1: skipped, the smaller ones behind it fill in.
    EXPECT_EQ(Ids(pool.Select(10, 300)), (std::vector<wire::Hash>{Id(1), Id(3), Id(4)}));
    EXPECT_EQ(Ids(pool.Select(10, 600)), (std::vector<wire::Hash>{Id(1), Id(2)}));
    EXPECT_EQ(Ids(pool.Select(10, 99)), std::vector<wire::Hash>{});
    // Select changes nothing.
    EXPECT_EQ(pool.GetStats().count, 4u);
}

TEST(Mempool, SelectStopsAfterTooManySkipsInARow) {
    Mempool pool(Big());
    for (uint64_t i = 0; i < Mempool::kSelectMaxSkips; ++i) {
        ASSERT_TRUE(pool.Add(Make(i, 100'000, 1000)).accepted);
    }
    ASSERT_TRUE(pool.Add(Make(999, 1, 10)).accepted);
    EXPECT_TRUE(pool.Select(10, 500).empty());
    ASSERT_TRUE(pool.Add(Make(1000, 2000, 10)).accepted);  // 200/byte: before the big ones
    EXPECT_EQ(Ids(pool.Select(10, 500)), std::vector<wire::Hash>{Id(1000)});
}

TEST(Mempool, EvictsTheLowestRateWhenFullByCount) {
    Mempool pool(Limits{3, 1u << 20, 100});
    ASSERT_TRUE(pool.Add(Make(1, 200, 100)).accepted);
    ASSERT_TRUE(pool.Add(Make(2, 100, 100)).accepted);
    ASSERT_TRUE(pool.Add(Make(3, 100, 100)).accepted);  // equal to 2, newer
    // Equal to the lowest: not admitted.
    AddResult equal = pool.Add(Make(4, 100, 100));
    EXPECT_FALSE(equal.accepted);
    EXPECT_EQ(equal.reason, "pool-full");
    EXPECT_NE(equal.detail.find("is not above the fee rate 100/100"), std::string::npos)
        << equal.detail;
    // Below it: not admitted either.
    EXPECT_EQ(pool.Add(Make(5, 99, 100)).reason, "pool-full");
    // Above it: the newest of the lowest goes.
    AddResult better = pool.Add(Make(6, 101, 100));
    ASSERT_TRUE(better.accepted);
    ASSERT_EQ(better.evicted.size(), 1u);
    EXPECT_EQ(better.evicted[0].entry.txid, Id(3));
    EXPECT_EQ(better.evicted[0].reason, "pool-full");
    EXPECT_EQ(pool.Why(Id(3)).status, TxStatus::kEvicted);
    EXPECT_EQ(pool.Why(Id(3)).reason, "pool-full");
    EXPECT_EQ(pool.Why(Id(4)).status, TxStatus::kRefused);
    EXPECT_EQ(pool.GetStats().count, 3u);
    EXPECT_EQ(Ids(pool.Select(10, 1u << 20)), (std::vector<wire::Hash>{Id(1), Id(6), Id(2)}));
}

TEST(Mempool, EvictsSeveralWhenFullByBytes) {
    Mempool pool(Limits{100, 1000, 100});
    ASSERT_TRUE(pool.Add(Make(1, 4000, 400)).accepted);  // 10
    ASSERT_TRUE(pool.Add(Make(2, 900, 300)).accepted);   // 3
    ASSERT_TRUE(pool.Add(Make(3, 600, 300)).accepted);   // 2
    EXPECT_EQ(pool.GetStats().bytes, 1000u);
    // 500 bytes at rate 4: 2 and 3 must go (lowest first).
    AddResult r = pool.Add(Make(4, 2000, 500));
    ASSERT_TRUE(r.accepted);
    EXPECT_EQ(Ids(r.evicted), (std::vector<wire::Hash>{Id(3), Id(2)}));
    EXPECT_EQ(pool.GetStats().bytes, 900u);
    // 700 bytes at rate 5 would have to evict 4 (rate 4) and 1 (rate 10): refused,
    // and nothing is evicted.
    AddResult no = pool.Add(Make(5, 3500, 700));
    EXPECT_FALSE(no.accepted);
    EXPECT_EQ(no.reason, "pool-full");
    EXPECT_TRUE(no.evicted.empty());
    EXPECT_EQ(pool.GetStats().count, 2u);
    // Larger than the whole pool: refused whatever its fee.
    EXPECT_EQ(pool.Add(Make(6, 1'000'000, 1001)).reason, "pool-full");
}

TEST(Mempool, RefusesADoubleSpendAndASecondChangeOfAMasternode) {
    Mempool pool(Big());
    ASSERT_TRUE(pool.Add(Make(1, 100, 100, {10, 11})).accepted);
    AddResult again = pool.Add(Make(1, 100, 100, {10, 11}));
    EXPECT_EQ(again.reason, "already-known");
    AddResult ds = pool.Add(Make(2, 10'000, 100, {12, 11}));  // better fee: still refused
    EXPECT_FALSE(ds.accepted);
    EXPECT_EQ(ds.reason, "double-spend");
    EXPECT_EQ(ds.detail.find("tx.inputs[1]: "), 0u) << ds.detail;
    EXPECT_EQ(pool.Why(Id(2)).status, TxStatus::kRefused);
    EXPECT_EQ(pool.Why(Id(2)).reason, "double-spend");
    EXPECT_EQ(pool.Why(Id(1)).status, TxStatus::kPending);

    Entry retire = Make(3, 0, 150, {});
    retire.spent.clear();
    retire.tx.inputs.clear();
    retire.tx.kind = wire::TxKind::kRetire;
    crypto::PublicKey key{};
    key[0] = 7;
    retire.tx.payload = wire::RetirePayload{key};
    ASSERT_TRUE(pool.Add(retire).accepted);
    Entry other = retire;
    other.txid = Id(4);
    AddResult twice = pool.Add(other);
    EXPECT_EQ(twice.reason, "masternode-changed-twice");
    EXPECT_EQ(twice.detail.find("tx.payload.masternode_key: "), 0u) << twice.detail;
}

TEST(Mempool, BlockCommittedRemovesIncludedAndConflictingTxs) {
    Mempool pool(Big());
    ASSERT_TRUE(pool.Add(Make(1, 100, 100, {10})).accepted);
    ASSERT_TRUE(pool.Add(Make(2, 100, 100, {20, 21})).accepted);
    ASSERT_TRUE(pool.Add(Make(3, 100, 100, {30})).accepted);
    pool.Refuse(Id(9), "missing-input", "tx.inputs[0]: ...");
    // The block holds 1 and a tx of another node spending 21, and 9.
    std::vector<wire::Hash> txids{Id(1), Id(8), Id(9)};
    std::vector<wire::OutPoint> spent{Op(10), Op(21), Op(99)};
    auto removed = pool.BlockCommitted(7, txids, spent);
    ASSERT_EQ(removed.size(), 2u);
    EXPECT_EQ(removed[0].entry.txid, Id(1));
    EXPECT_EQ(removed[0].reason, "committed");
    EXPECT_EQ(removed[1].entry.txid, Id(2));
    EXPECT_EQ(removed[1].reason, "double-spend");
    EXPECT_EQ(removed[1].detail.find("tx.inputs[1]: "), 0u) << removed[1].detail;
    EXPECT_NE(removed[1].detail.find("block 7"), std::string::npos);
    EXPECT_EQ(pool.GetStats().count, 1u);
    EXPECT_EQ(pool.GetStats().bytes, 100u);

    auto w1 = pool.Why(Id(1));
    EXPECT_EQ(w1.status, TxStatus::kCommitted);
    EXPECT_EQ(w1.height, 7u);
    auto w2 = pool.Why(Id(2));
    EXPECT_EQ(w2.status, TxStatus::kConflicted);
    EXPECT_EQ(w2.reason, "double-spend");
    EXPECT_EQ(w2.height, 7u);
    // Refused here but committed elsewhere: the block has the last word.
    EXPECT_EQ(pool.Why(Id(9)).status, TxStatus::kCommitted);
    // Never seen: not remembered.
    EXPECT_EQ(pool.Why(Id(8)).status, TxStatus::kUnknown);
    // Its outpoints are free again for a new tx.
    EXPECT_TRUE(pool.Add(Make(4, 100, 100, {20})).accepted);
}

TEST(Mempool, BlockCommittedFromABlockAlsoDropsMasternodeConflicts) {
    Mempool pool(Big());
    crypto::PublicKey key{};
    key[0] = 9;
    Entry retire = Make(1, 0, 150);
    retire.spent.clear();
    retire.tx.inputs.clear();
    retire.tx.kind = wire::TxKind::kRetire;
    retire.tx.payload = wire::RetirePayload{key};
    ASSERT_TRUE(pool.Add(retire).accepted);
    wire::Block block;
    block.header.height = 4;
    wire::Transaction other;
    other.kind = wire::TxKind::kRetire;
    other.payload = wire::RetirePayload{key};
    other.expiry = 99;  // another tx for the same key
    block.txs.push_back(other);
    auto removed = pool.BlockCommitted(block);
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].reason, "masternode-changed-twice");
    EXPECT_EQ(pool.Why(Id(1)).status, TxStatus::kConflicted);
    EXPECT_EQ(pool.GetStats().count, 0u);
}

TEST(Mempool, ExpireRemovesTxsBelowTheNextHeight) {
    Mempool pool(Big());
    ASSERT_TRUE(pool.Add(Make(1, 100, 100, {}, 5)).accepted);
    ASSERT_TRUE(pool.Add(Make(2, 100, 100, {}, 0)).accepted);  // never expires
    ASSERT_TRUE(pool.Add(Make(3, 100, 100, {}, 6)).accepted);
    ASSERT_TRUE(pool.Add(Make(4, 100, 100, {}, 5)).accepted);
    EXPECT_TRUE(pool.Expire(5).empty());  // may still be included at 5
    auto removed = pool.Expire(6);
    EXPECT_EQ(Ids(removed), (std::vector<wire::Hash>{Id(1), Id(4)}));
    EXPECT_EQ(removed[0].reason, "expired");
    EXPECT_EQ(removed[0].detail.find("tx.expiry: "), 0u);
    EXPECT_EQ(pool.Why(Id(4)).status, TxStatus::kExpired);
    EXPECT_EQ(pool.Why(Id(4)).reason, "expired");
    EXPECT_EQ(Ids(pool.Expire(1000)), std::vector<wire::Hash>{Id(3)});
    EXPECT_EQ(pool.GetStats().count, 1u);
}

TEST(Mempool, WhyInEveryState) {
    Mempool pool(Limits{2, 1u << 20, 100});
    EXPECT_EQ(pool.Why(Id(1)).status, TxStatus::kUnknown);
    ASSERT_TRUE(pool.Add(Make(1, 300, 100, {}, 0)).accepted);
    ASSERT_TRUE(pool.Add(Make(2, 200, 100, {}, 3)).accepted);
    auto p = pool.Why(Id(2));
    EXPECT_EQ(p.status, TxStatus::kPending);
    EXPECT_EQ(p.rank, 2u);
    EXPECT_EQ(p.rate, (FeeRate{200, 100}));
    // Refused by the checker.
    pool.Refuse(Id(5), "fee-too-low", "tx: fee 0.00000001 is below ...");
    auto r = pool.Why(Id(5));
    EXPECT_EQ(r.status, TxStatus::kRefused);
    EXPECT_EQ(r.reason, "fee-too-low");
    EXPECT_EQ(r.detail, "tx: fee 0.00000001 is below ...");
    pool.Refuse(Id(1), "malformed", "ignored: pending");
    EXPECT_EQ(pool.Why(Id(1)).status, TxStatus::kPending);
    // Evicted.
    ASSERT_TRUE(pool.Add(Make(3, 400, 100, {}, 4)).accepted);
    EXPECT_EQ(pool.Why(Id(2)).status, TxStatus::kEvicted);
    EXPECT_EQ(pool.Why(Id(3)).rank, 1u);
    EXPECT_EQ(pool.Why(Id(1)).rank, 2u);
    // Expired.
    ASSERT_EQ(pool.Expire(5).size(), 1u);
    EXPECT_EQ(pool.Why(Id(3)).status, TxStatus::kExpired);
    // Conflicted and committed.
    ASSERT_TRUE(pool.Add(Make(4, 100, 100, {44})).accepted);
    std::vector<wire::Hash> txids{Id(1)};
    std::vector<wire::OutPoint> spent{Op(44)};
    ASSERT_EQ(pool.BlockCommitted(5, txids, spent).size(), 2u);
    EXPECT_EQ(pool.Why(Id(1)).status, TxStatus::kCommitted);
    EXPECT_EQ(pool.Why(Id(1)).height, 5u);
    EXPECT_EQ(pool.Why(Id(4)).status, TxStatus::kConflicted);
    EXPECT_STREQ(pool::TxStatusName(TxStatus::kConflicted), "conflicted");
    EXPECT_STREQ(pool::TxStatusName(TxStatus::kPending), "pending");
}

TEST(Mempool, HistoryIsBoundedOldestFirst) {
    Mempool pool(Limits{10, 1u << 20, 3});
    for (uint64_t i = 1; i <= 3; ++i) pool.Refuse(Id(i), "bad-tx", "");
    EXPECT_EQ(pool.HistorySize(), 3u);
    pool.Refuse(Id(1), "bad-tx", "again");  // remembered again: now the newest
    pool.Refuse(Id(4), "bad-tx", "");
    EXPECT_EQ(pool.HistorySize(), 3u);
    EXPECT_EQ(pool.Why(Id(2)).status, TxStatus::kUnknown);  // the oldest, dropped
    EXPECT_EQ(pool.Why(Id(1)).detail, "again");
    EXPECT_EQ(pool.Why(Id(3)).status, TxStatus::kRefused);
    EXPECT_EQ(pool.Why(Id(4)).status, TxStatus::kRefused);
    Mempool none(Limits{10, 1u << 20, 0});
    none.Refuse(Id(1), "bad-tx", "");
    EXPECT_EQ(none.HistorySize(), 0u);
    EXPECT_EQ(none.Why(Id(1)).status, TxStatus::kUnknown);
}

// ---------------------------------------------------------------- model

namespace {

// The simplest pool that could work: a vector, sorted on demand.
class Model {
  public:
    explicit Model(Limits limits) : m_limits(limits) {}

    struct Item {
        Entry e;
        uint64_t seq;
    };

    static bool Better(const Item& a, const Item& b) {
        unsigned __int128 l = static_cast<unsigned __int128>(a.e.fee) * b.e.bytes;
        unsigned __int128 r = static_cast<unsigned __int128>(b.e.fee) * a.e.bytes;
        return l != r ? l > r : a.seq < b.seq;
    }

    std::vector<Item> Sorted() const {
        auto v = m_items;
        std::sort(v.begin(), v.end(), Better);
        return v;
    }

    // Returns (reason or "", evicted txids).
    std::pair<std::string, std::vector<wire::Hash>> Add(const Entry& e) {
        for (const auto& it : m_items) {
            if (it.e.txid == e.txid) return {"already-known", {}};
        }
        for (const auto& it : m_items) {
            for (const auto& a : it.e.spent) {
                for (const auto& b : e.spent) {
                    if (a == b) return {"double-spend", {}};
                }
            }
        }
        if (e.bytes > m_limits.max_bytes || m_limits.max_count == 0) return {"pool-full", {}};
        auto worst_first = Sorted();
        std::reverse(worst_first.begin(), worst_first.end());
        size_t count = m_items.size(), k = 0;
        uint64_t bytes = Bytes();
        std::vector<wire::Hash> evicted;
        Item mine{e, 0};
        while (count + 1 > m_limits.max_count || bytes + e.bytes > m_limits.max_bytes) {
            const Item& w = worst_first[k++];
            unsigned __int128 l = static_cast<unsigned __int128>(e.fee) * w.e.bytes;
            unsigned __int128 r = static_cast<unsigned __int128>(w.e.fee) * e.bytes;
            if (!(l > r)) return {"pool-full", {}};
            evicted.push_back(w.e.txid);
            --count;
            bytes -= w.e.bytes;
        }
        for (const auto& id : evicted) Erase(id);
        m_items.push_back(Item{e, m_seq++});
        return {"", evicted};
    }

    std::vector<wire::Hash> Select(size_t max_txs, uint64_t max_bytes) const {
        std::vector<wire::Hash> out;
        size_t skips = 0;
        for (const auto& it : Sorted()) {
            if (out.size() >= max_txs || skips >= Mempool::kSelectMaxSkips) break;
            if (it.e.bytes > max_bytes) {
                ++skips;
                continue;
            }
            skips = 0;
            max_bytes -= it.e.bytes;
            out.push_back(it.e.txid);
        }
        return out;
    }

    std::vector<wire::Hash> Commit(const std::vector<wire::Hash>& txids,
                                   const std::vector<wire::OutPoint>& spent) {
        std::vector<wire::Hash> removed;
        for (const auto& id : txids) {
            if (Erase(id)) removed.push_back(id);
        }
        for (const auto& op : spent) {
            for (const auto& it : m_items) {
                if (std::find(it.e.spent.begin(), it.e.spent.end(), op) != it.e.spent.end()) {
                    removed.push_back(it.e.txid);
                    Erase(it.e.txid);
                    break;
                }
            }
        }
        return removed;
    }

    std::vector<wire::Hash> Expire(uint64_t next) {
        std::vector<Item> gone;
        for (const auto& it : m_items) {
            if (it.e.expiry != 0 && it.e.expiry < next) gone.push_back(it);
        }
        std::sort(gone.begin(), gone.end(), [](const Item& a, const Item& b) {
            return a.e.expiry != b.e.expiry ? a.e.expiry < b.e.expiry : a.seq < b.seq;
        });
        std::vector<wire::Hash> out;
        for (const auto& it : gone) {
            out.push_back(it.e.txid);
            Erase(it.e.txid);
        }
        return out;
    }

    uint64_t Rank(const wire::Hash& id) const {
        auto v = Sorted();
        for (size_t i = 0; i < v.size(); ++i) {
            if (v[i].e.txid == id) return i + 1;
        }
        return 0;
    }

    uint64_t Bytes() const {
        uint64_t b = 0;
        for (const auto& it : m_items) b += it.e.bytes;
        return b;
    }
    size_t Count() const { return m_items.size(); }
    const std::vector<Item>& items() const { return m_items; }

  private:
    bool Erase(const wire::Hash& id) {
        for (size_t i = 0; i < m_items.size(); ++i) {
            if (m_items[i].e.txid == id) {
                m_items.erase(m_items.begin() + static_cast<ptrdiff_t>(i));
                return true;
            }
        }
        return false;
    }

    Limits m_limits;
    std::vector<Item> m_items;
    uint64_t m_seq = 0;
};

}  // namespace

TEST(Mempool, MatchesASimpleModelOnRandomOperations) {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        auto pick = [&](uint64_t lo, uint64_t hi) {
            return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
        };
        const Limits limits{pick(1, 40), pick(500, 5000), 50};
        Mempool pool(limits);
        Model model(limits);
        uint64_t next_id = 1, height = 1;
        std::vector<wire::Hash> seen;
        for (int step = 0; step < 1500; ++step) {
            const uint64_t op = pick(0, 99);
            SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
            if (op < 70) {
                // Add: a few inputs from a small universe (conflicts happen),
                // rates from a few values (ties happen), sometimes a known txid.
                uint64_t id = (pick(0, 9) == 0 && next_id > 1) ? pick(1, next_id - 1) : next_id++;
                std::vector<uint64_t> inputs;
                for (uint64_t n = pick(1, 3); n > 0; --n) inputs.push_back(pick(0, 300));
                std::sort(inputs.begin(), inputs.end());
                inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
                const uint64_t bytes = pick(1, 4) * 50;
                const uint64_t fee = pick(0, 5) * bytes / pick(1, 2) + pick(0, 1);
                const uint64_t expiry = pick(0, 3) == 0 ? height + pick(0, 10) : 0;
                Entry e = Make(id, fee, bytes, inputs, expiry);
                auto [reason, evicted] = model.Add(e);
                AddResult got = pool.Add(e);
                ASSERT_EQ(got.accepted, reason.empty()) << reason << " / " << got.reason;
                ASSERT_EQ(got.reason, reason);
                ASSERT_EQ(Ids(got.evicted), evicted);
                seen.push_back(e.txid);
            } else if (op < 80) {
                // A block: some pooled txs, plus outpoints spent elsewhere.
                std::vector<wire::Hash> txids;
                std::vector<wire::OutPoint> spent;
                for (const auto& it : model.items()) {
                    if (pick(0, 3) == 0) {
                        txids.push_back(it.e.txid);
                        spent.insert(spent.end(), it.e.spent.begin(), it.e.spent.end());
                    }
                }
                for (uint64_t n = pick(0, 3); n > 0; --n) spent.push_back(Op(pick(0, 300)));
                auto want = model.Commit(txids, spent);
                ASSERT_EQ(Ids(pool.BlockCommitted(height, txids, spent)), want);
                ++height;
            } else if (op < 88) {
                ASSERT_EQ(Ids(pool.Expire(height)), model.Expire(height));
            } else {
                const size_t max_txs = pick(0, 20);
                const uint64_t max_bytes = pick(0, 2000);
                ASSERT_EQ(Ids(pool.Select(max_txs, max_bytes)), model.Select(max_txs, max_bytes));
            }
            ASSERT_EQ(pool.GetStats().count, model.Count());
            ASSERT_EQ(pool.GetStats().bytes, model.Bytes());
            ASSERT_LE(pool.GetStats().count, limits.max_count);
            ASSERT_LE(pool.GetStats().bytes, limits.max_bytes);
            ASSERT_LE(pool.HistorySize(), limits.max_history);
            if (!seen.empty()) {
                const wire::Hash& probe = seen[pick(0, seen.size() - 1)];
                const uint64_t rank = model.Rank(probe);
                auto why = pool.Why(probe);
                ASSERT_EQ(why.status == TxStatus::kPending, rank != 0);
                if (rank) {
                    ASSERT_EQ(why.rank, rank);
                }
            }
        }
    }
}
