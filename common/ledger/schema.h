// The ledger's LMDB layout (layout version 1, ledger::kLayoutVersion): the
// named databases of DATADIR/ledger and how their keys and values are
// encoded. Fixed-width binary, integers big-endian (so that LMDB's byte order
// of keys is numeric order), hashes and keys as raw bytes. man/timecoin-
// protocol.7 (LMDB LAYOUT) documents the same table; change both together,
// with kLayoutVersion.
//
//   database     key                                  value
//   meta         "layout"                             u32 layout version (1)
//                "chain"                              chain name (ASCII)
//                "chain_id"                           32 bytes
//                "genesis"                            the genesis file, canonical JSON text
//                "height"                             u64 height of the tip
//                "tip_hash"                           32 bytes, block hash of the tip
//                "tip_time"                           u64 tip timestamp, unix ms
//                "supply"                             u64 units: genesis supply - fees burned
//                "fees_burned"                        u64 units
//                "tx_count"                           u64 transactions in blocks 1..height
//                "utxo_count"                         u64 entries of utxos
//   blocks       u64 height                           encoded block (wire codec)
//   hashes       32-byte block hash                   u64 height
//   certs        u64 height (>= 1)                    encoded commit certificate
//   txindex      32-byte txid                         u64 height || u32 position in the block
//   utxos        32-byte txid || u32 vout             u64 amount || 20-byte address ||
//                                                     u64 height created || u8 flags
//                                                     (bit 0: locked collateral) = 37 bytes
//   addrindex    20-byte address || txid || u32 vout  empty (GetUtxos walks the prefix)
//   masternodes  u64 effective height || 32-byte key  u8 kind (1 add, 2 remove) ||
//                                                     20-byte payout || u8 has collateral ||
//                                                     36-byte collateral outpoint (zeros if
//                                                     none) || endpoint (the rest, ASCII)
//   evidence     u64 height || u64 view ||        u32 length of first || first ||
//                u8 phase || u32 replica          second: one equivocation
//                                                 (consensus/evidence.h)
//
// The masternode set effective at height h is the result of applying, in
// key order, every masternodes entry with effective height <= h (an add
// inserts the key, a remove deletes it). Genesis masternodes are adds at
// height 0; a register in block h adds at h + activation_delay, a retire
// removes at h + activation_delay (its value repeats the masternode's
// payout, endpoint and collateral, which is unlocked at that height).
// Genesis allocations are UTXOs at outpoint (chain id, allocation index),
// height 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "util/bytes.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::ledger::schema {

// Database names.
inline constexpr const char* kMeta = "meta";
inline constexpr const char* kBlocks = "blocks";
inline constexpr const char* kHashes = "hashes";
inline constexpr const char* kCerts = "certs";
inline constexpr const char* kTxIndex = "txindex";
inline constexpr const char* kUtxos = "utxos";
inline constexpr const char* kAddrIndex = "addrindex";
inline constexpr const char* kMasternodes = "masternodes";
inline constexpr const char* kEvidence = "evidence";

// meta keys.
inline constexpr std::string_view kMetaLayout = "layout";
inline constexpr std::string_view kMetaChain = "chain";
inline constexpr std::string_view kMetaChainId = "chain_id";
inline constexpr std::string_view kMetaGenesis = "genesis";
inline constexpr std::string_view kMetaHeight = "height";
inline constexpr std::string_view kMetaTipHash = "tip_hash";
inline constexpr std::string_view kMetaTipTime = "tip_time";
inline constexpr std::string_view kMetaSupply = "supply";
inline constexpr std::string_view kMetaFeesBurned = "fees_burned";
inline constexpr std::string_view kMetaTxCount = "tx_count";
inline constexpr std::string_view kMetaUtxoCount = "utxo_count";

inline constexpr size_t kOutPointBytes = 36;
inline constexpr size_t kUtxoValueBytes = 37;
inline constexpr size_t kTxLocationBytes = 12;

// Integers, big-endian. Decoders name `what` and the expected width.
util::Bytes U32(uint32_t v);
util::Bytes U64(uint64_t v);
util::Result<uint32_t> DecodeU32(util::ByteView bytes, const std::string& what);
util::Result<uint64_t> DecodeU64(util::ByteView bytes, const std::string& what);
util::Result<wire::Hash> DecodeHash(util::ByteView bytes, const std::string& what);

// utxos key (and the tail of an addrindex key).
util::Bytes OutPointKey(const wire::OutPoint& outpoint);
util::Result<wire::OutPoint> DecodeOutPoint(util::ByteView bytes);

util::Bytes UtxoValue(const Utxo& utxo);
util::Result<Utxo> DecodeUtxo(const wire::OutPoint& outpoint, util::ByteView value);

util::Bytes AddrIndexKey(const wire::PubKeyHash& address, const wire::OutPoint& outpoint);
util::Result<wire::OutPoint> DecodeAddrIndexKey(util::ByteView key, wire::PubKeyHash* address);

util::Bytes TxLocationValue(const TxLocation& location);
util::Result<TxLocation> DecodeTxLocation(util::ByteView value);

// One change of the masternode set.
enum class RegistryKind : uint8_t { kAdd = 1, kRemove = 2 };

struct RegistryEntry {
    uint64_t height = 0;  // effective from this height on
    RegistryKind kind = RegistryKind::kAdd;
    Masternode node;
    bool operator==(const RegistryEntry& o) const {
        return height == o.height && kind == o.kind && node.key == o.node.key &&
               node.endpoint == o.node.endpoint && node.payout == o.node.payout &&
               node.collateral == o.node.collateral;
    }
};

util::Bytes RegistryKey(uint64_t height, const crypto::PublicKey& key);
util::Bytes RegistryValue(const RegistryEntry& entry);
util::Result<RegistryEntry> DecodeRegistryEntry(util::ByteView key, util::ByteView value);

}  // namespace tc::ledger::schema
