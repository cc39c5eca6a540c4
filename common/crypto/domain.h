// Signature preimages. Every signature in TimeCoin is over a domain tag
// followed by fixed-width fields, so that a signature made for one purpose
// (a transaction, a vote, a message) can never be replayed as another, and
// a signature made for one chain (chain id) never verifies on another.
#pragma once

#include <string_view>

#include "crypto/hash.h"
#include "util/bytes.h"

namespace tc::crypto {

inline constexpr std::string_view kTxTag = "timecoin/tx/v1";
inline constexpr std::string_view kVoteTag = "timecoin/vote/v1";
inline constexpr std::string_view kMessageTag = "timecoin/msg/v1";

// "timecoin/tx/v1" || chain_id (32) || txid (32)
util::Bytes TxSigningMessage(const Hash256& chain_id, const Hash256& txid);

// "timecoin/vote/v1" || chain_id (32) || phase (1) || height (8, BE) ||
// view (8, BE) || digest (32)
util::Bytes VoteSigningMessage(const Hash256& chain_id, uint8_t phase, uint64_t height,
                               uint64_t view, const Hash256& digest);

// "timecoin/msg/v1" || length (8, BE) || message. Not bound to a chain: a
// signed message proves control of an address on any chain.
util::Bytes MessageSigningMessage(util::ByteView message);

}  // namespace tc::crypto
