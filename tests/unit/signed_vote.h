// Test helper: an encoded PREPARE or COMMIT (wire::PbftMessage) signed by
// `key` for (chain_id, height, view, digest), as a replica would send it.
// Two of them for one slot with different digests are equivocation evidence.
#pragma once

#include <cstdint>

#include "crypto/domain.h"
#include "crypto/keys.h"
#include "wire/codec.h"
#include "wire/pbft.h"

namespace tc::test {

inline util::Bytes SignedVote(const crypto::Hash256& chain_id, const crypto::SecretKey& key,
                              uint32_t replica, uint64_t height, uint64_t view,
                              const wire::Hash& digest,
                              wire::VotePhase phase = wire::VotePhase::kPrepare) {
    wire::Vote v;
    v.phase = phase;
    v.height = height;
    v.view = view;
    v.digest = digest;
    v.replica = replica;
    v.signature = key.Sign(
        crypto::VoteSigningMessage(chain_id, static_cast<uint8_t>(phase), height, view, digest));
    return wire::Encode(wire::PbftMessage{v});
}

}  // namespace tc::test
