// The messages tc-p2p nodes exchange over their CURVE links (DESIGN §5;
// man/timecoin-protocol.7, PEER PROTOCOL, is the contract). One ZeroMQ
// message is one frame:
//
//   frame    [version = 1, codec, payload bin]    codec 0: raw, 1: zstd
//   payload  msgpack, one of
//     ["tip", height, hash bin(32)]                 our ledger's tip
//     ["pbft", bytes bin]                           a wire::PbftMessage
//     ["txs", [tx bin, ...]]                        gossip (at most kMaxTxs)
//     ["get", id, from, count]                      blocks from..from+count-1
//     ["blocks", id, [[block bin, cert bin], ...]]  the answer to get `id`
//
// Decoding is strict: unknown versions, codecs and kinds, a wrong arity or
// type, trailing bytes, and a payload that decompresses beyond the bound
// are all errors naming what was wrong. A peer whose frame does not decode
// is banned (tc-p2p(1)).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::p2p {

inline constexpr uint64_t kWireVersion = 1;
inline constexpr size_t kMaxTxs = 4096;     // transactions in one txs message
inline constexpr size_t kMaxBlocks = 1024;  // blocks in one blocks message

struct Tip {
    uint64_t height = 0;
    wire::Hash hash{};
    bool operator==(const Tip&) const = default;
};
struct PbftBytes {
    util::Bytes bytes;
    bool operator==(const PbftBytes&) const = default;
};
struct Txs {
    std::vector<util::Bytes> txs;
    bool operator==(const Txs&) const = default;
};
struct GetBlocks {
    uint64_t id = 0;
    uint64_t from = 0;
    uint64_t count = 0;
    bool operator==(const GetBlocks&) const = default;
};
struct BlockAndCert {
    util::Bytes block;
    util::Bytes cert;
    bool operator==(const BlockAndCert&) const = default;
};
struct Blocks {
    uint64_t id = 0;
    std::vector<BlockAndCert> blocks;
    bool operator==(const Blocks&) const = default;
};

using PeerMessage = std::variant<Tip, PbftBytes, Txs, GetBlocks, Blocks>;

// The kind's name as on the wire ("tip", "pbft", ...).
const char* KindName(const PeerMessage& msg);

// The frame of msg; a payload of at least compress_above bytes is
// zstd-compressed (0: always, SIZE_MAX: never).
util::Bytes EncodeFrame(const PeerMessage& msg, size_t compress_above);

// The message of a frame whose payload is at most max_payload bytes (after
// decompression). kInvalid with the reason.
util::Result<PeerMessage> DecodeFrame(util::ByteView frame, size_t max_payload);

}  // namespace tc::p2p
