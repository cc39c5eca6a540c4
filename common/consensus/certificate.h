// Commit certificates: anyone holding the chain can check one against the
// masternode set effective at its height. Shared by tc-store (blocks from
// tc-pbft, sync and import) and tc-pbft (certificates it assembles).
#pragma once

#include <vector>

#include "crypto/keys.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::consensus {

// Checks that cert is for (height, block_hash), carries at least a quorum of
// signatures by distinct members of `set` (indices strictly increasing and
// inside the set) and that every signature is a valid COMMIT vote signature
// for (chain_id, height, cert.view, block_hash). Errors name the first bad
// signature ("cert.sigs[2] (masternode 5): bad signature").
util::Status VerifyCertificate(const wire::CommitCertificate& cert,
                               const std::vector<crypto::PublicKey>& set,
                               const crypto::Hash256& chain_id, uint64_t height,
                               const wire::Hash& block_hash);

// Hash of a masternode set (the header's mnset_hash): blake2b-256 of the
// concatenated public keys in set order.
wire::Hash MasternodeSetHash(const std::vector<crypto::PublicKey>& set);

}  // namespace tc::consensus
