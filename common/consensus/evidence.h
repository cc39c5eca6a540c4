// Equivocation evidence (DESIGN §4): two PBFT messages signed by one replica
// for the same phase, height and view with different digests. tc-pbft finds
// them; tc-store checks them here before it writes them to the ledger's
// evidence database, and `tc-store verify` checks them again. The entry
// format is in man/timecoin-protocol.7 (LEDGER LAYOUT).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "util/bytes.h"
#include "util/result.h"
#include "wire/pbft.h"

namespace tc::consensus {

// Who equivocated, and where.
struct Equivocation {
    wire::SignedPhase phase = wire::SignedPhase::kPrepare;
    uint64_t height = 0;
    uint64_t view = 0;
    uint32_t replica = 0;  // index in the masternode set at height
    crypto::PublicKey key{};
};

// The masternode set (keys, in set order) in effect at a height.
using SetAt = std::function<util::Result<std::vector<crypto::PublicKey>>(uint64_t height)>;

// Checks that first and second are encoded PBFT messages (codec.h), both
// signed (not DECIDED), for one (phase, height, view) by one replica of the
// set at that height, with different digests, and that both signatures
// verify for chain_id. kInvalid names what is wrong ("second: ..."), kCrypto
// a signature that does not verify, and set_at's own error passes through.
util::Result<Equivocation> CheckEquivocation(const crypto::Hash256& chain_id, const SetAt& set_at,
                                             util::ByteView first, util::ByteView second);

// The evidence database's entry for an equivocation: the key is
// u64 height || u64 view || u8 phase || u32 replica (big-endian), one entry
// per offence in height order; the value is u32 length of first || first ||
// second.
inline constexpr size_t kEvidenceKeyBytes = 8 + 8 + 1 + 4;
util::Bytes EvidenceKey(const Equivocation& e);
util::Bytes EvidenceValue(util::ByteView first, util::ByteView second);
// The two messages of a value; kInvalid when the length does not fit.
util::Result<std::pair<util::Bytes, util::Bytes>> SplitEvidenceValue(util::ByteView value);

// "PREPARE by masternode 3 (ab12...) at height 7, view 0".
std::string EquivocationText(const Equivocation& e);

}  // namespace tc::consensus
