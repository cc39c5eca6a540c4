#include "rpc_methods.h"

#include "util/amount.h"
#include "util/bytes.h"
#include "wire/address.h"
#include "wire/codec.h"
#include "wire/json.h"
#include "wire/tx_text.h"

namespace tc::rpc {

using nlohmann::json;
using util::Errc;

namespace {

using Type = msgpack::type::object_type;

std::string Hex(util::ByteView b) {
    return util::ToHex(b);
}

std::string Coins(uint64_t units) {
    return util::Amount::FromUnits(units).ToString();
}

const char* NetworkName(wire::Network n) {
    return n == wire::Network::kMain ? "main" : "devnet";
}

Outcome BadParams(std::string_view method, const std::string& why) {
    return Outcome::Fail(kInvalidParams, std::string(method) + ": " + why);
}

// A ledger error: -5 for what is not there, -32603 otherwise.
Outcome LedgerError(std::string_view method, const util::Error& e) {
    if (e.code == Errc::kNotFound) return Outcome::Fail(kNotFound, e.message);
    return Outcome::Fail(kInternalError, std::string(method) + ": ledger: " + e.message);
}

// A stage's error: -28 when it did not answer, -32603 otherwise.
Outcome StageError(Stage stage, const util::Error& e) {
    if (e.code == Errc::kIo) {
        return Outcome::Fail(kStageDown,
                             std::string(StageName(stage)) + " did not answer: " + e.message,
                             json{{"stage", StageName(stage)}});
    }
    return Outcome::Fail(kInternalError, std::string(StageName(stage)) + ": " + e.message);
}

// nullopt when params has between lo and hi entries.
std::optional<Outcome> Arity(std::string_view method, const json& params, size_t lo, size_t hi) {
    if (params.size() >= lo && params.size() <= hi) return std::nullopt;
    std::string want =
        lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
    return BadParams(method, "expected " + want + " params, got " + std::to_string(params.size()));
}

// A JSON integer >= 0 (parsed JSON gives unsigned; built JSON may be signed).
std::optional<uint64_t> UnsignedParam(const json& p) {
    if (p.is_number_unsigned()) return p.get<uint64_t>();
    if (p.is_number_integer() && p.get<int64_t>() >= 0)
        return static_cast<uint64_t>(p.get<int64_t>());
    return std::nullopt;
}

std::optional<wire::Hash> HashParam(const json& p) {
    if (!p.is_string()) return std::nullopt;
    const std::string text = p.get<std::string>();
    for (char c : text) {
        if (c >= 'A' && c <= 'F') return std::nullopt;  // lowercase only, as we print them
    }
    auto h = util::FromHexFixed<32>(text);
    if (!h) return std::nullopt;
    return *h;
}

json CertificateToJson(const wire::CommitCertificate& cert) {
    json sigs = json::array();
    for (const auto& s : cert.sigs) {
        sigs.push_back({{"index", s.index}, {"signature", Hex(s.signature)}});
    }
    return {{"height", cert.height},
            {"view", cert.view},
            {"block_hash", Hex(cert.block_hash)},
            {"signatures", std::move(sigs)}};
}

}  // namespace

const char* StageName(Stage stage) {
    switch (stage) {
        case Stage::kStore:
            return "store";
        case Stage::kPool:
            return "pool";
        case Stage::kPbft:
            return "pbft";
        case Stage::kP2p:
            return "p2p";
    }
    return "?";
}

Methods::Methods(const ledger::Ledger& ledger, Stages& stages, const MethodLimits& limits)
    : m_ledger(ledger), m_stages(stages), m_limits(limits) {}

const std::vector<std::pair<std::string, std::string>>& Methods::List() {
    static const std::vector<std::pair<std::string, std::string>> kMethods = {
        {"getinfo", "[] the chain, its tip, fee floor, masternode count, mempool and pbft status"},
        {"getblockcount", "[] the height of the tip"},
        {"getblockhash", "[height] the hash of the block at height"},
        {"getblock", "[height | hash] a block: header fields, txids, size, certificate"},
        {"gettransaction", "[txid] a committed transaction: where it is, its hex and decoding"},
        {"getbalance", "[address] the sum of the address's unspent outputs (TIME)"},
        {"listunspent", "[address, limit?, after?] the address's unspent outputs, a page"},
        {"sendrawtransaction", "[hex] submit a signed transaction to the pool; its txid"},
        {"getmempoolinfo", "[] the pool's size, fee rates and bounds"},
        {"getrawmempool", "[] the pending txids, the next to be proposed first"},
        {"getmasternodes", "[] the masternode set effective at the next height"},
        {"getpeers", "[] tc-p2p's peers: key, endpoint, link, height, score, ban, traffic"},
        {"getevidence", "[] equivocation evidence held by the store and by pbft"},
        {"help", "[] these lines"},
    };
    return kMethods;
}

std::optional<Outcome> Methods::Call(std::string_view method, const json& params) {
    using Fn = Outcome (Methods::*)(const json&);
    static const std::vector<std::pair<std::string_view, Fn>> kTable = {
        {"getinfo", &Methods::GetInfo},
        {"getblockcount", &Methods::GetBlockCount},
        {"getblockhash", &Methods::GetBlockHash},
        {"getblock", &Methods::GetBlock},
        {"gettransaction", &Methods::GetTransaction},
        {"getbalance", &Methods::GetBalance},
        {"listunspent", &Methods::ListUnspent},
        {"sendrawtransaction", &Methods::SendRawTransaction},
        {"getmempoolinfo", &Methods::GetMempoolInfo},
        {"getrawmempool", &Methods::GetRawMempool},
        {"getmasternodes", &Methods::GetMasternodes},
        {"getpeers", &Methods::GetPeers},
        {"getevidence", &Methods::GetEvidence},
        {"help", &Methods::Help},
    };
    for (const auto& [name, fn] : kTable) {
        if (name == method) return (this->*fn)(params);
    }
    return std::nullopt;
}

Outcome Methods::GetInfo(const json& params) {
    if (auto bad = Arity("getinfo", params, 0, 0)) return *bad;
    auto status = m_ledger.GetStatus();
    if (!status) return LedgerError("getinfo", status.error());
    const wire::Genesis& g = m_ledger.genesis();
    json info = {{"chain", status->chain},
                 {"chain_id", Hex(status->chain_id)},
                 {"network", NetworkName(status->network)},
                 {"height", status->height},
                 {"tip_hash", Hex(status->tip_hash)},
                 {"min_fee_rate", g.min_fee_rate.ToString()},
                 {"max_tx_bytes", g.max_tx_bytes},
                 {"masternodes", status->masternodes},
                 {"mempool", nullptr},
                 {"pbft", nullptr},
                 {"version", TC_VERSION}};
    // A stage that does not answer is a null here, not an error: getinfo is
    // what an operator asks when something is down.
    if (auto pool = m_stages.Call(Stage::kPool, "status", [](net::Packer& p) { p.pack_array(0); });
        pool && pool->is_object()) {
        info["mempool"] = {{"count", pool->value("count", json(0))},
                           {"bytes", pool->value("bytes", json(0))}};
    }
    if (auto pbft = m_stages.Call(Stage::kPbft, "status", [](net::Packer& p) { p.pack_array(0); });
        pbft && pbft->is_object()) {
        info["pbft"] = *pbft;
    }
    return Outcome::Ok(std::move(info));
}

Outcome Methods::GetBlockCount(const json& params) {
    if (auto bad = Arity("getblockcount", params, 0, 0)) return *bad;
    auto status = m_ledger.GetStatus();
    if (!status) return LedgerError("getblockcount", status.error());
    return Outcome::Ok(status->height);
}

Outcome Methods::GetBlockHash(const json& params) {
    if (auto bad = Arity("getblockhash", params, 1, 1)) return *bad;
    const auto height = UnsignedParam(params[0]);
    if (!height)
        return BadParams("getblockhash", "params[0]: expected a height (unsigned integer)");
    auto block = m_ledger.GetBlock(*height);
    if (!block) return LedgerError("getblockhash", block.error());
    return Outcome::Ok(Hex(wire::BlockHash(block->header)));
}

Outcome Methods::GetBlock(const json& params) {
    if (auto bad = Arity("getblock", params, 1, 1)) return *bad;
    uint64_t height = 0;
    if (auto number = UnsignedParam(params[0])) {
        height = *number;
    } else if (auto hash = HashParam(params[0])) {
        auto h = m_ledger.GetHeightOfHash(*hash);
        if (!h) return LedgerError("getblock", h.error());
        height = *h;
    } else {
        return BadParams("getblock",
                         "params[0]: expected a height or a block hash (64 lowercase hex)");
    }
    auto block = m_ledger.GetBlock(height);
    if (!block) return LedgerError("getblock", block.error());
    const wire::BlockHeader& h = block->header;
    json txids = json::array();
    for (const auto& tx : block->txs) txids.push_back(Hex(wire::TxId(tx)));
    json cert = nullptr;
    if (height > 0) {
        auto c = m_ledger.GetCertificate(height);
        if (!c && c.error().code != Errc::kNotFound) return LedgerError("getblock", c.error());
        if (c) cert = CertificateToJson(*c);
    }
    return Outcome::Ok({{"height", h.height},
                        {"hash", Hex(wire::BlockHash(h))},
                        {"prev_hash", Hex(h.prev_hash)},
                        {"time", h.timestamp_ms},
                        {"view", h.view},
                        {"proposer", h.proposer},
                        {"tx_root", Hex(h.tx_root)},
                        {"txids", std::move(txids)},
                        {"size", wire::Encode(*block).size()},
                        {"certificate", std::move(cert)}});
}

Outcome Methods::GetTransaction(const json& params) {
    if (auto bad = Arity("gettransaction", params, 1, 1)) return *bad;
    auto txid = HashParam(params[0]);
    if (!txid) return BadParams("gettransaction", "params[0]: expected a txid (64 lowercase hex)");
    auto where = m_ledger.GetTxLocation(*txid);
    if (!where) {
        if (where.error().code == Errc::kNotFound) {
            return Outcome::Fail(kNotFound, "transaction " + Hex(*txid) + ": not in a block");
        }
        return LedgerError("gettransaction", where.error());
    }
    auto block = m_ledger.GetBlock(where->height);
    if (!block) return LedgerError("gettransaction", block.error());
    if (where->position >= block->txs.size()) {
        return Outcome::Fail(kInternalError, "gettransaction: ledger index points past block " +
                                                 std::to_string(where->height));
    }
    const wire::Transaction& tx = block->txs[where->position];
    return Outcome::Ok({{"txid", Hex(*txid)},
                        {"height", where->height},
                        {"block_hash", Hex(wire::BlockHash(block->header))},
                        {"position", where->position},
                        {"hex", wire::TransactionHex(tx)},
                        {"tx", wire::TxToJson(tx, m_ledger.genesis().network)}});
}

Outcome Methods::GetBalance(const json& params) {
    if (auto bad = Arity("getbalance", params, 1, 1)) return *bad;
    if (!params[0].is_string()) return BadParams("getbalance", "params[0]: expected an address");
    auto address = wire::Address::Parse(params[0].get<std::string>(), m_ledger.genesis().network);
    if (!address) return BadParams("getbalance", "params[0]: " + address.error().message);
    util::Amount total;
    std::optional<wire::OutPoint> after;
    constexpr size_t kPage = 1000;
    while (true) {
        auto page = m_ledger.GetUtxos(address->hash, kPage, after);
        if (!page) return LedgerError("getbalance", page.error());
        for (const auto& u : *page) {
            auto sum = total.CheckedAdd(util::Amount::FromUnits(u.amount));
            if (!sum) return Outcome::Fail(kInternalError, "getbalance: " + sum.error().message);
            total = *sum;
        }
        if (page->size() < kPage) break;
        after = page->back().outpoint;
    }
    return Outcome::Ok(total.ToString());
}

Outcome Methods::ListUnspent(const json& params) {
    if (auto bad = Arity("listunspent", params, 1, 3)) return *bad;
    if (!params[0].is_string()) return BadParams("listunspent", "params[0]: expected an address");
    auto address = wire::Address::Parse(params[0].get<std::string>(), m_ledger.genesis().network);
    if (!address) return BadParams("listunspent", "params[0]: " + address.error().message);
    uint64_t limit = m_limits.max_utxos;
    if (params.size() >= 2 && !params[1].is_null()) {
        const auto asked = UnsignedParam(params[1]);
        if (!asked || *asked == 0 || *asked > m_limits.max_utxos) {
            return BadParams("listunspent", "params[1]: expected a limit from 1 to " +
                                                std::to_string(m_limits.max_utxos) + ", or null");
        }
        limit = *asked;
    }
    // The next page starts after the last outpoint of this one.
    std::optional<wire::OutPoint> after;
    if (params.size() == 3 && !params[2].is_null()) {
        if (!params[2].is_string()) {
            return BadParams("listunspent",
                             "params[2]: expected TXID:VOUT to start after, or null");
        }
        auto op = wire::ParseOutPointText(params[2].get<std::string>());
        if (!op) return BadParams("listunspent", "params[2]: " + op.error().message);
        after = *op;
    }
    auto utxos = m_ledger.GetUtxos(address->hash, limit, after);
    if (!utxos) return LedgerError("listunspent", utxos.error());
    json out = json::array();
    for (const auto& u : *utxos) {
        out.push_back({{"txid", Hex(u.outpoint.txid)},
                       {"vout", u.outpoint.vout},
                       {"amount", Coins(u.amount)},
                       {"height", u.height},
                       {"locked", u.locked}});
    }
    return Outcome::Ok(std::move(out));
}

util::Result<util::Bytes> Methods::RawTransactionParam(const json& params,
                                                       std::optional<Outcome>* bad) {
    auto fail = [&](Outcome o) {
        *bad = std::move(o);
        return util::MakeError(util::Errc::kInvalid, "bad params");
    };
    if (auto wrong = Arity("sendrawtransaction", params, 1, 1)) return fail(*wrong);
    if (!params[0].is_string()) {
        return fail(BadParams("sendrawtransaction", "params[0]: expected a transaction in hex"));
    }
    auto bytes = util::FromHex(params[0].get<std::string>());
    if (!bytes) {
        return fail(BadParams("sendrawtransaction", "params[0]: " + bytes.error().message));
    }
    return bytes;
}

std::vector<Outcome> Methods::Submit(const std::vector<util::Bytes>& txs) {
    auto reply = m_stages.Call(Stage::kPool, "submit", [&](net::Packer& p) {
        p.pack_array(static_cast<uint32_t>(txs.size()));
        for (const auto& tx : txs) net::PackBin(p, tx);
    });
    if (!reply) return std::vector<Outcome>(txs.size(), StageError(Stage::kPool, reply.error()));
    if (!reply->is_array() || reply->size() != txs.size()) {
        return std::vector<Outcome>(
            txs.size(),
            Outcome::Fail(kInternalError, "pool: submit: reply does not match the request"));
    }
    std::vector<Outcome> out;
    for (const json& r : *reply) {
        if (!r.is_object()) {
            out.push_back(Outcome::Fail(kInternalError, "pool: submit: result is not a map"));
        } else if (r.value("accepted", false) && r["txid"].is_string()) {
            out.push_back(Outcome::Ok(r["txid"]));
        } else {
            const std::string reason = r.value("reason", std::string("refused"));
            const std::string detail = r.value("detail", std::string());
            out.push_back(Outcome::Fail(kTxRefused, reason + ": " + detail,
                                        json{{"reason", reason}, {"detail", detail}}));
        }
    }
    return out;
}

Outcome Methods::SendRawTransaction(const json& params) {
    std::optional<Outcome> bad;
    auto bytes = RawTransactionParam(params, &bad);
    if (!bytes) return *bad;
    return Submit({*bytes}).front();
}

std::vector<std::optional<Outcome>> Methods::CallBatch(
    const std::vector<std::pair<std::string, json>>& calls) {
    std::vector<std::optional<Outcome>> out(calls.size());
    std::vector<util::Bytes> txs;
    std::vector<size_t> where;  // the call of each tx
    for (size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].first != "sendrawtransaction") continue;
        std::optional<Outcome> bad;
        auto bytes = RawTransactionParam(calls[i].second, &bad);
        if (!bytes) {
            out[i] = std::move(bad);
            continue;
        }
        txs.push_back(std::move(*bytes));
        where.push_back(i);
    }
    if (!txs.empty()) {
        std::vector<Outcome> submitted = Submit(txs);
        for (size_t k = 0; k < where.size(); ++k) out[where[k]] = std::move(submitted[k]);
    }
    for (size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].first == "sendrawtransaction") continue;
        try {
            out[i] = Call(calls[i].first, calls[i].second);
        } catch (const std::exception& e) {
            out[i] =
                Outcome::Fail(kInternalError, calls[i].first + ": internal error: " + e.what());
        }
    }
    return out;
}

Outcome Methods::GetMempoolInfo(const json& params) {
    if (auto bad = Arity("getmempoolinfo", params, 0, 0)) return *bad;
    auto reply = m_stages.Call(Stage::kPool, "status", [](net::Packer& p) { p.pack_array(0); });
    if (!reply) return StageError(Stage::kPool, reply.error());
    if (!reply->is_object()) return Outcome::Fail(kInternalError, "pool: status: not a map");
    json out = json::object();
    for (const char* key :
         {"count", "bytes", "lowest", "highest", "max_count", "max_bytes", "height"}) {
        out[key] = reply->value(key, json(nullptr));
    }
    return Outcome::Ok(std::move(out));
}

Outcome Methods::GetRawMempool(const json& params) {
    if (auto bad = Arity("getrawmempool", params, 0, 0)) return *bad;
    auto reply = m_stages.Call(Stage::kPool, "list", [](net::Packer& p) { p.pack_array(0); });
    if (!reply) return StageError(Stage::kPool, reply.error());
    if (!reply->is_array()) return Outcome::Fail(kInternalError, "pool: list: not an array");
    json txids = json::array();
    for (const auto& e : *reply) {
        if (!e.is_array() || e.empty() || !e[0].is_string()) {
            return Outcome::Fail(kInternalError, "pool: list: unreadable entry");
        }
        txids.push_back(e[0]);
    }
    return Outcome::Ok(std::move(txids));
}

Outcome Methods::GetMasternodes(const json& params) {
    if (auto bad = Arity("getmasternodes", params, 0, 0)) return *bad;
    auto status = m_ledger.GetStatus();
    if (!status) return LedgerError("getmasternodes", status.error());
    auto set = m_ledger.GetMasternodes(status->height + 1);
    if (!set) return LedgerError("getmasternodes", set.error());
    const wire::Network network = m_ledger.genesis().network;
    json out = json::array();
    for (const auto& mn : *set) {
        json collateral = nullptr;
        if (mn.collateral) {
            collateral = Hex(mn.collateral->txid) + ":" + std::to_string(mn.collateral->vout);
        }
        out.push_back({{"public_key", Hex(mn.key)},
                       {"endpoint", mn.endpoint},
                       {"payout", wire::Address{network, mn.payout}.ToString()},
                       {"collateral", std::move(collateral)}});
    }
    return Outcome::Ok(std::move(out));
}

Outcome Methods::GetPeers(const json& params) {
    if (auto bad = Arity("getpeers", params, 0, 0)) return *bad;
    auto reply = m_stages.Call(Stage::kP2p, "peers", [](net::Packer& p) { p.pack_array(0); });
    if (!reply) return StageError(Stage::kP2p, reply.error());
    if (!reply->is_array()) return Outcome::Fail(kInternalError, "p2p: peers: not an array");
    json out = json::array();
    for (const json& peer : *reply) {
        if (!peer.is_object()) return Outcome::Fail(kInternalError, "p2p: peers: not a map");
        json entry = json::object();
        for (const char* key : {"key", "endpoint", "masternode", "connected", "height", "score",
                                "banned_s", "last_seen_ms", "msgs_in", "msgs_out"}) {
            entry[key] = peer.value(key, json(nullptr));
        }
        out.push_back(std::move(entry));
    }
    return Outcome::Ok(std::move(out));
}

Outcome Methods::GetEvidence(const json& params) {
    if (auto bad = Arity("getevidence", params, 0, 0)) return *bad;
    auto stored = m_ledger.GetEvidence(m_limits.max_evidence);
    if (!stored) return LedgerError("getevidence", stored.error());
    json out = json::array();
    for (const auto& e : *stored) {
        out.push_back({{"source", "store"}, {"key", Hex(e.key)}, {"value", Hex(e.value)}});
    }
    // What pbft holds and has not yet handed to the store; a pbft that does
    // not answer adds nothing (the store's part is the durable record).
    auto held = m_stages.Call(Stage::kPbft, "evidence", [](net::Packer& p) { p.pack_array(0); });
    if (held && held->is_array()) {
        for (const auto& pair : *held) {
            if (!pair.is_array() || pair.size() != 2) continue;
            out.push_back({{"source", "pbft"}, {"first", pair[0]}, {"second", pair[1]}});
        }
    }
    return Outcome::Ok(std::move(out));
}

Outcome Methods::Help(const json& params) {
    if (auto bad = Arity("help", params, 0, 0)) return *bad;
    json out = json::object();
    for (const auto& [name, what] : List()) out[name] = what;
    return Outcome::Ok(std::move(out));
}

Methods::Health Methods::CheckHealth() {
    json stages = json::object();
    bool all = true;
    for (Stage s : {Stage::kStore, Stage::kPool, Stage::kPbft}) {
        auto pong = m_stages.Call(s, "ping", [](net::Packer& p) { p.pack_array(0); });
        const bool up = pong.ok();
        stages[StageName(s)] = up;
        all = all && up;
    }
    if (!all) return {false, {{"status", "unavailable"}, {"stages", std::move(stages)}}};
    auto status = m_ledger.GetStatus();
    if (!status) {
        return {false,
                {{"status", "unavailable"},
                 {"stages", std::move(stages)},
                 {"error", status.error().message}}};
    }
    return {true, {{"status", "ok"}, {"height", status->height}}};
}

}  // namespace tc::rpc
