// store_bench: how fast the ledger applies blocks of transfers, next to what
// LMDB alone can do with the same records (scripts/bench store, issue 4).
//
// Setup (not measured): a ledger whose genesis funds one key, grown to at
// least --utxos unspent outputs by blocks of fan-out transactions (one input,
// up to 2,000 outputs); then a separate bare LMDB environment holding the
// same UTXO and address-index records. Measured, interleaved block by block
// so both see the same disk and cache: --blocks blocks of 1,000 one-input
// two-output transfers spending random outputs of the set, applied through
// Ledger::ApplyBlock (witnesses not verified, as for blocks from tc-pbft;
// the certificate is checked), and for each the bare loop: one durable write
// transaction doing, per transfer, what the ledger's write does (read the
// input, delete it and its address-index entry, put two outputs, their
// address-index entries and a tx-index entry), in the ledger's order: all
// reads, then all deletes, then all puts. (Interleaving them per transfer
// made the bare loop ~3% slower than the ledger.) The bare loop does not
// store the block, certificate and counters, nor check any rule: that is the
// ledger's overhead the ratio shows.
//
// Prints one JSON object on stdout; progress goes to stderr. Works in a
// fresh directory under $TMPDIR (or under --dir DIR) and removes it.
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../unit/chain_builder.h"
#include "crypto/keys.h"
#include "ledger/ledger.h"
#include "ledger/lmdb.h"
#include "ledger/schema.h"
#include "util/amount.h"
#include "wire/address.h"
#include "wire/genesis.h"
#include "wire/types.h"

namespace {

using namespace tc;
using Clock = std::chrono::steady_clock;
namespace s = ledger::schema;

constexpr size_t kBlockTxs = 1000;
constexpr size_t kFanOut = 2000;          // outputs per setup transaction (<= kMaxTxOutputs)
constexpr size_t kFanOutsPerBlock = 100;  // ~6.5 MB setup blocks
constexpr uint64_t kTransferFee = 1000;   // units; a transfer is ~250 bytes at 1 unit/byte
constexpr uint64_t kSupply = 1'000'000'000'000'000'000ULL;  // units, all to one key

struct Options {
    uint64_t utxos = 1'000'000;
    uint64_t blocks = 20;
    std::string dir;  // parent of the work directory; empty: $TMPDIR
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <typename T>
T Must(util::Result<T> result, const std::string& what) {
    if (!result.ok()) throw std::runtime_error(what + ": " + result.error().message);
    return std::move(result).value();
}

void Must(const util::Status& status, const std::string& what) {
    if (!status.ok()) throw std::runtime_error(what + ": " + status.error().message);
}

double Seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
}

// A fresh directory (mkdtemp) removed with its contents when it goes out of
// scope, so an error thrown anywhere still cleans up.
class WorkDir {
  public:
    explicit WorkDir(const std::string& parent) {
        std::filesystem::path base =
            parent.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(parent);
        std::string pattern = base / "tc-store-bench-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error(base.string() +
                                     ": cannot create a work directory: " + std::strerror(errno));
        }
        m_path = pattern;
    }
    ~WorkDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    const std::string& path() const { return m_path; }

  private:
    std::string m_path;
};

crypto::SecretKey KeyFromByte(uint8_t b) {
    util::Bytes seed(32, b);
    return Must(crypto::SecretKey::FromSeed(seed), "key");
}

// An unspent output the benchmark owns (all are the owner key's).
struct Coin {
    wire::OutPoint outpoint;
    uint64_t amount = 0;
    uint64_t height = 0;
};

// What the bare loop writes for one transfer.
struct TransferRecord {
    wire::OutPoint input;
    wire::Hash txid{};
    std::array<wire::TxOut, 2> outputs;
    uint32_t position = 0;
};

wire::Genesis MakeGenesis(const wire::PubKeyHash& owner,
                          const std::vector<crypto::SecretKey>& masternode_keys) {
    wire::Genesis g;
    g.chain = "store-bench";
    g.network = wire::Network::kDevnet;
    g.time_ms = 1'700'000'000'000;
    g.allocations = {{owner, util::Amount::FromUnits(kSupply)}};
    for (size_t i = 0; i < masternode_keys.size(); ++i) {
        g.masternodes.push_back(
            {masternode_keys[i].public_key(), "127.0.0.1:" + std::to_string(7000 + i), owner});
    }
    std::sort(g.masternodes.begin(), g.masternodes.end(),
              [](const auto& a, const auto& b) { return a.public_key < b.public_key; });
    g.collateral = util::Amount::FromUnits(100'000'000'000);
    g.max_block_bytes = wire::kMaxEncodedBlockBytes;
    g.max_block_txs = wire::kMaxBlockTxs;
    g.max_tx_bytes = wire::kMaxEncodedTxBytes;
    g.min_fee_rate = util::Amount::FromUnits(1);
    return g;
}

class StoreBench {
  public:
    StoreBench(const Options& options, const std::string& work)
        : m_options(options),
          m_work(work),
          m_owner(KeyFromByte(1)),
          m_owner_addr(wire::KeyHash(m_owner.public_key())),
          m_recipient_addr(wire::KeyHash(KeyFromByte(2).public_key())) {
        std::vector<crypto::SecretKey> mn_keys;
        for (uint8_t i = 0; i < 4; ++i) mn_keys.push_back(KeyFromByte(100 + i));
        wire::Genesis genesis = MakeGenesis(m_owner_addr, mn_keys);
        m_chain.emplace(genesis, std::move(mn_keys));
        m_ledger = Must(ledger::Ledger::Init(work + "/ledger", genesis), "ledger init");
        m_coins.push_back({ledger::GenesisOutPoint(m_chain->chain_id(), 0), kSupply, 0});
    }

    nlohmann::json Run() {
        auto setup_start = Clock::now();
        GrowLedger();
        FillBareEnv();
        const double setup_seconds = Seconds(setup_start);
        const uint64_t utxos = Must(m_ledger->GetStatus(), "ledger status").utxo_count;
        std::fprintf(stderr, "store_bench: setup done in %.1f s: %llu utxos\n", setup_seconds,
                     static_cast<unsigned long long>(utxos));
        const size_t unspent = m_coins.size() - m_next_fund;
        if (unspent != utxos) throw std::runtime_error("ledger and benchmark disagree on utxos");
        if (m_options.blocks * kBlockTxs > unspent) {
            throw UsageError("--blocks " + std::to_string(m_options.blocks) + " needs at least " +
                             std::to_string(m_options.blocks * kBlockTxs) + " utxos");
        }

        // Inputs: distinct outputs drawn at random from the whole set, so
        // reads and deletes land all over the trees, as real spends do.
        std::vector<size_t> picks(unspent);
        for (size_t i = 0; i < unspent; ++i) picks[i] = m_next_fund + i;
        std::mt19937_64 rng(42);
        std::shuffle(picks.begin(), picks.end(), rng);

        double ledger_seconds = 0;
        double bare_seconds = 0;
        ledger::ApplyOptions apply;
        apply.verify_witnesses = false;
        for (uint64_t b = 0; b < m_options.blocks; ++b) {
            std::vector<wire::Transaction> txs;
            std::vector<TransferRecord> records;
            txs.reserve(kBlockTxs);
            records.reserve(kBlockTxs);
            for (size_t i = 0; i < kBlockTxs; ++i) {
                const Coin& coin = m_coins[picks[b * kBlockTxs + i]];
                txs.push_back(Transfer(coin));
                records.push_back({coin.outpoint,
                                   wire::TxId(txs.back()),
                                   {txs.back().outputs[0], txs.back().outputs[1]},
                                   static_cast<uint32_t>(i)});
            }
            auto made = m_chain->MakeBlock(std::move(txs));

            // Alternate which goes first, so neither always follows the
            // other's commit (writeback, cache) in the same way.
            auto run_ledger = [&] {
                auto start = Clock::now();
                Must(m_ledger->ApplyBlock(made.block, made.cert, apply),
                     "apply block " + std::to_string(made.block.header.height));
                ledger_seconds += Seconds(start);
            };
            auto run_bare = [&] {
                auto start = Clock::now();
                BareBlock(records, made.block.header.height);
                bare_seconds += Seconds(start);
            };
            if (b % 2 == 0) {
                run_ledger();
                run_bare();
            } else {
                run_bare();
                run_ledger();
            }
            m_chain->Advance(made.block);
            std::fprintf(stderr, "store_bench: block %llu/%llu: ledger %.1f ms, lmdb %.1f ms\n",
                         static_cast<unsigned long long>(b + 1),
                         static_cast<unsigned long long>(m_options.blocks),
                         ledger_seconds * 1000 / static_cast<double>(b + 1),
                         bare_seconds * 1000 / static_cast<double>(b + 1));
        }

        const double txs = static_cast<double>(m_options.blocks * kBlockTxs);
        const double tx_per_s = txs / ledger_seconds;
        const double lmdb_tx_per_s = txs / bare_seconds;
        nlohmann::json out;
        out["tx_per_s"] = static_cast<uint64_t>(tx_per_s);
        out["lmdb_tx_per_s"] = static_cast<uint64_t>(lmdb_tx_per_s);
        out["ratio"] = std::round(tx_per_s / lmdb_tx_per_s * 1000) / 1000;
        out["utxos"] = utxos;
        out["blocks"] = m_options.blocks;
        out["block_txs"] = kBlockTxs;
        out["seconds"] = std::round(ledger_seconds * 1000) / 1000;
        out["lmdb_seconds"] = std::round(bare_seconds * 1000) / 1000;
        out["setup_seconds"] = std::round(setup_seconds * 10) / 10;
        return out;
    }

  private:
    // Signs every witness slot with the owner key (the owner of every input).
    void Sign(wire::Transaction& tx) const { m_chain->Sign(tx, {&m_owner}); }

    wire::Transaction FanOut(const Coin& coin, size_t outputs) const {
        // At most ~33 bytes an output and ~150 for the rest at 1 unit/byte.
        const uint64_t fee = 40 * outputs + 1000;
        if (coin.amount < fee + outputs * (kTransferFee + 2)) {
            throw std::runtime_error("setup: amounts too small for the fan-out");
        }
        const uint64_t each = (coin.amount - fee) / outputs;
        wire::Transaction tx;
        tx.inputs = {coin.outpoint};
        tx.outputs.assign(outputs, wire::TxOut{each, m_owner_addr});
        Sign(tx);
        return tx;
    }

    wire::Transaction Transfer(const Coin& coin) const {
        const uint64_t left = coin.amount - kTransferFee;
        wire::Transaction tx;
        tx.inputs = {coin.outpoint};
        tx.outputs = {{left / 3, m_recipient_addr}, {left - left / 3, m_owner_addr}};
        Sign(tx);
        return tx;
    }

    // Fan-out blocks until the UTXO set holds at least --utxos outputs. Only
    // outputs of committed blocks are spent, oldest first, so the unspent
    // outputs are always m_coins[m_next_fund..].
    void GrowLedger() {
        auto start = Clock::now();
        ledger::ApplyOptions apply;
        apply.verify_witnesses = false;
        while (m_coins.size() - m_next_fund < m_options.utxos) {
            const size_t committed = m_coins.size();
            size_t unspent = committed - m_next_fund;
            std::vector<wire::Transaction> txs;
            std::vector<Coin> created;
            while (txs.size() < kFanOutsPerBlock && m_next_fund < committed &&
                   unspent < m_options.utxos) {
                size_t outputs = std::clamp<size_t>(m_options.utxos - unspent + 1, 2, kFanOut);
                txs.push_back(FanOut(m_coins[m_next_fund++], outputs));
                unspent += outputs - 1;
            }
            const uint64_t height = m_chain->height() + 1;
            for (const auto& tx : txs) {
                wire::Hash txid = wire::TxId(tx);
                m_setup_txids.push_back(txid);
                for (uint32_t v = 0; v < tx.outputs.size(); ++v) {
                    created.push_back({{txid, v}, tx.outputs[v].amount, height});
                }
            }
            auto made = m_chain->MakeBlock(std::move(txs));
            Must(m_ledger->ApplyBlock(made.block, made.cert, apply),
                 "setup block " + std::to_string(height));
            m_chain->Advance(made.block);
            m_coins.insert(m_coins.end(), created.begin(), created.end());
            std::fprintf(stderr, "store_bench: setup block %llu: %zu utxos (%.1f s)\n",
                         static_cast<unsigned long long>(height), m_coins.size() - m_next_fund,
                         Seconds(start));
        }
    }

    // The bare environment: the same utxos and addrindex records as the
    // ledger's, written in the order the ledger created them.
    void FillBareEnv() {
        auto start = Clock::now();
        ledger::lmdb::EnvOptions options;
        options.create = true;
        options.initial_map_size = size_t{1} << 30;
        m_bare.emplace(Must(ledger::lmdb::Env::Open(m_work + "/bare", options), "bare env"));
        Must(m_bare->WriteTxn([&](ledger::lmdb::Txn& txn) -> util::Status {
            TC_TRY(utxos, m_bare->OpenDbi(txn, s::kUtxos, true));
            TC_TRY(addrindex, m_bare->OpenDbi(txn, s::kAddrIndex, true));
            TC_TRY(txindex, m_bare->OpenDbi(txn, s::kTxIndex, true));
            m_utxos = utxos;
            m_addrindex = addrindex;
            m_txindex = txindex;
            for (size_t i = 0; i < m_setup_txids.size(); ++i) {
                TC_CHECK(
                    txn.Put(m_txindex, m_setup_txids[i],
                            s::TxLocationValue({i / kFanOutsPerBlock + 1,
                                                static_cast<uint32_t>(i % kFanOutsPerBlock)})));
            }
            return {};
        }),
             "bare env: open databases");
        constexpr size_t kChunk = 200'000;
        for (size_t first = m_next_fund; first < m_coins.size(); first += kChunk) {
            const size_t end = std::min(first + kChunk, m_coins.size());
            Must(m_bare->WriteTxn([&](ledger::lmdb::Txn& txn) -> util::Status {
                for (size_t i = first; i < end; ++i) {
                    const Coin& c = m_coins[i];
                    ledger::Utxo u{c.outpoint, c.amount, m_owner_addr, c.height, false};
                    TC_CHECK(txn.Put(m_utxos, s::OutPointKey(c.outpoint), s::UtxoValue(u)));
                    TC_CHECK(txn.Put(m_addrindex, s::AddrIndexKey(m_owner_addr, c.outpoint), {}));
                }
                return {};
            }),
                 "bare env: fill");
        }
        std::fprintf(stderr, "store_bench: bare lmdb env filled (%.1f s)\n", Seconds(start));
    }

    // One durable write transaction doing the ledger's per-transfer reads,
    // deletes and puts for a block's transfers.
    void BareBlock(const std::vector<TransferRecord>& records, uint64_t height) {
        Must(m_bare->WriteTxn([&](ledger::lmdb::Txn& txn) -> util::Status {
            // In the ledger's order: every read (the rule checks), then every
            // delete, then every put (WriteEffects).
            std::vector<wire::PubKeyHash> owners(records.size());
            for (size_t i = 0; i < records.size(); ++i) {
                TC_TRY(value, txn.Get(m_utxos, s::OutPointKey(records[i].input)));
                if (!value || value->size() != s::kUtxoValueBytes) {
                    return util::MakeError(util::Errc::kInternal, "bare: input missing");
                }
                std::copy_n(value->begin() + 8, owners[i].size(), owners[i].begin());
            }
            for (size_t i = 0; i < records.size(); ++i) {
                const auto& r = records[i];
                TC_TRY(gone, txn.Del(m_utxos, s::OutPointKey(r.input)));
                TC_TRY(gone_index, txn.Del(m_addrindex, s::AddrIndexKey(owners[i], r.input)));
                if (!gone || !gone_index) {
                    return util::MakeError(util::Errc::kInternal, "bare: input not indexed");
                }
            }
            for (const auto& r : records) {
                for (uint32_t v = 0; v < r.outputs.size(); ++v) {
                    wire::OutPoint op{r.txid, v};
                    ledger::Utxo u{op, r.outputs[v].amount, r.outputs[v].address, height, false};
                    TC_CHECK(txn.PutNew(m_utxos, s::OutPointKey(op), s::UtxoValue(u)));
                    TC_CHECK(txn.Put(m_addrindex, s::AddrIndexKey(u.address, op), {}));
                }
            }
            for (const auto& r : records) {
                TC_CHECK(txn.PutNew(m_txindex, r.txid, s::TxLocationValue({height, r.position})));
            }
            return {};
        }),
             "bare block " + std::to_string(height));
    }

    Options m_options;
    std::string m_work;
    crypto::SecretKey m_owner;
    wire::PubKeyHash m_owner_addr;
    wire::PubKeyHash m_recipient_addr;
    std::optional<test::ChainBuilder> m_chain;
    std::unique_ptr<ledger::Ledger> m_ledger;
    std::vector<Coin> m_coins;  // every output made; [m_next_fund, end) unspent
    size_t m_next_fund = 0;
    std::vector<wire::Hash> m_setup_txids;

    std::optional<ledger::lmdb::Env> m_bare;
    ledger::lmdb::Dbi m_utxos, m_addrindex, m_txindex;
};

uint64_t ParseCount(const char* flag, const char* text) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v == 0 || text[0] == '-') {
        throw UsageError(std::string(flag) + ": expected a positive integer, got '" + text + "'");
    }
    return v;
}

Options ParseArgs(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc) throw UsageError("unknown or incomplete argument '" + arg + "'");
        if (arg == "--utxos") {
            o.utxos = ParseCount("--utxos", argv[++i]);
        } else if (arg == "--blocks") {
            o.blocks = ParseCount("--blocks", argv[++i]);
        } else if (arg == "--dir") {
            o.dir = argv[++i];
        } else {
            throw UsageError("unknown argument '" + arg + "'");
        }
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options options = ParseArgs(argc, argv);
        Must(crypto::InitSodium(), "libsodium");
        WorkDir work(options.dir);
        StoreBench bench(options, work.path());
        nlohmann::json out = bench.Run();
        std::printf("%s\n", out.dump().c_str());
        return 0;
    } catch (const UsageError& e) {
        std::fprintf(stderr,
                     "store_bench: error: %s\n"
                     "usage: store_bench [--utxos N] [--blocks N] [--dir DIR]\n",
                     e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "store_bench: error: %s\n", e.what());
        return 1;
    }
}
