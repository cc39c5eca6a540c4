// The ledger (common/ledger/ledger.h) on real chains: genesis state,
// transfers, every apply rule with its reason (and nothing changed by a
// rejected block), register and retire, reopen, Verify, and a read-only
// process beside the writer.
#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "chain_builder.h"
#include "killed_reader.h"
#include "ledger/lmdb.h"
#include "ledger/schema.h"
#include "signed_vote.h"
#include "temp_dir.h"
#include "test_chain.h"
#include "wire/tx_text.h"

using namespace tc;
using ledger::Ledger;
using ledger::Utxo;
using test::Addr;
using test::ChainBuilder;
using test::Key;
using test::MadeBlock;
using test::MasternodeKeys;
namespace fs = std::filesystem;
using tc::test::TempDir;

namespace {

constexpr uint64_t kCoin = util::Amount::kUnitsPerCoin;
constexpr uint64_t kFee = 10'000;  // units; min_fee_rate 1 unit/byte x ~300 bytes is far below

wire::Genesis MakeGenesis(size_t masternodes) {
    return test::MakeGenesis("ledger-test", masternodes);
}

bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// What a rejected block must leave exactly as it was.
struct Snapshot {
    uint64_t height, tx_count, utxo_count, supply, fees;
    wire::Hash tip;
    std::vector<std::pair<wire::OutPoint, uint64_t>> utxos;  // of alice, bob, carol, payouts
    size_t masternodes_later;
    bool operator==(const Snapshot&) const = default;
};

class LedgerTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(crypto::InitSodium().ok()); }

    // Creates a ledger and a builder for a genesis with n masternodes.
    void Start(size_t masternodes, const std::function<void(wire::Genesis&)>& tweak = {}) {
        wire::Genesis g = MakeGenesis(masternodes);
        if (tweak) tweak(g);
        auto ledger = Ledger::Init(Dir(), g);
        ASSERT_TRUE(ledger.ok()) << ledger.error().message;
        m_ledger = std::move(*ledger);
        m_chain = std::make_unique<ChainBuilder>(g, MasternodeKeys(masternodes));
    }

    std::string Dir() const { return m_dir.path() + "/ledger"; }
    // Changes the ledger behind its back (close it first): edit runs in a raw
    // LMDB write transaction on database `db`, which is then committed.
    void Tamper(const std::string& db,
                const std::function<void(ledger::lmdb::Txn&, const ledger::lmdb::Dbi&)>& edit) {
        auto env = ledger::lmdb::Env::Open(Dir(), {});
        ASSERT_TRUE(env.ok());
        auto txn = env->BeginWrite();
        ASSERT_TRUE(txn.ok());
        auto dbi = env->OpenDbi(*txn, db, false);
        ASSERT_TRUE(dbi.ok());
        edit(*txn, *dbi);
        ASSERT_TRUE(txn->Commit().ok());
    }
    Ledger& L() { return *m_ledger; }
    ChainBuilder& C() { return *m_chain; }

    // Applies the next block with txs and advances the builder.
    MadeBlock Apply(std::vector<wire::Transaction> txs, ledger::ApplyOptions options = {}) {
        MadeBlock made = C().MakeBlock(std::move(txs));
        auto status = L().ApplyBlock(made.block, made.cert, options);
        EXPECT_TRUE(status.ok()) << status.error().message;
        if (status.ok()) C().Advance(made.block);
        return made;
    }

    std::vector<Utxo> UtxosOf(const wire::PubKeyHash& address) {
        auto utxos = L().GetUtxos(address, 1000);
        EXPECT_TRUE(utxos.ok()) << utxos.error().message;
        return utxos.ok() ? *utxos : std::vector<Utxo>{};
    }

    uint64_t Balance(const wire::PubKeyHash& address) {
        uint64_t sum = 0;
        for (const auto& u : UtxosOf(address)) sum += u.amount;
        return sum;
    }

    Utxo First(uint8_t owner) {
        auto utxos = UtxosOf(Addr(owner));
        EXPECT_FALSE(utxos.empty());
        return utxos.empty() ? Utxo{} : utxos.front();
    }

    Utxo Largest(uint8_t owner) {
        auto utxos = UtxosOf(Addr(owner));
        EXPECT_FALSE(utxos.empty());
        if (utxos.empty()) return Utxo{};
        return *std::max_element(utxos.begin(), utxos.end(),
                                 [](const auto& a, const auto& b) { return a.amount < b.amount; });
    }

    // A signed transfer of `amount` from `in` (owned by key `owner`) to
    // `to`, change back to the owner, paying `fee`.
    wire::Transaction Pay(const Utxo& in, uint8_t owner, const wire::PubKeyHash& to,
                          uint64_t amount, uint64_t fee = kFee) {
        wire::Transaction tx;
        tx.inputs = {in.outpoint};
        tx.outputs = {{amount, to}};
        if (in.amount > amount + fee) tx.outputs.push_back({in.amount - amount - fee, Addr(owner)});
        auto key = Key(owner);
        C().Sign(tx, {&key});
        return tx;
    }

    wire::Transaction Register(const Utxo& in, uint8_t owner, uint8_t masternode, uint8_t payout) {
        wire::Transaction tx;
        tx.kind = wire::TxKind::kRegister;
        tx.inputs = {in.outpoint};
        uint64_t collateral = C().genesis().collateral.units();
        tx.outputs = {{collateral, Addr(payout)}, {in.amount - collateral - kFee, Addr(owner)}};
        tx.payload =
            wire::RegisterPayload{Key(masternode).public_key(), "10.0.0.1:7100", Addr(payout)};
        auto key = Key(owner);
        C().Sign(tx, {&key});
        return tx;
    }

    wire::Transaction Retire(uint8_t masternode, uint8_t signer) {
        wire::Transaction tx;
        tx.kind = wire::TxKind::kRetire;
        tx.payload = wire::RetirePayload{Key(masternode).public_key()};
        auto key = Key(signer);
        C().Sign(tx, {&key});
        return tx;
    }

    Snapshot Snap() {
        auto st = L().GetStatus();
        EXPECT_TRUE(st.ok());
        Snapshot s{
            st->height,   st->tx_count, st->utxo_count, st->supply.units(), st->fees_burned.units(),
            st->tip_hash, {},           st->masternodes};
        for (uint8_t who : {1, 2, 3, 200, 201, 202, 203}) {
            for (const auto& u : UtxosOf(Addr(who))) s.utxos.emplace_back(u.outpoint, u.amount);
        }
        return s;
    }

    // Applies made and expects the rule to reject it, naming `rule`, with
    // nothing changed.
    ::testing::AssertionResult Rejects(const MadeBlock& made, const std::string& rule,
                                       ledger::ApplyOptions options = {}) {
        Snapshot before = Snap();
        auto status = L().ApplyBlock(made.block, made.cert, options);
        if (status.ok()) return ::testing::AssertionFailure() << "accepted, expected " << rule;
        const std::string& msg = status.error().message;
        if (!Contains(msg, rule) ||
            !Contains(msg, "block " + std::to_string(made.block.header.height))) {
            return ::testing::AssertionFailure() << "expected " << rule << ", got: " << msg;
        }
        if (!(Snap() == before)) {
            return ::testing::AssertionFailure()
                   << "the rejected block changed the ledger: " << msg;
        }
        return ::testing::AssertionSuccess() << msg;
    }

    // The next block with txs, whose header `edit` breaks, re-certified so
    // that only the broken rule fails.
    MadeBlock Broken(std::vector<wire::Transaction> txs,
                     const std::function<void(wire::BlockHeader&)>& edit) {
        MadeBlock made = C().MakeBlock(std::move(txs));
        edit(made.block.header);
        made.cert = C().Certify(made.block.header, made.block.header.view);
        return made;
    }

    TempDir m_dir;
    std::unique_ptr<Ledger> m_ledger;
    std::unique_ptr<ChainBuilder> m_chain;
};

}  // namespace

// ---------------------------------------------------------------- genesis

TEST_F(LedgerTest, InitWritesTheGenesisState) {
    Start(1);
    auto st = L().GetStatus();
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(st->chain, "ledger-test");
    EXPECT_EQ(st->chain_id, C().chain_id());
    EXPECT_EQ(st->height, 0u);
    EXPECT_EQ(st->tip_hash, C().tip_hash());
    EXPECT_EQ(st->tip_time_ms, C().genesis().time_ms);
    EXPECT_EQ(st->genesis_supply.units(), 1500 * kCoin);
    EXPECT_EQ(st->supply.units(), 1500 * kCoin);
    EXPECT_EQ(st->fees_burned.units(), 0u);
    EXPECT_EQ(st->utxo_count, 2u);
    EXPECT_EQ(st->tx_count, 0u);
    EXPECT_EQ(st->masternodes, 1u);
    EXPECT_GT(st->map_size, 0u);

    auto alice = L().GetUtxo(ledger::GenesisOutPoint(C().chain_id(), 0));
    ASSERT_TRUE(alice.ok());
    EXPECT_EQ(alice->amount, 1000 * kCoin);
    EXPECT_EQ(alice->address, Addr(1));
    EXPECT_EQ(alice->height, 0u);
    EXPECT_FALSE(alice->locked);
    EXPECT_EQ(Balance(Addr(2)), 500 * kCoin);

    auto block0 = L().GetBlock(0);
    ASSERT_TRUE(block0.ok());
    EXPECT_EQ(block0->header, ledger::GenesisHeader(C().genesis()));
    EXPECT_TRUE(block0->txs.empty());
    auto h = L().GetHeightOfHash(C().tip_hash());
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, 0u);
    auto cert0 = L().GetCertificate(0);
    ASSERT_FALSE(cert0.ok());
    EXPECT_EQ(cert0.error().code, util::Errc::kNotFound);
    auto missing = L().GetBlock(1);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, util::Errc::kNotFound);
    for (uint64_t height : {0u, 1u, 1000u}) {
        auto set = L().GetMasternodes(height);
        ASSERT_TRUE(set.ok());
        ASSERT_EQ(set->size(), 1u);
        EXPECT_EQ((*set)[0].key, Key(100).public_key());
        EXPECT_EQ((*set)[0].endpoint, "127.0.0.1:7000");
        EXPECT_EQ((*set)[0].payout, Addr(200));
        EXPECT_FALSE((*set)[0].collateral.has_value());
    }
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, SecondInitIsRefused) {
    Start(1);
    m_ledger.reset();
    auto again = Ledger::Init(Dir(), C().genesis());
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, util::Errc::kConflict);
    EXPECT_TRUE(Contains(again.error().message, "ledger-test")) << again.error().message;
    wire::Genesis other = MakeGenesis(1);
    other.chain = "other-chain";
    auto different = Ledger::Init(Dir(), other);
    ASSERT_FALSE(different.ok());
    EXPECT_EQ(different.error().code, util::Errc::kConflict);
    EXPECT_TRUE(Contains(different.error().message, "ledger-test"));
    EXPECT_TRUE(Contains(different.error().message, "another chain")) << different.error().message;
    // The existing ledger is untouched.
    auto opened = Ledger::Open(Dir());
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ((*opened)->genesis().chain, "ledger-test");
}

TEST_F(LedgerTest, InitRefusesANonCanonicalGenesis) {
    wire::Genesis g = MakeGenesis(4);
    std::swap(g.masternodes[0], g.masternodes[1]);
    auto ledger = Ledger::Init(Dir(), g);
    ASSERT_FALSE(ledger.ok());
    EXPECT_EQ(ledger.error().code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(ledger.error().message, "sorted")) << ledger.error().message;
    EXPECT_FALSE(fs::exists(Dir() + "/data.mdb"));
}

TEST_F(LedgerTest, OpenErrors) {
    auto missing = Ledger::Open(Dir());
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, util::Errc::kNotFound);
    EXPECT_TRUE(Contains(missing.error().message, "run tc-store init"));
    auto missing_ro = Ledger::OpenReadOnly(Dir());
    ASSERT_FALSE(missing_ro.ok());
    EXPECT_EQ(missing_ro.error().code, util::Errc::kNotFound);

    // An LMDB environment of something else.
    {
        ledger::lmdb::EnvOptions o;
        o.create = true;
        auto env = ledger::lmdb::Env::Open(Dir(), o);
        ASSERT_TRUE(env.ok());
        auto txn = env->BeginWrite();
        ASSERT_TRUE(txn.ok());
        auto dbi = env->OpenDbi(*txn, "something", true);
        ASSERT_TRUE(dbi.ok());
        ASSERT_TRUE(txn->Put(*dbi, util::AsBytes("k"), util::AsBytes("v")).ok());
        ASSERT_TRUE(txn->Commit().ok());
    }
    for (bool read_only : {false, true}) {
        auto foreign = read_only ? Ledger::OpenReadOnly(Dir()) : Ledger::Open(Dir());
        ASSERT_FALSE(foreign.ok());
        EXPECT_EQ(foreign.error().code, util::Errc::kInvalid);
        EXPECT_TRUE(Contains(foreign.error().message, "not a TimeCoin ledger"))
            << foreign.error().message;
    }
    auto init = Ledger::Init(Dir(), MakeGenesis(1));
    ASSERT_FALSE(init.ok());
    EXPECT_EQ(init.error().code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(init.error().message, "not a TimeCoin ledger"));

    // A foreign file as data.mdb.
    fs::remove_all(Dir());
    fs::create_directories(Dir());
    {
        std::ofstream f(Dir() + "/data.mdb", std::ios::binary);
        for (int i = 0; i < 20000; ++i) f.put(static_cast<char>(i * 7919));
    }
    auto garbage = Ledger::Open(Dir());
    ASSERT_FALSE(garbage.ok());
    EXPECT_EQ(garbage.error().code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(garbage.error().message, "data.mdb")) << garbage.error().message;
}

TEST_F(LedgerTest, OpenRefusesAnotherLayoutVersion) {
    Start(1);
    m_ledger.reset();
    Tamper("meta", [](auto& txn, const auto& meta) {
        ASSERT_TRUE(txn.Put(meta, util::AsBytes("layout"), ledger::schema::U32(2)).ok());
    });
    auto opened = Ledger::Open(Dir());
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(opened.error().message, "layout version 2")) << opened.error().message;
}

// ---------------------------------------------------------------- transfers

TEST_F(LedgerTest, TransfersMoveBalancesAndKeepTheSupplyInvariant) {
    Start(4);
    Utxo alice = First(1);
    auto t1 = Pay(alice, 1, Addr(2), 100 * kCoin);
    auto b1 = Apply({t1});
    // Bob pays carol from his genesis output and from what alice sent him,
    // in two transactions of one block.
    auto bob = UtxosOf(Addr(2));
    ASSERT_EQ(bob.size(), 2u);
    auto t2 = Pay(bob[0], 2, Addr(3), 10 * kCoin);
    auto t3 = Pay(bob[1], 2, Addr(3), 20 * kCoin, 2 * kFee);
    auto b2 = Apply({t2, t3});

    EXPECT_EQ(Balance(Addr(1)), 900 * kCoin - kFee);
    EXPECT_EQ(Balance(Addr(2)), 600 * kCoin - 30 * kCoin - 3 * kFee);
    EXPECT_EQ(Balance(Addr(3)), 30 * kCoin);
    auto st = L().GetStatus();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->height, 2u);
    EXPECT_EQ(st->tip_hash, wire::BlockHash(b2.block.header));
    EXPECT_EQ(st->tip_time_ms, b2.block.header.timestamp_ms);
    EXPECT_EQ(st->tx_count, 3u);
    EXPECT_EQ(st->fees_burned.units(), 4 * kFee);
    EXPECT_EQ(st->supply.units(), 1500 * kCoin - 4 * kFee);
    EXPECT_EQ(st->utxo_count, 5u);  // alice change, bob 2 changes, carol 2
    EXPECT_EQ(Balance(Addr(1)) + Balance(Addr(2)) + Balance(Addr(3)), st->supply.units());
    EXPECT_EQ(st->masternodes, 4u);

    auto loc = L().GetTxLocation(wire::TxId(t3));
    ASSERT_TRUE(loc.ok());
    EXPECT_EQ(loc->height, 2u);
    EXPECT_EQ(loc->position, 1u);
    auto block = L().GetBlock(1);
    ASSERT_TRUE(block.ok());
    EXPECT_EQ(*block, b1.block);
    auto cert = L().GetCertificate(2);
    ASSERT_TRUE(cert.ok());
    EXPECT_EQ(*cert, b2.cert);
    auto h = L().GetHeightOfHash(wire::BlockHash(b2.block.header));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, 2u);
    auto spent = L().GetUtxo(alice.outpoint);
    ASSERT_FALSE(spent.ok());
    EXPECT_EQ(spent.error().code, util::Errc::kNotFound);
    auto created = L().GetUtxo(wire::OutPoint{wire::TxId(t2), 0});
    ASSERT_TRUE(created.ok());
    EXPECT_EQ(created->height, 2u);
    EXPECT_EQ(created->amount, 10 * kCoin);
    EXPECT_EQ(UtxosOf(Addr(3)).size(), 2u);
    auto limited = L().GetUtxos(Addr(3), 1);
    ASSERT_TRUE(limited.ok());
    EXPECT_EQ(limited->size(), 1u);
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, SpendsAnOutputCreatedEarlierInTheSameBlock) {
    Start(1);
    auto t1 = Pay(First(1), 1, Addr(2), 100 * kCoin);
    Utxo to_bob{wire::OutPoint{wire::TxId(t1), 0}, 100 * kCoin, Addr(2), 1, false};
    auto t2 = Pay(to_bob, 2, Addr(3), 40 * kCoin);
    Apply({t1, t2});
    EXPECT_EQ(Balance(Addr(3)), 40 * kCoin);
    EXPECT_EQ(Balance(Addr(2)), 500 * kCoin + 60 * kCoin - kFee);
    auto st = L().GetStatus();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->utxo_count, 4u);  // bob genesis, bob change, carol, alice change
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, GetUtxosPagesAfterAnOutpoint) {
    Start(1);
    Utxo alice = First(1);
    wire::Transaction tx;
    tx.inputs = {alice.outpoint};
    for (int i = 0; i < 5; ++i) tx.outputs.push_back({kCoin, Addr(3)});
    tx.outputs.push_back({alice.amount - 5 * kCoin - kFee, Addr(1)});
    auto key = Key(1);
    C().Sign(tx, {&key});
    Apply({tx});
    const std::vector<Utxo> all = UtxosOf(Addr(3));
    ASSERT_EQ(all.size(), 5u);

    std::vector<Utxo> paged;
    std::optional<wire::OutPoint> after;
    size_t pages = 0;
    while (true) {
        auto page = L().GetUtxos(Addr(3), 2, after);
        ASSERT_TRUE(page.ok()) << page.error().message;
        if (page->empty()) break;
        ++pages;
        paged.insert(paged.end(), page->begin(), page->end());
        after = page->back().outpoint;
    }
    EXPECT_EQ(pages, 3u);
    ASSERT_EQ(paged.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(paged[i].outpoint, all[i].outpoint);
    // Starting after an outpoint the address does not own (spent, or never
    // its) gives the outputs above it.
    auto from_spent = L().GetUtxos(Addr(3), 10, alice.outpoint);
    ASSERT_TRUE(from_spent.ok());
    size_t above = std::count_if(all.begin(), all.end(),
                                 [&](const Utxo& u) { return alice.outpoint < u.outpoint; });
    EXPECT_EQ(from_spent->size(), above);
    // Other addresses' outputs never leak into a page.
    auto last = L().GetUtxos(Addr(3), 10, all.back().outpoint);
    ASSERT_TRUE(last.ok());
    EXPECT_TRUE(last->empty());
}

TEST_F(LedgerTest, ApplyBlocksCommitsABatchAsOne) {
    Start(4);
    // Block 1 registers a masternode (in the set from height 3), block 2
    // spends an output of block 1, and block 3 must be certified by the
    // grown set: each block is checked on top of the ones before it.
    Utxo alice = First(1);
    auto reg = Register(alice, 1, 104, 204);
    auto t1 = Pay(First(2), 2, Addr(3), 100 * kCoin);
    std::vector<ledger::CertifiedBlock> batch;
    auto add = [&](const MadeBlock& made) { batch.push_back({made.block, made.cert}); };
    add(C().Next({reg, t1}));
    Utxo carol{wire::OutPoint{wire::TxId(t1), 0}, 100 * kCoin, Addr(3), 1, false};
    C().AddMasternodeKey(Key(104));
    add(C().Next({Pay(carol, 3, Addr(1), 40 * kCoin)}));
    add(C().Next({}));
    add(C().Next({}));
    ASSERT_EQ(C().SetAt(3).size(), 5u);

    size_t refused = 99;
    auto status = L().ApplyBlocks(batch, {}, &refused);
    ASSERT_TRUE(status.ok()) << status.error().message;
    auto st = L().GetStatus();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->height, 4u);
    EXPECT_EQ(st->tip_hash, wire::BlockHash(batch.back().block.header));
    EXPECT_EQ(st->tx_count, 3u);
    EXPECT_EQ(st->masternodes, 5u);
    EXPECT_EQ(Balance(Addr(3)), 60 * kCoin - kFee);
    for (uint64_t h = 1; h <= 4; ++h) {
        auto cert = L().GetCertificate(h);
        ASSERT_TRUE(cert.ok());
        EXPECT_EQ(*cert, batch[h - 1].cert);
    }
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, ApplyBlocksRefusesTheWholeBatchNamingTheBlock) {
    Start(1);
    Utxo alice = First(1);
    auto spend = Pay(alice, 1, Addr(2), kCoin);
    std::vector<ledger::CertifiedBlock> batch;
    auto made = C().Next({spend});
    batch.push_back({made.block, made.cert});
    made = C().Next({});
    batch.push_back({made.block, made.cert});
    // Block 3 spends alice's output again: block 1 spent it.
    made = C().MakeBlock({Pay(alice, 1, Addr(3), kCoin)});
    batch.push_back({made.block, made.cert});

    Snapshot before = Snap();
    size_t refused = 99;
    auto status = L().ApplyBlocks(batch, {}, &refused);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, util::Errc::kInvalid);
    EXPECT_EQ(refused, 2u);
    EXPECT_TRUE(Contains(status.error().message, "block 3: tx[0].inputs[0]: missing-input"))
        << status.error().message;
    EXPECT_TRUE(Snap() == before);

    // A batch out of order is refused at the block that does not follow.
    std::vector<ledger::CertifiedBlock> swapped = {batch[1], batch[0]};
    status = L().ApplyBlocks(swapped, {}, &refused);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(refused, 0u);
    EXPECT_TRUE(Contains(status.error().message, "bad-height")) << status.error().message;
    EXPECT_TRUE(Snap() == before);

    // The good prefix goes in; an empty batch changes nothing.
    batch.pop_back();
    ASSERT_TRUE(L().ApplyBlocks(batch, {}).ok());
    ASSERT_TRUE(L().ApplyBlocks({}, {}).ok());
    auto st = L().GetStatus();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->height, 2u);
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, GetEvidenceListsTheEvidenceDatabase) {
    Start(1);
    auto none = L().GetEvidence(10);
    ASSERT_TRUE(none.ok()) << none.error().message;
    EXPECT_TRUE(none->empty());
    m_ledger.reset();
    Tamper("evidence", [](auto& txn, const auto& evidence) {
        for (uint8_t i = 0; i < 3; ++i) {
            ASSERT_TRUE(txn.Put(evidence, util::Bytes{i}, util::Bytes{i, i}).ok());
        }
    });
    auto reopened = Ledger::Open(Dir());
    ASSERT_TRUE(reopened.ok());
    m_ledger = std::move(*reopened);
    auto two = L().GetEvidence(2);
    ASSERT_TRUE(two.ok());
    ASSERT_EQ(two->size(), 2u);
    EXPECT_EQ((*two)[1].key, util::Bytes{1});
    EXPECT_EQ((*two)[1].value, (util::Bytes{1, 1}));
}

TEST_F(LedgerTest, AcceptsALaterViewWithItsPrimary) {
    Start(4);
    MadeBlock made = C().MakeBlock({}, 5);
    EXPECT_EQ(made.block.header.proposer, (1 + 5) % 4u);
    ASSERT_TRUE(L().ApplyBlock(made.block, made.cert, {}).ok());
}

TEST_F(LedgerTest, ReopenKeepsEverything) {
    Start(4);
    Apply({Pay(First(1), 1, Addr(3), 7 * kCoin)});
    Apply({Pay(First(2), 2, Addr(3), 8 * kCoin)});
    Snapshot before = Snap();
    m_ledger.reset();
    auto reopened = Ledger::Open(Dir());
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    m_ledger = std::move(*reopened);
    EXPECT_TRUE(Snap() == before);
    EXPECT_EQ(L().genesis(), C().genesis());
    Apply({Pay(First(3), 3, Addr(1), 1 * kCoin)});
    auto st = L().GetStatus();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->height, 3u);
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, ReadOnlyLedgerRefusesWrites) {
    Start(1);
    m_ledger.reset();
    auto ro = Ledger::OpenReadOnly(Dir());
    ASSERT_TRUE(ro.ok()) << ro.error().message;
    MadeBlock made = C().MakeBlock({});
    auto status = (*ro)->ApplyBlock(made.block, made.cert, {});
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, util::Errc::kPermission);
}

// A reader process opens the ledger read-only while this process holds it
// open for writing and applies blocks; it sees consistent states, in order.
TEST_F(LedgerTest, ReadOnlyOpenBesideAnOpenWriter) {
    Start(1);
    const uint64_t kBlocks = 8;
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(go[1]);
        char byte;
        if (::read(go[0], &byte, 1) != 1) _exit(10);
        auto ro = Ledger::OpenReadOnly(Dir());
        if (!ro) _exit(11);
        uint64_t last = 0;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (std::chrono::steady_clock::now() < deadline) {
            auto st = (*ro)->GetStatus();
            if (!st) _exit(12);
            if (st->height < last) _exit(13);
            if (st->supply.units() + st->fees_burned.units() != 1500 * kCoin) _exit(14);
            if (st->fees_burned.units() != st->height * kFee) _exit(15);
            last = st->height;
            if (last == kBlocks) _exit((*ro)->Verify({}).ok() ? 0 : 16);
        }
        _exit(17);
    }
    ::close(go[0]);
    ASSERT_EQ(::write(go[1], "x", 1), 1);
    ::close(go[1]);
    for (uint64_t i = 0; i < kBlocks; ++i) {
        Apply({Pay(First(1), 1, Addr(2), kCoin)});
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// ---------------------------------------------------------------- header rules

TEST_F(LedgerTest, RejectsBadHeight) {
    Start(4);
    EXPECT_TRUE(Rejects(Broken({}, [](auto& h) { h.height = 2; }), "header.height: bad-height"));
}

TEST_F(LedgerTest, RejectsBadPrevHash) {
    Start(4);
    EXPECT_TRUE(Rejects(Broken({}, [](auto& h) { h.prev_hash[0] ^= 1; }),
                        "header.prev_hash: bad-prev-hash"));
}

TEST_F(LedgerTest, RejectsBadVersion) {
    Start(4);
    EXPECT_TRUE(Rejects(Broken({}, [](auto& h) { h.version = 2; }), "header.version: bad-version"));
}

TEST_F(LedgerTest, RejectsTimeBeforeThePreviousBlock) {
    Start(4);
    Apply({});
    EXPECT_TRUE(Rejects(Broken({}, [](auto& h) { h.timestamp_ms -= 1001; }),
                        "header.timestamp: time-too-old"));
    // The same time as the previous block is fine.
    auto same = Broken({}, [](auto& h) { h.timestamp_ms -= 1000; });
    EXPECT_TRUE(L().ApplyBlock(same.block, same.cert, {}).ok());
}

TEST_F(LedgerTest, RejectsWrongProposer) {
    Start(4);
    EXPECT_TRUE(Rejects(Broken({}, [](auto& h) { h.proposer = (h.proposer + 1) % 4; }),
                        "header.proposer: bad-proposer"));
}

TEST_F(LedgerTest, RejectsWrongMasternodeSetHash) {
    Start(4);
    EXPECT_TRUE(Rejects(Broken({}, [](auto& h) { h.mnset_hash[5] ^= 1; }),
                        "header.mnset_hash: bad-mnset-hash"));
}

TEST_F(LedgerTest, RejectsWrongTxRoot) {
    Start(4);
    auto tx = Pay(First(1), 1, Addr(2), kCoin);
    EXPECT_TRUE(Rejects(Broken({tx}, [](auto& h) { h.tx_root = wire::TxRoot({}); }),
                        "header.tx_root: bad-tx-root"));
}

TEST_F(LedgerTest, RejectsBadCertificates) {
    Start(4);
    // Fewer than a quorum (3 of 4).
    MadeBlock few = C().MakeBlock({});
    few.cert.sigs.pop_back();
    EXPECT_TRUE(Rejects(few, "cert: bad-certificate cert.sigs: 2 signatures"));
    // Signatures for another view than the certificate claims.
    MadeBlock view = C().MakeBlock({});
    view.cert.view = 1;
    EXPECT_TRUE(Rejects(view, "bad-certificate cert.sigs[0] (masternode 0): bad signature"));
    // A certificate of another block.
    MadeBlock other = C().MakeBlock({});
    MadeBlock with_tx = C().MakeBlock({Pay(First(1), 1, Addr(2), kCoin)});
    other.cert = with_tx.cert;
    EXPECT_TRUE(Rejects(other, "cert: bad-certificate cert.block_hash"));
    // Signed by a key outside the set.
    MadeBlock stranger = C().MakeBlock({});
    auto msg = crypto::VoteSigningMessage(C().chain_id(), 2, 1, 0, stranger.cert.block_hash);
    stranger.cert.sigs[1].signature = Key(1).Sign(msg);
    EXPECT_TRUE(Rejects(stranger, "bad-certificate cert.sigs[1] (masternode 1): bad signature"));
}

class TightLedgerTest : public LedgerTest {
  protected:
    void SetUp() override {
        LedgerTest::SetUp();
        Start(1, [](wire::Genesis& g) {
            g.max_block_bytes = 4096;
            g.max_block_txs = 3;
            g.max_tx_bytes = 1024;
        });
    }

    // An unsigned transaction with `outputs` outputs (~32 bytes each).
    wire::Transaction Wide(size_t outputs, uint8_t salt) {
        wire::Transaction tx;
        tx.inputs = {wire::OutPoint{crypto::Blake2b256(util::Bytes{salt}), 0}};
        for (size_t i = 0; i < outputs; ++i) tx.outputs.push_back({kCoin + i, Addr(2)});
        return tx;
    }
};

TEST_F(TightLedgerTest, RejectsABlockAboveMaxBlockBytes) {
    std::vector<wire::Transaction> txs;
    for (uint8_t i = 0; i < 5; ++i) txs.push_back(Wide(30, i));  // ~900 bytes each
    EXPECT_TRUE(Rejects(C().MakeBlock(txs), "block: block-too-large"));
}

TEST_F(TightLedgerTest, RejectsMoreThanMaxBlockTxs) {
    std::vector<wire::Transaction> txs;
    for (uint8_t i = 0; i < 4; ++i) txs.push_back(Wide(1, i));
    EXPECT_TRUE(Rejects(C().MakeBlock(txs), "block.txs: too-many-txs 4, the limit is 3"));
}

TEST_F(TightLedgerTest, RejectsATxAboveMaxTxBytes) {
    EXPECT_TRUE(Rejects(C().MakeBlock({Wide(40, 1)}), "tx[0]: tx-too-large"));
}

// ---------------------------------------------------------------- tx rules

TEST_F(LedgerTest, RejectsAContextFreeBadTx) {
    Start(1);
    auto tx = Pay(First(1), 1, Addr(2), kCoin);
    tx.outputs[0].amount = 0;
    auto key = Key(1);
    C().Sign(tx, {&key});
    EXPECT_TRUE(
        Rejects(C().MakeBlock({tx}), "tx[0]: bad-tx tx.outputs[0].amount: must be above zero"));
}

TEST_F(LedgerTest, RejectsAnExpiredTx) {
    Start(1);
    Apply({});
    auto tx = Pay(First(1), 1, Addr(2), kCoin);
    tx.expiry = 1;
    auto key = Key(1);
    C().Sign(tx, {&key});
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0].expiry: expired"));
    tx.expiry = 2;  // the last height at which it may be included
    C().Sign(tx, {&key});
    Apply({tx});
}

TEST_F(LedgerTest, RejectsAnUnsignedTx) {
    Start(1);
    auto tx = Pay(First(1), 1, Addr(2), kCoin);
    tx.witnesses.clear();
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0].witnesses: unsigned 0 of 1"));
}

TEST_F(LedgerTest, RejectsAMissingInput) {
    Start(1);
    Utxo fake = First(1);
    fake.outpoint.vout = 7;
    auto tx = Pay(fake, 1, Addr(2), kCoin);
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0].inputs[0]: missing-input " +
                                                 util::ToHex(fake.outpoint.txid) + ":7"));
}

TEST_F(LedgerTest, RejectsADoubleSpendInABlockAndAcrossBlocks) {
    Start(1);
    Utxo alice = First(1);
    auto a = Pay(alice, 1, Addr(2), kCoin);
    auto b = Pay(alice, 1, Addr(3), kCoin);
    EXPECT_TRUE(Rejects(C().MakeBlock({a, b}), "tx[1].inputs[0]: double-spend"));
    Apply({a});
    EXPECT_TRUE(Rejects(C().MakeBlock({b}), "tx[0].inputs[0]: missing-input"));
}

TEST_F(LedgerTest, RejectsSpendingSomeoneElsesOutput) {
    Start(1);
    Utxo alice = First(1);
    wire::Transaction tx;
    tx.inputs = {alice.outpoint};
    tx.outputs = {{kCoin, Addr(2)}};
    auto bob = Key(2);
    C().Sign(tx, {&bob});
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0].inputs[0]: wrong-owner"));
}

TEST_F(LedgerTest, RejectsOutputsAboveInputs) {
    Start(1);
    Utxo alice = First(1);
    wire::Transaction tx;
    tx.inputs = {alice.outpoint};
    tx.outputs = {{alice.amount + 1, Addr(2)}};
    auto key = Key(1);
    C().Sign(tx, {&key});
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0]: outputs-exceed-inputs"));
}

TEST_F(LedgerTest, RejectsAFeeBelowTheRate) {
    Start(1);
    auto tx = Pay(First(1), 1, Addr(2), kCoin, 1);
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0]: fee-too-low fee 0.00000001 is below"));
    // Exactly the rate x the encoded size is enough.
    size_t size = wire::Encode(tx).size();
    auto exact = Pay(First(1), 1, Addr(2), kCoin, size);
    ASSERT_EQ(wire::Encode(exact).size(), size);
    Apply({exact});
}

TEST_F(LedgerTest, WitnessSignaturesAreCheckedOnlyWhenAsked) {
    Start(1);
    // Fan out to 40 outputs, then spend each in its own transaction.
    Utxo alice = First(1);
    wire::Transaction fan;
    fan.inputs = {alice.outpoint};
    for (int i = 0; i < 40; ++i) fan.outputs.push_back({kCoin, Addr(1)});
    fan.outputs.push_back({alice.amount - 40 * kCoin - kFee, Addr(1)});
    auto key = Key(1);
    C().Sign(fan, {&key});
    Apply({fan});
    std::vector<wire::Transaction> txs;
    for (uint32_t i = 0; i < 40; ++i) {
        Utxo in{wire::OutPoint{wire::TxId(fan), i}, kCoin, Addr(1), 1, false};
        txs.push_back(Pay(in, 1, Addr(2), kCoin / 2));
    }
    txs[25].witnesses[0]->signature[10] ^= 1;
    ledger::ApplyOptions verify;
    verify.verify_witnesses = true;
    verify.threads = 4;
    MadeBlock made = C().MakeBlock(txs);
    EXPECT_TRUE(Rejects(made, "tx[25]: bad-witness", verify));
    verify.threads = 1;
    EXPECT_TRUE(Rejects(made, "tx[25]: bad-witness", verify));
    // From tc-pbft the pool checked signatures already: not checked again.
    ASSERT_TRUE(L().ApplyBlock(made.block, made.cert, {}).ok());
    C().Advance(made.block);
    // A good block passes with every check, on all cores.
    verify.threads = 0;
    Apply({Pay(Largest(2), 2, Addr(3), kCoin)}, verify);
}

// A batch checks every witness up front, on all cores, yet reports what
// block-by-block checking would: the first bad block, and for it another
// rule before bad-witness (witnesses are checked last).
TEST_F(LedgerTest, ApplyBlocksReportsABadWitnessAtItsBlockAfterItsOtherRules) {
    Start(1);
    ledger::ApplyOptions verify;
    verify.verify_witnesses = true;
    Utxo alice = First(1);
    Utxo bob = First(2);
    auto b1 = C().Next({Pay(alice, 1, Addr(3), kCoin)});
    auto forged = Pay(bob, 2, Addr(3), kCoin);
    forged.witnesses[0]->signature[3] ^= 1;
    auto b2 = C().Next({forged});
    auto b3 = C().MakeBlock({Pay(bob, 2, Addr(3), 2 * kCoin)});
    std::vector<ledger::CertifiedBlock> batch = {
        {b1.block, b1.cert}, {b2.block, b2.cert}, {b3.block, b3.cert}};
    Snapshot before = Snap();
    size_t refused = 99;
    auto status = L().ApplyBlocks(batch, verify, &refused);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, util::Errc::kCrypto);
    EXPECT_EQ(refused, 1u);
    EXPECT_TRUE(Contains(status.error().message, "block 2: tx[0]: bad-witness"))
        << status.error().message;
    EXPECT_TRUE(Snap() == before);

    // The same forged tx in a block that also spends a missing output: the
    // missing input is what is reported.
    auto b2_bad = b2;
    Utxo gone = bob;
    gone.outpoint.vout = 9;
    auto missing = Pay(gone, 2, Addr(3), kCoin);
    missing.witnesses[0]->signature[3] ^= 1;
    b2_bad.block.txs = {missing};
    b2_bad.block.header.tx_root = wire::TxRoot(b2_bad.block.txs);
    b2_bad.cert = C().Certify(b2_bad.block.header, 0);
    batch[1] = {b2_bad.block, b2_bad.cert};
    status = L().ApplyBlocks(batch, verify, &refused);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(refused, 1u);
    EXPECT_TRUE(Contains(status.error().message, "block 2: tx[0].inputs[0]: missing-input"))
        << status.error().message;
    EXPECT_TRUE(Snap() == before);

    // Without the check (blocks from tc-pbft) the forged signature goes in.
    batch[1] = {b2.block, b2.cert};
    batch.pop_back();
    ASSERT_TRUE(L().ApplyBlocks(batch, {}).ok());
}

// ---------------------------------------------------------------- masternodes

TEST_F(LedgerTest, RegisterGrowsTheSetAfterTheDelayAndRetireShrinksIt) {
    Start(1);
    C().AddMasternodeKey(Key(101));
    auto reg = Register(First(1), 1, 101, 201);
    wire::OutPoint collateral{wire::TxId(reg), 0};
    Apply({reg});  // height 1: effective at 3
    auto locked = L().GetUtxo(collateral);
    ASSERT_TRUE(locked.ok());
    EXPECT_TRUE(locked->locked);
    EXPECT_EQ(locked->address, Addr(201));
    EXPECT_EQ(locked->amount, 100 * kCoin);
    for (uint64_t h : {1u, 2u}) EXPECT_EQ(L().GetMasternodes(h)->size(), 1u) << h;
    EXPECT_EQ(L().GetMasternodes(3)->size(), 2u);
    EXPECT_EQ(L().GetStatus()->masternodes, 1u);  // at height 2

    // The collateral cannot be spent while the masternode is in the set.
    Utxo collateral_utxo = *locked;
    EXPECT_TRUE(Rejects(C().MakeBlock({Pay(collateral_utxo, 201, Addr(3), kCoin)}),
                        "tx[0].inputs[0]: collateral-locked"));
    Apply({});                                    // height 2
    EXPECT_EQ(L().GetStatus()->masternodes, 2u);  // at height 3
    Apply({});                                    // height 3, certified by both masternodes
    auto set = L().GetMasternodes(3);
    ASSERT_TRUE(set.ok());
    bool found = false;
    for (const auto& m : *set) {
        if (m.key == Key(101).public_key()) {
            found = true;
            EXPECT_EQ(m.endpoint, "10.0.0.1:7100");
            EXPECT_EQ(m.payout, Addr(201));
            ASSERT_TRUE(m.collateral.has_value());
            EXPECT_EQ(*m.collateral, collateral);
        }
    }
    EXPECT_TRUE(found);

    // Retire at height 4: gone from height 6, collateral unlocked there.
    Apply({Retire(101, 101)});
    EXPECT_EQ(L().GetMasternodes(5)->size(), 2u);
    EXPECT_EQ(L().GetMasternodes(6)->size(), 1u);
    EXPECT_TRUE(L().GetUtxo(collateral)->locked);
    EXPECT_TRUE(
        Rejects(C().MakeBlock({Pay(collateral_utxo, 201, Addr(3), kCoin)}), "collateral-locked"));
    Apply({});  // height 5
    // At height 6 the collateral is spendable by the payout key.
    Apply({Pay(collateral_utxo, 201, Addr(3), kCoin)});
    EXPECT_EQ(Balance(Addr(3)), kCoin);
    EXPECT_EQ(Balance(Addr(201)), 100 * kCoin - kCoin - kFee);
    EXPECT_EQ(L().GetStatus()->masternodes, 1u);
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, CollateralUnlocksAtTheRetireHeight) {
    Start(1);
    C().AddMasternodeKey(Key(101));
    auto reg = Register(First(1), 1, 101, 201);
    Utxo collateral{wire::OutPoint{wire::TxId(reg), 0}, 100 * kCoin, Addr(201), 1, true};
    Apply({reg});               // 1: in at 3
    Apply({Retire(101, 101)});  // 2: out at 4 (it was entering: retiring is allowed)
    Apply({});                  // 3
    EXPECT_EQ(L().GetMasternodes(3)->size(), 2u);
    EXPECT_EQ(L().GetMasternodes(4)->size(), 1u);
    EXPECT_TRUE(L().GetUtxo(collateral.outpoint)->locked);
    Apply({});  // 4: unlocked now
    EXPECT_FALSE(L().GetUtxo(collateral.outpoint)->locked);
    Apply({Pay(collateral, 201, Addr(3), kCoin)});
    EXPECT_TRUE(L().Verify({}).ok());
}

TEST_F(LedgerTest, RejectsARegisterOfAKnownMasternode) {
    Start(1);
    EXPECT_TRUE(Rejects(C().MakeBlock({Register(First(1), 1, 100, 201)}),
                        "tx[0].payload.masternode_key: masternode-exists"));
    Apply({Register(First(1), 1, 101, 201)});
    // Entering the set counts as in it.
    EXPECT_TRUE(Rejects(C().MakeBlock({Register(First(2), 2, 101, 202)}), "masternode-exists"));
}

TEST_F(LedgerTest, RejectsTheWrongCollateralAmount) {
    Start(1);
    auto tx = Register(First(1), 1, 101, 201);
    tx.outputs[0].amount -= 1;
    tx.outputs[1].amount += 1;
    auto key = Key(1);
    C().Sign(tx, {&key});
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0].outputs[0].amount: collateral-amount"));
}

TEST_F(LedgerTest, RejectsCollateralNotPaidToThePayout) {
    Start(1);
    auto tx = Register(First(1), 1, 101, 201);
    tx.outputs[0].address = Addr(1);
    auto key = Key(1);
    C().Sign(tx, {&key});
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "tx[0].outputs[0].address: collateral-address"));
}

TEST_F(LedgerTest, RejectsAnInvalidMasternodeKey) {
    Start(1);
    auto tx = Register(First(1), 1, 101, 201);
    std::get<wire::RegisterPayload>(tx.payload).masternode_key = crypto::PublicKey{};
    auto key = Key(1);
    C().Sign(tx, {&key});
    EXPECT_TRUE(Rejects(C().MakeBlock({tx}), "bad-masternode-key"));
}

TEST_F(LedgerTest, RejectsRetireSignedByAnotherKey) {
    Start(4);
    EXPECT_TRUE(Rejects(C().MakeBlock({Retire(100, 1)}), "tx[0].witnesses[0]: retire-wrong-key"));
}

TEST_F(LedgerTest, RejectsRetireOfANonMasternode) {
    Start(4);
    EXPECT_TRUE(Rejects(C().MakeBlock({Retire(150, 150)}),
                        "tx[0].payload.masternode_key: retire-not-masternode"));
    Apply({Retire(101, 101)});
    // Already leaving.
    EXPECT_TRUE(Rejects(C().MakeBlock({Retire(101, 101)}), "retire-not-masternode"));
}

TEST_F(LedgerTest, RejectsRetireOfTheLastMasternode) {
    Start(1);
    EXPECT_TRUE(Rejects(C().MakeBlock({Retire(100, 100)}), "masternode-set-empty"));
}

TEST_F(LedgerTest, RejectsTwoChangesOfOneMasternodeInABlock) {
    Start(1);
    EXPECT_TRUE(Rejects(C().MakeBlock({Register(First(1), 1, 101, 201), Retire(101, 101)}),
                        "tx[1].payload.masternode_key: masternode-changed-twice"));
}

// ---------------------------------------------------------------- verify

TEST_F(LedgerTest, VerifyPassesOnAGoodLedgerAndReportsProgress) {
    Start(4);
    for (int i = 0; i < 5; ++i) Apply({Pay(First(1), 1, Addr(2), kCoin)});
    std::vector<uint64_t> seen;
    auto status = L().Verify([&](uint64_t h) { seen.push_back(h); });
    ASSERT_TRUE(status.ok()) << status.error().message;
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back(), 5u);
}

TEST_F(LedgerTest, VerifyNamesAUtxoDeletedBehindItsBack) {
    Start(1);
    Apply({Pay(First(1), 1, Addr(2), kCoin)});
    Utxo victim = First(2);
    m_ledger.reset();
    Tamper("utxos", [&](auto& txn, const auto& utxos) {
        auto gone = txn.Del(utxos, ledger::schema::OutPointKey(victim.outpoint));
        ASSERT_TRUE(gone.ok() && *gone);
    });
    auto reopened = Ledger::Open(Dir());
    ASSERT_TRUE(reopened.ok());
    auto status = (*reopened)->Verify({});
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(status.error().message, "utxos: " + wire::OutPointText(victim.outpoint)))
        << status.error().message;
    EXPECT_TRUE(Contains(status.error().message, "missing from the stored set"))
        << status.error().message;
}

TEST_F(LedgerTest, VerifyNamesATamperedCounter) {
    Start(1);
    Apply({Pay(First(1), 1, Addr(2), kCoin)});
    m_ledger.reset();
    Tamper("meta", [](auto& txn, const auto& meta) {
        ASSERT_TRUE(txn.Put(meta, util::AsBytes("supply"), ledger::schema::U64(1)).ok());
    });
    auto reopened = Ledger::Open(Dir());
    ASSERT_TRUE(reopened.ok());
    auto status = (*reopened)->Verify({});
    ASSERT_FALSE(status.ok());
    EXPECT_TRUE(Contains(status.error().message, "meta supply")) << status.error().message;
}

// Equivocation evidence: checked against the set at its height, written
// once, bounded, kept across a reopen, and re-checked by Verify.
TEST_F(LedgerTest, EvidenceIsCheckedStoredOnceAndVerified) {
    Start(4);
    Apply({Pay(First(1), 1, Addr(2), kCoin)});
    Apply({Pay(First(1), 1, Addr(2), kCoin)});
    const uint64_t h = 3;  // the height being decided: tip + 1
    const auto set = C().SetAt(h);
    const std::vector<crypto::SecretKey> keys = MasternodeKeys(4);
    auto vote = [&](uint32_t replica, uint64_t height, const char* digest) {
        for (const auto& k : keys) {
            if (k.public_key() == set[replica]) {
                return test::VoteBytes(C().chain_id(), k, replica, height, 0,
                                       crypto::Blake2b256(util::AsBytes(digest)));
            }
        }
        ADD_FAILURE() << "no key for replica " << replica;
        return util::Bytes{};
    };
    auto first = L().AddEvidence(vote(1, h, "a"), vote(1, h, "b"), 2);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_TRUE(first->added);
    EXPECT_EQ(first->who.replica, 1u);
    EXPECT_EQ(first->who.key, set[1]);
    auto again = L().AddEvidence(vote(1, h, "a"), vote(1, h, "c"), 2);  // the same offence
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_FALSE(again->added);
    auto same = L().AddEvidence(vote(2, h, "a"), vote(2, h, "a"), 2);
    ASSERT_FALSE(same.ok());
    EXPECT_EQ(same.error().code, util::Errc::kInvalid);
    auto ahead = L().AddEvidence(vote(2, h + 1, "a"), vote(2, h + 1, "b"), 2);
    ASSERT_FALSE(ahead.ok());
    EXPECT_EQ(ahead.error().code, util::Errc::kNotFound) << ahead.error().message;
    auto older = L().AddEvidence(vote(2, 1, "a"), vote(2, 1, "b"), 2);
    ASSERT_TRUE(older.ok()) << older.error().message;
    EXPECT_TRUE(older->added);
    auto full = L().AddEvidence(vote(3, h, "a"), vote(3, h, "b"), 2);
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().code, util::Errc::kConflict);
    EXPECT_TRUE(Contains(full.error().message, "full")) << full.error().message;

    auto stored = L().GetEvidence(10);
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->size(), 2u);
    EXPECT_EQ((*stored)[0].key, consensus::EvidenceKey(older->who));  // height order
    EXPECT_EQ((*stored)[1].key, consensus::EvidenceKey(first->who));
    auto verified = L().Verify({});
    EXPECT_TRUE(verified.ok()) << verified.error().message;

    // Reopened, it is still there; a value changed behind its back fails Verify.
    m_ledger.reset();
    const util::Bytes key = (*stored)[1].key;
    Tamper("evidence", [&](auto& txn, const auto& db) {
        ASSERT_TRUE(
            txn.Put(db, key, consensus::EvidenceValue(vote(1, h, "a"), vote(1, h, "a"))).ok());
    });
    auto reopened = Ledger::Open(Dir());
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ((*reopened)->GetEvidence(10)->size(), 2u);
    auto status = (*reopened)->Verify({});
    ASSERT_FALSE(status.ok());
    EXPECT_TRUE(Contains(status.error().message, "evidence " + util::ToHex(key)))
        << status.error().message;
    EXPECT_TRUE(Contains(status.error().message, "same digest")) << status.error().message;
}

TEST_F(LedgerTest, ClearsReaderSlotsOfKilledReaders) {
    Start(1);
    ASSERT_NO_FATAL_FAILURE(tc::test::KillReaderHoldingATransaction(Dir()));
    auto cleared = L().ClearStaleReaders();
    ASSERT_TRUE(cleared.ok()) << cleared.error().message;
    EXPECT_EQ(*cleared, 1);
    cleared = L().ClearStaleReaders();
    ASSERT_TRUE(cleared.ok());
    EXPECT_EQ(*cleared, 0);
}
