#include "store.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "consensus/evidence.h"
#include "crypto/keys.h"
#include "daemon.h"
#include "export.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "util/amount.h"
#include "util/cli.h"
#include "wire/address.h"
#include "wire/codec.h"
#include "wire/json.h"
#include "wire/pbft.h"

namespace tc::store {

using util::Errc;
using util::MakeError;

namespace {

util::Error Usage(const std::string& what, const std::string& why) {
    return MakeError(Errc::kUsage, what + ": " + why);
}

wire::Network NetworkOf(bool devnet) {
    return devnet ? wire::Network::kDevnet : wire::Network::kMain;
}

util::Result<util::Amount> ParseAmountArg(const std::string& what, std::string_view text) {
    auto amount = util::Amount::Parse(text);
    if (!amount) return Usage(what, amount.error().message);
    return *amount;
}

util::Result<wire::PubKeyHash> ParseAddressArg(const std::string& what, std::string_view text,
                                               wire::Network network) {
    auto address = wire::Address::Parse(text, network);
    if (!address) return Usage(what, address.error().message);
    return address->hash;
}

// Turns an error of wire::ParseGenesis about the genesis we built back into
// the argument it came from: "genesis.limits.max_tx_bytes: 10 is outside
// 256..65536" becomes "--max-tx-bytes: 10 is outside 256..65536", and
// "genesis.allocations[1].address: listed twice" becomes
// "--alloc ARG: address: listed twice".
std::string NameArgument(const Options& opts, std::string message) {
    static const std::pair<std::string_view, std::string_view> kFields[] = {
        {"genesis.chain", "--chain"},
        {"genesis.time", "--time"},
        {"genesis.collateral", "--collateral"},
        {"genesis.activation_delay", "--activation-delay"},
        {"genesis.min_fee_rate", "--min-fee-rate"},
        {"genesis.limits.max_block_bytes", "--max-block-bytes"},
        {"genesis.limits.max_block_txs", "--max-block-txs"},
        {"genesis.limits.max_tx_bytes", "--max-tx-bytes"},
        {"genesis.timeouts.base_ms", "--timeout-base-ms"},
        {"genesis.timeouts.max_ms", "--timeout-max-ms"},
    };
    for (const auto& [field, flag] : kFields) {
        if (message.starts_with(std::string(field) + ":")) {
            return std::string(flag) + message.substr(field.size());
        }
    }
    auto indexed = [&](std::string_view prefix, const std::string& flag,
                       const std::vector<std::string>& args) -> std::optional<std::string> {
        if (!message.starts_with(prefix)) return std::nullopt;
        size_t close = message.find(']', prefix.size());
        if (close == std::string::npos) return std::nullopt;
        size_t index = 0;
        const char* first = message.data() + prefix.size();
        auto [end, ec] = std::from_chars(first, message.data() + close, index);
        if (ec != std::errc() || end != message.data() + close || index >= args.size()) {
            return std::nullopt;
        }
        std::string rest = message.substr(close + 1);  // ".address: why" or ": why"
        if (rest.starts_with(".")) rest = ": " + rest.substr(1);
        return flag + " " + args[index] + rest;
    };
    if (auto m = indexed("genesis.allocations[", "--alloc", opts.allocs)) return *m;
    if (auto m = indexed("genesis.masternodes[", "--masternode", opts.masternodes)) return *m;
    return message;
}

util::Result<wire::GenesisMasternode> ParseMasternodeArg(const std::string& spec,
                                                         wire::Network network) {
    std::string what = "--masternode " + spec;
    size_t c1 = spec.find(',');
    size_t c2 = spec.rfind(',');
    if (c1 == std::string::npos || c1 == c2) {
        return Usage(what, "expected PUBKEY,HOST:PORT,PAYOUT_ADDRESS");
    }
    std::string_view text = spec;
    wire::GenesisMasternode node;
    auto key = util::FromHexFixed<32>(text.substr(0, c1));
    if (!key) return Usage(what, "public key: " + key.error().message);
    if (!crypto::ToCurvePublic(*key)) return Usage(what, "not a valid Ed25519 public key");
    node.public_key = *key;
    node.endpoint = std::string(text.substr(c1 + 1, c2 - c1 - 1));
    if (auto ok = wire::CheckEndpoint(node.endpoint); !ok) {
        return Usage(what, "endpoint: " + ok.error().message);
    }
    TC_TRY(payout, ParseAddressArg(what, text.substr(c2 + 1), network));
    node.payout = payout;
    return node;
}

util::Status Genesis(const Options& opts, std::ostream& out) {
    TC_TRY(genesis, BuildGenesis(opts));
    out << wire::GenesisToJson(genesis).dump(opts.common.json ? -1 : 2) << "\n";
    return {};
}

// --- the ledger ------------------------------------------------------------

// Text output: "label" padded to a column, then the value (as tc-keygen show).
void Line(std::ostream& out, std::string_view label, const std::string& value) {
    out << std::left << std::setw(15) << label << value << "\n";
}

std::string Hex(util::ByteView bytes) {
    return util::ToHex(bytes);
}

// DATADIR/ledger, checked enough to tell "no ledger yet" from "something
// else is there" before LMDB sees it.
util::Result<std::string> ExistingLedgerDir(const Options& opts) {
    std::string dir = util::LedgerDir(opts.common.datadir);
    std::error_code ec;
    auto st = std::filesystem::status(dir, ec);
    if (st.type() == std::filesystem::file_type::not_found) {
        return MakeError(Errc::kNotFound, dir + ": no ledger (run tc-store init --genesis FILE)");
    }
    if (ec) return MakeError(Errc::kIo, dir + ": " + ec.message());
    if (st.type() != std::filesystem::file_type::directory) {
        return MakeError(Errc::kInvalid, dir + ": not a directory, so not a tc-store ledger");
    }
    if (!std::filesystem::exists(dir + "/data.mdb", ec)) {
        if (ec) return MakeError(Errc::kIo, dir + "/data.mdb: " + ec.message());
        return MakeError(Errc::kNotFound, dir + ": no ledger (run tc-store init --genesis FILE)");
    }
    return dir;
}

util::Result<std::unique_ptr<ledger::Ledger>> OpenReadOnly(const Options& opts) {
    TC_TRY(dir, ExistingLedgerDir(opts));
    return ledger::Ledger::OpenReadOnly(dir);
}

util::Result<std::unique_ptr<ledger::Ledger>> OpenForWriting(const Options& opts) {
    TC_TRY(dir, ExistingLedgerDir(opts));
    return ledger::Ledger::Open(dir);
}

util::Status Init(const Options& opts, std::ostream& out) {
    TC_TRY(genesis, wire::LoadGenesisFile(opts.genesis_file));
    // A datadir holds keys: create it private to its owner (as tc-keygen new).
    std::error_code ec;
    if (std::filesystem::create_directories(opts.common.datadir, ec)) {
        std::filesystem::permissions(opts.common.datadir, std::filesystem::perms::owner_all, ec);
    }
    if (ec) return MakeError(Errc::kIo, opts.common.datadir + ": " + ec.message());
    std::string dir = util::LedgerDir(opts.common.datadir);
    TC_TRY(ledger, ledger::Ledger::Init(dir, genesis));
    const wire::Hash chain_id = wire::ChainId(genesis);
    if (opts.common.json) {
        nlohmann::json j = {
            {"ledger", dir},
            {"chain", genesis.chain},
            {"chain_id", Hex(chain_id)},
            {"network", genesis.network == wire::Network::kMain ? "main" : "devnet"}};
        out << j.dump() << "\n";
    } else {
        out << Hex(chain_id) << "\n";
    }
    return {};
}

// The status from the daemon when asked (--daemon) and it answers, else
// read from LMDB; `source` says which.
util::Result<ledger::Status> ReadStatus(const Options& opts, std::ostream& err,
                                        std::string& source) {
    if (opts.daemon) {
        auto s = DaemonStatus(opts);
        if (s || s.error().code != Errc::kIo) {
            source = "daemon";
            return s;
        }
        err << "tc-store: status: " << s.error().message << "; reading the ledger" << std::endl;
    }
    source = "ledger";
    TC_TRY(ledger, OpenReadOnly(opts));
    return ledger->GetStatus();
}

util::Status Status(const Options& opts, std::ostream& out, std::ostream& err) {
    std::string source;
    TC_TRY(s, ReadStatus(opts, err, source));
    const char* network = s.network == wire::Network::kMain ? "main" : "devnet";
    if (opts.common.json) {
        nlohmann::json j = {{"chain", s.chain},
                            {"chain_id", Hex(s.chain_id)},
                            {"network", network},
                            {"height", s.height},
                            {"tip_hash", Hex(s.tip_hash)},
                            {"tip_time", wire::FormatUtcTime(s.tip_time_ms)},
                            {"tip_time_ms", s.tip_time_ms},
                            {"genesis_supply", s.genesis_supply.ToString()},
                            {"supply", s.supply.ToString()},
                            {"fees_burned", s.fees_burned.ToString()},
                            {"tx_count", s.tx_count},
                            {"utxo_count", s.utxo_count},
                            {"masternodes", s.masternodes},
                            {"map_size", s.map_size},
                            {"source", source}};
        out << j.dump() << "\n";
        return {};
    }
    Line(out, "chain", s.chain);
    Line(out, "chain_id", Hex(s.chain_id));
    Line(out, "network", network);
    Line(out, "height", std::to_string(s.height));
    Line(out, "tip_hash", Hex(s.tip_hash));
    Line(out, "tip_time", wire::FormatUtcTime(s.tip_time_ms));
    Line(out, "genesis_supply", s.genesis_supply.ToString());
    Line(out, "supply", s.supply.ToString());
    Line(out, "fees_burned", s.fees_burned.ToString());
    Line(out, "tx_count", std::to_string(s.tx_count));
    Line(out, "utxo_count", std::to_string(s.utxo_count));
    Line(out, "masternodes", std::to_string(s.masternodes));
    Line(out, "map_size", std::to_string(s.map_size));
    Line(out, "source", source);
    return {};
}

// HEIGHT (decimal digits) or HASH (64 hex digits), as `block` takes it.
util::Result<uint64_t> ResolveBlock(const ledger::Ledger& ledger, const std::string& target) {
    if (target.size() == 64) {
        auto hash = util::FromHexFixed<32>(target);
        if (!hash) return Usage("block " + target, hash.error().message);
        return ledger.GetHeightOfHash(*hash);
    }
    uint64_t height = 0;
    auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), height);
    if (target.empty() || ec != std::errc() || end != target.data() + target.size()) {
        return Usage("block " + target,
                     "neither a height (decimal) nor a block hash (64 hex digits)");
    }
    return height;
}

util::Status Block(const Options& opts, std::ostream& out) {
    TC_TRY(ledger, OpenReadOnly(opts));
    TC_TRY(height, ResolveBlock(*ledger, opts.target));
    auto found = ledger->GetBlock(height);
    if (!found && found.error().code == Errc::kNotFound) {
        TC_TRY(status, ledger->GetStatus());
        return MakeError(Errc::kNotFound, found.error().message + " (its height is " +
                                              std::to_string(status.height) + ")");
    }
    TC_TRY(block, std::move(found));
    const auto& h = block.header;
    const wire::Network network = ledger->genesis().network;
    if (opts.common.json) {
        nlohmann::json txids = nlohmann::json::array();
        nlohmann::json txs = nlohmann::json::array();
        for (const auto& tx : block.txs) {
            txids.push_back(Hex(wire::TxId(tx)));
            txs.push_back(wire::TxToJson(tx, network));
        }
        nlohmann::json cert = nullptr;
        if (height > 0) {
            TC_TRY(c, ledger->GetCertificate(height));
            nlohmann::json signers = nlohmann::json::array();
            for (const auto& sig : c.sigs) signers.push_back(sig.index);
            cert = {{"view", c.view}, {"signers", signers}};
        }
        nlohmann::json j = {{"hash", Hex(wire::BlockHash(h))},
                            {"height", h.height},
                            {"version", h.version},
                            {"prev_hash", Hex(h.prev_hash)},
                            {"view", h.view},
                            {"time", wire::FormatUtcTime(h.timestamp_ms)},
                            {"timestamp_ms", h.timestamp_ms},
                            {"proposer", h.proposer},
                            {"tx_root", Hex(h.tx_root)},
                            {"mnset_hash", Hex(h.mnset_hash)},
                            {"size", wire::Encode(block).size()},
                            {"tx_count", block.txs.size()},
                            {"txids", txids},
                            {"txs", txs},
                            {"certificate", cert}};
        out << j.dump() << "\n";
        return {};
    }
    Line(out, "hash", Hex(wire::BlockHash(h)));
    Line(out, "height", std::to_string(h.height));
    Line(out, "version", std::to_string(h.version));
    Line(out, "prev_hash", Hex(h.prev_hash));
    Line(out, "view", std::to_string(h.view));
    Line(out, "time", wire::FormatUtcTime(h.timestamp_ms));
    Line(out, "proposer", std::to_string(h.proposer));
    Line(out, "tx_root", Hex(h.tx_root));
    Line(out, "mnset_hash", Hex(h.mnset_hash));
    Line(out, "size", std::to_string(wire::Encode(block).size()));
    Line(out, "tx_count", std::to_string(block.txs.size()));
    for (const auto& tx : block.txs) Line(out, "txid", Hex(wire::TxId(tx)));
    return {};
}

util::Status Tx(const Options& opts, std::ostream& out) {
    auto txid = util::FromHexFixed<32>(opts.target);
    if (!txid) return Usage("tx " + opts.target, txid.error().message);
    TC_TRY(ledger, OpenReadOnly(opts));
    TC_TRY(location, ledger->GetTxLocation(*txid));
    TC_TRY(block, ledger->GetBlock(location.height));
    if (location.position >= block.txs.size()) {
        return MakeError(Errc::kInternal,
                         "tx " + opts.target + ": indexed at block " +
                             std::to_string(location.height) + " position " +
                             std::to_string(location.position) +
                             ", which has no such transaction (run tc-store verify)");
    }
    const wire::Transaction& tx = block.txs[location.position];
    const wire::Network network = ledger->genesis().network;
    const std::string block_hash = Hex(wire::BlockHash(block.header));
    if (opts.common.json) {
        nlohmann::json j = {{"txid", Hex(*txid)},
                            {"block_hash", block_hash},
                            {"height", location.height},
                            {"position", location.position},
                            {"tx", wire::TxToJson(tx, network)}};
        out << j.dump() << "\n";
        return {};
    }
    Line(out, "txid", Hex(*txid));
    Line(out, "block_hash", block_hash);
    Line(out, "height", std::to_string(location.height));
    Line(out, "position", std::to_string(location.position));
    Line(out, "kind", wire::TxKindName(tx.kind));
    Line(out, "size", std::to_string(wire::Encode(tx).size()));
    Line(out, "expiry", std::to_string(tx.expiry));
    for (const auto& in : tx.inputs) {
        Line(out, "input", Hex(in.txid) + ":" + std::to_string(in.vout));
    }
    for (const auto& o : tx.outputs) {
        Line(out, "output",
             util::Amount::FromUnits(o.amount).ToString() + " " +
                 wire::Address{network, o.address}.ToString());
    }
    return {};
}

// ADDRESS as `utxos` and `balance` take it: its syntax is checked before the
// ledger is opened, its network against the ledger's after.
util::Result<wire::PubKeyHash> LedgerAddress(const ledger::Ledger& ledger,
                                             const std::string& text) {
    auto address = wire::Address::Parse(text, ledger.genesis().network);
    if (!address) return MakeError(Errc::kUsage, address.error().message);
    return address->hash;
}

// Outputs per ledger read of utxos and balance: they page through an
// address's outputs rather than load them all.
constexpr size_t kUtxoPage = 1000;

// Calls each(utxo) for the unspent outputs of address in outpoint order, at
// most `limit` (0: all); false from each stops early.
util::Status ForEachUtxo(const ledger::Ledger& ledger, const wire::PubKeyHash& address,
                         uint64_t limit, const std::function<bool(const ledger::Utxo&)>& each) {
    std::optional<wire::OutPoint> after;
    uint64_t seen = 0;
    while (limit == 0 || seen < limit) {
        const size_t page_size =
            limit == 0 ? kUtxoPage
                       : static_cast<size_t>(std::min<uint64_t>(kUtxoPage, limit - seen));
        TC_TRY(page, ledger.GetUtxos(address, page_size, after));
        for (const auto& u : page) {
            ++seen;
            if (!each(u)) return {};
        }
        if (page.size() < page_size) break;
        after = page.back().outpoint;
    }
    return {};
}

nlohmann::json UtxoJson(const ledger::Utxo& u) {
    return {{"txid", Hex(u.outpoint.txid)},
            {"vout", u.outpoint.vout},
            {"amount", util::Amount::FromUnits(u.amount).ToString()},
            {"height", u.height},
            {"locked", u.locked}};
}

util::Status Utxos(const Options& opts, std::ostream& out) {
    if (auto syntax = wire::Address::Parse(opts.target); !syntax) {
        return MakeError(Errc::kUsage, syntax.error().message);
    }
    TC_TRY(ledger, OpenReadOnly(opts));
    TC_TRY(address, LedgerAddress(*ledger, opts.target));
    // One more than the limit tells a complete list from a cut one.
    const uint64_t want = opts.limit == 0 ? 0 : opts.limit + 1;
    uint64_t count = 0;
    bool truncated = false;
    // Written as they are read, the JSON array too: an address may hold
    // millions of outputs.
    if (opts.common.json) {
        out << "{\"address\":" << nlohmann::json(opts.target).dump() << ",\"utxos\":[";
    }
    TC_CHECK(ForEachUtxo(*ledger, address, want, [&](const ledger::Utxo& u) {
        if (opts.limit != 0 && count == opts.limit) {
            truncated = true;
            return false;
        }
        if (opts.common.json) {
            out << (count == 0 ? "" : ",") << UtxoJson(u).dump();
        } else {
            out << Hex(u.outpoint.txid) << ":" << u.outpoint.vout << " "
                << util::Amount::FromUnits(u.amount).ToString() << " " << u.height
                << (u.locked ? " locked" : "") << "\n";
        }
        ++count;
        return true;
    }));
    if (opts.common.json) out << "],\"truncated\":" << (truncated ? "true" : "false") << "}\n";
    return {};
}

// The ledger's equivocation evidence, each entry checked again against the
// masternode set at its height.
util::Status Evidence(const Options& opts, std::ostream& out) {
    TC_TRY(ledger, OpenReadOnly(opts));
    const size_t want = opts.limit == 0 ? SIZE_MAX : static_cast<size_t>(opts.limit);
    TC_TRY(entries, ledger->GetEvidence(want));
    const crypto::Hash256 chain_id = wire::ChainId(ledger->genesis());
    const consensus::SetAt set_at =
        [&](uint64_t h) -> util::Result<std::vector<crypto::PublicKey>> {
        TC_TRY(set, ledger->GetMasternodes(h));
        return ledger::Keys(set);
    };
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : entries) {
        const std::string at = "evidence " + Hex(e.key);
        auto pair = consensus::SplitEvidenceValue(e.value);
        if (!pair) return std::move(pair).error().In(at + " (run tc-store verify)");
        auto who = consensus::CheckEquivocation(chain_id, set_at, pair->first, pair->second);
        if (!who) return std::move(who).error().In(at + " (run tc-store verify)");
        if (opts.common.json) {
            list.push_back({{"height", who->height},
                            {"view", who->view},
                            {"phase", wire::SignedPhaseName(who->phase)},
                            {"replica", who->replica},
                            {"key", Hex(who->key)},
                            {"first", Hex(pair->first)},
                            {"second", Hex(pair->second)}});
        } else {
            out << who->height << " " << who->view << " " << wire::SignedPhaseName(who->phase)
                << " " << who->replica << " " << Hex(who->key) << "\n";
        }
    }
    if (opts.common.json) out << list.dump() << "\n";
    return {};
}

util::Status Balance(const Options& opts, std::ostream& out) {
    if (auto syntax = wire::Address::Parse(opts.target); !syntax) {
        return MakeError(Errc::kUsage, syntax.error().message);
    }
    TC_TRY(ledger, OpenReadOnly(opts));
    TC_TRY(address, LedgerAddress(*ledger, opts.target));
    util::Amount spendable;
    util::Amount locked;
    uint64_t count = 0;
    bool overflow = false;
    TC_CHECK(ForEachUtxo(*ledger, address, 0, [&](const ledger::Utxo& u) {
        util::Amount& sum = u.locked ? locked : spendable;
        auto next = sum.CheckedAdd(util::Amount::FromUnits(u.amount));
        if (!next) overflow = true;
        sum = next ? *next : sum;
        ++count;
        return !overflow;
    }));
    auto total = spendable.CheckedAdd(locked);
    if (overflow || !total) {
        return MakeError(Errc::kInternal, "balance overflows (run tc-store verify)");
    }
    if (opts.common.json) {
        nlohmann::json j = {{"address", opts.target},
                            {"spendable", spendable.ToString()},
                            {"locked", locked.ToString()},
                            {"total", total->ToString()},
                            {"utxos", count}};
        out << j.dump() << "\n";
        return {};
    }
    Line(out, "address", opts.target);
    Line(out, "spendable", spendable.ToString());
    Line(out, "locked", locked.ToString());
    Line(out, "total", total->ToString());
    Line(out, "utxos", std::to_string(count));
    return {};
}

// A progress line on err at most every kProgressEvery blocks.
constexpr uint64_t kProgressEvery = 1000;

util::Status Verify(const Options& opts, std::ostream& out, std::ostream& err) {
    TC_TRY(ledger, OpenReadOnly(opts));
    TC_TRY(s, ledger->GetStatus());
    uint64_t next_report = kProgressEvery;
    TC_CHECK(ledger->Verify([&](uint64_t height) {
        if (height < next_report) return;
        err << "tc-store: verify: block " << height << " of " << s.height << std::endl;
        next_report = (height / kProgressEvery + 1) * kProgressEvery;
    }));
    if (opts.common.json) {
        nlohmann::json j = {{"ok", true}, {"height", s.height}, {"tip_hash", Hex(s.tip_hash)}};
        out << j.dump() << "\n";
    } else {
        out << "ok " << s.height << " " << Hex(s.tip_hash) << "\n";
    }
    return {};
}

util::Status Export(const Options& opts, std::ostream& out) {
    TC_TRY(ledger, OpenReadOnly(opts));
    return ExportChain(*ledger, out, "stdout");
}

util::Status Import(const Options& opts, std::istream& in, std::ostream& out, std::ostream& err) {
    TC_TRY(ledger, OpenForWriting(opts));
    uint64_t next_report = kProgressEvery;
    const auto start = std::chrono::steady_clock::now();
    uint64_t first = 0;
    // "block N" only once N is committed (the crash test relies on it).
    TC_TRY(summary, ImportChain(*ledger, in, "stdin", opts.batch, [&](uint64_t height) {
               if (first == 0) first = height;
               if (height < next_report) return;
               const double seconds =
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
               err << "tc-store: import: block " << height << " ("
                   << static_cast<uint64_t>(static_cast<double>(height - first + 1) /
                                            std::max(seconds, 1e-3))
                   << " blocks/s)" << std::endl;
               next_report = (height / kProgressEvery + 1) * kProgressEvery;
           }));
    if (opts.common.json) {
        nlohmann::json j = {{"applied", summary.applied},
                            {"skipped", summary.skipped},
                            {"height", summary.height},
                            {"tip_hash", Hex(summary.tip_hash)}};
        out << j.dump() << "\n";
        return {};
    }
    Line(out, "applied", std::to_string(summary.applied));
    Line(out, "skipped", std::to_string(summary.skipped));
    Line(out, "height", std::to_string(summary.height));
    Line(out, "tip_hash", Hex(summary.tip_hash));
    return {};
}

}  // namespace

util::Result<wire::Genesis> BuildGenesis(const Options& opts) {
    wire::Genesis g;
    g.chain = opts.chain;
    g.network = NetworkOf(opts.devnet);
    if (opts.time.empty()) {
        auto now = std::chrono::system_clock::now().time_since_epoch();
        g.time_ms =
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count()) *
            1000;
    } else {
        auto time = wire::ParseUtcTime(opts.time);
        if (!time) return Usage("--time", time.error().message);
        g.time_ms = *time;
    }
    for (const auto& alloc : opts.allocs) {
        std::string what = "--alloc " + alloc;
        size_t colon = alloc.rfind(':');
        if (colon == std::string::npos) return Usage(what, "expected ADDRESS:AMOUNT");
        std::string_view text = alloc;
        TC_TRY(address, ParseAddressArg(what, text.substr(0, colon), g.network));
        TC_TRY(amount, ParseAmountArg(what, text.substr(colon + 1)));
        g.allocations.push_back({address, amount});
    }
    if (opts.masternodes.empty()) {
        return MakeError(Errc::kUsage, "--masternode: at least one masternode is needed");
    }
    for (const auto& spec : opts.masternodes) {
        TC_TRY(node, ParseMasternodeArg(spec, g.network));
        g.masternodes.push_back(std::move(node));
    }
    TC_TRY(collateral, ParseAmountArg("--collateral", opts.collateral));
    g.collateral = collateral;
    TC_TRY(fee_rate, ParseAmountArg("--min-fee-rate", opts.min_fee_rate));
    g.min_fee_rate = fee_rate;
    g.activation_delay = opts.activation_delay;
    g.max_block_bytes = opts.max_block_bytes;
    g.max_block_txs = opts.max_block_txs;
    g.max_tx_bytes = opts.max_tx_bytes;
    g.timeout_base_ms = opts.timeout_base_ms;
    g.timeout_max_ms = opts.timeout_max_ms;

    // The file we print must be one that every reader accepts: run it
    // through the reader, so the rules live in one place (wire::ParseGenesis).
    auto parsed = wire::ParseGenesis(wire::GenesisToJson(g).dump());
    if (!parsed) return MakeError(Errc::kUsage, NameArgument(opts, parsed.error().message));
    std::sort(g.masternodes.begin(), g.masternodes.end(),
              [](const auto& a, const auto& b) { return a.public_key < b.public_key; });
    if (!(*parsed == g)) {
        return MakeError(Errc::kInternal, "genesis changed in a round trip through its JSON form");
    }
    return std::move(parsed).value();
}

void SetupCli(CLI::App& app, Options& opts) {
    app.description(
        "The TimeCoin ledger (LMDB): make a genesis, create the ledger, inspect and verify it, "
        "export and import the chain.");
    app.require_subcommand(1);

    auto* gen = app.add_subcommand("genesis", "print a genesis file (JSON) built from the flags");
    gen->add_option("--chain", opts.chain, "chain name: 1-64 of a-z, 0-9 and -")->required();
    gen->add_flag("--devnet", opts.devnet, "a devnet chain (addresses tct1...)");
    gen->add_option("--alloc", opts.allocs,
                    "initial output ADDRESS:AMOUNT, amount in TIME (repeat for more)");
    gen->add_option("--masternode", opts.masternodes,
                    "initial masternode PUBKEY,HOST:PORT,PAYOUT_ADDRESS (repeat for more)")
        ->required();
    gen->add_option("--collateral", opts.collateral, "amount a masternode register locks, in TIME")
        ->capture_default_str();
    gen->add_option("--time", opts.time,
                    "chain start, UTC, e.g. 2026-11-24T08:00:00Z (default: now, to the second)");
    gen->add_option("--activation-delay", opts.activation_delay,
                    "blocks from a register/retire to its effect")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    gen->add_option("--min-fee-rate", opts.min_fee_rate, "fee floor in TIME per encoded byte")
        ->capture_default_str();
    gen->add_option("--max-block-bytes", opts.max_block_bytes, "largest encoded block")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    gen->add_option("--max-block-txs", opts.max_block_txs, "most transactions in a block")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    gen->add_option("--max-tx-bytes", opts.max_tx_bytes, "largest encoded transaction")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    gen->add_option("--timeout-base-ms", opts.timeout_base_ms, "PBFT view timeout of view 0")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    gen->add_option("--timeout-max-ms", opts.timeout_max_ms, "largest PBFT view timeout")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());

    auto* init =
        app.add_subcommand("init", "create the ledger (DATADIR/ledger) from a genesis file");
    init->add_option("--genesis", opts.genesis_file, "the genesis file")->required();

    auto* status =
        app.add_subcommand("status", "print the ledger's chain, height, tip and counters");
    status->add_flag("--daemon", opts.daemon,
                     "ask the running daemon; read the ledger when it does not answer");
    status->add_option("--timeout-ms", opts.timeout_ms, "how long to wait for the daemon")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    auto* block = app.add_subcommand("block", "print a block by height or hash");
    block->add_option("BLOCK", opts.target, "height (decimal) or block hash (hex)")->required();
    auto* tx = app.add_subcommand("tx", "print a transaction of the chain and where it is");
    tx->add_option("TXID", opts.target, "transaction id (hex)")->required();
    auto* utxos = app.add_subcommand("utxos", "list an address's unspent outputs");
    utxos->add_option("ADDRESS", opts.target, "address")->required();
    utxos->add_option("--limit", opts.limit, "print at most N outputs (0: all)")
        ->check(util::DecimalUnsigned());
    auto* evidence = app.add_subcommand(
        "evidence", "list the equivocation evidence the ledger holds, each checked again");
    evidence->add_option("--limit", opts.limit, "print at most N entries (0: all)")
        ->check(util::DecimalUnsigned());
    auto* balance = app.add_subcommand("balance", "sum an address's unspent outputs");
    balance->add_option("ADDRESS", opts.target, "address")->required();
    app.add_subcommand("verify", "check the whole ledger; exit 1 naming the first fault");
    app.add_subcommand("export", "write the chain (blocks with certificates) to stdout");
    auto* import = app.add_subcommand(
        "import", "apply the chain on stdin (from export), every block re-verified");
    import->add_option("--batch", opts.batch, "blocks per durable LMDB write transaction")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{1}, uint64_t{100000}));

    auto* run = app.add_subcommand("run", "run the ledger daemon (sockets under DATADIR/run/)");
    run->add_option("--max-message-bytes", opts.max_message_bytes,
                    "largest request the daemon accepts")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    run->add_option("--max-batch", opts.max_batch, "most blocks in one apply request")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{1}, uint64_t{100000}));
    run->add_option("--max-utxos", opts.max_utxos, "most outputs in one utxos reply")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
    run->add_option("--event-retention", opts.event_retention,
                    "most events since replays; a subscriber further behind gets a gap")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{0}, uint64_t{1000000}));
    run->add_option("--metrics-listen", opts.metrics_listen,
                    "serve Prometheus metrics at http://HOST:PORT/metrics (PORT 0: any free one)");
    run->add_option("--max-evidence", opts.max_evidence, "most entries in one evidence reply")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
    run->add_option("--max-evidence-entries", opts.max_evidence_entries,
                    "most equivocation evidence entries the ledger keeps; add-evidence fails "
                    "beyond")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
    auto* ping = app.add_subcommand("ping", "ask the daemon for \"pong\"; exit 1 without answer");
    ping->add_option("--timeout-ms", opts.timeout_ms, "how long to wait for the answer")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    auto* submit =
        app.add_subcommand("submit", "send the chain on stdin (from export) to the daemon");
    submit->add_option("--timeout-ms", opts.timeout_ms, "how long to wait for each answer")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    submit->add_option("--batch", opts.batch, "blocks per apply request")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{1}, uint64_t{100000}));
    submit
        ->add_option("--max-message-bytes", opts.max_message_bytes,
                     "largest request to send (the daemon's limit)")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    auto* watch =
        app.add_subcommand("watch", "print the daemon's block events, one JSON line each");
    watch
        ->add_option_function<uint64_t>(
            "--since", [&opts](const uint64_t& seq) { opts.since = seq; },
            "first print the events after SEQ (a height), then follow")
        ->check(util::DecimalUnsigned());
    watch->add_option("--timeout-ms", opts.timeout_ms, "how long to wait for since replies")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
}

util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out,
                 std::ostream& err) {
    auto got = [&](const char* name) { return app.got_subcommand(name); };
    if (got("genesis")) return Genesis(opts, out);
    if (got("init")) return Init(opts, out);
    if (got("status")) return Status(opts, out, err);
    if (got("block")) return Block(opts, out);
    if (got("tx")) return Tx(opts, out);
    if (got("utxos")) return Utxos(opts, out);
    if (got("balance")) return Balance(opts, out);
    if (got("evidence")) return Evidence(opts, out);
    if (got("verify")) return Verify(opts, out, err);
    if (got("export")) {
        if (&out == &std::cout && isatty(STDOUT_FILENO)) {
            return MakeError(Errc::kUsage,
                             "export writes a binary stream: redirect it, tc-store export > FILE");
        }
        return Export(opts, out);
    }
    if (got("import")) {
        if (&in == &std::cin && isatty(STDIN_FILENO)) {
            return MakeError(Errc::kUsage,
                             "import reads the stream on stdin: tc-store import < FILE");
        }
        return Import(opts, in, out, err);
    }
    if (got("run")) return RunDaemon(opts);
    if (got("ping")) return PingDaemon(opts, out);
    if (got("submit")) {
        if (&in == &std::cin && isatty(STDIN_FILENO)) {
            return MakeError(Errc::kUsage,
                             "submit reads the stream on stdin: tc-store submit < FILE");
        }
        return SubmitChain(opts, in, out);
    }
    if (got("watch")) return WatchEvents(opts, out, err);
    return MakeError(Errc::kUsage, "no command given (see --help)");
}

}  // namespace tc::store
