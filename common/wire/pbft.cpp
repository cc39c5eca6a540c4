#include "wire/pbft.h"

#include "crypto/domain.h"
#include "crypto/hash.h"
#include "wire/codec.h"

namespace tc::wire {

Hash ViewChangeDigest(const ViewChange& vc) {
    return crypto::Blake2b256(EncodeUnsigned(vc));
}

Hash NewViewDigest(const NewView& nv) {
    return crypto::Blake2b256(EncodeUnsigned(nv));
}

uint64_t MessageHeight(const PbftMessage& msg) {
    struct Visitor {
        uint64_t operator()(const PrePrepare& m) const { return m.height; }
        uint64_t operator()(const Vote& m) const { return m.height; }
        uint64_t operator()(const ViewChange& m) const { return m.height; }
        uint64_t operator()(const NewView& m) const { return m.height; }
        uint64_t operator()(const Decided& m) const { return m.cert.height; }
    };
    return std::visit(Visitor{}, msg);
}

uint64_t MessageView(const PbftMessage& msg) {
    struct Visitor {
        uint64_t operator()(const PrePrepare& m) const { return m.view; }
        uint64_t operator()(const Vote& m) const { return m.view; }
        uint64_t operator()(const ViewChange& m) const { return m.new_view; }
        uint64_t operator()(const NewView& m) const { return m.view; }
        uint64_t operator()(const Decided& m) const { return m.cert.view; }
    };
    return std::visit(Visitor{}, msg);
}

uint32_t MessageReplica(const PbftMessage& msg) {
    struct Visitor {
        uint32_t operator()(const PrePrepare& m) const { return m.replica; }
        uint32_t operator()(const Vote& m) const { return m.replica; }
        uint32_t operator()(const ViewChange& m) const { return m.replica; }
        uint32_t operator()(const NewView& m) const { return m.replica; }
        uint32_t operator()(const Decided&) const { return 0; }
    };
    return std::visit(Visitor{}, msg);
}

const char* SignedPhaseName(SignedPhase phase) {
    switch (phase) {
        case SignedPhase::kPrepare:
            return "PREPARE";
        case SignedPhase::kCommit:
            return "COMMIT";
        case SignedPhase::kPrePrepare:
            return "PRE-PREPARE";
        case SignedPhase::kViewChange:
            return "VIEW-CHANGE";
        case SignedPhase::kNewView:
            return "NEW-VIEW";
    }
    return "unknown phase";
}

const char* MessageKindName(const PbftMessage& msg) {
    struct Visitor {
        const char* operator()(const PrePrepare&) const {
            return SignedPhaseName(SignedPhase::kPrePrepare);
        }
        const char* operator()(const Vote& m) const {
            const bool vote = m.phase == VotePhase::kPrepare || m.phase == VotePhase::kCommit;
            return vote ? SignedPhaseName(static_cast<SignedPhase>(m.phase)) : "VOTE";
        }
        const char* operator()(const ViewChange&) const {
            return SignedPhaseName(SignedPhase::kViewChange);
        }
        const char* operator()(const NewView&) const {
            return SignedPhaseName(SignedPhase::kNewView);
        }
        const char* operator()(const Decided&) const { return "DECIDED"; }
    };
    return std::visit(Visitor{}, msg);
}

std::optional<SignedPart> SignedPartOf(const PbftMessage& msg) {
    struct Visitor {
        std::optional<SignedPart> operator()(const PrePrepare& m) const {
            return SignedPart{SignedPhase::kPrePrepare,  m.height,  m.view,
                              BlockHash(m.block.header), m.replica, m.signature};
        }
        std::optional<SignedPart> operator()(const Vote& m) const {
            return SignedPart{static_cast<SignedPhase>(m.phase),
                              m.height,
                              m.view,
                              m.digest,
                              m.replica,
                              m.signature};
        }
        std::optional<SignedPart> operator()(const ViewChange& m) const {
            return SignedPart{SignedPhase::kViewChange, m.height,  m.new_view,
                              ViewChangeDigest(m),      m.replica, m.signature};
        }
        std::optional<SignedPart> operator()(const NewView& m) const {
            return SignedPart{SignedPhase::kNewView, m.height,  m.view,
                              NewViewDigest(m),      m.replica, m.signature};
        }
        std::optional<SignedPart> operator()(const Decided&) const { return std::nullopt; }
    };
    return std::visit(Visitor{}, msg);
}

Vote SignedVote(const crypto::Hash256& chain_id, const crypto::SecretKey& key, VotePhase phase,
                uint64_t height, uint64_t view, const Hash& digest, uint32_t replica) {
    Vote v;
    v.phase = phase;
    v.height = height;
    v.view = view;
    v.digest = digest;
    v.replica = replica;
    v.signature = key.Sign(
        crypto::VoteSigningMessage(chain_id, static_cast<uint8_t>(phase), height, view, digest));
    return v;
}

}  // namespace tc::wire
