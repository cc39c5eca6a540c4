// The canonical msgpack codec (wire/codec.h): round trips, the exact bytes of a known
// transaction, txid/wtxid, the transaction Merkle root, and every way a decoder refuses
// input, each with the field it names. Hostile inputs are crafted with msgpack::packer so
// that large counts take few bytes.
#include "wire/codec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <msgpack.hpp>
#include <string>

#include "crypto/hash.h"
#include "util/bytes.h"
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

Bytes Hex(std::string_view hex) {
    return util::FromHex(hex).value();
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
        return Do([&] { m_pk.pack_array(n); });
    }
    Msg& Map(uint32_t n) {
        return Do([&] { m_pk.pack_map(n); });
    }
    Msg& U(uint64_t v) {
        return Do([&] { m_pk.pack_uint64(v); });
    }
    Msg& I(int64_t v) {
        return Do([&] { m_pk.pack_int64(v); });
    }
    Msg& Nil() {
        return Do([&] { m_pk.pack_nil(); });
    }
    Msg& F(double v) {
        return Do([&] { m_pk.pack_double(v); });
    }
    Msg& Bool(bool v) {
        return Do([&] { v ? m_pk.pack_true() : m_pk.pack_false(); });
    }
    Msg& Bin(size_t n, uint8_t fill = 0xab) {
        std::string body(n, static_cast<char>(fill));
        m_pk.pack_bin(static_cast<uint32_t>(n));
        m_pk.pack_bin_body(body.data(), static_cast<uint32_t>(n));
        return *this;
    }
    Msg& Str(const std::string& s) {
        m_pk.pack_str(static_cast<uint32_t>(s.size()));
        m_pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
        return *this;
    }
    Msg& Raw(const Bytes& b) {
        m_buf.write(reinterpret_cast<const char*>(b.data()), b.size());
        return *this;
    }
    Msg& Raw(std::string_view hex) { return Raw(Hex(hex)); }

    // A valid input [txid, vout] and output [amount, address].
    Msg& Input() { return Arr(2).Bin(32).U(1); }
    Msg& Output() { return Arr(2).U(100).Bin(20); }

    Bytes bytes() const {
        const auto* p = reinterpret_cast<const uint8_t*>(m_buf.data());
        return Bytes(p, p + m_buf.size());
    }

  private:
    template <typename F>
    Msg& Do(F f) {
        f();
        return *this;
    }
    msgpack::sbuffer m_buf;
    msgpack::packer<msgpack::sbuffer> m_pk{m_buf};
};

Transaction SampleTransfer() {
    Transaction tx;
    tx.inputs = {{Filled<32>(0x11), 1}, {Filled<32>(0x12), 70000}};
    tx.outputs = {{100'000'000, Filled<20>(0x22)}, {UINT64_MAX, Filled<20>(0x23)}};
    tx.expiry = 1'000'000;
    return tx;
}

Transaction SampleRegister() {
    Transaction tx = SampleTransfer();
    tx.kind = TxKind::kRegister;
    tx.payload = RegisterPayload{Filled<32>(0x44), "node1.example.org:7420", Filled<20>(0x55)};
    return tx;
}

Transaction SampleRetire() {
    Transaction tx;
    tx.kind = TxKind::kRetire;
    tx.payload = RetirePayload{Filled<32>(0x44)};
    tx.witnesses = {Witness{Filled<32>(0x44), Filled<64>(0x66)}};
    return tx;
}

BlockHeader SampleHeader() {
    BlockHeader h;
    h.height = 12345;
    h.prev_hash = Filled<32>(0x01);
    h.view = 3;
    h.timestamp_ms = 1'700'000'000'000;
    h.proposer = 2;
    h.tx_root = Filled<32>(0x02);
    h.mnset_hash = Filled<32>(0x03);
    return h;
}

Block SampleBlock() {
    Block b;
    b.header = SampleHeader();
    b.txs = {SampleTransfer(), SampleRegister(), SampleRetire()};
    b.txs[0].witnesses = {Witness{Filled<32>(0x77), Filled<64>(0x78)}, std::nullopt};
    return b;
}

CommitCertificate SampleCertificate() {
    CommitCertificate c;
    c.height = 12345;
    c.view = 3;
    c.block_hash = Filled<32>(0x09);
    c.sigs = {{0, Filled<64>(0xa0)}, {2, Filled<64>(0xa2)}, {300, Filled<64>(0xa3)}};
    return c;
}

Vote SampleVote() {
    Vote v;
    v.phase = VotePhase::kCommit;
    v.height = 12345;
    v.view = 3;
    v.digest = Filled<32>(0x09);
    v.replica = 4;
    v.signature = Filled<64>(0xcc);
    return v;
}

// The decode failed with a message containing `part`.
template <typename T>
void ExpectError(const util::Result<T>& r, const std::string& part) {
    ASSERT_FALSE(r.ok()) << "decoded, but expected an error containing \"" << part << "\"";
    EXPECT_EQ(r.error().code, util::Errc::kInvalid) << r.error().message;
    EXPECT_NE(r.error().message.find(part), std::string::npos)
        << "message: " << r.error().message << "\nexpected to contain: " << part;
}

template <typename T, typename Decode>
void ExpectRoundTrip(const T& value, Decode decode) {
    Bytes bytes = Encode(value);
    auto back = decode(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, value);
    EXPECT_EQ(Encode(*back), bytes);
}

// ---------------------------------------------------------------------------------------
// Round trips

TEST(CodecRoundTrip, Transactions) {
    ExpectRoundTrip(Transaction{}, DecodeTransaction);
    ExpectRoundTrip(SampleTransfer(), DecodeTransaction);
    ExpectRoundTrip(SampleRegister(), DecodeTransaction);
    ExpectRoundTrip(SampleRetire(), DecodeTransaction);

    Transaction partial = SampleRegister();
    partial.witnesses = {std::nullopt, Witness{Filled<32>(0x01), Filled<64>(0x02)}};
    ExpectRoundTrip(partial, DecodeTransaction);
    EXPECT_FALSE(partial.FullySigned());
    partial.witnesses[0] = Witness{Filled<32>(0x03), Filled<64>(0x04)};
    ExpectRoundTrip(partial, DecodeTransaction);
    EXPECT_TRUE(partial.FullySigned());

    Transaction empty_endpoint = SampleRegister();
    std::get<RegisterPayload>(empty_endpoint.payload).endpoint = "";
    ExpectRoundTrip(empty_endpoint, DecodeTransaction);
    Transaction long_endpoint = SampleRegister();
    std::get<RegisterPayload>(long_endpoint.payload).endpoint = std::string(kMaxEndpointBytes, '~');
    ExpectRoundTrip(long_endpoint, DecodeTransaction);
}

TEST(CodecRoundTrip, AllAbsentWitnessesEncodeAsEmpty) {
    Transaction tx = SampleTransfer();
    Bytes unsigned_bytes = Encode(tx);
    tx.witnesses = {std::nullopt, std::nullopt};
    EXPECT_EQ(Encode(tx), unsigned_bytes);
    auto back = DecodeTransaction(unsigned_bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(back->witnesses.empty());
}

TEST(CodecRoundTrip, LargestTransaction) {
    Transaction tx;
    for (size_t i = 0; i < kMaxTxInputs; ++i) {
        tx.inputs.push_back({Filled<32>(static_cast<uint8_t>(i)), UINT32_MAX});
        tx.witnesses.push_back(Witness{Filled<32>(0xee), Filled<64>(0xef)});
    }
    for (size_t i = 0; i < kMaxTxOutputs; ++i) tx.outputs.push_back({UINT64_MAX, Filled<20>(7)});
    tx.expiry = UINT64_MAX;
    EXPECT_LE(Encode(tx).size(), kMaxEncodedTxBytes);
    ExpectRoundTrip(tx, DecodeTransaction);
}

TEST(CodecRoundTrip, Headers) {
    ExpectRoundTrip(BlockHeader{}, DecodeBlockHeader);
    ExpectRoundTrip(SampleHeader(), DecodeBlockHeader);
    BlockHeader max = SampleHeader();
    max.height = max.view = max.timestamp_ms = UINT64_MAX;
    max.proposer = UINT32_MAX;
    ExpectRoundTrip(max, DecodeBlockHeader);
}

TEST(CodecRoundTrip, Blocks) {
    ExpectRoundTrip(Block{}, DecodeBlock);
    ExpectRoundTrip(SampleBlock(), DecodeBlock);
}

TEST(CodecRoundTrip, BlockEmbedsTransactionsAsArrays) {
    Block b;
    b.txs = {SampleTransfer()};
    Bytes block = Encode(b);
    Bytes header = Encode(b.header);
    Bytes tx = Encode(b.txs[0]);
    // [1, header, [tx]]: 0x93 0x01 <header> 0x91 <tx>
    Bytes expected = {0x93, 0x01};
    expected.insert(expected.end(), header.begin(), header.end());
    expected.push_back(0x91);
    expected.insert(expected.end(), tx.begin(), tx.end());
    EXPECT_EQ(block, expected);
}

TEST(CodecRoundTrip, Certificates) {
    ExpectRoundTrip(CommitCertificate{}, DecodeCertificate);
    ExpectRoundTrip(SampleCertificate(), DecodeCertificate);
    CommitCertificate max = SampleCertificate();
    max.height = max.view = UINT64_MAX;
    max.sigs.clear();
    for (size_t i = 0; i < kMaxCertificateSigs; ++i) {
        max.sigs.push_back({static_cast<uint32_t>(UINT32_MAX - kMaxCertificateSigs + i), {}});
    }
    ExpectRoundTrip(max, DecodeCertificate);
}

TEST(CodecRoundTrip, Votes) {
    ExpectRoundTrip(Vote{}, DecodeVote);
    ExpectRoundTrip(SampleVote(), DecodeVote);
    Vote max = SampleVote();
    max.height = max.view = UINT64_MAX;
    max.replica = UINT32_MAX;
    ExpectRoundTrip(max, DecodeVote);
}

// ---------------------------------------------------------------------------------------
// The format, byte by byte

TEST(CodecFormat, KnownTransaction) {
    Transaction tx;
    tx.inputs = {{Filled<32>(0x11), 1}};
    tx.outputs = {{100'000'000, Filled<20>(0x22)}};
    std::string hex =
        "97"      // array of 7 fields
        "01"      // version 1
        "00"      // kind 0: transfer
        "91"      // inputs: array of 1
        "92"      //   [txid, vout]
        "c420" +  //     bin8, 32 bytes
        Repeat("11", 32) +
        "01"          //     vout 1 (positive fixint)
        "91"          // outputs: array of 1
        "92"          //   [amount, address]
        "ce05f5e100"  // amount 100000000 (uint32: the shortest form)
        "c414" +      //     bin8, 20 bytes
        Repeat("22", 20) +
        "00"   // expiry 0
        "c0"   // payload nil (a transfer)
        "90";  // witnesses: empty (unsigned)
    EXPECT_EQ(util::ToHex(Encode(tx)), hex);
    // The txid preimage: the same array without its last field.
    std::string unsigned_hex = "96" + hex.substr(2, hex.size() - 4);
    EXPECT_EQ(util::ToHex(EncodeUnsigned(tx)), unsigned_hex);
}

TEST(CodecFormat, KnownVoteAndPayloads) {
    // [1, 2 (commit), 12345 (uint16), 3, bin8 digest, 4, bin8 signature]
    EXPECT_EQ(util::ToHex(Encode(SampleVote())),
              "970102cd303903c420" + Repeat("09", 32) + "04c440" + Repeat("cc", 64));
    Transaction retire = SampleRetire();
    retire.witnesses.clear();
    // [1, 2 (retire), [], [], 0, [bin8 masternode_key], []]
    EXPECT_EQ(util::ToHex(Encode(retire)), "97010290900091c420" + Repeat("44", 32) + "90");
}

// ---------------------------------------------------------------------------------------
// Identifiers and the Merkle root

TEST(TxIds, TxidIgnoresWitnessesWtxidDoesNot) {
    Transaction tx = SampleTransfer();
    Hash txid = TxId(tx);
    Hash wtxid = WitnessTxId(tx);
    EXPECT_EQ(txid, crypto::Blake2b256(EncodeUnsigned(tx)));
    EXPECT_EQ(wtxid, crypto::Blake2b256(Encode(tx)));
    EXPECT_NE(txid, wtxid);

    tx.witnesses = {Witness{Filled<32>(1), Filled<64>(2)}, std::nullopt};
    EXPECT_EQ(TxId(tx), txid);
    EXPECT_NE(WitnessTxId(tx), wtxid);
    Hash partly_signed = WitnessTxId(tx);
    tx.witnesses[1] = Witness{Filled<32>(3), Filled<64>(4)};
    EXPECT_EQ(TxId(tx), txid);
    EXPECT_NE(WitnessTxId(tx), partly_signed);

    tx.expiry += 1;
    EXPECT_NE(TxId(tx), txid);
}

TEST(TxIds, BlockHashIsTheHeaderHash) {
    BlockHeader h = SampleHeader();
    EXPECT_EQ(BlockHash(h), crypto::Blake2b256(Encode(h)));
    Hash before = BlockHash(h);
    h.view += 1;
    EXPECT_NE(BlockHash(h), before);
}

TEST(TxIds, WitnessSlots) {
    EXPECT_EQ(SampleTransfer().WitnessSlots(), 2u);
    EXPECT_EQ(SampleRetire().WitnessSlots(), 1u);
    EXPECT_FALSE(Transaction{}.FullySigned());
    EXPECT_TRUE(SampleRetire().FullySigned());
    EXPECT_STREQ(TxKindName(TxKind::kRegister), "register");
}

// RFC 6962 by hand: leaves H(0x00 || wtxid), nodes H(0x01 || left || right).
Hash Leaf(const Transaction& tx) {
    Bytes b = {0x00};
    util::Append(b, WitnessTxId(tx));
    return crypto::Blake2b256(b);
}
Hash Join(const Hash& l, const Hash& r) {
    Bytes b = {0x01};
    util::Append(b, l);
    util::Append(b, r);
    return crypto::Blake2b256(b);
}

TEST(TxRoot, MatchesAnIndependentComputation) {
    std::vector<Transaction> txs;
    for (uint64_t i = 0; i < 5; ++i) {
        Transaction tx = SampleTransfer();
        tx.expiry = i;
        txs.push_back(tx);
    }
    Hash l[5];
    for (size_t i = 0; i < 5; ++i) l[i] = Leaf(txs[i]);
    auto first = [&](size_t n) { return std::vector<Transaction>(txs.begin(), txs.begin() + n); };

    EXPECT_EQ(TxRoot({}), crypto::Blake2b256({}));
    EXPECT_EQ(TxRoot(first(1)), l[0]);
    EXPECT_EQ(TxRoot(first(2)), Join(l[0], l[1]));
    EXPECT_EQ(TxRoot(first(3)), Join(Join(l[0], l[1]), l[2]));
    EXPECT_EQ(TxRoot(first(5)), Join(Join(Join(l[0], l[1]), Join(l[2], l[3])), l[4]));
}

TEST(TxRoot, CommitsToWitnesses) {
    std::vector<Transaction> txs = {SampleTransfer()};
    Hash before = TxRoot(txs);
    txs[0].witnesses = {Witness{}, std::nullopt};
    EXPECT_NE(TxRoot(txs), before);
}

// ---------------------------------------------------------------------------------------
// Rejections

TEST(CodecRejects, TrailingBytes) {
    Bytes b = Encode(SampleTransfer());
    size_t end = b.size();
    b.push_back(0x00);
    ExpectError(DecodeTransaction(b),
                "tx: 1 trailing byte after the encoding ends at offset " + std::to_string(end));
    b.push_back(0x00);
    ExpectError(DecodeTransaction(b), "tx: 2 trailing bytes");
    Bytes v = Encode(SampleVote());
    v.push_back(0xc0);
    ExpectError(DecodeVote(v), "vote: 1 trailing byte");
}

template <typename Decode>
void ExpectEveryPrefixFails(const Bytes& full, Decode decode) {
    for (size_t n = 0; n < full.size(); ++n) {
        auto r = decode(util::ByteView(full.data(), n));
        EXPECT_FALSE(r.ok()) << "a prefix of " << n << " bytes decoded";
    }
    EXPECT_TRUE(decode(full).ok());
}

TEST(CodecRejects, EveryTruncation) {
    ExpectEveryPrefixFails(Encode(SampleRegister()), DecodeTransaction);
    ExpectEveryPrefixFails(Encode(SampleRetire()), DecodeTransaction);
    ExpectEveryPrefixFails(Encode(SampleHeader()), DecodeBlockHeader);
    ExpectEveryPrefixFails(Encode(SampleBlock()), DecodeBlock);
    ExpectEveryPrefixFails(Encode(SampleCertificate()), DecodeCertificate);
    ExpectEveryPrefixFails(Encode(SampleVote()), DecodeVote);
}

// Every single-byte substitution of a valid encoding is either rejected or decodes to a
// value that re-encodes to exactly the mutated bytes: there is no second encoding of a value.
template <typename Decode>
void ExpectMutationsRejectedOrCanonical(const Bytes& valid, Decode decode) {
    size_t accepted = 0;
    for (size_t i = 0; i < valid.size(); ++i) {
        Bytes b = valid;
        for (int v = 0; v < 256; ++v) {
            if (v == valid[i]) continue;
            b[i] = static_cast<uint8_t>(v);
            auto r = decode(b);
            if (!r.ok()) continue;
            ++accepted;
            ASSERT_EQ(Encode(*r), b) << "byte " << i << " set to " << v;
        }
    }
    EXPECT_GT(accepted, 0u);  // changing a hash byte, for one, is still a valid encoding
}

TEST(CodecRejects, SingleByteMutations) {
    ExpectMutationsRejectedOrCanonical(Encode(SampleRegister()), DecodeTransaction);
    ExpectMutationsRejectedOrCanonical(Encode(SampleRetire()), DecodeTransaction);
    ExpectMutationsRejectedOrCanonical(Encode(SampleBlock()), DecodeBlock);
    ExpectMutationsRejectedOrCanonical(Encode(SampleHeader()), DecodeBlockHeader);
    ExpectMutationsRejectedOrCanonical(Encode(SampleCertificate()), DecodeCertificate);
    ExpectMutationsRejectedOrCanonical(Encode(SampleVote()), DecodeVote);
}

TEST(CodecRejects, TruncationNamesTheField) {
    ExpectError(DecodeTransaction({}), "tx: empty input");
    Bytes tx = Encode(SampleTransfer());
    // Cut 5 bytes into the first output's address: the array, version, kind and inputs
    // headers (4), the inputs (36 and 40), the outputs and output headers (2), the amount
    // (5) and the address's bin8 header (2).
    size_t cut = 4 + 36 + 40 + 2 + 5 + 2 + 5;
    ExpectError(
        DecodeTransaction(util::ByteView(tx.data(), cut)),
        "tx.outputs[0].address: truncated: the input ends after " + std::to_string(cut) + " bytes");
    Bytes block = Encode(SampleBlock());
    ExpectError(DecodeBlock(util::ByteView(block.data(), block.size() - 1)),
                "block.txs[2].witnesses[0].signature: truncated");
}

TEST(CodecRejects, UnknownVersions) {
    Bytes tx = Encode(SampleTransfer());
    tx[1] = 0x02;
    ExpectError(DecodeTransaction(tx), "tx.version: unknown version 2");
    Bytes header = Encode(SampleHeader());
    header[1] = 0x00;
    ExpectError(DecodeBlockHeader(header), "header.version: unknown version 0");
    Bytes block = Encode(SampleBlock());
    block[1] = 0x7f;
    ExpectError(DecodeBlock(block), "block.version: unknown version 127");
    block = Encode(SampleBlock());
    block[3] = 0x03;  // 0x93 0x01 0x98 <header version>
    ExpectError(DecodeBlock(block), "block.header.version: unknown version 3");
    Bytes cert = Encode(SampleCertificate());
    cert[1] = 0x09;
    ExpectError(DecodeCertificate(cert), "cert.version: unknown version 9");
    Bytes vote = Encode(SampleVote());
    vote[1] = 0x00;
    ExpectError(DecodeVote(vote), "vote.version: unknown version 0");
}

TEST(CodecRejects, UnknownKind) {
    Bytes tx = Encode(SampleTransfer());
    tx[2] = 0x03;
    ExpectError(DecodeTransaction(tx), "tx.kind: unknown kind 3");
    Msg m;
    m.Arr(7).U(1).U(256);
    ExpectError(DecodeTransaction(m.bytes()), "tx.kind: expected uint8, got 256");
}

TEST(CodecRejects, PayloadMustMatchKind) {
    Transaction tx = SampleTransfer();
    tx.payload = RegisterPayload{};
    ExpectError(DecodeTransaction(Encode(tx)),
                "tx.payload: a transfer has no payload: expected nil, got array");
    tx = SampleRegister();
    tx.payload = {};
    ExpectError(DecodeTransaction(Encode(tx)), "tx.payload: a register needs its masternode");
    tx.payload = RetirePayload{};
    ExpectError(DecodeTransaction(Encode(tx)), "tx.payload: expected an array of 3 fields, got 1");
    tx = SampleRetire();
    tx.payload = RegisterPayload{};
    ExpectError(DecodeTransaction(Encode(tx)), "tx.payload: expected an array of 1 fields, got 3");
    tx.payload = {};
    ExpectError(DecodeTransaction(Encode(tx)), "tx.payload: a retire needs its masternode");
}

TEST(CodecRejects, OversizeLists) {
    Msg inputs;
    inputs.Arr(7).U(1).U(0).Arr(5000);
    ExpectError(DecodeTransaction(inputs.bytes()),
                "tx.inputs: 5000 entries exceed the limit of 2048");
    Msg outputs;
    outputs.Arr(7).U(1).U(0).Arr(0).Arr(3000).Output();
    ExpectError(DecodeTransaction(outputs.bytes()),
                "tx.outputs: 3000 entries exceed the limit of 2048");
    Msg witnesses;
    witnesses.Arr(7).U(1).U(0).Arr(1).Input().Arr(0).U(0).Nil().Arr(70000);
    ExpectError(DecodeTransaction(witnesses.bytes()),
                "tx.witnesses: 70000 entries exceed the limit of 2048");
    Msg sigs;
    sigs.Arr(5).U(1).U(1).U(0).Bin(32).Arr(1025);
    ExpectError(DecodeCertificate(sigs.bytes()),
                "cert.sigs: 1025 entries exceed the limit of 1024");
    Msg txs;
    txs.Arr(3).U(1).Raw(Encode(SampleHeader())).Arr(100'001);
    ExpectError(DecodeBlock(txs.bytes()), "block.txs: 100001 entries exceed the limit of 100000");
    Msg in_block;
    in_block.Arr(3).U(1).Raw(Encode(SampleHeader())).Arr(2).Raw(Encode(SampleTransfer()));
    in_block.Arr(7).U(1).U(0).Arr(4000);
    ExpectError(DecodeBlock(in_block.bytes()),
                "block.txs[1].inputs: 4000 entries exceed the limit of 2048");
}

TEST(CodecRejects, OversizeEndpoint) {
    Transaction tx = SampleRegister();
    std::get<RegisterPayload>(tx.payload).endpoint = std::string(kMaxEndpointBytes + 1, 'a');
    ExpectError(DecodeTransaction(Encode(tx)),
                "tx.payload.endpoint: 256 bytes exceed the limit of 255");
    // A str header claiming 4 GiB with nothing behind it: no allocation, just truncation.
    Msg m;
    m.Arr(7).U(1).U(1).Arr(0).Arr(0).U(0).Arr(3).Bin(32).Raw("dbffffffff");
    ExpectError(DecodeTransaction(m.bytes()), "tx.payload.endpoint: truncated");
}

TEST(CodecRejects, EndpointMustBePrintableAscii) {
    Transaction tx = SampleRegister();
    std::get<RegisterPayload>(tx.payload).endpoint = "abc\n:1";
    ExpectError(DecodeTransaction(Encode(tx)),
                "tx.payload.endpoint: byte 3 is not printable ASCII");
    std::get<RegisterPayload>(tx.payload).endpoint = "h\xc3\xa9:1";
    ExpectError(DecodeTransaction(Encode(tx)), "tx.payload.endpoint: byte 1 is not printable");
}

TEST(CodecRejects, OversizeInput) {
    Bytes big(kMaxEncodedTxBytes + 1, 0xc0);
    ExpectError(DecodeTransaction(big), "tx: 1048577 bytes exceed the limit of 1048576");
    Bytes vote = Encode(SampleVote());
    vote.resize(300, 0xc0);
    ExpectError(DecodeVote(vote), "vote: 300 bytes exceed the limit of 256");
}

TEST(CodecRejects, WrongBinLength) {
    Msg m;
    m.Arr(7).U(1).U(0).Arr(1).Input().Arr(1).Arr(2).U(5).Bin(19);
    ExpectError(DecodeTransaction(m.bytes()), "tx.outputs[0].address: expected 20 bytes, got 19");
    Msg b;
    b.Arr(3).U(1).Raw(Encode(SampleHeader())).Arr(6);
    for (int i = 0; i < 5; ++i) b.Raw(Encode(SampleTransfer()));
    b.Arr(7).U(1).U(0).Arr(0).Arr(1).Arr(2).U(5).Bin(19);
    ExpectError(DecodeBlock(b.bytes()),
                "block.txs[5].outputs[0].address: expected 20 bytes, got 19");
    Msg v;
    v.Arr(7).U(1).U(1).U(0).U(0).Bin(32).U(0).Bin(65);
    ExpectError(DecodeVote(v.bytes()), "vote.signature: expected 64 bytes, got 65");
}

TEST(CodecRejects, StrAndBinAreNotInterchangeable) {
    Msg m;
    m.Arr(7).U(1).U(0).Arr(1).Arr(2).Str(std::string(32, 'x'));
    ExpectError(DecodeTransaction(m.bytes()), "tx.inputs[0].txid: expected bin, got str");
    Msg e;
    e.Arr(7).U(1).U(1).Arr(0).Arr(0).U(0).Arr(3).Bin(32).Bin(10);
    ExpectError(DecodeTransaction(e.bytes()), "tx.payload.endpoint: expected str, got bin");
}

TEST(CodecRejects, IntegersMustBeUnsignedAndInRange) {
    Msg negative;
    negative.Arr(7).U(1).U(0).Arr(1).Arr(2).Bin(32).I(-1);
    ExpectError(DecodeTransaction(negative.bytes()), "tx.inputs[0].vout: expected uint32, got -1");
    Msg overflow;
    overflow.Arr(7).U(1).U(0).Arr(3).Input().Input().Arr(2).Bin(32).U(4294967296);
    ExpectError(DecodeTransaction(overflow.bytes()),
                "tx.inputs[2].vout: expected uint32, got 4294967296");
    Msg amount;
    amount.Arr(7).U(1).U(0).Arr(0).Arr(1).Arr(2).I(INT64_MIN);
    ExpectError(DecodeTransaction(amount.bytes()),
                "tx.outputs[0].amount: expected uint64, got -9223372036854775808");
    Msg proposer;
    proposer.Arr(8).U(1).U(0).Bin(32).U(0).U(0).U(UINT64_MAX);
    ExpectError(DecodeBlockHeader(proposer.bytes()),
                "header.proposer: expected uint32, got 18446744073709551615");
    Msg version;
    version.Arr(7).U(257);
    ExpectError(DecodeVote(version.bytes()), "vote.version: expected uint8, got 257");
}

TEST(CodecRejects, NonCanonicalIntegers) {
    Bytes tx = Encode(SampleTransfer());
    ASSERT_EQ(tx[1], 0x01);
    Bytes as_uint16 = {0x97, 0xcd, 0x00, 0x01};
    as_uint16.insert(as_uint16.end(), tx.begin() + 2, tx.end());
    ExpectError(DecodeTransaction(as_uint16), "tx.version: non-canonical encoding");
    Bytes as_int8 = {0x97, 0xd0, 0x01};
    as_int8.insert(as_int8.end(), tx.begin() + 2, tx.end());
    ExpectError(DecodeTransaction(as_int8),
                "tx.version: non-canonical encoding (1 as a signed int)");

    Msg amount;
    amount.Arr(7).U(1).U(0).Arr(0).Arr(1).Arr(2).Raw("cf0000000000000001").Bin(20);
    amount.U(0).Nil().Arr(0);
    ExpectError(DecodeTransaction(amount.bytes()), "tx.outputs[0].amount: non-canonical encoding");
    Msg vout;
    vout.Arr(7).U(1).U(0).Arr(1).Arr(2).Bin(32).Raw("ce000000ff").Arr(0).U(0).Nil().Arr(0);
    ExpectError(DecodeTransaction(vout.bytes()), "tx.inputs[0].vout: non-canonical encoding");
    Msg zero;
    zero.Arr(7).U(1).U(0).Arr(0).Arr(0).Raw("cc00").Nil().Arr(0);
    ExpectError(DecodeTransaction(zero.bytes()), "tx.expiry: non-canonical encoding");
}

TEST(CodecRejects, NonCanonicalHeaders) {
    // array16 for the 2-field input.
    Msg input;
    input.Arr(7).U(1).U(0).Arr(1).Raw("dc0002").Bin(32).U(1).Arr(0).U(0).Nil().Arr(0);
    ExpectError(DecodeTransaction(input.bytes()), "tx.inputs[0]: non-canonical encoding");
    // array32 for the root.
    Msg root;
    root.Raw("dd00000007").U(1).U(0).Arr(0).Arr(0).U(0).Nil().Arr(0);
    ExpectError(DecodeTransaction(root.bytes()), "tx: non-canonical encoding");
    // array16 for an empty witness list.
    Msg witnesses;
    witnesses.Arr(7).U(1).U(0).Arr(0).Arr(0).U(0).Nil().Raw("dc0000");
    ExpectError(DecodeTransaction(witnesses.bytes()), "tx.witnesses: non-canonical encoding");
    // bin16 for a 32-byte txid.
    Msg bin;
    bin.Arr(7).U(1).U(0).Arr(1).Arr(2).Raw("c50020").Raw(Bytes(32, 0)).U(1);
    bin.Arr(0).U(0).Nil().Arr(0);
    ExpectError(DecodeTransaction(bin.bytes()), "tx.inputs[0].txid: non-canonical encoding");
    // str8 for a 5-byte endpoint (fixstr is shorter).
    Msg str;
    str.Arr(7).U(1).U(1).Arr(0).Arr(0).U(0).Arr(3).Bin(32).Raw("d905613a313233").Bin(20).Arr(0);
    ExpectError(DecodeTransaction(str.bytes()), "tx.payload.endpoint: non-canonical encoding");
    // The same decoded value in canonical form is accepted.
    Msg canonical;
    canonical.Arr(7).U(1).U(1).Arr(0).Arr(0).U(0).Arr(3).Bin(32).Str("a:123").Bin(20).Arr(0);
    EXPECT_TRUE(DecodeTransaction(canonical.bytes()).ok());
}

TEST(CodecRejects, WrongTypes) {
    Msg map;
    map.Map(7);
    ExpectError(DecodeTransaction(map.bytes()), "tx: expected an array of 7 fields, got map");
    Msg map_input;
    map_input.Arr(7).U(1).U(0).Arr(1).Map(1).U(1).U(2);
    ExpectError(DecodeTransaction(map_input.bytes()),
                "tx.inputs[0]: expected an array of 2 fields, got map");
    Msg list;
    list.Arr(7).U(1).U(0).U(5);
    ExpectError(DecodeTransaction(list.bytes()), "tx.inputs: expected an array, got uint");
    // Raw bytes: msgpack-c's pack_double writes an integral double such as 1.0 as an int.
    Msg f64;
    f64.Arr(7).U(1).U(0).Arr(0).Arr(0).Raw("cb3ff0000000000000");
    ExpectError(DecodeTransaction(f64.bytes()), "tx.expiry: expected uint64, got float");
    Msg f32;
    f32.Arr(7).U(1).U(0).Arr(0).Arr(1).Arr(2).Raw("ca3f800000");
    ExpectError(DecodeTransaction(f32.bytes()), "tx.outputs[0].amount: expected uint64, got float");
    Msg f;
    f.Arr(7).U(1).U(0).Arr(0).Arr(0).F(1.5);
    ExpectError(DecodeTransaction(f.bytes()), "tx.expiry: expected uint64, got float");
    Msg nil;
    nil.Arr(7).U(1).U(0).Arr(1).Arr(2).Nil();
    ExpectError(DecodeTransaction(nil.bytes()), "tx.inputs[0].txid: expected bin, got nil");
    Msg boolean;
    boolean.Arr(5).U(1).Bool(true);
    ExpectError(DecodeCertificate(boolean.bytes()), "cert.height: expected uint64, got bool");
    Msg ext;
    ext.Arr(7).U(1).U(1).U(0).U(0).Raw("d40102");
    ExpectError(DecodeVote(ext.bytes()), "vote.digest: expected bin, got ext");
    // A vote starts like a retire: [1, 2, 12345, ...].
    ExpectError(DecodeTransaction(Encode(SampleVote())), "tx.inputs: expected an array, got uint");
    ExpectError(DecodeTransaction(EncodeUnsigned(SampleTransfer())),
                "tx: expected an array of 7 fields, got 6");
    Msg header_in_block;
    header_in_block.Arr(3).U(1).Nil();
    ExpectError(DecodeBlock(header_in_block.bytes()),
                "block.header: expected an array of 8 fields, got nil");
}

TEST(CodecRejects, InvalidMsgpackByte) {
    Msg m;
    m.Arr(7).U(1).U(0).Arr(1).Raw("c1");
    ExpectError(DecodeTransaction(m.bytes()),
                "tx.inputs[0]: invalid msgpack byte 0xc1 at offset 4");
}

TEST(CodecRejects, WitnessCount) {
    Transaction tx = SampleTransfer();
    tx.witnesses = {Witness{}};
    ExpectError(DecodeTransaction(Encode(tx)),
                "tx.witnesses: 1 entries, expected 0 (unsigned) or 2 (one per witness slot)");
    tx = SampleRetire();
    tx.witnesses = {Witness{}, Witness{}};
    ExpectError(DecodeTransaction(Encode(tx)),
                "tx.witnesses: 2 entries, expected 0 (unsigned) or 1");
}

TEST(CodecRejects, AllNilWitnesses) {
    Msg m;
    m.Arr(7).U(1).U(0).Arr(2).Input().Arr(2).Bin(32, 1).U(1).Arr(0).U(0).Nil();
    m.Arr(2).Nil().Nil();
    ExpectError(DecodeTransaction(m.bytes()), "tx.witnesses: every entry is nil");
    Msg w;
    w.Arr(7).U(1).U(0).Arr(1).Input().Arr(0).U(0).Nil().Arr(1).Arr(2).Bin(32).Bin(63);
    ExpectError(DecodeTransaction(w.bytes()),
                "tx.witnesses[0].signature: expected 64 bytes, got 63");
}

TEST(CodecRejects, CertificateIndicesStrictlyIncrease) {
    CommitCertificate c = SampleCertificate();
    c.sigs[1].index = c.sigs[0].index;
    ExpectError(DecodeCertificate(Encode(c)), "cert.sigs[1].index: not above the previous index 0");
    c = SampleCertificate();
    c.sigs.push_back({7, {}});
    ExpectError(DecodeCertificate(Encode(c)),
                "cert.sigs[3].index: not above the previous index 300");
}

TEST(CodecRejects, VotePhase) {
    for (uint8_t phase : {0, 3, 255}) {
        Bytes v = Encode(SampleVote());
        Bytes crafted = {0x97, 0x01};
        Msg p;
        p.U(phase);
        util::Append(crafted, p.bytes());
        crafted.insert(crafted.end(), v.begin() + 3, v.end());
        ExpectError(DecodeVote(crafted), "vote.phase: unknown phase " + std::to_string(phase));
    }
}

TEST(CodecRejects, DepthBomb) {
    Bytes bomb(100'000, 0x91);
    bomb.push_back(0x00);
    ExpectError(DecodeTransaction(bomb), "tx: expected an array of 7 fields, got 1");
    ExpectError(DecodeBlock(bomb), "block: expected an array of 3 fields, got 1");
    ExpectError(DecodeBlockHeader(Bytes(200, 0x91)),
                "header: expected an array of 8 fields, got 1");
    ExpectError(DecodeBlockHeader(Bytes(300, 0x91)), "header: 300 bytes exceed the limit of 256");
    // Nested where a txid belongs, and where a tx belongs in a block.
    Msg m;
    m.Arr(7).U(1).U(0).Arr(1).Arr(2).Raw(Bytes(10'000, 0x91));
    ExpectError(DecodeTransaction(m.bytes()), "tx.inputs[0].txid: expected bin, got array");
    Msg b;
    b.Arr(3).U(1).Raw(Encode(SampleHeader())).Arr(1).Raw(Bytes(10'000, 0x91));
    ExpectError(DecodeBlock(b.bytes()), "block.txs[0]: expected an array of 7 fields, got 1");
}

TEST(CodecRejects, HugeArrayHeaderFailsFast) {
    auto start = std::chrono::steady_clock::now();
    Bytes huge = Hex("ddffffffff");
    ExpectError(DecodeTransaction(huge), "tx: expected an array of 7 fields, got 4294967295");
    ExpectError(DecodeBlock(huge), "block: expected an array of 3 fields, got 4294967295");
    ExpectError(DecodeCertificate(huge), "cert: expected an array of 5 fields, got 4294967295");
    ExpectError(DecodeVote(huge), "vote: expected an array of 7 fields, got 4294967295");
    ExpectError(DecodeBlockHeader(huge), "header: expected an array of 8 fields, got 4294967295");
    Msg inputs;
    inputs.Arr(7).U(1).U(0).Raw("ddffffffff");
    ExpectError(DecodeTransaction(inputs.bytes()),
                "tx.inputs: 4294967295 entries exceed the limit of 2048");
    Msg txs;
    txs.Arr(3).U(1).Raw(Encode(SampleHeader())).Raw("ddffffffff");
    ExpectError(DecodeBlock(txs.bytes()),
                "block.txs: 4294967295 entries exceed the limit of 100000");
    // Claims within the limits but with no bytes behind them allocate nothing either.
    Msg claimed;
    claimed.Arr(3).U(1).Raw(Encode(SampleHeader())).Arr(100'000);
    ExpectError(DecodeBlock(claimed.bytes()), "block.txs[0]: truncated");
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(CodecRejects, BadTransactionInBlockStopsTheParse) {
    Block b = SampleBlock();
    b.txs[1].kind = TxKind::kTransfer;  // keeps its register payload
    ExpectError(DecodeBlock(Encode(b)), "block.txs[1].payload: a transfer has no payload");
    // An earlier field wins over a later transaction.
    Bytes bytes = Encode(b);
    bytes[1] = 0x05;
    ExpectError(DecodeBlock(bytes), "block.version: unknown version 5");
}

TEST(CodecRejects, NonCanonicalInsideBlock) {
    Msg b;
    b.Arr(3).U(1).Raw(Encode(SampleHeader())).Arr(1);
    b.Arr(7).U(1).U(0).Arr(0).Arr(1).Arr(2).Raw("cd0005").Bin(20).U(0).Nil().Arr(0);
    ExpectError(DecodeBlock(b.bytes()), "block.txs[0].outputs[0].amount: non-canonical encoding");
}

}  // namespace
}  // namespace tc::wire
