#include "wire/types.h"

#include <algorithm>
#include <bit>

#include "wire/codec.h"

namespace tc::wire {

const char* TxKindName(TxKind kind) {
    switch (kind) {
        case TxKind::kTransfer:
            return "transfer";
        case TxKind::kRegister:
            return "register";
        case TxKind::kRetire:
            return "retire";
    }
    return "unknown";
}

size_t Transaction::WitnessSlots() const {
    return kind == TxKind::kRetire ? 1 : inputs.size();
}

bool Transaction::FullySigned() const {
    return !witnesses.empty() && std::all_of(witnesses.begin(), witnesses.end(),
                                             [](const auto& w) { return w.has_value(); });
}

Hash TxId(const Transaction& tx) {
    return crypto::Blake2b256(EncodeUnsigned(tx));
}

Hash WitnessTxId(const Transaction& tx) {
    return crypto::Blake2b256(Encode(tx));
}

Hash BlockHash(const BlockHeader& header) {
    return crypto::Blake2b256(Encode(header));
}

namespace {

// RFC 6962 section 2.1: MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n])) with k the largest
// power of two below n. Unlike Bitcoin's tree nothing is duplicated, so two different lists
// of transactions cannot have the same root.
Hash MerkleRoot(std::span<const Hash> leaves) {
    if (leaves.size() == 1) return leaves[0];
    size_t k = std::bit_floor(leaves.size() - 1);
    Hash left = MerkleRoot(leaves.first(k));
    Hash right = MerkleRoot(leaves.subspan(k));
    static constexpr uint8_t kNode = 0x01;
    return crypto::Hasher256().Update({&kNode, 1}).Update(left).Update(right).Final();
}

}  // namespace

Hash TxRoot(const std::vector<Transaction>& txs) {
    if (txs.empty()) return crypto::Blake2b256({});
    std::vector<Hash> leaves;
    leaves.reserve(txs.size());
    static constexpr uint8_t kLeaf = 0x00;
    for (const auto& tx : txs) {
        leaves.push_back(crypto::Hasher256().Update({&kLeaf, 1}).Update(WitnessTxId(tx)).Final());
    }
    return MerkleRoot(leaves);
}

}  // namespace tc::wire
