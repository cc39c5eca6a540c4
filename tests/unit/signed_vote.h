// Test helper: an encoded PREPARE or COMMIT (wire::PbftMessage) signed by
// `key` for (chain_id, height, view, digest), as a replica would send it.
// Two of them for one slot with different digests are equivocation evidence.
#pragma once

#include <cstdint>

#include "crypto/keys.h"
#include "wire/codec.h"
#include "wire/pbft.h"

namespace tc::test {

inline util::Bytes VoteBytes(const crypto::Hash256& chain_id, const crypto::SecretKey& key,
                             uint32_t replica, uint64_t height, uint64_t view,
                             const wire::Hash& digest,
                             wire::VotePhase phase = wire::VotePhase::kPrepare) {
    return wire::Encode(
        wire::PbftMessage{wire::SignedVote(chain_id, key, phase, height, view, digest, replica)});
}

}  // namespace tc::test
