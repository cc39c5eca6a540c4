// The PBFT messages (DESIGN §4) that masternodes exchange on the p2p `pbft`
// topic, and that tc-pbft's core consumes. Votes (PREPARE, COMMIT) are the
// wire::Vote of types.h; this file adds the proposal, the view change, the
// new view, and the decided block a replica sends to one that lags behind.
//
// Every message is signed by its replica over
// crypto::VoteSigningMessage(chain_id, phase, height, view, digest), where
// the phase byte says what kind of message it is (SignedPhase), so a
// signature made for one kind never verifies as another:
//
//   PRE-PREPARE  phase 3, view = the view proposed in, digest = block hash
//   VIEW-CHANGE  phase 4, view = the new view, digest = ViewChangeDigest()
//   NEW-VIEW     phase 5, view = the new view, digest = NewViewDigest()
//
// The canonical encoding is in codec.h (Encode/DecodePbftMessage) and the
// format in man/timecoin-protocol.7, PBFT MESSAGES; both change together.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "wire/types.h"

namespace tc::wire {

inline constexpr uint8_t kPbftVersion = 1;

// Bounds the decoders enforce beside those of types.h.
inline constexpr size_t kMaxNewViewChanges = kMaxCertificateSigs;
inline constexpr size_t kMaxEncodedPbftBytes = kMaxEncodedBlockBytes + (1u << 20);

// The phase byte of each signed message kind. 1 and 2 are VotePhase.
enum class SignedPhase : uint8_t {
    kPrepare = 1,
    kCommit = 2,
    kPrePrepare = 3,
    kViewChange = 4,
    kNewView = 5,
};

// PRE-PREPARE(h, v, block) from the primary of (h, v). In a new view that
// re-proposes a prepared block, block.header keeps the view and proposer it
// was first proposed with; `view` and `replica` are the re-proposer's.
struct PrePrepare {
    uint64_t height = 0;
    uint64_t view = 0;
    uint32_t replica = 0;  // the primary of (height, view)
    Block block;
    crypto::Signature signature{};
    bool operator==(const PrePrepare&) const = default;
};

// q PREPARE signatures on (height, view, digest): proof that a quorum
// accepted the proposal `digest` in `view`. Indices strictly increasing.
struct PreparedCert {
    uint64_t view = 0;
    Hash digest{};
    std::vector<CertificateSig> sigs;
    bool operator==(const PreparedCert&) const = default;
};

// VIEW-CHANGE(h, new_view, highest prepared certificate if any). `block` is
// the prepared block (its hash is prepared->digest), attached so the new
// primary can re-propose it; it is not signed (the digest binds it) and is
// left out of the copies a NEW-VIEW carries.
struct ViewChange {
    uint64_t height = 0;
    uint64_t new_view = 0;
    uint32_t replica = 0;
    std::optional<PreparedCert> prepared;
    std::optional<Block> block;
    crypto::Signature signature{};
    bool operator==(const ViewChange&) const = default;
};

// NEW-VIEW(h, view) from the primary of (h, view): q VIEW-CHANGEs for view
// from distinct replicas (without blocks) and the proposal of the view, which
// must be the block of the highest prepared certificate among them, or any
// valid block when none carries one.
struct NewView {
    uint64_t height = 0;
    uint64_t view = 0;
    uint32_t replica = 0;
    std::vector<ViewChange> view_changes;
    PrePrepare proposal;
    crypto::Signature signature{};
    bool operator==(const NewView&) const = default;
};

// A block and its commit certificate, sent to a replica that is still voting
// on a height the sender has committed. Not signed: the certificate is.
struct Decided {
    Block block;
    CommitCertificate cert;
    bool operator==(const Decided&) const = default;
};

using PbftMessage = std::variant<PrePrepare, Vote, ViewChange, NewView, Decided>;

// The digests the signatures of VIEW-CHANGE and NEW-VIEW cover: blake2b-256
// of the message's fields without its signature, after the version
// (EncodeUnsigned in codec.h):
//   ViewChangeDigest  H([1, height, new_view, replica, prepared])
//                     the attached block is left out (prepared->digest binds it)
//   NewViewDigest     H([1, height, view, replica, view_changes, proposal])
//                     each view change as in a NEW-VIEW: without its block, with
//                     its signature; the proposal whole, block and signature
Hash ViewChangeDigest(const ViewChange& vc);
Hash NewViewDigest(const NewView& nv);

// Height, view and replica of any message (ViewChange: new_view; Decided: the
// certificate's height and view, replica 0), for bounds and logging.
uint64_t MessageHeight(const PbftMessage& msg);
uint64_t MessageView(const PbftMessage& msg);
uint32_t MessageReplica(const PbftMessage& msg);
// "PRE-PREPARE", "PREPARE", "COMMIT", "VIEW-CHANGE", "NEW-VIEW" or "DECIDED".
const char* MessageKindName(const PbftMessage& msg);
// The name of the kind of message a phase byte signs: "PRE-PREPARE",
// "PREPARE", "COMMIT", "VIEW-CHANGE" or "NEW-VIEW" ("unknown phase" else).
const char* SignedPhaseName(SignedPhase phase);

// What a message's signature covers, and the signature: the phase byte, the
// height, the view (VIEW-CHANGE: the new view), the digest (PRE-PREPARE: the
// block hash; VIEW-CHANGE, NEW-VIEW: their digests above) and the signer's
// index. Nothing for DECIDED, which is not signed (its certificate is).
struct SignedPart {
    SignedPhase phase = SignedPhase::kPrepare;
    uint64_t height = 0;
    uint64_t view = 0;
    Hash digest{};
    uint32_t replica = 0;
    crypto::Signature signature{};
};
std::optional<SignedPart> SignedPartOf(const PbftMessage& msg);

// A PREPARE or COMMIT for (height, view, digest) by `replica`, signed with
// `key` for chain_id: what a replica sends, before encoding.
Vote SignedVote(const crypto::Hash256& chain_id, const crypto::SecretKey& key, VotePhase phase,
                uint64_t height, uint64_t view, const Hash& digest, uint32_t replica);

}  // namespace tc::wire
