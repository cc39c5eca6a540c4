#include "ledger/schema.h"

#include <algorithm>

#include "wire/tx_text.h"

namespace tc::ledger::schema {

using util::Errc;
using util::MakeError;

namespace {

uint64_t ReadBe(const uint8_t* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

template <size_t N>
util::ByteArray<N> ReadArray(const uint8_t* p) {
    util::ByteArray<N> out;
    std::copy(p, p + N, out.begin());
    return out;
}

util::Error BadSize(const std::string& what, size_t got, const std::string& expected) {
    return MakeError(Errc::kInvalid, what + ": " + std::to_string(got) + " bytes where " +
                                         expected + " are expected");
}

}  // namespace

util::Bytes U32(uint32_t v) {
    util::Bytes out;
    util::AppendBe32(out, v);
    return out;
}

util::Bytes U64(uint64_t v) {
    util::Bytes out;
    util::AppendBe64(out, v);
    return out;
}

util::Result<uint32_t> DecodeU32(util::ByteView bytes, const std::string& what) {
    if (bytes.size() != 4) return BadSize(what, bytes.size(), "4");
    return static_cast<uint32_t>(ReadBe(bytes.data(), 4));
}

util::Result<uint64_t> DecodeU64(util::ByteView bytes, const std::string& what) {
    if (bytes.size() != 8) return BadSize(what, bytes.size(), "8");
    return ReadBe(bytes.data(), 8);
}

util::Result<wire::Hash> DecodeHash(util::ByteView bytes, const std::string& what) {
    if (bytes.size() != 32) return BadSize(what, bytes.size(), "32");
    return ReadArray<32>(bytes.data());
}

util::Bytes OutPointKey(const wire::OutPoint& outpoint) {
    util::Bytes out;
    out.reserve(kOutPointBytes);
    util::Append(out, outpoint.txid);
    util::AppendBe32(out, outpoint.vout);
    return out;
}

util::Result<wire::OutPoint> DecodeOutPoint(util::ByteView bytes) {
    if (bytes.size() != kOutPointBytes) return BadSize("outpoint", bytes.size(), "36");
    return wire::OutPoint{ReadArray<32>(bytes.data()),
                          static_cast<uint32_t>(ReadBe(bytes.data() + 32, 4))};
}

util::Bytes UtxoValue(const Utxo& utxo) {
    util::Bytes out;
    out.reserve(kUtxoValueBytes);
    util::AppendBe64(out, utxo.amount);
    util::Append(out, utxo.address);
    util::AppendBe64(out, utxo.height);
    out.push_back(utxo.locked ? 1 : 0);
    return out;
}

util::Result<Utxo> DecodeUtxo(const wire::OutPoint& outpoint, util::ByteView value) {
    std::string what = "utxos " + wire::OutPointText(outpoint);
    if (value.size() != kUtxoValueBytes) return BadSize(what, value.size(), "37");
    Utxo utxo;
    utxo.outpoint = outpoint;
    utxo.amount = ReadBe(value.data(), 8);
    utxo.address = ReadArray<20>(value.data() + 8);
    utxo.height = ReadBe(value.data() + 28, 8);
    uint8_t flags = value[36];
    if (flags > 1)
        return MakeError(Errc::kInvalid, what + ": unknown flags " + std::to_string(flags));
    utxo.locked = flags == 1;
    return utxo;
}

util::Bytes AddrIndexKey(const wire::PubKeyHash& address, const wire::OutPoint& outpoint) {
    util::Bytes out;
    out.reserve(20 + kOutPointBytes);
    util::Append(out, address);
    util::Append(out, outpoint.txid);
    util::AppendBe32(out, outpoint.vout);
    return out;
}

util::Result<wire::OutPoint> DecodeAddrIndexKey(util::ByteView key, wire::PubKeyHash* address) {
    if (key.size() != 20 + kOutPointBytes) return BadSize("addrindex key", key.size(), "56");
    if (address) *address = ReadArray<20>(key.data());
    return DecodeOutPoint(key.subspan(20));
}

util::Bytes TxLocationValue(const TxLocation& location) {
    util::Bytes out;
    out.reserve(kTxLocationBytes);
    util::AppendBe64(out, location.height);
    util::AppendBe32(out, location.position);
    return out;
}

util::Result<TxLocation> DecodeTxLocation(util::ByteView value) {
    if (value.size() != kTxLocationBytes) return BadSize("txindex value", value.size(), "12");
    return TxLocation{ReadBe(value.data(), 8), static_cast<uint32_t>(ReadBe(value.data() + 8, 4))};
}

util::Bytes RegistryKey(uint64_t height, const crypto::PublicKey& key) {
    util::Bytes out;
    out.reserve(40);
    util::AppendBe64(out, height);
    util::Append(out, key);
    return out;
}

util::Bytes RegistryValue(const RegistryEntry& entry) {
    util::Bytes out;
    out.reserve(58 + entry.node.endpoint.size());
    out.push_back(static_cast<uint8_t>(entry.kind));
    util::Append(out, entry.node.payout);
    out.push_back(entry.node.collateral ? 1 : 0);
    util::Append(out, OutPointKey(entry.node.collateral.value_or(wire::OutPoint{})));
    util::Append(out, util::AsBytes(entry.node.endpoint));
    return out;
}

util::Result<RegistryEntry> DecodeRegistryEntry(util::ByteView key, util::ByteView value) {
    if (key.size() != 40) return BadSize("masternodes key", key.size(), "40");
    RegistryEntry entry;
    entry.height = ReadBe(key.data(), 8);
    entry.node.key = ReadArray<32>(key.data() + 8);
    std::string what =
        "masternodes " + util::ToHex(entry.node.key) + " at height " + std::to_string(entry.height);
    if (value.size() < 58) return BadSize(what, value.size(), "at least 58");
    if (value[0] != 1 && value[0] != 2) {
        return MakeError(Errc::kInvalid, what + ": unknown kind " + std::to_string(value[0]));
    }
    entry.kind = static_cast<RegistryKind>(value[0]);
    entry.node.payout = ReadArray<20>(value.data() + 1);
    if (value[21] > 1) {
        return MakeError(Errc::kInvalid,
                         what + ": bad collateral flag " + std::to_string(value[21]));
    }
    if (value[21] == 1) {
        TC_TRY(outpoint, DecodeOutPoint(value.subspan(22, kOutPointBytes)));
        entry.node.collateral = outpoint;
    }
    entry.node.endpoint.assign(value.begin() + 58, value.end());
    return entry;
}

}  // namespace tc::ledger::schema
