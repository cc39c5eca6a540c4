#include "wire/genesis.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>
#include <map>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace tc::wire {
namespace {

using nlohmann::json;
using util::Errc;
using util::MakeError;

util::Error Bad(const std::string& field, const std::string& why) {
    return MakeError(Errc::kInvalid, field + ": " + why);
}

// Refuses keys other than `allowed`, so that a typo ("colateral") is an
// error rather than a silently ignored field.
util::Status OnlyKeys(const json& obj, const std::string& field,
                      std::initializer_list<std::string_view> allowed) {
    for (const auto& item : obj.items()) {
        if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
            return Bad(field, "unknown field \"" + item.key() + "\"");
        }
    }
    return {};
}

util::Result<const json*> Member(const json& obj, const std::string& field, const char* key,
                                 json::value_t type) {
    auto it = obj.find(key);
    std::string path = field + "." + key;
    if (it == obj.end()) return Bad(path, "missing");
    bool ok =
        it->type() == type || (type == json::value_t::number_unsigned && it->is_number_unsigned());
    if (!ok) {
        static const std::map<json::value_t, const char*> kNames = {
            {json::value_t::string, "a string"},
            {json::value_t::number_unsigned, "a non-negative integer"},
            {json::value_t::array, "an array"},
            {json::value_t::object, "an object"}};
        return Bad(path, std::string("must be ") + kNames.at(type));
    }
    return &*it;
}

util::Result<std::string> String(const json& obj, const std::string& field, const char* key) {
    TC_TRY(v, Member(obj, field, key, json::value_t::string));
    return v->get<std::string>();
}

util::Result<uint64_t> Unsigned(const json& obj, const std::string& field, const char* key,
                                uint64_t min, uint64_t max) {
    TC_TRY(v, Member(obj, field, key, json::value_t::number_unsigned));
    uint64_t n = v->get<uint64_t>();
    if (n < min || n > max) {
        return Bad(field + "." + key, std::to_string(n) + " is outside " + std::to_string(min) +
                                          ".." + std::to_string(max));
    }
    return n;
}

util::Result<util::Amount> AmountField(const json& obj, const std::string& field, const char* key) {
    TC_TRY(text, String(obj, field, key));
    auto amount = util::Amount::Parse(text);
    if (!amount) return std::move(amount).error().In(field + "." + key);
    return *amount;
}

util::Result<PubKeyHash> AddressField(const json& obj, const std::string& field, const char* key,
                                      Network network) {
    TC_TRY(text, String(obj, field, key));
    auto address = Address::Parse(text, network);
    if (!address) return std::move(address).error().In(field + "." + key);
    return address->hash;
}

bool ValidChainName(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

}  // namespace

util::Status CheckEndpoint(std::string_view endpoint) {
    if (endpoint.size() > kMaxEndpointBytes) {
        return MakeError(Errc::kInvalid,
                         "longer than " + std::to_string(kMaxEndpointBytes) + " bytes");
    }
    size_t colon = endpoint.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return MakeError(Errc::kInvalid, "\"" + std::string(endpoint) + "\" is not HOST:PORT");
    }
    for (char c : endpoint.substr(0, colon)) {
        if (c <= ' ' || c > '~') {
            return MakeError(Errc::kInvalid, "host has a space or non-ASCII character");
        }
    }
    std::string_view port_text = endpoint.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port_text.empty()) {
        return MakeError(Errc::kInvalid, "port \"" + std::string(port_text) + "\" is not a number");
    }
    if (port == 0 || port > 65535) {
        return MakeError(Errc::kInvalid, "port " + std::to_string(port) + " is out of range");
    }
    return {};
}

util::Result<uint64_t> ParseUtcTime(std::string_view text) {
    auto fail = [&] {
        return MakeError(Errc::kInvalid, "\"" + std::string(text) +
                                             "\" is not a UTC time like 2026-11-24T08:00:00Z");
    };
    // YYYY-MM-DDTHH:MM:SS[.sss]Z
    if (text.size() != 20 && text.size() != 24) return fail();
    auto num = [&](size_t pos, size_t len, int& out) {
        auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
        return ec == std::errc() && end == text.data() + pos + len;
    };
    std::tm tm{};
    int ms = 0;
    bool ok = num(0, 4, tm.tm_year) && text[4] == '-' && num(5, 2, tm.tm_mon) && text[7] == '-' &&
              num(8, 2, tm.tm_mday) && text[10] == 'T' && num(11, 2, tm.tm_hour) &&
              text[13] == ':' && num(14, 2, tm.tm_min) && text[16] == ':' &&
              num(17, 2, tm.tm_sec) && text.back() == 'Z';
    if (ok && text.size() == 24) ok = text[19] == '.' && num(20, 3, ms);
    if (!ok || tm.tm_year < 1970) return fail();
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    std::tm check = tm;
    time_t secs = timegm(&tm);
    // timegm normalises out-of-range fields (Feb 30 -> Mar 2): refuse those.
    if (secs < 0 || tm.tm_mday != check.tm_mday || tm.tm_mon != check.tm_mon ||
        tm.tm_hour != check.tm_hour || tm.tm_min != check.tm_min || tm.tm_sec != check.tm_sec) {
        return fail();
    }
    return static_cast<uint64_t>(secs) * 1000 + static_cast<uint64_t>(ms);
}

std::string FormatUtcTime(uint64_t unix_ms) {
    time_t secs = static_cast<time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    if (unix_ms % 1000 != 0) {
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03u", static_cast<unsigned>(unix_ms % 1000));
        out += frac;
    }
    return out + "Z";
}

util::Result<Genesis> ParseGenesis(std::string_view json_text) {
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception& e) {
        return Bad("genesis", std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object()) return Bad("genesis", "must be a JSON object");
    const std::string g = "genesis";
    TC_CHECK(OnlyKeys(doc, g,
                      {"version", "chain", "network", "time", "allocations", "masternodes",
                       "collateral", "activation_delay", "limits", "min_fee_rate", "timeouts"}));
    Genesis out;
    TC_TRY(version, Unsigned(doc, g, "version", 0, UINT64_MAX));
    if (version != kGenesisVersion) {
        return Bad("genesis.version", "unknown version " + std::to_string(version));
    }
    TC_TRY(chain, String(doc, g, "chain"));
    if (!ValidChainName(chain)) {
        return Bad("genesis.chain", "\"" + chain + "\" must be 1-64 characters of a-z, 0-9 and -");
    }
    out.chain = chain;
    TC_TRY(network, String(doc, g, "network"));
    if (network == "main") {
        out.network = Network::kMain;
    } else if (network == "devnet") {
        out.network = Network::kDevnet;
    } else {
        return Bad("genesis.network", "\"" + network + "\" is not main or devnet");
    }
    TC_TRY(time_text, String(doc, g, "time"));
    auto time = ParseUtcTime(time_text);
    if (!time) return std::move(time).error().In("genesis.time");
    out.time_ms = *time;

    TC_TRY(allocs, Member(doc, g, "allocations", json::value_t::array));
    std::set<PubKeyHash> seen_addresses;
    util::Amount supply;
    for (size_t i = 0; i < allocs->size(); ++i) {
        std::string f = "genesis.allocations[" + std::to_string(i) + "]";
        const json& a = (*allocs)[i];
        if (!a.is_object()) return Bad(f, "must be an object");
        TC_CHECK(OnlyKeys(a, f, {"address", "amount"}));
        TC_TRY(address, AddressField(a, f, "address", out.network));
        TC_TRY(amount, AmountField(a, f, "amount"));
        if (amount.units() == 0) return Bad(f + ".amount", "must be above zero");
        if (!seen_addresses.insert(address).second) return Bad(f + ".address", "listed twice");
        auto total = supply.CheckedAdd(amount);
        if (!total) return Bad(f + ".amount", "total supply overflows");
        supply = *total;
        out.allocations.push_back({address, amount});
    }

    TC_TRY(nodes, Member(doc, g, "masternodes", json::value_t::array));
    if (nodes->empty()) return Bad("genesis.masternodes", "at least one masternode is needed");
    for (size_t i = 0; i < nodes->size(); ++i) {
        std::string f = "genesis.masternodes[" + std::to_string(i) + "]";
        const json& m = (*nodes)[i];
        if (!m.is_object()) return Bad(f, "must be an object");
        TC_CHECK(OnlyKeys(m, f, {"public_key", "endpoint", "payout"}));
        GenesisMasternode node;
        TC_TRY(key_hex, String(m, f, "public_key"));
        auto key = util::FromHexFixed<32>(key_hex);
        if (!key) return std::move(key).error().In(f + ".public_key");
        if (!crypto::ToCurvePublic(*key)) {
            return Bad(f + ".public_key", "not a valid Ed25519 public key");
        }
        node.public_key = *key;
        TC_TRY(endpoint, String(m, f, "endpoint"));
        auto endpoint_ok = CheckEndpoint(endpoint);
        if (!endpoint_ok) return std::move(endpoint_ok).error().In(f + ".endpoint");
        node.endpoint = endpoint;
        TC_TRY(payout, AddressField(m, f, "payout", out.network));
        node.payout = payout;
        for (const auto& other : out.masternodes) {
            if (other.public_key == node.public_key) return Bad(f + ".public_key", "listed twice");
        }
        out.masternodes.push_back(std::move(node));
    }
    std::sort(out.masternodes.begin(), out.masternodes.end(),
              [](const auto& a, const auto& b) { return a.public_key < b.public_key; });

    TC_TRY(collateral, AmountField(doc, g, "collateral"));
    if (collateral.units() == 0) return Bad("genesis.collateral", "must be above zero");
    out.collateral = collateral;
    TC_TRY(delay, Unsigned(doc, g, "activation_delay", 1, 1'000'000));
    out.activation_delay = delay;
    TC_TRY(fee_rate, AmountField(doc, g, "min_fee_rate"));
    out.min_fee_rate = fee_rate;

    TC_TRY(limits, Member(doc, g, "limits", json::value_t::object));
    const std::string l = "genesis.limits";
    TC_CHECK(OnlyKeys(*limits, l, {"max_block_bytes", "max_block_txs", "max_tx_bytes"}));
    TC_TRY(block_bytes, Unsigned(*limits, l, "max_block_bytes", 4096, kMaxEncodedBlockBytes));
    TC_TRY(block_txs, Unsigned(*limits, l, "max_block_txs", 1, kMaxBlockTxs));
    TC_TRY(tx_bytes, Unsigned(*limits, l, "max_tx_bytes", 256,
                              std::min<uint64_t>(block_bytes, kMaxEncodedTxBytes)));
    out.max_block_bytes = block_bytes;
    out.max_block_txs = block_txs;
    out.max_tx_bytes = tx_bytes;

    TC_TRY(timeouts, Member(doc, g, "timeouts", json::value_t::object));
    const std::string t = "genesis.timeouts";
    TC_CHECK(OnlyKeys(*timeouts, t, {"base_ms", "max_ms"}));
    TC_TRY(base_ms, Unsigned(*timeouts, t, "base_ms", 10, 3'600'000));
    TC_TRY(max_ms, Unsigned(*timeouts, t, "max_ms", base_ms, 86'400'000));
    out.timeout_base_ms = base_ms;
    out.timeout_max_ms = max_ms;
    return out;
}

util::Result<Genesis> LoadGenesisFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return MakeError(Errc::kNotFound, path + ": cannot open genesis file");
    std::stringstream text;
    text << in.rdbuf();
    if (in.bad()) return MakeError(Errc::kIo, path + ": read failed");
    auto genesis = ParseGenesis(text.str());
    if (!genesis) return std::move(genesis).error().In(path);
    return genesis;
}

json GenesisToJson(const Genesis& genesis) {
    json allocations = json::array();
    for (const auto& a : genesis.allocations) {
        allocations.push_back({{"address", Address{genesis.network, a.address}.ToString()},
                               {"amount", a.amount.ToString()}});
    }
    json masternodes = json::array();
    for (const auto& m : genesis.masternodes) {
        masternodes.push_back({{"public_key", util::ToHex(m.public_key)},
                               {"endpoint", m.endpoint},
                               {"payout", Address{genesis.network, m.payout}.ToString()}});
    }
    return json{
        {"version", genesis.version},
        {"chain", genesis.chain},
        {"network", genesis.network == Network::kMain ? "main" : "devnet"},
        {"time", FormatUtcTime(genesis.time_ms)},
        {"allocations", allocations},
        {"masternodes", masternodes},
        {"collateral", genesis.collateral.ToString()},
        {"activation_delay", genesis.activation_delay},
        {"limits",
         {{"max_block_bytes", genesis.max_block_bytes},
          {"max_block_txs", genesis.max_block_txs},
          {"max_tx_bytes", genesis.max_tx_bytes}}},
        {"min_fee_rate", genesis.min_fee_rate.ToString()},
        {"timeouts", {{"base_ms", genesis.timeout_base_ms}, {"max_ms", genesis.timeout_max_ms}}},
    };
}

util::Bytes EncodeGenesis(const Genesis& genesis) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    auto bin = [&](util::ByteView b) {
        pk.pack_bin(static_cast<uint32_t>(b.size()));
        pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
    };
    pk.pack_array(14);
    pk.pack(genesis.version);
    pk.pack(genesis.chain);
    pk.pack(static_cast<uint8_t>(genesis.network == Network::kMain ? 0 : 1));
    pk.pack(genesis.time_ms);
    pk.pack_array(static_cast<uint32_t>(genesis.allocations.size()));
    for (const auto& a : genesis.allocations) {
        pk.pack_array(2);
        bin(a.address);
        pk.pack(a.amount.units());
    }
    pk.pack_array(static_cast<uint32_t>(genesis.masternodes.size()));
    for (const auto& m : genesis.masternodes) {
        pk.pack_array(3);
        bin(m.public_key);
        pk.pack(m.endpoint);
        bin(m.payout);
    }
    pk.pack(genesis.collateral.units());
    pk.pack(genesis.activation_delay);
    pk.pack(genesis.max_block_bytes);
    pk.pack(genesis.max_block_txs);
    pk.pack(genesis.max_tx_bytes);
    pk.pack(genesis.min_fee_rate.units());
    pk.pack(genesis.timeout_base_ms);
    pk.pack(genesis.timeout_max_ms);
    const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
    return util::Bytes(p, p + buf.size());
}

Hash ChainId(const Genesis& genesis) {
    return crypto::Blake2b256(EncodeGenesis(genesis));
}

}  // namespace tc::wire
