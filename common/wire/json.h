// JSON views of the wire types, for `--json` output and JSON-RPC. Amounts
// are decimal TIME strings, hashes and keys lower-case hex, addresses
// bech32m of the chain's network. These are stable interfaces: scripts parse
// them, so fields are added, never renamed.
#pragma once

#include <nlohmann/json.hpp>

#include "wire/address.h"
#include "wire/types.h"

namespace tc::wire {

// {"txid", "wtxid", "version", "kind", "inputs": [{"txid","vout"}],
//  "outputs": [{"amount","address"}], "expiry", "size", "signed",
//  "witnesses": [null | {"public_key","signature"}], and "masternode" for
//  register / retire}
nlohmann::json TxToJson(const Transaction& tx, Network network);

}  // namespace tc::wire
