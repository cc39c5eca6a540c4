// The genesis file: JSON that fixes everything a chain starts from. The
// chain id is blake2b-256 of its canonical msgpack encoding (not of the JSON
// text, so whitespace and key order do not matter) and every signature on
// the chain is bound to it. Parsing refuses unknown fields and names the
// field of every error ("genesis.masternodes[1].endpoint: port 70000 is
// out of range"). The format is documented in man/timecoin-protocol.7.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/amount.h"
#include "util/result.h"
#include "wire/address.h"
#include "wire/types.h"

namespace tc::wire {

inline constexpr uint8_t kGenesisVersion = 1;

struct GenesisAllocation {
    PubKeyHash address{};
    util::Amount amount;
    bool operator==(const GenesisAllocation&) const = default;
};

struct GenesisMasternode {
    crypto::PublicKey public_key{};
    std::string endpoint;  // HOST:PORT
    PubKeyHash payout{};
    bool operator==(const GenesisMasternode&) const = default;
};

struct Genesis {
    uint8_t version = kGenesisVersion;
    std::string chain;  // 1..64 of [a-z0-9-]
    Network network = Network::kDevnet;
    uint64_t time_ms = 0;  // unix milliseconds
    std::vector<GenesisAllocation> allocations;
    std::vector<GenesisMasternode> masternodes;  // sorted by public key, unique
    util::Amount collateral;
    uint64_t activation_delay = 10;  // blocks between a register/retire and its effect
    uint64_t max_block_bytes = 4u << 20;
    uint64_t max_block_txs = 20'000;
    uint64_t max_tx_bytes = 100'000;
    util::Amount min_fee_rate = util::Amount::FromUnits(1);  // per encoded byte
    uint64_t timeout_base_ms = 1000;
    uint64_t timeout_max_ms = 60'000;
    bool operator==(const Genesis&) const = default;
};

// Parses and validates genesis JSON text. Masternodes are sorted by public
// key (the set is ordered so, DESIGN §4).
util::Result<Genesis> ParseGenesis(std::string_view json_text);
// Reads and parses a genesis file; errors name the path.
util::Result<Genesis> LoadGenesisFile(const std::string& path);

// The JSON form (what ParseGenesis reads), pretty-printable.
nlohmann::json GenesisToJson(const Genesis& genesis);

// Canonical msgpack encoding and the chain id derived from it.
util::Bytes EncodeGenesis(const Genesis& genesis);
Hash ChainId(const Genesis& genesis);

// RFC 3339 UTC timestamps ("2026-11-24T08:00:00Z", optional .sss).
util::Result<uint64_t> ParseUtcTime(std::string_view text);
std::string FormatUtcTime(uint64_t unix_ms);

// Checks HOST:PORT (host non-empty printable ASCII without spaces, port 1..65535).
util::Status CheckEndpoint(std::string_view endpoint);

}  // namespace tc::wire
