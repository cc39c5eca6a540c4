#include "consensus/evidence.h"

#include <string>

#include "crypto/domain.h"
#include "wire/codec.h"

namespace tc::consensus {

using util::Errc;
using util::MakeError;

namespace {

util::Result<wire::SignedPart> Signed(util::ByteView bytes, const std::string& what) {
    auto msg = wire::DecodePbftMessage(bytes);
    if (!msg) return std::move(msg).error().In(what);
    auto part = wire::SignedPartOf(*msg);
    if (!part) {
        return MakeError(Errc::kInvalid, what + ": a " + wire::MessageKindName(*msg) +
                                             " is not signed by a replica");
    }
    return *part;
}

}  // namespace

util::Result<Equivocation> CheckEquivocation(const crypto::Hash256& chain_id, const SetAt& set_at,
                                             util::ByteView first, util::ByteView second) {
    TC_TRY(a, Signed(first, "first"));
    TC_TRY(b, Signed(second, "second"));
    if (a.phase != b.phase || a.height != b.height || a.view != b.view) {
        return MakeError(Errc::kInvalid,
                         std::string("the messages are for different slots: ") +
                             wire::SignedPhaseName(a.phase) + " at " + std::to_string(a.height) +
                             "/" + std::to_string(a.view) + " and " +
                             wire::SignedPhaseName(b.phase) + " at " + std::to_string(b.height) +
                             "/" + std::to_string(b.view));
    }
    if (a.replica != b.replica) {
        return MakeError(Errc::kInvalid, "the messages are by different replicas (" +
                                             std::to_string(a.replica) + " and " +
                                             std::to_string(b.replica) + ")");
    }
    if (a.digest == b.digest) {
        return MakeError(Errc::kInvalid, "the messages have the same digest: no equivocation");
    }
    TC_TRY(set, set_at(a.height));
    if (a.replica >= set.size()) {
        return MakeError(Errc::kInvalid, "replica " + std::to_string(a.replica) +
                                             " is not in the set of " + std::to_string(set.size()) +
                                             " at height " + std::to_string(a.height));
    }
    const crypto::PublicKey& key = set[a.replica];
    for (const auto* part : {&a, &b}) {
        auto preimage = crypto::VoteSigningMessage(chain_id, static_cast<uint8_t>(part->phase),
                                                   part->height, part->view, part->digest);
        if (!crypto::Verify(key, preimage, part->signature)) {
            return MakeError(Errc::kCrypto, std::string(part == &a ? "first" : "second") +
                                                ": bad signature by masternode " +
                                                std::to_string(a.replica));
        }
    }
    return Equivocation{a.phase, a.height, a.view, a.replica, key};
}

util::Bytes EvidenceKey(const Equivocation& e) {
    util::Bytes out;
    out.reserve(kEvidenceKeyBytes);
    util::AppendBe64(out, e.height);
    util::AppendBe64(out, e.view);
    out.push_back(static_cast<uint8_t>(e.phase));
    util::AppendBe32(out, e.replica);
    return out;
}

util::Bytes EvidenceValue(util::ByteView first, util::ByteView second) {
    util::Bytes out;
    out.reserve(4 + first.size() + second.size());
    util::AppendBe32(out, static_cast<uint32_t>(first.size()));
    out.insert(out.end(), first.begin(), first.end());
    out.insert(out.end(), second.begin(), second.end());
    return out;
}

util::Result<std::pair<util::Bytes, util::Bytes>> SplitEvidenceValue(util::ByteView value) {
    if (value.size() < 4) return MakeError(Errc::kInvalid, "evidence value: shorter than 4 bytes");
    const uint64_t n = (uint64_t{value[0]} << 24) | (uint64_t{value[1]} << 16) |
                       (uint64_t{value[2]} << 8) | uint64_t{value[3]};
    if (n > value.size() - 4) {
        return MakeError(Errc::kInvalid, "evidence value: first message of " + std::to_string(n) +
                                             " bytes in " + std::to_string(value.size() - 4));
    }
    const auto mid = value.begin() + 4 + static_cast<std::ptrdiff_t>(n);
    return std::make_pair(util::Bytes(value.begin() + 4, mid), util::Bytes(mid, value.end()));
}

std::string EquivocationText(const Equivocation& e) {
    return std::string(wire::SignedPhaseName(e.phase)) + " by masternode " +
           std::to_string(e.replica) + " (" + util::ToHex(e.key).substr(0, 16) + ") at height " +
           std::to_string(e.height) + ", view " + std::to_string(e.view);
}

}  // namespace tc::consensus
