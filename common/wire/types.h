// The ledger's data types: transactions, blocks, commit certificates and
// consensus votes. Their canonical encoding is in codec.h; the format is
// documented in man/timecoin-protocol.7 and both must change together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "crypto/hash.h"
#include "crypto/keys.h"

namespace tc::wire {

using Hash = crypto::Hash256;
using PubKeyHash = crypto::Hash160;  // blake2b-160 of an Ed25519 public key

inline constexpr uint8_t kTxVersion = 1;
inline constexpr uint8_t kBlockVersion = 1;
inline constexpr uint8_t kCertificateVersion = 1;
inline constexpr uint8_t kVoteVersion = 1;

// Decoder bounds ("oversize fields"). A field beyond its bound is rejected
// before anything is allocated for it. The genesis block limits are checked
// by the ledger and are at most these.
inline constexpr size_t kMaxTxInputs = 2048;
inline constexpr size_t kMaxTxOutputs = 2048;
inline constexpr size_t kMaxEndpointBytes = 255;
inline constexpr size_t kMaxBlockTxs = 100'000;
inline constexpr size_t kMaxCertificateSigs = 1024;
inline constexpr size_t kMaxEncodedBlockBytes = 32u << 20;
inline constexpr size_t kMaxEncodedTxBytes = 1u << 20;

enum class TxKind : uint8_t {
    kTransfer = 0,
    kRegister = 1,  // masternode register: output 0 locks the collateral
    kRetire = 2,    // masternode retire: no inputs or outputs, signed by the masternode key
};

const char* TxKindName(TxKind kind);

struct OutPoint {
    Hash txid{};
    uint32_t vout = 0;
    bool operator==(const OutPoint&) const = default;
    auto operator<=>(const OutPoint&) const = default;
};

struct TxOut {
    uint64_t amount = 0;  // base units, > 0
    PubKeyHash address{};
    bool operator==(const TxOut&) const = default;
};

struct Witness {
    crypto::PublicKey public_key{};
    crypto::Signature signature{};
    bool operator==(const Witness&) const = default;
};

struct RegisterPayload {
    crypto::PublicKey masternode_key{};
    std::string endpoint;  // HOST:PORT, at most kMaxEndpointBytes
    PubKeyHash payout{};
    bool operator==(const RegisterPayload&) const = default;
};

struct RetirePayload {
    crypto::PublicKey masternode_key{};
    bool operator==(const RetirePayload&) const = default;
};

using TxPayload = std::variant<std::monostate, RegisterPayload, RetirePayload>;

struct Transaction {
    uint8_t version = kTxVersion;
    TxKind kind = TxKind::kTransfer;
    std::vector<OutPoint> inputs;
    std::vector<TxOut> outputs;
    uint64_t expiry = 0;  // last height at which it may be included; 0 = never expires
    TxPayload payload;    // monostate for transfers; must match kind
    // Empty (unsigned), or exactly WitnessSlots() entries, each present
    // (signed) or absent (not yet signed). All-absent is encoded as empty.
    std::vector<std::optional<Witness>> witnesses;

    // One slot per input; a retire has one slot for the masternode key.
    size_t WitnessSlots() const;
    bool FullySigned() const;
    bool operator==(const Transaction&) const = default;
};

struct BlockHeader {
    uint8_t version = kBlockVersion;
    uint64_t height = 0;
    Hash prev_hash{};
    uint64_t view = 0;
    uint64_t timestamp_ms = 0;
    uint32_t proposer = 0;  // index into the masternode set effective at height
    Hash tx_root{};
    Hash mnset_hash{};  // hash of the masternode set effective at height
    bool operator==(const BlockHeader&) const = default;
};

struct Block {
    BlockHeader header;
    std::vector<Transaction> txs;
    bool operator==(const Block&) const = default;
};

struct CertificateSig {
    uint32_t index = 0;  // into the masternode set effective at height
    crypto::Signature signature{};
    bool operator==(const CertificateSig&) const = default;
};

// Commit certificate: q or more COMMIT signatures on (height, view,
// block_hash), indices strictly increasing.
struct CommitCertificate {
    uint8_t version = kCertificateVersion;
    uint64_t height = 0;
    uint64_t view = 0;
    Hash block_hash{};
    std::vector<CertificateSig> sigs;
    bool operator==(const CommitCertificate&) const = default;
};

enum class VotePhase : uint8_t { kPrepare = 1, kCommit = 2 };

// A PREPARE or COMMIT vote. The signature is over
// crypto::VoteSigningMessage(chain_id, phase, height, view, digest).
struct Vote {
    uint8_t version = kVoteVersion;
    VotePhase phase = VotePhase::kPrepare;
    uint64_t height = 0;
    uint64_t view = 0;
    Hash digest{};
    uint32_t replica = 0;
    crypto::Signature signature{};
    bool operator==(const Vote&) const = default;
};

// txid: blake2b-256 of the encoding without witnesses (not malleable).
Hash TxId(const Transaction& tx);
// wtxid: blake2b-256 of the full encoding, witnesses included.
Hash WitnessTxId(const Transaction& tx);
// Block hash: blake2b-256 of the encoded header.
Hash BlockHash(const BlockHeader& header);
// Merkle root (RFC 6962 shape: leaves 0x00||wtxid, nodes 0x01||l||r) of the
// wtxids, so the block hash commits to every byte of every transaction.
// The root of no transactions is blake2b-256 of the empty string.
Hash TxRoot(const std::vector<Transaction>& txs);

}  // namespace tc::wire
