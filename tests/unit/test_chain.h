// Test helper: deterministic keys and a devnet genesis for tests that run a
// real ledger (with test::ChainBuilder, chain_builder.h, making the blocks).
// Keys come from a 32-byte seed of one byte, so a test can make the same key
// twice (SecretKey is move-only). By convention: 1 alice, 2 bob, 3 carol,
// 100+ masternodes, 200+ their payouts.
//
//   wire::Genesis g = test::MakeGenesis("my-test", 4);
//   test::ChainBuilder chain(g, test::MasternodeKeys(4));
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "util/amount.h"
#include "util/bytes.h"
#include "wire/address.h"
#include "wire/genesis.h"

namespace tc::test {

// The secret key from a seed of 32 bytes of n.
inline crypto::SecretKey Key(uint8_t n) {
    util::Bytes seed(32, n);
    return std::move(*crypto::SecretKey::FromSeed(seed));
}

// The address (key hash) of Key(n).
inline wire::PubKeyHash Addr(uint8_t n) {
    return wire::KeyHash(Key(n).public_key());
}

// The keys of the first n genesis masternodes: Key(100) .. Key(100 + n - 1).
inline std::vector<crypto::SecretKey> MasternodeKeys(size_t n) {
    std::vector<crypto::SecretKey> keys;
    for (size_t i = 0; i < n; ++i) keys.push_back(Key(static_cast<uint8_t>(100 + i)));
    return keys;
}

// A devnet genesis named `chain` (the name goes into the chain id): 1000
// coins to alice and 500 to bob, `masternodes` masternodes Key(100 + i) at
// 127.0.0.1:(7000 + i) paying to Addr(200 + i), sorted by key, collateral
// 100 coins, activation delay 2, min fee rate 1 unit/byte. Callers adjust
// the returned struct for anything else.
inline wire::Genesis MakeGenesis(std::string chain, size_t masternodes) {
    constexpr uint64_t kCoin = util::Amount::kUnitsPerCoin;
    wire::Genesis g;
    g.chain = std::move(chain);
    g.network = wire::Network::kDevnet;
    g.time_ms = 1'700'000'000'000;
    g.allocations = {{Addr(1), util::Amount::FromUnits(1000 * kCoin)},
                     {Addr(2), util::Amount::FromUnits(500 * kCoin)}};
    for (size_t i = 0; i < masternodes; ++i) {
        g.masternodes.push_back({Key(static_cast<uint8_t>(100 + i)).public_key(),
                                 "127.0.0.1:" + std::to_string(7000 + i),
                                 Addr(static_cast<uint8_t>(200 + i))});
    }
    std::sort(g.masternodes.begin(), g.masternodes.end(),
              [](const auto& a, const auto& b) { return a.public_key < b.public_key; });
    g.collateral = util::Amount::FromUnits(100 * kCoin);
    g.activation_delay = 2;
    g.min_fee_rate = util::Amount::FromUnits(1);
    return g;
}

}  // namespace tc::test
