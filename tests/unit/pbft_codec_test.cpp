// The canonical encoding of the PBFT messages (wire/pbft.h, Encode/DecodePbftMessage in
// wire/codec.h): round trips of every kind, the exact bytes of a known message, the digests
// the VIEW-CHANGE and NEW-VIEW signatures cover, and every rule the decoder enforces, each
// with the field it names. Hostile inputs are crafted with msgpack::packer.
#include <gtest/gtest.h>

#include <chrono>
#include <msgpack.hpp>
#include <string>

#include "crypto/hash.h"
#include "util/bytes.h"
#include "wire/codec.h"
#include "wire/pbft.h"
#include "wire/types.h"

namespace tc::wire {
namespace {

using util::Bytes;

template <size_t N>
util::ByteArray<N> Filled(uint8_t b) {
    util::ByteArray<N> out;
    out.fill(b);
    return out;
}

std::string Repeat(std::string_view s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

// Hand-crafted msgpack. Not copyable: the packer refers to the buffer.
class Msg {
  public:
    Msg& Arr(uint32_t n) {
        m_pk.pack_array(n);
        return *this;
    }
    Msg& U(uint64_t v) {
        m_pk.pack_uint64(v);
        return *this;
    }
    Msg& Nil() {
        m_pk.pack_nil();
        return *this;
    }
    Msg& Str(const std::string& s) {
        m_pk.pack_str(static_cast<uint32_t>(s.size()));
        m_pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
        return *this;
    }
    Msg& Bin(size_t n, uint8_t fill = 0xab) {
        std::string body(n, static_cast<char>(fill));
        m_pk.pack_bin(static_cast<uint32_t>(n));
        m_pk.pack_bin_body(body.data(), static_cast<uint32_t>(n));
        return *this;
    }
    Msg& Raw(util::ByteView b) {
        m_buf.write(reinterpret_cast<const char*>(b.data()), b.size());
        return *this;
    }
    Msg& Raw(std::string_view hex) { return Raw(util::FromHex(hex).value()); }
    // A message's body: its encoding after the 3-byte envelope header [0x93, 1, kind].
    Msg& BodyOf(const PbftMessage& msg) {
        Bytes b = Encode(msg);
        return Raw(util::ByteView(b).subspan(3));
    }

    Bytes bytes() const {
        const auto* p = reinterpret_cast<const uint8_t*>(m_buf.data());
        return Bytes(p, p + m_buf.size());
    }

  private:
    msgpack::sbuffer m_buf;
    msgpack::packer<msgpack::sbuffer> m_pk{m_buf};
};

Transaction SampleTransfer() {
    Transaction tx;
    tx.inputs = {{Filled<32>(0x11), 1}, {Filled<32>(0x12), 70000}};
    tx.outputs = {{100'000'000, Filled<20>(0x22)}, {UINT64_MAX, Filled<20>(0x23)}};
    tx.expiry = 1'000'000;
    tx.witnesses = {Witness{Filled<32>(0x77), Filled<64>(0x78)}, std::nullopt};
    return tx;
}

Transaction SampleRegister() {
    Transaction tx;
    tx.kind = TxKind::kRegister;
    tx.inputs = {{Filled<32>(0x13), 0}};
    tx.outputs = {{1'000'000'000'000, Filled<20>(0x24)}};
    tx.payload = RegisterPayload{Filled<32>(0x44), "node1.example.org:7420", Filled<20>(0x55)};
    return tx;
}

Block SampleBlock(size_t txs = 2) {
    Block b;
    b.header.height = 12345;
    b.header.prev_hash = Filled<32>(0x01);
    b.header.view = 3;
    b.header.timestamp_ms = 1'700'000'000'000;
    b.header.proposer = 2;
    b.header.tx_root = Filled<32>(0x02);
    b.header.mnset_hash = Filled<32>(0x03);
    for (size_t i = 0; i < txs; ++i) b.txs.push_back(i % 2 ? SampleRegister() : SampleTransfer());
    return b;
}

PrePrepare SamplePrePrepare(size_t txs = 2) {
    PrePrepare pp;
    pp.height = 12345;
    pp.view = 4;
    pp.replica = 1;
    pp.block = SampleBlock(txs);
    pp.signature = Filled<64>(0xa1);
    return pp;
}

Vote SampleVote(VotePhase phase = VotePhase::kPrepare) {
    Vote v;
    v.phase = phase;
    v.height = 12345;
    v.view = 4;
    v.digest = Filled<32>(0x09);
    v.replica = 3;
    v.signature = Filled<64>(0xcc);
    return v;
}

PreparedCert SamplePrepared() {
    PreparedCert p;
    p.view = 3;
    p.digest = BlockHash(SampleBlock().header);
    p.sigs = {{0, Filled<64>(0xb0)}, {2, Filled<64>(0xb2)}, {300, Filled<64>(0xb3)}};
    return p;
}

ViewChange SampleViewChange(bool prepared, bool block) {
    ViewChange vc;
    vc.height = 12345;
    vc.new_view = 5;
    vc.replica = 2;
    if (prepared) vc.prepared = SamplePrepared();
    if (block) vc.block = SampleBlock();
    vc.signature = Filled<64>(0xd2);
    return vc;
}

NewView SampleNewView() {
    NewView nv;
    nv.height = 12345;
    nv.view = 5;
    nv.replica = 0;
    nv.view_changes = {SampleViewChange(false, false), SampleViewChange(true, false),
                       SampleViewChange(false, false)};
    nv.view_changes[0].replica = 0;
    nv.view_changes[2].replica = 3;
    nv.proposal = SamplePrePrepare();
    nv.proposal.view = 5;
    nv.proposal.replica = 0;
    nv.signature = Filled<64>(0xe0);
    return nv;
}

Decided SampleDecided() {
    Decided d;
    d.block = SampleBlock();
    d.cert.height = 12345;
    d.cert.view = 3;
    d.cert.block_hash = BlockHash(d.block.header);
    d.cert.sigs = {{1, Filled<64>(0xf1)}, {2, Filled<64>(0xf2)}, {3, Filled<64>(0xf3)}};
    return d;
}

// The decode failed with a message containing `part`.
void ExpectError(const util::Result<PbftMessage>& r, const std::string& part) {
    ASSERT_FALSE(r.ok()) << "decoded, but expected an error containing \"" << part << "\"";
    EXPECT_EQ(r.error().code, util::Errc::kInvalid) << r.error().message;
    EXPECT_NE(r.error().message.find(part), std::string::npos)
        << "message: " << r.error().message << "\nexpected to contain: " << part;
}

void ExpectRoundTrip(const PbftMessage& msg) {
    Bytes bytes = Encode(msg);
    auto back = DecodePbftMessage(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, msg);
    EXPECT_EQ(Encode(*back), bytes);
}

// ---------------------------------------------------------------------------------------
// Round trips

TEST(PbftCodecRoundTrip, PrePrepare) {
    ExpectRoundTrip(PrePrepare{});
    ExpectRoundTrip(SamplePrePrepare(0));
    ExpectRoundTrip(SamplePrePrepare(5));
    PrePrepare max = SamplePrePrepare(1);
    max.height = max.view = UINT64_MAX;
    max.replica = UINT32_MAX;
    ExpectRoundTrip(max);
}

TEST(PbftCodecRoundTrip, Votes) {
    ExpectRoundTrip(Vote{});
    ExpectRoundTrip(SampleVote(VotePhase::kPrepare));
    ExpectRoundTrip(SampleVote(VotePhase::kCommit));
}

TEST(PbftCodecRoundTrip, ViewChange) {
    ExpectRoundTrip(ViewChange{});
    ExpectRoundTrip(SampleViewChange(false, false));
    ExpectRoundTrip(SampleViewChange(true, false));
    ExpectRoundTrip(SampleViewChange(true, true));
    ViewChange empty_cert = SampleViewChange(true, true);
    empty_cert.prepared->sigs.clear();
    empty_cert.block->txs.clear();
    ExpectRoundTrip(empty_cert);
}

TEST(PbftCodecRoundTrip, NewView) {
    ExpectRoundTrip(NewView{});
    ExpectRoundTrip(SampleNewView());
    NewView no_txs = SampleNewView();
    no_txs.proposal.block.txs.clear();
    ExpectRoundTrip(no_txs);
}

TEST(PbftCodecRoundTrip, Decided) {
    ExpectRoundTrip(Decided{});
    ExpectRoundTrip(SampleDecided());
}

TEST(PbftCodecRoundTrip, LargestPreparedAndViewChangeCount) {
    ViewChange vc = SampleViewChange(true, false);
    vc.prepared->sigs.clear();
    for (size_t i = 0; i < kMaxCertificateSigs; ++i) {
        vc.prepared->sigs.push_back({static_cast<uint32_t>(i * 3), Filled<64>(0x01)});
    }
    ExpectRoundTrip(vc);
    NewView nv = SampleNewView();
    nv.view_changes.assign(kMaxNewViewChanges, SampleViewChange(false, false));
    ExpectRoundTrip(nv);
}

TEST(PbftCodecRoundTrip, NewViewCarriesViewChangesWithoutBlocks) {
    NewView nv = SampleNewView();
    Bytes expected = Encode(nv);
    nv.view_changes[1].block = SampleBlock();  // as the primary received it
    EXPECT_EQ(Encode(nv), expected);
    auto back = DecodePbftMessage(expected);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_FALSE(std::get<NewView>(*back).view_changes[1].block.has_value());
}

TEST(PbftCodecRoundTrip, BodiesReuseTheTypesEncodings) {
    // [1, 1, vote]: the vote inside is the wire::Vote encoding, version and all.
    Vote v = SampleVote();
    Bytes expected = {0x93, 0x01, 0x01};
    util::Append(expected, Encode(v));
    EXPECT_EQ(Encode(PbftMessage(v)), expected);
    // [1, 4, [block, cert]].
    Decided d = SampleDecided();
    expected = {0x93, 0x01, 0x04, 0x92};
    util::Append(expected, Encode(d.block));
    util::Append(expected, Encode(d.cert));
    EXPECT_EQ(Encode(d), expected);
}

// ---------------------------------------------------------------------------------------
// The format, byte by byte, and the digests

TEST(PbftCodecFormat, KnownViewChange) {
    ViewChange vc;
    vc.height = 7;
    vc.new_view = 2;
    vc.replica = 1;
    vc.signature = Filled<64>(0x5a);
    std::string hex =
        "93"      // envelope: array of 3
        "01"      // version 1
        "02"      // kind 2: view-change
        "96"      // body: array of 6
        "07"      // height 7
        "02"      // new_view 2
        "01"      // replica 1
        "c0"      // prepared: nil (none)
        "c0"      // block: nil
        "c440" +  // signature: bin8, 64 bytes
        Repeat("5a", 64);
    EXPECT_EQ(util::ToHex(Encode(vc)), hex);
    // The digest's preimage [1, height, new_view, replica, prepared]; its BLAKE2b-256 was
    // computed independently (Python hashlib.blake2b(digest_size=32)).
    EXPECT_EQ(util::ToHex(EncodeUnsigned(vc)), "9501070201c0");
    EXPECT_EQ(util::ToHex(ViewChangeDigest(vc)),
              "7ea8b666fd84ce3740ab732eb32778954787d096a2ff76e3239ea401cb9312ce");

    vc.prepared = PreparedCert{1, Filled<32>(0x09), {{0, Filled<64>(0x0b)}}};
    std::string prepared_hex =
        "93"      // prepared: array of 3
        "01"      // view 1
        "c420" +  // digest: bin8, 32 bytes
        Repeat("09", 32) +
        "91"      // sigs: array of 1
        "92"      // [index, signature]
        "00"      // index 0
        "c440" +  // signature: bin8, 64 bytes
        Repeat("0b", 64);
    EXPECT_EQ(util::ToHex(EncodeUnsigned(vc)), "9501070201" + prepared_hex);
    EXPECT_EQ(util::ToHex(Encode(vc)),
              "93010296070201" + prepared_hex + "c0c440" + Repeat("5a", 64));
}

TEST(PbftCodecFormat, KnownEnvelopes) {
    PrePrepare pp;
    pp.height = 1;
    pp.signature = Filled<64>(0x5b);
    // [1, 0, [1, 0, 0, block, signature]], the block [1, header, []].
    EXPECT_EQ(util::ToHex(Encode(pp)),
              "9301009501000093"
              "01" +
                  util::ToHex(Encode(pp.block.header)) + "90c440" + Repeat("5b", 64));
    NewView nv;
    nv.view = 1;
    nv.proposal = pp;
    nv.signature = Filled<64>(0x5c);
    Bytes proposal = Encode(pp);
    // [1, 3, [0, 1, 0, [], proposal body, signature]]
    EXPECT_EQ(util::ToHex(Encode(nv)),
              "93010396000100"
              "90" +
                  util::ToHex(util::ByteView(proposal).subspan(3)) + "c440" + Repeat("5c", 64));
    // Its digest's preimage: [1, 0, 1, 0, [], proposal body].
    EXPECT_EQ(util::ToHex(EncodeUnsigned(nv)),
              "960100010090" + util::ToHex(util::ByteView(proposal).subspan(3)));
}

TEST(PbftDigest, ViewChangeCoversTheFieldsButNotSignatureOrBlock) {
    ViewChange vc = SampleViewChange(true, false);
    Hash digest = ViewChangeDigest(vc);
    EXPECT_EQ(digest, crypto::Blake2b256(EncodeUnsigned(vc)));
    ViewChange other = vc;
    other.signature = Filled<64>(0x00);
    other.block = SampleBlock();
    EXPECT_EQ(ViewChangeDigest(other), digest);
    other = vc;
    other.prepared->sigs.pop_back();
    EXPECT_NE(ViewChangeDigest(other), digest);
    other = vc;
    other.prepared.reset();
    EXPECT_NE(ViewChangeDigest(other), digest);
    other = vc;
    other.new_view += 1;
    EXPECT_NE(ViewChangeDigest(other), digest);
    other = vc;
    other.replica += 1;
    EXPECT_NE(ViewChangeDigest(other), digest);
}

TEST(PbftDigest, NewViewCoversViewChangesAndProposalButNotItsSignature) {
    NewView nv = SampleNewView();
    Hash digest = NewViewDigest(nv);
    EXPECT_EQ(digest, crypto::Blake2b256(EncodeUnsigned(nv)));
    NewView other = nv;
    other.signature = Filled<64>(0x00);
    other.view_changes[1].block = SampleBlock();
    EXPECT_EQ(NewViewDigest(other), digest);
    other = nv;
    other.view_changes[0].signature = Filled<64>(0x00);
    EXPECT_NE(NewViewDigest(other), digest);
    other = nv;
    other.view_changes.pop_back();
    EXPECT_NE(NewViewDigest(other), digest);
    other = nv;
    other.proposal.signature = Filled<64>(0x00);
    EXPECT_NE(NewViewDigest(other), digest);
    other = nv;
    other.proposal.block.txs.pop_back();
    EXPECT_NE(NewViewDigest(other), digest);
}

TEST(PbftMessageInfo, HeightViewReplicaAndName) {
    struct Case {
        PbftMessage msg;
        uint64_t height, view;
        uint32_t replica;
        std::string name;
    };
    ViewChange vc = SampleViewChange(false, false);
    Decided d = SampleDecided();
    Case cases[] = {
        {SamplePrePrepare(), 12345, 4, 1, "PRE-PREPARE"},
        {SampleVote(VotePhase::kPrepare), 12345, 4, 3, "PREPARE"},
        {SampleVote(VotePhase::kCommit), 12345, 4, 3, "COMMIT"},
        {vc, 12345, 5, 2, "VIEW-CHANGE"},
        {SampleNewView(), 12345, 5, 0, "NEW-VIEW"},
        {d, 12345, 3, 0, "DECIDED"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(MessageHeight(c.msg), c.height) << c.name;
        EXPECT_EQ(MessageView(c.msg), c.view) << c.name;
        EXPECT_EQ(MessageReplica(c.msg), c.replica) << c.name;
        EXPECT_EQ(MessageKindName(c.msg), c.name);
    }
}

// ---------------------------------------------------------------------------------------
// What the decoder refuses, and the field it names

TEST(PbftCodecRejects, UnknownVersion) {
    Bytes b = Encode(PbftMessage(SampleVote()));
    b[1] = 0x02;
    ExpectError(DecodePbftMessage(b), "pbft.version: unknown version 2");
    Msg m;
    m.Arr(3).U(1).U(1).Arr(7).U(9).Raw(util::ByteView(Encode(SampleVote())).subspan(2));
    ExpectError(DecodePbftMessage(m.bytes()), "pbft.vote.version: unknown version 9");
}

TEST(PbftCodecRejects, UnknownKind) {
    for (uint64_t kind : {5, 127, 255}) {
        Msg m;
        m.Arr(3).U(1).U(kind).BodyOf(SampleVote());
        ExpectError(DecodePbftMessage(m.bytes()),
                    "pbft.kind: unknown kind " + std::to_string(kind));
    }
    Msg wide;
    wide.Arr(3).U(1).U(256).Nil();
    ExpectError(DecodePbftMessage(wide.bytes()), "pbft.kind: expected uint8, got 256");
    Msg str;
    str.Arr(3).U(1).Str("vote").Nil();
    ExpectError(DecodePbftMessage(str.bytes()), "pbft.kind: expected uint8, got str");
}

TEST(PbftCodecRejects, BodyMustMatchKind) {
    Msg m;
    m.Arr(3).U(1).U(0).BodyOf(SampleVote());
    ExpectError(DecodePbftMessage(m.bytes()),
                "pbft.pre_prepare: expected an array of 5 fields, got 7");
    ExpectError(DecodePbftMessage(util::FromHex("930104c0").value()),
                "pbft.decided: expected an array of 2 fields, got nil");
    ExpectError(DecodePbftMessage(util::FromHex("920101").value()),
                "pbft: expected an array of 3 fields, got 2");
}

TEST(PbftCodecRejects, TrailingBytes) {
    Bytes b = Encode(SampleNewView());
    size_t end = b.size();
    b.push_back(0xc0);
    ExpectError(DecodePbftMessage(b),
                "pbft: 1 trailing byte after the encoding ends at offset " + std::to_string(end));
}

TEST(PbftCodecRejects, OversizeInput) {
    Bytes b(kMaxEncodedPbftBytes + 1, 0x00);
    ExpectError(DecodePbftMessage(b), "pbft: " + std::to_string(kMaxEncodedPbftBytes + 1) +
                                          " bytes exceed the limit of " +
                                          std::to_string(kMaxEncodedPbftBytes));
}

TEST(PbftCodecRejects, OversizeViewChangeList) {
    Msg m;
    m.Arr(3).U(1).U(3).Arr(6).U(1).U(1).U(0).Arr(kMaxNewViewChanges + 1);
    ExpectError(DecodePbftMessage(m.bytes()),
                "pbft.new_view.view_changes: 1025 entries exceed the limit of 1024");
    Msg huge;
    huge.Arr(3).U(1).U(3).Arr(6).U(1).U(1).U(0).Raw("ddffffffff");
    ExpectError(DecodePbftMessage(huge.bytes()),
                "pbft.new_view.view_changes: 4294967295 entries exceed the limit of 1024");
}

TEST(PbftCodecRejects, OversizePreparedSigs) {
    Msg m;
    m.Arr(3).U(1).U(2).Arr(6).U(1).U(1).U(0).Arr(3).U(0).Bin(32).Arr(kMaxCertificateSigs + 1);
    ExpectError(DecodePbftMessage(m.bytes()),
                "pbft.view_change.prepared.sigs: 1025 entries exceed the limit of 1024");
}

TEST(PbftCodecRejects, PreparedIndicesStrictlyIncrease) {
    ViewChange vc = SampleViewChange(true, false);
    vc.prepared->sigs[1].index = vc.prepared->sigs[0].index;
    ExpectError(DecodePbftMessage(Encode(vc)),
                "pbft.view_change.prepared.sigs[1].index: not above the previous index 0");
    NewView nv = SampleNewView();
    nv.view_changes[1].prepared->sigs.push_back({7, {}});
    ExpectError(DecodePbftMessage(Encode(nv)),
                "pbft.new_view.view_changes[1].prepared.sigs[3].index: not above the previous "
                "index 300");
}

TEST(PbftCodecRejects, ViewChangeInsideNewViewHasNoBlock) {
    NewView nv = SampleNewView();
    Msg m;
    m.Arr(3).U(1).U(3).Arr(6).U(nv.height).U(nv.view).U(nv.replica).Arr(1);
    m.BodyOf(SampleViewChange(true, true));  // a view change with its block
    m.BodyOf(nv.proposal).Bin(64);
    ExpectError(DecodePbftMessage(m.bytes()),
                "pbft.new_view.view_changes[0].block: a view change inside a NEW-VIEW carries no "
                "block");
}

TEST(PbftCodecRejects, ViewChangeBlockNeedsPrepared) {
    ExpectError(DecodePbftMessage(Encode(SampleViewChange(false, true))),
                "pbft.view_change.block: a block without a prepared certificate");
}

TEST(PbftCodecRejects, NonCanonicalForms) {
    // The version as uint8 0xcc 0x01.
    Msg version;
    version.Arr(3).Raw("cc01").U(1).BodyOf(SampleVote());
    ExpectError(DecodePbftMessage(version.bytes()), "pbft.version: non-canonical encoding");
    // The envelope as array16.
    Msg envelope;
    envelope.Raw("dc0003").U(1).U(1).BodyOf(SampleVote());
    ExpectError(DecodePbftMessage(envelope.bytes()), "pbft: non-canonical encoding");
    // A view change's height as uint16.
    Msg height;
    height.Arr(3).U(1).U(2).Arr(6).Raw("cd0007").U(1).U(0).Nil().Nil().Bin(64);
    ExpectError(DecodePbftMessage(height.bytes()), "pbft.view_change.height: non-canonical");
    // A prepared certificate as array16.
    Msg prepared;
    prepared.Arr(3).U(1).U(2).Arr(6).U(7).U(1).U(0).Raw("dc0003").U(0).Bin(32).Arr(0);
    prepared.Nil().Bin(64);
    ExpectError(DecodePbftMessage(prepared.bytes()),
                "pbft.view_change.prepared: non-canonical encoding");
    // An amount inside the proposal's transactions, which are converted while parsing.
    Block b = SampleBlock(0);
    Msg nested;
    nested.Arr(3).U(1).U(3).Arr(6).U(1).U(1).U(0).Arr(0);
    nested.Arr(5).U(1).U(1).U(0).Arr(3).U(1).Raw(Encode(b.header)).Arr(1);
    nested.Arr(7).U(1).U(0).Arr(0).Arr(1).Arr(2).Raw("cd0005").Bin(20).U(0).Nil().Arr(0);
    nested.Bin(64).Bin(64);
    ExpectError(DecodePbftMessage(nested.bytes()),
                "pbft.new_view.proposal.block.txs[0].outputs[0].amount: non-canonical encoding");
}

TEST(PbftCodecRejects, WrongTypes) {
    Msg sig;
    sig.Arr(3).U(1).U(2).Arr(6).U(7).U(1).U(0).Nil().Nil().Bin(63);
    ExpectError(DecodePbftMessage(sig.bytes()),
                "pbft.view_change.signature: expected 64 bytes, got 63");
    Msg prepared;
    prepared.Arr(3).U(1).U(2).Arr(6).U(7).U(1).U(0).Arr(2).U(0).Bin(32).Nil().Bin(64);
    ExpectError(DecodePbftMessage(prepared.bytes()),
                "pbft.view_change.prepared: expected an array of 3 fields, got 2");
    Msg map;
    map.Arr(3).U(1).U(4).Raw("80");
    ExpectError(DecodePbftMessage(map.bytes()),
                "pbft.decided: expected an array of 2 fields, got map");
}

TEST(PbftCodecRejects, BadTransactionNamesItsPathInEveryKind) {
    Block bad = SampleBlock(3);
    bad.txs[1].kind = TxKind::kTransfer;  // keeps its register payload
    const std::string why = ".block.txs[1].payload: a transfer has no payload";

    PrePrepare pp = SamplePrePrepare();
    pp.block = bad;
    ExpectError(DecodePbftMessage(Encode(pp)), "pbft.pre_prepare" + why);
    ViewChange vc = SampleViewChange(true, true);
    vc.block = bad;
    ExpectError(DecodePbftMessage(Encode(vc)), "pbft.view_change" + why);
    NewView nv = SampleNewView();
    nv.proposal.block = bad;
    ExpectError(DecodePbftMessage(Encode(nv)), "pbft.new_view.proposal" + why);
    Decided d = SampleDecided();
    d.block = bad;
    ExpectError(DecodePbftMessage(Encode(d)), "pbft.decided" + why);

    // An earlier field still wins over a later transaction.
    Bytes bytes = Encode(pp);
    bytes[1] = 0x07;
    ExpectError(DecodePbftMessage(bytes), "pbft.version: unknown version 7");
}

TEST(PbftCodecRejects, TruncationNamesTheField) {
    ExpectError(DecodePbftMessage({}), "pbft: empty input");
    Bytes nv = Encode(SampleNewView());
    // Cut the last byte of the proposal's last transaction (a register without witnesses),
    // which comes before two signatures (bin8 headers and 64 bytes each).
    ExpectError(DecodePbftMessage(util::ByteView(nv.data(), nv.size() - 2 * 66 - 1)),
                "pbft.new_view.proposal.block.txs[1].witnesses: truncated");
    // Cut right before the block of the first view change: its prepared is nil.
    Msg vcs;
    vcs.Arr(3).U(1).U(3).Arr(6).U(1).U(1).U(0).Arr(1).Arr(6).U(1).U(1).U(0).Nil();
    ExpectError(DecodePbftMessage(vcs.bytes()), "pbft.new_view.view_changes[0].block: truncated");
    Bytes d = Encode(SampleDecided());
    ExpectError(DecodePbftMessage(util::ByteView(d.data(), d.size() - 1)),
                "pbft.decided.cert.sigs[2].signature: truncated");
}

TEST(PbftCodecRejects, EveryTruncation) {
    const PbftMessage msgs[] = {SamplePrePrepare(), SampleVote(), SampleViewChange(true, true),
                                SampleNewView(), SampleDecided()};
    for (const auto& msg : msgs) {
        Bytes full = Encode(msg);
        for (size_t n = 0; n < full.size(); ++n) {
            EXPECT_FALSE(DecodePbftMessage(util::ByteView(full.data(), n)).ok())
                << MessageKindName(msg) << ": a prefix of " << n << " bytes decoded";
        }
        EXPECT_TRUE(DecodePbftMessage(full).ok()) << MessageKindName(msg);
    }
}

// Every single-byte substitution of a valid encoding is either rejected or decodes to a
// value that re-encodes to exactly the mutated bytes: there is no second encoding of a value.
TEST(PbftCodecRejects, SingleByteMutations) {
    // Small messages that still hold every kind of field: a block of one signed transfer, a
    // prepared certificate, a view change with and without one.
    Block block = SampleBlock(1);
    block.txs[0].inputs.resize(1);
    block.txs[0].outputs.resize(1);
    block.txs[0].witnesses.resize(1);
    PrePrepare pp = SamplePrePrepare(0);
    pp.block = block;
    ViewChange vc = SampleViewChange(true, true);
    vc.prepared->sigs.resize(2);
    vc.block = block;
    NewView nv = SampleNewView();
    nv.view_changes = {SampleViewChange(false, false), vc};
    nv.proposal.block.txs.clear();
    Decided d = SampleDecided();
    d.block = block;
    d.cert.sigs.resize(1);
    const PbftMessage msgs[] = {pp, SampleVote(), vc, nv, d};
    for (const auto& msg : msgs) {
        Bytes valid = Encode(msg);
        size_t accepted = 0;
        for (size_t i = 0; i < valid.size(); ++i) {
            Bytes b = valid;
            for (int v = 0; v < 256; ++v) {
                if (v == valid[i]) continue;
                b[i] = static_cast<uint8_t>(v);
                auto r = DecodePbftMessage(b);
                if (!r.ok()) continue;
                ++accepted;
                ASSERT_EQ(Encode(*r), b)
                    << MessageKindName(msg) << ": byte " << i << " set to " << v;
            }
        }
        EXPECT_GT(accepted, 0u) << MessageKindName(msg);
    }
}

// The transactions of the block inside a message are converted while parsing and their
// nodes dropped, as in DecodeBlock: this block (27 MB, 3.4 million msgpack items) would
// exceed the node bound of the parse if its transactions were held until the end.
TEST(PbftCodecLimits, LargeBlockStreamsInsideMessages) {
    Transaction wide;
    wide.inputs = {{Filled<32>(0x31), 0}};
    wide.outputs.assign(kMaxTxOutputs, TxOut{1, Filled<20>(0x32)});
    NewView nv;
    nv.proposal.block.txs.assign(550, wide);
    Bytes bytes = Encode(nv);
    ASSERT_LE(bytes.size(), kMaxEncodedPbftBytes);
    auto back = DecodePbftMessage(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(std::get<NewView>(*back).proposal.block.txs.size(), 550u);
}

TEST(PbftCodecRejects, HugeClaimsFailFast) {
    auto start = std::chrono::steady_clock::now();
    ExpectError(DecodePbftMessage(util::FromHex("ddffffffff").value()),
                "pbft: expected an array of 3 fields, got 4294967295");
    Msg txs;
    txs.Arr(3).U(1).U(0).Arr(5).U(1).U(1).U(0).Arr(3).U(1);
    txs.Raw(Encode(SampleBlock().header)).Raw("ddffffffff");
    ExpectError(DecodePbftMessage(txs.bytes()),
                "pbft.pre_prepare.block.txs: 4294967295 entries exceed the limit of 100000");
    Msg claimed;
    claimed.Arr(3).U(1).U(4).Arr(2).Arr(3).U(1).Raw(Encode(SampleBlock().header)).Arr(100'000);
    ExpectError(DecodePbftMessage(claimed.bytes()), "pbft.decided.block.txs[0]: truncated");
    Bytes bomb = {0x93, 0x01, 0x03};
    bomb.insert(bomb.end(), 100'000, 0x91);
    ExpectError(DecodePbftMessage(bomb), "pbft.new_view: expected an array of 6 fields, got 1");
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(2));
}

}  // namespace
}  // namespace tc::wire
