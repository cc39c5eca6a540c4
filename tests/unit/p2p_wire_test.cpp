// The peer protocol of tc-p2p (tools/tc-p2p/p2p_wire.h) and its bounds
// (p2p_limits.h).
#include "p2p_wire.h"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "net/envelope.h"
#include "p2p_limits.h"

namespace tc::p2p {
namespace {

constexpr size_t kMax = 1 << 20;

util::Bytes Pack(const std::function<void(net::Packer&)>& f) {
    msgpack::sbuffer buf;
    net::Packer p(buf);
    f(p);
    const auto* d = reinterpret_cast<const uint8_t*>(buf.data());
    return {d, d + buf.size()};
}

// A frame around an arbitrary payload.
util::Bytes Frame(uint64_t version, uint64_t codec, const util::Bytes& payload) {
    return Pack([&](net::Packer& p) {
        p.pack_array(3);
        p.pack_uint64(version);
        p.pack_uint64(codec);
        net::PackBin(p, payload);
    });
}

std::string DecodeError(const util::Bytes& frame, size_t max = kMax) {
    auto r = DecodeFrame(frame, max);
    return r ? "" : r.error().message;
}

TEST(P2pWire, EveryKindRoundTripsRawAndCompressed) {
    wire::Hash h{};
    h[0] = 7;
    std::vector<PeerMessage> all = {
        Tip{42, h},
        PbftBytes{util::Bytes(300, 0xab)},
        Txs{{util::Bytes(10, 1), util::Bytes(5000, 2)}},
        GetBlocks{9, 100, 128},
        Blocks{9, {{util::Bytes(2000, 3), util::Bytes(100, 4)}, {util::Bytes(1, 5), {}}}},
        Txs{},
        Blocks{1, {}},
    };
    for (const auto& msg : all) {
        for (size_t above : {size_t{0}, SIZE_MAX}) {
            auto back = DecodeFrame(EncodeFrame(msg, above), kMax);
            ASSERT_TRUE(back) << KindName(msg) << ": " << back.error().message;
            EXPECT_EQ(*back, msg) << KindName(msg);
        }
    }
}

TEST(P2pWire, CompressionShrinksLargeRepetitivePayloads) {
    Txs big{std::vector<util::Bytes>(100, util::Bytes(500, 9))};
    EXPECT_LT(EncodeFrame(big, 4096).size(), EncodeFrame(big, SIZE_MAX).size() / 10);
}

TEST(P2pWire, RejectsUnknownVersionCodecAndKind) {
    const util::Bytes tip = Pack([](net::Packer& p) {
        p.pack_array(3);
        net::PackStr(p, "tip");
        p.pack_uint64(1);
        net::PackBin(p, util::Bytes(32, 0));
    });
    EXPECT_EQ(DecodeError(Frame(1, 0, tip)), "");
    EXPECT_NE(DecodeError(Frame(2, 0, tip)).find("unsupported version"), std::string::npos);
    EXPECT_NE(DecodeError(Frame(1, 7, tip)).find("unknown codec"), std::string::npos);
    const util::Bytes other = Pack([](net::Packer& p) {
        p.pack_array(1);
        net::PackStr(p, "hello");
    });
    EXPECT_NE(DecodeError(Frame(1, 0, other)).find("unknown kind \"hello\""), std::string::npos);
}

TEST(P2pWire, RejectsTrailingBytesInFrameAndPayload) {
    util::Bytes frame = EncodeFrame(GetBlocks{1, 2, 3}, SIZE_MAX);
    frame.push_back(0);
    EXPECT_NE(DecodeError(frame).find("1 trailing bytes"), std::string::npos);
    util::Bytes payload = Pack([](net::Packer& p) {
        p.pack_array(4);
        net::PackStr(p, "get");
        p.pack_uint64(1);
        p.pack_uint64(2);
        p.pack_uint64(3);
    });
    payload.push_back(0xc0);
    EXPECT_NE(DecodeError(Frame(1, 0, payload)).find("payload: 1 trailing bytes"),
              std::string::npos);
}

TEST(P2pWire, RejectsWrongShapes) {
    auto payload = [](const std::function<void(net::Packer&)>& f) { return Frame(1, 0, Pack(f)); };
    // tip with a 31-byte hash
    EXPECT_NE(DecodeError(payload([](net::Packer& p) {
                  p.pack_array(3);
                  net::PackStr(p, "tip");
                  p.pack_uint64(1);
                  net::PackBin(p, util::Bytes(31, 0));
              })).find("tip: expected"),
              std::string::npos);
    // get with a negative count
    EXPECT_NE(DecodeError(payload([](net::Packer& p) {
                  p.pack_array(4);
                  net::PackStr(p, "get");
                  p.pack_uint64(1);
                  p.pack_uint64(1);
                  p.pack_int64(-1);
              })).find("get: expected"),
              std::string::npos);
    // a tx that is a string
    EXPECT_NE(DecodeError(payload([](net::Packer& p) {
                  p.pack_array(2);
                  net::PackStr(p, "txs");
                  p.pack_array(1);
                  net::PackStr(p, "tx");
              })).find("txs: expected"),
              std::string::npos);
    // a block pair of three
    EXPECT_NE(DecodeError(payload([](net::Packer& p) {
                  p.pack_array(3);
                  net::PackStr(p, "blocks");
                  p.pack_uint64(1);
                  p.pack_array(1);
                  p.pack_array(3);
                  net::PackBin(p, util::Bytes(1));
                  net::PackBin(p, util::Bytes(1));
                  net::PackBin(p, util::Bytes(1));
              })).find("blocks: expected"),
              std::string::npos);
    EXPECT_NE(DecodeError(util::Bytes{0xc1}).find("not msgpack"), std::string::npos);
    EXPECT_NE(DecodeError(Pack([](net::Packer& p) { p.pack_uint64(1); })).find("expected [version"),
              std::string::npos);
}

TEST(P2pWire, RejectsOversizePayloadsAndTooManyItems) {
    const util::Bytes frame = EncodeFrame(PbftBytes{util::Bytes(5000, 1)}, SIZE_MAX);
    EXPECT_EQ(DecodeError(frame, 6000), "");
    EXPECT_NE(DecodeError(frame, 4000).find("exceed 4000"), std::string::npos);
    // Compressed: the bound applies to what it would decompress to, before
    // decompressing (a zip bomb is refused by its header).
    const util::Bytes zipped = EncodeFrame(PbftBytes{util::Bytes(1 << 20, 0)}, 0);
    EXPECT_LT(zipped.size(), 1000u);
    EXPECT_NE(DecodeError(zipped, 1 << 19).find("decompressed exceed"), std::string::npos);
    EXPECT_NE(DecodeError(Frame(1, 1, util::Bytes(20, 0x55))).find("zstd"), std::string::npos);
    Txs many{std::vector<util::Bytes>(kMaxTxs + 1, util::Bytes(1, 0))};
    EXPECT_NE(DecodeError(EncodeFrame(many, SIZE_MAX)).find("not msgpack"), std::string::npos);
}

TEST(P2pLimits, TokenBucketRefillsAtItsRateUpToItsBurst) {
    TokenBucket b(10, 20);  // 10 a second, 20 saved up
    uint64_t t = 1000;
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(b.Take(1, t)) << i;
    EXPECT_FALSE(b.Take(1, t));
    EXPECT_FALSE(b.Take(1, t + 50));  // half a token
    EXPECT_TRUE(b.Take(1, t + 100));
    EXPECT_FALSE(b.Take(1, t + 100));
    // A long silence saves up no more than the burst.
    t += 100'000;
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(b.Take(1, t)) << i;
    EXPECT_FALSE(b.Take(1, t));
    EXPECT_FALSE(b.Take(25, t + 100'000));  // more than the burst never passes
}

TEST(P2pLimits, SeenCacheForgetsTheOldestBeyondItsCapacity) {
    SeenCache seen(3);
    auto h = [](uint8_t i) {
        wire::Hash x{};
        x[0] = i;
        x[31] = i;
        return x;
    };
    EXPECT_TRUE(seen.Insert(h(1)));
    EXPECT_FALSE(seen.Insert(h(1)));
    EXPECT_TRUE(seen.Insert(h(2)));
    EXPECT_TRUE(seen.Insert(h(3)));
    EXPECT_TRUE(seen.Insert(h(4)));  // 1 goes
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_FALSE(seen.Contains(h(1)));
    EXPECT_TRUE(seen.Contains(h(2)));
    EXPECT_TRUE(seen.Insert(h(1)));
    SeenCache none(0);
    EXPECT_TRUE(none.Insert(h(1)));
    EXPECT_TRUE(none.Insert(h(1)));
}

}  // namespace
}  // namespace tc::p2p
