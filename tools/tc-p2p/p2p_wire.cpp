#include "p2p_wire.h"

#include <zstd.h>

#include <msgpack.hpp>

#include "net/envelope.h"

namespace tc::p2p {

using net::Packer;
using util::Errc;
using util::MakeError;
using Type = msgpack::type::object_type;

namespace {

constexpr uint64_t kCodecRaw = 0;
constexpr uint64_t kCodecZstd = 1;
constexpr int kZstdLevel = 1;  // fast: links are local or LAN, CPU is the scarce part

msgpack::sbuffer EncodePayload(const PeerMessage& msg) {
    msgpack::sbuffer buf;
    Packer p(buf);
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Tip>) {
                p.pack_array(3);
                net::PackStr(p, "tip");
                p.pack_uint64(m.height);
                net::PackBin(p, m.hash);
            } else if constexpr (std::is_same_v<T, PbftBytes>) {
                p.pack_array(2);
                net::PackStr(p, "pbft");
                net::PackBin(p, m.bytes);
            } else if constexpr (std::is_same_v<T, Txs>) {
                p.pack_array(2);
                net::PackStr(p, "txs");
                p.pack_array(static_cast<uint32_t>(m.txs.size()));
                for (const auto& tx : m.txs) net::PackBin(p, tx);
            } else if constexpr (std::is_same_v<T, GetBlocks>) {
                p.pack_array(4);
                net::PackStr(p, "get");
                p.pack_uint64(m.id);
                p.pack_uint64(m.from);
                p.pack_uint64(m.count);
            } else {
                p.pack_array(3);
                net::PackStr(p, "blocks");
                p.pack_uint64(m.id);
                p.pack_array(static_cast<uint32_t>(m.blocks.size()));
                for (const auto& b : m.blocks) {
                    p.pack_array(2);
                    net::PackBin(p, b.block);
                    net::PackBin(p, b.cert);
                }
            }
        },
        msg);
    return buf;
}

util::Bytes Bin(const msgpack::object& o) {
    util::ByteView v = net::BinView(o);
    return {v.begin(), v.end()};
}

util::Result<util::Bytes> Decompress(util::ByteView in, size_t max_payload) {
    const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
        return MakeError(Errc::kInvalid, "payload: not a zstd frame with its size");
    }
    if (size > max_payload) {
        return MakeError(Errc::kInvalid, "payload: " + std::to_string(size) +
                                             " bytes decompressed exceed " +
                                             std::to_string(max_payload));
    }
    util::Bytes out(static_cast<size_t>(size));
    const size_t got = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(got) || got != out.size()) {
        return MakeError(Errc::kInvalid,
                         "payload: zstd: " + std::string(ZSTD_isError(got) ? ZSTD_getErrorName(got)
                                                                           : "size mismatch"));
    }
    return out;
}

// Unpacks exactly one msgpack object from bytes (no trailing bytes).
util::Result<msgpack::object_handle> UnpackOne(util::ByteView bytes, const char* what,
                                               size_t max_array) {
    try {
        size_t offset = 0;
        const auto* data = reinterpret_cast<const char*>(bytes.data());
        // Every BIN may be as large as the whole input; arrays are bounded.
        msgpack::unpack_limit limit(max_array, 0, bytes.size(), bytes.size(), 0, 4);
        msgpack::object_handle h =
            msgpack::unpack(data, bytes.size(), offset, nullptr, nullptr, limit);
        if (offset != bytes.size()) {
            return MakeError(Errc::kInvalid, std::string(what) + ": " +
                                                 std::to_string(bytes.size() - offset) +
                                                 " trailing bytes");
        }
        return h;
    } catch (const std::exception& e) {
        return MakeError(Errc::kInvalid, std::string(what) + ": not msgpack: " + e.what());
    }
}

bool IsUint(const msgpack::object& o) {
    return o.type == Type::POSITIVE_INTEGER;
}
bool IsBin(const msgpack::object& o) {
    return o.type == Type::BIN;
}

util::Result<PeerMessage> DecodePayload(util::ByteView bytes) {
    TC_TRY(handle, UnpackOne(bytes, "payload", std::max(kMaxTxs, kMaxBlocks)));
    const msgpack::object& o = handle.get();
    if (o.type != Type::ARRAY || o.via.array.size == 0 || o.via.array.ptr[0].type != Type::STR) {
        return MakeError(Errc::kInvalid, "payload: expected [kind, ...]");
    }
    const auto& a = o.via.array;
    const std::string_view kind = net::StrView(a.ptr[0]);
    auto bad = [&](const char* shape) {
        return MakeError(Errc::kInvalid, "payload: " + std::string(kind) + ": expected " + shape);
    };
    if (kind == "tip") {
        if (a.size != 3 || !IsUint(a.ptr[1]) || !IsBin(a.ptr[2]) || a.ptr[2].via.bin.size != 32) {
            return bad("[\"tip\", height, hash bin(32)]");
        }
        Tip t;
        t.height = a.ptr[1].via.u64;
        std::copy_n(net::BinView(a.ptr[2]).begin(), 32, t.hash.begin());
        return PeerMessage{t};
    }
    if (kind == "pbft") {
        if (a.size != 2 || !IsBin(a.ptr[1])) return bad("[\"pbft\", bytes bin]");
        return PeerMessage{PbftBytes{Bin(a.ptr[1])}};
    }
    if (kind == "txs") {
        if (a.size != 2 || a.ptr[1].type != Type::ARRAY) return bad("[\"txs\", [tx bin, ...]]");
        const auto& list = a.ptr[1].via.array;
        if (list.size > kMaxTxs) return bad("at most 4096 transactions");
        Txs t;
        t.txs.reserve(list.size);
        for (uint32_t i = 0; i < list.size; ++i) {
            if (!IsBin(list.ptr[i])) return bad("[\"txs\", [tx bin, ...]]");
            t.txs.push_back(Bin(list.ptr[i]));
        }
        return PeerMessage{std::move(t)};
    }
    if (kind == "get") {
        if (a.size != 4 || !IsUint(a.ptr[1]) || !IsUint(a.ptr[2]) || !IsUint(a.ptr[3])) {
            return bad("[\"get\", id, from, count]");
        }
        return PeerMessage{GetBlocks{a.ptr[1].via.u64, a.ptr[2].via.u64, a.ptr[3].via.u64}};
    }
    if (kind == "blocks") {
        if (a.size != 3 || !IsUint(a.ptr[1]) || a.ptr[2].type != Type::ARRAY) {
            return bad("[\"blocks\", id, [[block bin, cert bin], ...]]");
        }
        const auto& list = a.ptr[2].via.array;
        if (list.size > kMaxBlocks) return bad("at most 1024 blocks");
        Blocks b;
        b.id = a.ptr[1].via.u64;
        for (uint32_t i = 0; i < list.size; ++i) {
            const auto& e = list.ptr[i];
            if (e.type != Type::ARRAY || e.via.array.size != 2 || !IsBin(e.via.array.ptr[0]) ||
                !IsBin(e.via.array.ptr[1])) {
                return bad("[\"blocks\", id, [[block bin, cert bin], ...]]");
            }
            b.blocks.push_back({Bin(e.via.array.ptr[0]), Bin(e.via.array.ptr[1])});
        }
        return PeerMessage{std::move(b)};
    }
    return MakeError(Errc::kInvalid, "payload: unknown kind \"" + std::string(kind) + "\"");
}

}  // namespace

const char* KindName(const PeerMessage& msg) {
    static constexpr const char* kNames[] = {"tip", "pbft", "txs", "get", "blocks"};
    return kNames[msg.index()];
}

util::Bytes EncodeFrame(const PeerMessage& msg, size_t compress_above) {
    msgpack::sbuffer payload = EncodePayload(msg);
    uint64_t codec = kCodecRaw;
    util::Bytes compressed;
    if (payload.size() >= compress_above) {
        compressed.resize(ZSTD_compressBound(payload.size()));
        const size_t n = ZSTD_compress(compressed.data(), compressed.size(), payload.data(),
                                       payload.size(), kZstdLevel);
        if (!ZSTD_isError(n) && n < payload.size()) {
            compressed.resize(n);
            codec = kCodecZstd;
        }
    }
    util::ByteView body =
        codec == kCodecZstd
            ? util::ByteView(compressed)
            : util::ByteView(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    msgpack::sbuffer frame;
    Packer p(frame);
    p.pack_array(3);
    p.pack_uint64(kWireVersion);
    p.pack_uint64(codec);
    net::PackBin(p, body);
    const auto* data = reinterpret_cast<const uint8_t*>(frame.data());
    return {data, data + frame.size()};
}

util::Result<PeerMessage> DecodeFrame(util::ByteView frame, size_t max_payload) {
    TC_TRY(handle, UnpackOne(frame, "frame", 3));
    const msgpack::object& o = handle.get();
    if (o.type != Type::ARRAY || o.via.array.size != 3) {
        return MakeError(Errc::kInvalid, "frame: expected [version, codec, payload]");
    }
    const auto& a = o.via.array;
    if (!IsUint(a.ptr[0]) || a.ptr[0].via.u64 != kWireVersion) {
        return MakeError(Errc::kInvalid, "frame: unsupported version (this node speaks 1)");
    }
    if (!IsUint(a.ptr[1]) || a.ptr[1].via.u64 > kCodecZstd) {
        return MakeError(Errc::kInvalid, "frame: unknown codec (0 raw, 1 zstd)");
    }
    if (!IsBin(a.ptr[2])) return MakeError(Errc::kInvalid, "frame: payload is not a bin");
    util::ByteView payload = net::BinView(a.ptr[2]);
    if (a.ptr[1].via.u64 == kCodecZstd) {
        TC_TRY(raw, Decompress(payload, max_payload));
        return DecodePayload(raw);
    }
    if (payload.size() > max_payload) {
        return MakeError(Errc::kInvalid, "payload: " + std::to_string(payload.size()) +
                                             " bytes exceed " + std::to_string(max_payload));
    }
    return DecodePayload(payload);
}

}  // namespace tc::p2p
