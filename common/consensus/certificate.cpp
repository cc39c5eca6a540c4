#include "consensus/certificate.h"

#include <string>

#include "consensus/quorum.h"
#include "crypto/domain.h"

namespace tc::consensus {

using util::Errc;
using util::MakeError;

util::Status VerifyCertificate(const wire::CommitCertificate& cert,
                               const std::vector<crypto::PublicKey>& set,
                               const crypto::Hash256& chain_id, uint64_t height,
                               const wire::Hash& block_hash) {
    if (set.empty()) return MakeError(Errc::kInvalid, "cert: empty masternode set");
    if (cert.height != height) {
        return MakeError(Errc::kInvalid, "cert.height: " + std::to_string(cert.height) + " where " +
                                             std::to_string(height) + " is expected");
    }
    if (cert.block_hash != block_hash) {
        return MakeError(Errc::kInvalid, "cert.block_hash: does not match the block");
    }
    Quorum quorum = QuorumFor(set.size());
    if (cert.sigs.size() < quorum.q) {
        return MakeError(Errc::kInvalid, "cert.sigs: " + std::to_string(cert.sigs.size()) +
                                             " signatures, a quorum of " +
                                             std::to_string(set.size()) + " is " +
                                             std::to_string(quorum.q));
    }
    util::Bytes msg = crypto::VoteSigningMessage(
        chain_id, static_cast<uint8_t>(wire::VotePhase::kCommit), height, cert.view, block_hash);
    for (size_t i = 0; i < cert.sigs.size(); ++i) {
        const auto& sig = cert.sigs[i];
        std::string field = "cert.sigs[" + std::to_string(i) + "]";
        if (i > 0 && sig.index <= cert.sigs[i - 1].index) {
            return MakeError(Errc::kInvalid, field + ".index: not above the previous index");
        }
        if (sig.index >= set.size()) {
            return MakeError(Errc::kInvalid, field + ".index: " + std::to_string(sig.index) +
                                                 " is outside a set of " +
                                                 std::to_string(set.size()));
        }
        if (!crypto::Verify(set[sig.index], msg, sig.signature)) {
            return MakeError(Errc::kCrypto, field + " (masternode " + std::to_string(sig.index) +
                                                "): bad signature");
        }
    }
    return {};
}

wire::Hash MasternodeSetHash(const std::vector<crypto::PublicKey>& set) {
    crypto::Hasher256 h;
    for (const auto& pk : set) h.Update(pk);
    return h.Final();
}

}  // namespace tc::consensus
