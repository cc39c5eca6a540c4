#include "crypto/domain.h"

namespace tc::crypto {

util::Bytes TxSigningMessage(const Hash256& chain_id, const Hash256& txid) {
    util::Bytes out;
    out.reserve(kTxTag.size() + 64);
    util::Append(out, util::AsBytes(kTxTag));
    util::Append(out, chain_id);
    util::Append(out, txid);
    return out;
}

util::Bytes VoteSigningMessage(const Hash256& chain_id, uint8_t phase, uint64_t height,
                               uint64_t view, const Hash256& digest) {
    util::Bytes out;
    out.reserve(kVoteTag.size() + 32 + 1 + 16 + 32);
    util::Append(out, util::AsBytes(kVoteTag));
    util::Append(out, chain_id);
    out.push_back(phase);
    util::AppendBe64(out, height);
    util::AppendBe64(out, view);
    util::Append(out, digest);
    return out;
}

util::Bytes MessageSigningMessage(util::ByteView message) {
    util::Bytes out;
    out.reserve(kMessageTag.size() + 8 + message.size());
    util::Append(out, util::AsBytes(kMessageTag));
    util::AppendBe64(out, message.size());
    util::Append(out, message);
    return out;
}

}  // namespace tc::crypto
