// The ledger on LMDB: the layout is in schema.h, the rules in rules.h, the
// LMDB handles in lmdb.h. This file opens and creates the environment, turns
// a valid block's effects into one write transaction, and answers reads.
#include "ledger/ledger.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "consensus/certificate.h"
#include "ledger/lmdb.h"
#include "ledger/rules.h"
#include "ledger/schema.h"
#include "wire/codec.h"
#include "wire/tx_text.h"

namespace tc::ledger {

using lmdb::Cursor;
using lmdb::Dbi;
using lmdb::Env;
using lmdb::Txn;
using util::Amount;
using util::Errc;
using util::MakeError;
namespace s = schema;

wire::OutPoint GenesisOutPoint(const wire::Hash& chain_id, uint32_t index) {
    return wire::OutPoint{chain_id, index};
}

wire::BlockHeader GenesisHeader(const wire::Genesis& genesis) {
    wire::BlockHeader h;
    h.height = 0;
    h.timestamp_ms = genesis.time_ms;
    h.tx_root = wire::TxRoot({});
    std::vector<crypto::PublicKey> set;
    for (const auto& m : genesis.masternodes) set.push_back(m.public_key);
    h.mnset_hash = consensus::MasternodeSetHash(set);
    return h;
}

namespace {

util::ByteView K(std::string_view key) {
    return util::AsBytes(key);
}

std::string Hex(util::ByteView b) {
    return util::ToHex(b);
}

struct Dbs {
    Dbi meta, blocks, hashes, certs, txindex, utxos, addrindex, masternodes, evidence;
};

util::Result<Dbs> OpenDbs(Env& env, Txn& txn, bool create) {
    Dbs d;
    std::pair<Dbi*, const char*> all[] = {
        {&d.meta, s::kMeta},           {&d.blocks, s::kBlocks},
        {&d.hashes, s::kHashes},       {&d.certs, s::kCerts},
        {&d.txindex, s::kTxIndex},     {&d.utxos, s::kUtxos},
        {&d.addrindex, s::kAddrIndex}, {&d.masternodes, s::kMasternodes},
        {&d.evidence, s::kEvidence},
    };
    for (auto& [dbi, name] : all) {
        auto opened = env.OpenDbi(txn, name, create);
        if (!opened) {
            if (opened.error().code == Errc::kNotFound) {
                return MakeError(Errc::kInvalid, env.path() +
                                                     ": not a TimeCoin ledger, or a damaged one "
                                                     "(no \"" +
                                                     name + "\" database)");
            }
            return std::move(opened).error();
        }
        *dbi = *opened;
    }
    return d;
}

// A value that must be there; its absence means a damaged ledger.
util::Result<util::ByteView> Required(const Txn& txn, const Dbi& dbi, util::ByteView key,
                                      const std::string& what) {
    TC_TRY(value, txn.Get(dbi, key));
    if (!value) return MakeError(Errc::kInvalid, txn.path() + ": " + what + " is missing");
    return *value;
}

struct Meta {
    uint64_t height = 0;
    wire::Hash tip_hash{};
    uint64_t tip_time = 0;
    uint64_t supply = 0;
    uint64_t fees_burned = 0;
    uint64_t tx_count = 0;
    uint64_t utxo_count = 0;
};

util::Result<uint64_t> MetaU64(const Txn& txn, const Dbs& d, std::string_view key) {
    std::string what = std::string("meta ") + std::string(key);
    TC_TRY(v, Required(txn, d.meta, K(key), what));
    auto n = s::DecodeU64(v, txn.path() + ": " + what);
    return n;
}

util::Result<Meta> ReadMeta(const Txn& txn, const Dbs& d) {
    Meta m;
    TC_TRY(height, MetaU64(txn, d, s::kMetaHeight));
    TC_TRY(hash, Required(txn, d.meta, K(s::kMetaTipHash), "meta tip_hash"));
    TC_TRY(tip_hash, s::DecodeHash(hash, txn.path() + ": meta tip_hash"));
    TC_TRY(tip_time, MetaU64(txn, d, s::kMetaTipTime));
    TC_TRY(supply, MetaU64(txn, d, s::kMetaSupply));
    TC_TRY(fees, MetaU64(txn, d, s::kMetaFeesBurned));
    TC_TRY(txs, MetaU64(txn, d, s::kMetaTxCount));
    TC_TRY(utxos, MetaU64(txn, d, s::kMetaUtxoCount));
    m.height = height;
    m.tip_hash = tip_hash;
    m.tip_time = tip_time;
    m.supply = supply;
    m.fees_burned = fees;
    m.tx_count = txs;
    m.utxo_count = utxos;
    return m;
}

util::Status WriteMeta(Txn& txn, const Dbs& d, const Meta& m) {
    TC_CHECK(txn.Put(d.meta, K(s::kMetaHeight), s::U64(m.height)));
    TC_CHECK(txn.Put(d.meta, K(s::kMetaTipHash), m.tip_hash));
    TC_CHECK(txn.Put(d.meta, K(s::kMetaTipTime), s::U64(m.tip_time)));
    TC_CHECK(txn.Put(d.meta, K(s::kMetaSupply), s::U64(m.supply)));
    TC_CHECK(txn.Put(d.meta, K(s::kMetaFeesBurned), s::U64(m.fees_burned)));
    TC_CHECK(txn.Put(d.meta, K(s::kMetaTxCount), s::U64(m.tx_count)));
    TC_CHECK(txn.Put(d.meta, K(s::kMetaUtxoCount), s::U64(m.utxo_count)));
    return {};
}

util::Result<Registry> LoadRegistry(Txn& txn, const Dbs& d) {
    std::vector<s::RegistryEntry> entries;
    TC_TRY(cursor, Cursor::Open(txn, d.masternodes));
    for (auto more = cursor.First();; more = cursor.Next()) {
        if (!more) return std::move(more).error();
        if (!*more) break;
        auto entry = s::DecodeRegistryEntry(cursor.key(), cursor.value());
        if (!entry) return std::move(entry).error().In(txn.path());
        entries.push_back(std::move(*entry));
    }
    return Registry(std::move(entries));
}

util::Result<std::optional<Utxo>> LookupUtxo(const Txn& txn, const Dbs& d,
                                             const wire::OutPoint& op) {
    TC_TRY(value, txn.Get(d.utxos, s::OutPointKey(op)));
    if (!value) return std::optional<Utxo>();
    auto utxo = s::DecodeUtxo(op, *value);
    if (!utxo) return std::move(utxo).error().In(txn.path());
    return std::optional<Utxo>(std::move(*utxo));
}

// The genesis as stored: its canonical JSON must parse back to itself, or
// its chain id would not survive the round trip.
util::Result<std::string> CanonicalGenesisJson(const wire::Genesis& genesis) {
    std::string text = wire::GenesisToJson(genesis).dump();
    auto parsed = wire::ParseGenesis(text);
    if (!parsed) return std::move(parsed).error();
    if (!(*parsed == genesis)) {
        return MakeError(Errc::kInvalid,
                         "genesis: not in canonical form (masternodes must be sorted by key)");
    }
    return text;
}

// Applies a checked block's effects in the write transaction and moves meta
// past it (the caller writes meta once, after the last block).
util::Status WriteEffects(Txn& txn, const Dbs& d, const BlockEffects& fx, const wire::Block& block,
                          const wire::CommitCertificate& cert, Meta& meta) {
    const std::string at = "block " + std::to_string(fx.height);
    for (const auto& u : fx.unlocked) {
        TC_CHECK(txn.Put(d.utxos, s::OutPointKey(u.outpoint), s::UtxoValue(u)));
    }
    for (const auto& u : fx.spent) {
        auto key = s::OutPointKey(u.outpoint);
        TC_TRY(gone, txn.Del(d.utxos, key));
        TC_TRY(gone_index, txn.Del(d.addrindex, s::AddrIndexKey(u.address, u.outpoint)));
        if (!gone || !gone_index) {
            return MakeError(Errc::kInternal, txn.path() + ": " + at + ": spent output " +
                                                  wire::OutPointText(u.outpoint) +
                                                  " was not fully indexed");
        }
    }
    for (const auto& u : fx.created) {
        auto put = txn.PutNew(d.utxos, s::OutPointKey(u.outpoint), s::UtxoValue(u));
        if (!put.ok() && put.error().code == Errc::kConflict) {
            return MakeError(Errc::kInvalid, at + ": duplicate-txid output " +
                                                 wire::OutPointText(u.outpoint) +
                                                 " of an earlier transaction is unspent");
        }
        TC_CHECK(put);
        TC_CHECK(txn.Put(d.addrindex, s::AddrIndexKey(u.address, u.outpoint), {}));
    }
    for (const auto& [txid, loc] : fx.txs) {
        auto put = txn.PutNew(d.txindex, txid, s::TxLocationValue(loc));
        if (!put.ok() && put.error().code == Errc::kConflict) {
            return MakeError(Errc::kInvalid, at + ": tx[" + std::to_string(loc.position) +
                                                 "]: duplicate-txid " + Hex(txid) +
                                                 " is already in the chain");
        }
        TC_CHECK(put);
    }
    for (const auto& e : fx.registry) {
        TC_CHECK(
            txn.PutNew(d.masternodes, s::RegistryKey(e.height, e.node.key), s::RegistryValue(e)));
    }
    TC_CHECK(txn.PutNew(d.blocks, s::U64(fx.height), fx.encoded_block));
    TC_CHECK(txn.PutNew(d.hashes, fx.block_hash, s::U64(fx.height)));
    TC_CHECK(txn.PutNew(d.certs, s::U64(fx.height), wire::Encode(cert)));

    auto supply = Amount::FromUnits(meta.supply).CheckedSub(fx.fees);
    auto burned = Amount::FromUnits(meta.fees_burned).CheckedAdd(fx.fees);
    if (!supply || !burned) {
        return MakeError(Errc::kInternal, txn.path() + ": " + at + ": fees exceed the supply");
    }
    meta.height = fx.height;
    meta.tip_hash = fx.block_hash;
    meta.tip_time = block.header.timestamp_ms;
    meta.supply = supply->units();
    meta.fees_burned = burned->units();
    meta.tx_count += block.txs.size();
    meta.utxo_count = meta.utxo_count + fx.created.size() - fx.spent.size();
    return {};
}

// The masternode set of `registry` at a height from 1 to tip + 1, where
// evidence can stand; `beyond` for any other height.
consensus::SetAt EvidenceSets(const Registry& registry, uint64_t tip, Errc beyond) {
    return [&registry, tip, beyond](uint64_t h) -> util::Result<std::vector<crypto::PublicKey>> {
        if (h == 0 || h > tip + 1) {
            return MakeError(beyond, "height " + std::to_string(h) + " is not 1 to the tip " +
                                         std::to_string(tip) + " + 1");
        }
        return Keys(registry.SetAt(h));
    };
}

class LmdbLedger final : public Ledger {
  public:
    LmdbLedger(Env env, Dbs dbs, wire::Genesis genesis)
        : m_env(std::move(env)),
          m_dbs(std::move(dbs)),
          m_genesis(std::move(genesis)),
          m_chain_id(wire::ChainId(m_genesis)) {
        for (const auto& a : m_genesis.allocations) {
            m_genesis_supply = *m_genesis_supply.CheckedAdd(a.amount);
        }
    }

    const wire::Genesis& genesis() const override { return m_genesis; }

    util::Result<Status> GetStatus() const override {
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(meta, ReadMeta(txn, m_dbs));
        TC_TRY(registry, LoadRegistry(txn, m_dbs));
        Status st;
        st.chain = m_genesis.chain;
        st.chain_id = m_chain_id;
        st.network = m_genesis.network;
        st.height = meta.height;
        st.tip_hash = meta.tip_hash;
        st.tip_time_ms = meta.tip_time;
        st.genesis_supply = m_genesis_supply;
        st.supply = Amount::FromUnits(meta.supply);
        st.fees_burned = Amount::FromUnits(meta.fees_burned);
        st.tx_count = meta.tx_count;
        st.utxo_count = meta.utxo_count;
        st.masternodes = registry.SetAt(meta.height + 1).size();
        st.map_size = m_env.map_size();
        return st;
    }

    util::Status ApplyBlock(const wire::Block& block, const wire::CommitCertificate& cert,
                            const ApplyOptions& options) override {
        return WriteBlocks(
            1, [&](size_t) { return std::tie(block, cert); }, options, nullptr);
    }

    util::Status ApplyBlocks(std::span<const CertifiedBlock> blocks, const ApplyOptions& options,
                             size_t* refused) override {
        return WriteBlocks(
            blocks.size(), [&](size_t i) { return std::tie(blocks[i].block, blocks[i].cert); },
            options, refused);
    }

    util::Result<wire::Block> GetBlock(uint64_t height) const override {
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(value, txn.Get(m_dbs.blocks, s::U64(height)));
        if (!value) {
            return MakeError(Errc::kNotFound,
                             "block " + std::to_string(height) + ": not in the ledger");
        }
        auto block = wire::DecodeBlock(*value);
        if (!block) return std::move(block).error().In(Where("blocks", height));
        return block;
    }

    util::Result<uint64_t> GetHeightOfHash(const wire::Hash& hash) const override {
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(value, txn.Get(m_dbs.hashes, hash));
        if (!value) return MakeError(Errc::kNotFound, "block " + Hex(hash) + ": not in the ledger");
        return s::DecodeU64(*value, m_env.path() + ": hashes " + Hex(hash));
    }

    util::Result<wire::CommitCertificate> GetCertificate(uint64_t height) const override {
        if (height == 0) {
            return MakeError(Errc::kNotFound, "block 0: the genesis block has no certificate");
        }
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(value, txn.Get(m_dbs.certs, s::U64(height)));
        if (!value) {
            return MakeError(Errc::kNotFound,
                             "certificate " + std::to_string(height) + ": not in the ledger");
        }
        auto cert = wire::DecodeCertificate(*value);
        if (!cert) return std::move(cert).error().In(Where("certs", height));
        return cert;
    }

    util::Result<TxLocation> GetTxLocation(const wire::Hash& txid) const override {
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(value, txn.Get(m_dbs.txindex, txid));
        if (!value) return MakeError(Errc::kNotFound, "tx " + Hex(txid) + ": not in the ledger");
        auto loc = s::DecodeTxLocation(*value);
        if (!loc) return std::move(loc).error().In(m_env.path() + ": txindex " + Hex(txid));
        return loc;
    }

    util::Result<Utxo> GetUtxo(const wire::OutPoint& outpoint) const override {
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(utxo, LookupUtxo(txn, m_dbs, outpoint));
        if (!utxo) {
            return MakeError(Errc::kNotFound,
                             "output " + wire::OutPointText(outpoint) + ": not unspent");
        }
        return std::move(*utxo);
    }

    util::Result<std::vector<Utxo>> GetUtxos(
        const wire::PubKeyHash& address, size_t limit,
        const std::optional<wire::OutPoint>& start_after) const override {
        std::vector<Utxo> out;
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(cursor, Cursor::Open(txn, m_dbs.addrindex));
        const util::Bytes start = start_after ? s::AddrIndexKey(address, *start_after)
                                              : util::Bytes(address.begin(), address.end());
        for (auto more = cursor.Seek(start); out.size() < limit; more = cursor.Next()) {
            if (!more) return std::move(more).error();
            if (!*more) break;
            util::ByteView key = cursor.key();
            if (start_after && std::ranges::equal(key, start)) continue;
            if (key.size() < address.size() ||
                !std::equal(address.begin(), address.end(), key.begin())) {
                break;
            }
            auto op = s::DecodeAddrIndexKey(key, nullptr);
            if (!op) return std::move(op).error().In(m_env.path());
            TC_TRY(utxo, LookupUtxo(txn, m_dbs, *op));
            if (!utxo) {
                return MakeError(Errc::kInvalid, m_env.path() + ": addrindex lists " +
                                                     wire::OutPointText(*op) +
                                                     ", which is not in utxos");
            }
            out.push_back(std::move(*utxo));
        }
        return out;
    }

    util::Result<std::vector<Masternode>> GetMasternodes(uint64_t height) const override {
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(registry, LoadRegistry(txn, m_dbs));
        return registry.SetAt(height);
    }

    util::Result<std::vector<EvidenceEntry>> GetEvidence(size_t limit) const override {
        std::vector<EvidenceEntry> out;
        TC_TRY(txn, m_env.BeginRead());
        TC_TRY(cursor, Cursor::Open(txn, m_dbs.evidence));
        for (auto more = cursor.First(); out.size() < limit; more = cursor.Next()) {
            if (!more) return std::move(more).error();
            if (!*more) break;
            out.push_back({util::Bytes(cursor.key().begin(), cursor.key().end()),
                           util::Bytes(cursor.value().begin(), cursor.value().end())});
        }
        return out;
    }

    util::Result<EvidenceAdded> AddEvidence(util::ByteView first, util::ByteView second,
                                            uint64_t max_entries) override {
        std::lock_guard lock(m_write);
        EvidenceAdded out;
        TC_CHECK(m_env.WriteTxn([&](Txn& txn) -> util::Status {
            TC_TRY(meta, ReadMeta(txn, m_dbs));
            TC_TRY(registry, LoadRegistry(txn, m_dbs));
            TC_TRY(who, consensus::CheckEquivocation(
                            m_chain_id, EvidenceSets(registry, meta.height, Errc::kNotFound), first,
                            second));
            out.who = who;
            const util::Bytes key = consensus::EvidenceKey(who);
            TC_TRY(existing, txn.Get(m_dbs.evidence, key));
            out.added = !existing;
            if (existing) return {};
            TC_TRY(count, txn.Count(m_dbs.evidence));
            if (count >= max_entries) {
                return MakeError(Errc::kConflict, "the evidence database is full (" +
                                                      std::to_string(count) + " entries)");
            }
            return txn.Put(m_dbs.evidence, key, consensus::EvidenceValue(first, second));
        }));
        return out;
    }

    util::Result<int> ClearStaleReaders() override { return m_env.ReaderCheck(); }

    util::Status Verify(const std::function<void(uint64_t)>& progress) const override;

  private:
    // Checks and writes blocks at(0) .. at(count - 1), each a (block, cert)
    // pair of references, in one write transaction (ApplyBlocks).
    template <typename BlockAt>
    util::Status WriteBlocks(size_t count, BlockAt at, const ApplyOptions& options,
                             size_t* refused) {
        // Witnesses need no ledger state: check the whole batch's on all
        // cores first, outside the write lock. The loop below reports a bad
        // one at its block once that block's other rules passed, where
        // CheckBlock (which checks witnesses last) would have.
        ApplyOptions checks = options;
        size_t bad_block = count;
        util::Status witnesses;
        if (options.verify_witnesses) {
            std::vector<const wire::Block*> blocks;
            for (size_t i = 0; i < count; ++i) blocks.push_back(&std::get<0>(at(i)));
            witnesses = VerifyBlocksWitnesses(blocks, m_chain_id, options.threads, &bad_block);
            checks.verify_witnesses = false;
        }
        std::lock_guard lock(m_write);
        const RuleContext ctx{m_genesis, m_chain_id};
        return m_env.WriteTxn([&](Txn& txn) -> util::Status {
            if (refused) *refused = count;
            TC_TRY(meta, ReadMeta(txn, m_dbs));
            TC_TRY(registry, LoadRegistry(txn, m_dbs));
            // Reads in the write transaction see the blocks written before.
            UtxoLookup lookup = [&](const wire::OutPoint& op) {
                return LookupUtxo(txn, m_dbs, op);
            };
            for (size_t i = 0; i < count; ++i) {
                const auto& [block, cert] = at(i);
                const Tip tip{meta.height, meta.tip_hash, meta.tip_time};
                auto fx = CheckBlock(ctx, tip, registry, lookup, block, cert, checks);
                if (!fx || i == bad_block) {
                    if (refused) *refused = i;
                    return fx ? witnesses : std::move(fx).error();
                }
                if (auto written = WriteEffects(txn, m_dbs, *fx, block, cert, meta); !written) {
                    // duplicate-txid is the block's fault; anything else the disk's.
                    if (refused && written.error().code == Errc::kInvalid) *refused = i;
                    return written;
                }
                for (const auto& e : fx->registry) registry.Add(e);
            }
            return WriteMeta(txn, m_dbs, meta);
        });
    }

    std::string Where(const char* db, uint64_t height) const {
        return m_env.path() + ": " + db + " " + std::to_string(height);
    }

    mutable Env m_env;
    Dbs m_dbs;
    wire::Genesis m_genesis;
    wire::Hash m_chain_id;
    Amount m_genesis_supply;
    std::mutex m_write;
};

util::Status LmdbLedger::Verify(const std::function<void(uint64_t)>& progress) const {
    const std::string& path = m_env.path();
    auto fault = [&](const std::string& what) {
        return MakeError(Errc::kInvalid, path + ": " + what);
    };
    // One snapshot for the whole check, so that a running writer cannot make
    // it compare two different states.
    TC_TRY(txn, m_env.BeginRead());
    TC_TRY(meta, ReadMeta(txn, m_dbs));

    // Genesis.
    wire::Block genesis_block{GenesisHeader(m_genesis), {}};
    TC_TRY(stored0, Required(txn, m_dbs.blocks, s::U64(0), "blocks 0"));
    auto encoded0 = wire::Encode(genesis_block);
    if (!std::equal(stored0.begin(), stored0.end(), encoded0.begin(), encoded0.end())) {
        return fault("blocks 0: not the genesis block of this chain");
    }
    Tip tip{0, wire::BlockHash(genesis_block.header), m_genesis.time_ms};
    TC_TRY(h0, Required(txn, m_dbs.hashes, tip.hash, "hashes " + Hex(tip.hash) + " (genesis)"));
    TC_TRY(h0n, s::DecodeU64(h0, path + ": hashes " + Hex(tip.hash)));
    if (h0n != 0) return fault("hashes: the genesis block maps to height " + std::to_string(h0n));

    std::map<wire::OutPoint, Utxo> utxos;
    for (size_t i = 0; i < m_genesis.allocations.size(); ++i) {
        const auto& a = m_genesis.allocations[i];
        Utxo u;
        u.outpoint = GenesisOutPoint(m_chain_id, static_cast<uint32_t>(i));
        u.amount = a.amount.units();
        u.address = a.address;
        utxos.emplace(u.outpoint, u);
    }
    Registry registry = Registry::FromGenesis(m_genesis);
    Amount fees;
    uint64_t tx_count = 0;
    UtxoLookup lookup = [&](const wire::OutPoint& op) -> util::Result<std::optional<Utxo>> {
        auto it = utxos.find(op);
        if (it == utxos.end()) return std::optional<Utxo>();
        return std::optional<Utxo>(it->second);
    };
    ApplyOptions replay;
    replay.verify_witnesses = true;
    replay.threads = 0;
    const RuleContext ctx{m_genesis, m_chain_id};

    // Replay every block: the rules, the certificates and the hash chain.
    for (uint64_t h = 1; h <= meta.height; ++h) {
        TC_TRY(bytes, Required(txn, m_dbs.blocks, s::U64(h), "blocks " + std::to_string(h)));
        auto block = wire::DecodeBlock(bytes);
        if (!block) return std::move(block).error().In(Where("blocks", h));
        TC_TRY(cert_bytes, Required(txn, m_dbs.certs, s::U64(h), "certs " + std::to_string(h)));
        auto cert = wire::DecodeCertificate(cert_bytes);
        if (!cert) return std::move(cert).error().In(Where("certs", h));
        auto fx = CheckBlock(ctx, tip, registry, lookup, *block, *cert, replay);
        if (!fx) return std::move(fx).error().In(path + ": replay");
        TC_TRY(hv, txn.Get(m_dbs.hashes, fx->block_hash));
        if (!hv) return fault("hashes: block " + std::to_string(h) + " is not indexed");
        TC_TRY(hn, s::DecodeU64(*hv, path + ": hashes " + Hex(fx->block_hash)));
        if (hn != h) {
            return fault("hashes: block " + std::to_string(h) + " is indexed at height " +
                         std::to_string(hn));
        }
        for (const auto& [txid, loc] : fx->txs) {
            TC_TRY(lv, txn.Get(m_dbs.txindex, txid));
            if (!lv)
                return fault("txindex: tx " + Hex(txid) + " of block " + std::to_string(h) +
                             " is not indexed");
            TC_TRY(stored, s::DecodeTxLocation(*lv));
            if (stored.height != loc.height || stored.position != loc.position) {
                return fault("txindex: tx " + Hex(txid) + " is indexed at " +
                             std::to_string(stored.height) + ":" + std::to_string(stored.position) +
                             ", it is at " + std::to_string(loc.height) + ":" +
                             std::to_string(loc.position));
            }
        }
        for (const auto& u : fx->unlocked) utxos[u.outpoint] = u;
        for (const auto& u : fx->spent) utxos.erase(u.outpoint);
        for (const auto& u : fx->created) utxos.emplace(u.outpoint, u);
        for (const auto& e : fx->registry) registry.Add(e);
        fees = *fees.CheckedAdd(fx->fees);
        tx_count += block->txs.size();
        tip = Tip{h, fx->block_hash, block->header.timestamp_ms};
        if (progress && (h % 100 == 0 || h == meta.height)) progress(h);
    }

    // Counters.
    if (meta.tip_hash != tip.hash) {
        return fault("meta tip_hash: " + Hex(meta.tip_hash) + ", the chain ends in " +
                     Hex(tip.hash));
    }
    if (meta.tip_time != tip.time_ms) return fault("meta tip_time: does not match the tip");
    if (meta.fees_burned != fees.units()) {
        return fault("meta fees_burned: " + Amount::FromUnits(meta.fees_burned).ToString() +
                     ", the blocks burned " + fees.ToString());
    }
    auto expected_supply = m_genesis_supply.CheckedSub(fees);
    if (!expected_supply || meta.supply != expected_supply->units()) {
        return fault("meta supply: " + Amount::FromUnits(meta.supply).ToString() +
                     " is not genesis supply " + m_genesis_supply.ToString() + " - fees burned " +
                     fees.ToString());
    }
    if (meta.tx_count != tx_count) {
        return fault("meta tx_count: " + std::to_string(meta.tx_count) + ", the blocks hold " +
                     std::to_string(tx_count));
    }
    if (meta.utxo_count != utxos.size()) {
        return fault("meta utxo_count: " + std::to_string(meta.utxo_count) + ", the replay gives " +
                     std::to_string(utxos.size()));
    }

    // The stored UTXO set against the replayed one, in key order.
    Amount total;
    {
        TC_TRY(cursor, Cursor::Open(txn, m_dbs.utxos));
        auto it = utxos.begin();
        for (auto more = cursor.First();; more = cursor.Next()) {
            if (!more) return std::move(more).error();
            if (!*more) break;
            TC_TRY(op, s::DecodeOutPoint(cursor.key()));
            TC_TRY(stored, s::DecodeUtxo(op, cursor.value()));
            if (it == utxos.end() || op < it->first) {
                return fault("utxos: " + wire::OutPointText(op) +
                             " is stored but not in the replayed set");
            }
            if (it->first < op) {
                return fault("utxos: " + wire::OutPointText(it->first) + " (created at height " +
                             std::to_string(it->second.height) +
                             ") is missing from the stored set");
            }
            const Utxo& want = it->second;
            if (stored.amount != want.amount || stored.address != want.address ||
                stored.height != want.height || stored.locked != want.locked) {
                return fault("utxos: " + wire::OutPointText(op) + " differs from the replay");
            }
            total = *total.CheckedAdd(Amount::FromUnits(stored.amount));
            ++it;
        }
        if (it != utxos.end()) {
            return fault("utxos: " + wire::OutPointText(it->first) + " (created at height " +
                         std::to_string(it->second.height) + ") is missing from the stored set");
        }
    }
    if (total.units() != meta.supply) {
        return fault("utxos: they hold " + total.ToString() + ", the supply is " +
                     Amount::FromUnits(meta.supply).ToString());
    }

    // The address index lists exactly the UTXOs.
    {
        TC_TRY(count, txn.Count(m_dbs.addrindex));
        if (count != utxos.size()) {
            return fault("addrindex: " + std::to_string(count) + " entries for " +
                         std::to_string(utxos.size()) + " unspent outputs");
        }
        TC_TRY(cursor, Cursor::Open(txn, m_dbs.addrindex));
        for (auto more = cursor.First();; more = cursor.Next()) {
            if (!more) return std::move(more).error();
            if (!*more) break;
            wire::PubKeyHash address;
            TC_TRY(op, s::DecodeAddrIndexKey(cursor.key(), &address));
            auto it = utxos.find(op);
            if (it == utxos.end() || it->second.address != address) {
                return fault("addrindex: " + wire::OutPointText(op) +
                             " is listed under an address that does not own it");
            }
        }
    }

    // The registry.
    TC_TRY(stored_registry, LoadRegistry(txn, m_dbs));
    if (stored_registry.entries() != registry.entries()) {
        return fault("masternodes: the registry differs from the one the blocks give");
    }

    // Evidence: each entry a real equivocation, stored under its own key.
    {
        const consensus::SetAt set_at = EvidenceSets(registry, meta.height, Errc::kInvalid);
        TC_TRY(cursor, Cursor::Open(txn, m_dbs.evidence));
        for (auto more = cursor.First();; more = cursor.Next()) {
            if (!more) return std::move(more).error();
            if (!*more) break;
            const std::string at = "evidence " + Hex(cursor.key());
            auto pair = consensus::SplitEvidenceValue(cursor.value());
            if (!pair) return fault(at + ": " + pair.error().message);
            auto who = consensus::CheckEquivocation(m_chain_id, set_at, pair->first, pair->second);
            if (!who) return fault(at + ": " + who.error().message);
            const util::Bytes key = consensus::EvidenceKey(*who);
            if (!std::equal(key.begin(), key.end(), cursor.key().begin(), cursor.key().end())) {
                return fault(at + ": stored under the key of another offence");
            }
        }
    }

    // Nothing beyond the tip.
    TC_TRY(blocks, txn.Count(m_dbs.blocks));
    TC_TRY(certs, txn.Count(m_dbs.certs));
    TC_TRY(hashes, txn.Count(m_dbs.hashes));
    TC_TRY(txs, txn.Count(m_dbs.txindex));
    if (blocks != meta.height + 1 || hashes != meta.height + 1 || certs != meta.height) {
        return fault("blocks/hashes/certs: " + std::to_string(blocks) + "/" +
                     std::to_string(hashes) + "/" + std::to_string(certs) +
                     " entries for a tip at height " + std::to_string(meta.height));
    }
    if (txs != tx_count) {
        return fault("txindex: " + std::to_string(txs) + " entries for " +
                     std::to_string(tx_count) + " transactions");
    }
    return {};
}

util::Result<std::unique_ptr<Ledger>> OpenExisting(const std::string& dir, bool read_only) {
    lmdb::EnvOptions options;
    options.read_only = read_only;
    auto env = Env::Open(dir, options);
    if (!env) {
        if (env.error().code == Errc::kNotFound) {
            return MakeError(Errc::kNotFound, dir + ": no ledger (run tc-store init)");
        }
        return std::move(env).error();
    }
    TC_TRY(txn, env->BeginRead());
    TC_TRY(dbs, OpenDbs(*env, txn, false));
    TC_TRY(layout_bytes, Required(txn, dbs.meta, K(s::kMetaLayout), "meta layout"));
    TC_TRY(layout, s::DecodeU32(layout_bytes, dir + ": meta layout"));
    if (layout != kLayoutVersion) {
        return MakeError(Errc::kInvalid, dir + ": ledger layout version " + std::to_string(layout) +
                                             ", this program reads " +
                                             std::to_string(kLayoutVersion));
    }
    TC_TRY(text, Required(txn, dbs.meta, K(s::kMetaGenesis), "meta genesis"));
    auto genesis = wire::ParseGenesis(std::string(text.begin(), text.end()));
    if (!genesis) return std::move(genesis).error().In(dir + ": meta genesis");
    TC_TRY(id_bytes, Required(txn, dbs.meta, K(s::kMetaChainId), "meta chain_id"));
    TC_TRY(chain_id, s::DecodeHash(id_bytes, dir + ": meta chain_id"));
    if (wire::ChainId(*genesis) != chain_id) {
        return MakeError(Errc::kInvalid, dir + ": meta chain_id does not match the stored genesis");
    }
    // Committing a read transaction keeps the database handles it opened.
    TC_CHECK(txn.Commit());
    return std::unique_ptr<Ledger>(
        std::make_unique<LmdbLedger>(std::move(*env), std::move(dbs), std::move(*genesis)));
}

}  // namespace

util::Result<std::unique_ptr<Ledger>> Ledger::Init(const std::string& dir,
                                                   const wire::Genesis& genesis) {
    TC_TRY(json_text, CanonicalGenesisJson(genesis));
    const wire::Hash chain_id = wire::ChainId(genesis);
    Amount supply;
    for (const auto& a : genesis.allocations) {
        auto sum = supply.CheckedAdd(a.amount);
        if (!sum) return MakeError(Errc::kInvalid, "genesis.allocations: the supply overflows");
        supply = *sum;
    }
    lmdb::EnvOptions options;
    options.create = true;
    TC_TRY(env, Env::Open(dir, options));
    Dbs dbs;
    auto written = env.WriteTxn([&](Txn& txn) -> util::Status {
        // Checked inside the write transaction: no other writer can be
        // creating a ledger here at the same time.
        auto meta = env.OpenDbi(txn, s::kMeta, false);
        if (meta.ok()) {
            TC_TRY(name, txn.Get(*meta, K(s::kMetaChain)));
            TC_TRY(id, txn.Get(*meta, K(s::kMetaChainId)));
            std::string chain = name ? std::string(name->begin(), name->end()) : "?";
            std::string existing_id = id ? Hex(*id) : "?";
            std::string why = id && Hex(*id) == Hex(chain_id) ? " (the same chain)"
                                                              : "; a genesis of another chain (" +
                                                                    Hex(chain_id) + ") is refused";
            return MakeError(Errc::kConflict, dir + ": a ledger already exists for chain " + chain +
                                                  " (chain id " + existing_id + ")" + why);
        }
        if (meta.error().code != Errc::kNotFound) return std::move(meta).error();
        TC_TRY(main, env.OpenDbi(txn, "", false));
        TC_TRY(named, txn.Count(main));
        if (named != 0) {
            return MakeError(Errc::kInvalid,
                             dir + ": holds an LMDB environment that is not a TimeCoin ledger");
        }
        TC_TRY(opened, OpenDbs(env, txn, true));
        dbs = opened;
        const Dbs& d = dbs;
        TC_CHECK(txn.Put(d.meta, K(s::kMetaLayout), s::U32(kLayoutVersion)));
        TC_CHECK(txn.Put(d.meta, K(s::kMetaChain), util::AsBytes(genesis.chain)));
        TC_CHECK(txn.Put(d.meta, K(s::kMetaChainId), chain_id));
        TC_CHECK(txn.Put(d.meta, K(s::kMetaGenesis), util::AsBytes(json_text)));

        wire::Block block0{GenesisHeader(genesis), {}};
        wire::Hash hash0 = wire::BlockHash(block0.header);
        TC_CHECK(txn.PutNew(d.blocks, s::U64(0), wire::Encode(block0)));
        TC_CHECK(txn.PutNew(d.hashes, hash0, s::U64(0)));
        for (size_t i = 0; i < genesis.allocations.size(); ++i) {
            Utxo u;
            u.outpoint = GenesisOutPoint(chain_id, static_cast<uint32_t>(i));
            u.amount = genesis.allocations[i].amount.units();
            u.address = genesis.allocations[i].address;
            TC_CHECK(txn.PutNew(d.utxos, s::OutPointKey(u.outpoint), s::UtxoValue(u)));
            TC_CHECK(txn.Put(d.addrindex, s::AddrIndexKey(u.address, u.outpoint), {}));
        }
        const Registry registry = Registry::FromGenesis(genesis);
        for (const auto& e : registry.entries()) {
            TC_CHECK(txn.PutNew(d.masternodes, s::RegistryKey(e.height, e.node.key),
                                s::RegistryValue(e)));
        }
        Meta m;
        m.height = 0;
        m.tip_hash = hash0;
        m.tip_time = genesis.time_ms;
        m.supply = supply.units();
        m.utxo_count = genesis.allocations.size();
        return WriteMeta(txn, d, m);
    });
    if (!written) return std::move(written).error();
    return std::unique_ptr<Ledger>(std::make_unique<LmdbLedger>(std::move(env), dbs, genesis));
}

util::Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& dir) {
    return OpenExisting(dir, false);
}

util::Result<std::unique_ptr<Ledger>> Ledger::OpenReadOnly(const std::string& dir) {
    return OpenExisting(dir, true);
}

}  // namespace tc::ledger
