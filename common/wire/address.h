// Addresses: bech32m of blake2b-160(Ed25519 public key), with the HRP
// telling the network: "tc" on the main network, "tct" on a devnet. The
// ledger stores only the 20-byte hash; the network is a property of the
// chain (its genesis), so an address of the wrong network is refused where
// it is parsed.
#pragma once

#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::wire {

enum class Network { kMain, kDevnet };

const char* Hrp(Network network);

struct Address {
    Network network = Network::kMain;
    PubKeyHash hash{};

    static Address FromPublicKey(const crypto::PublicKey& pk, Network network);
    // Accepts either network; errors say what is wrong with the string.
    static util::Result<Address> Parse(std::string_view text);
    // Accepts only the given network ("address tc1...: a main-network address
    // on a devnet chain").
    static util::Result<Address> Parse(std::string_view text, Network expected);

    std::string ToString() const;
    bool operator==(const Address&) const = default;
};

PubKeyHash KeyHash(const crypto::PublicKey& pk);

}  // namespace tc::wire
