#include "util/bech32.h"

namespace tc::util::bech32 {
namespace {

constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr uint32_t kBech32mConst = 0x2bc830a3;
constexpr size_t kMaxLength = 90;

uint32_t PolyMod(const std::vector<uint8_t>& values) {
    static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                         0x2a1462b3};
    uint32_t chk = 1;
    for (uint8_t v : values) {
        uint32_t top = chk >> 25;
        chk = (chk & 0x1ffffff) << 5 ^ v;
        for (int i = 0; i < 5; ++i) {
            if ((top >> i) & 1) chk ^= kGen[i];
        }
    }
    return chk;
}

std::vector<uint8_t> ExpandHrp(std::string_view hrp) {
    std::vector<uint8_t> out;
    out.reserve(hrp.size() * 2 + 1);
    for (char c : hrp) out.push_back(static_cast<uint8_t>(c) >> 5);
    out.push_back(0);
    for (char c : hrp) out.push_back(static_cast<uint8_t>(c) & 31);
    return out;
}

int CharsetIndex(char c) {
    for (int i = 0; i < 32; ++i) {
        if (kCharset[i] == c) return i;
    }
    return -1;
}

}  // namespace

std::string Encode(std::string_view hrp, const std::vector<uint8_t>& values) {
    std::vector<uint8_t> enc = ExpandHrp(hrp);
    enc.insert(enc.end(), values.begin(), values.end());
    enc.insert(enc.end(), 6, 0);
    uint32_t mod = PolyMod(enc) ^ kBech32mConst;
    std::string out(hrp);
    out += '1';
    for (uint8_t v : values) out += kCharset[v & 31];
    for (int i = 0; i < 6; ++i) out += kCharset[(mod >> (5 * (5 - i))) & 31];
    return out;
}

Result<Decoded> Decode(std::string_view text) {
    auto fail = [](std::string why) { return MakeError(Errc::kInvalid, std::move(why)); };
    if (text.size() > kMaxLength) {
        return fail("too long: " + std::to_string(text.size()) + " characters, at most 90");
    }
    bool lower = false, upper = false;
    for (size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 33 || c > 126) return fail("invalid character at position " + std::to_string(i));
        if (c >= 'a' && c <= 'z') lower = true;
        if (c >= 'A' && c <= 'Z') upper = true;
    }
    if (lower && upper) return fail("mixed upper and lower case");
    size_t sep = text.rfind('1');
    if (sep == std::string_view::npos) return fail("no separator '1'");
    if (sep == 0) return fail("empty human-readable part");
    if (text.size() - sep - 1 < 6) return fail("checksum too short");

    Decoded out;
    for (char c : text.substr(0, sep)) {
        out.hrp += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    std::vector<uint8_t> values;
    for (size_t i = sep + 1; i < text.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        int v = CharsetIndex(c);
        if (v < 0) return fail("invalid data character at position " + std::to_string(i));
        values.push_back(static_cast<uint8_t>(v));
    }
    std::vector<uint8_t> check = ExpandHrp(out.hrp);
    check.insert(check.end(), values.begin(), values.end());
    if (PolyMod(check) != kBech32mConst) return fail("bad checksum (a typo?)");
    values.resize(values.size() - 6);
    out.data = std::move(values);
    return out;
}

std::vector<uint8_t> ToFiveBit(ByteView bytes) {
    std::vector<uint8_t> out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    uint32_t acc = 0;
    int bits = 0;
    for (uint8_t b : bytes) {
        acc = acc << 8 | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(static_cast<uint8_t>(acc >> bits & 31));
        }
    }
    if (bits > 0) out.push_back(static_cast<uint8_t>(acc << (5 - bits) & 31));
    return out;
}

Result<Bytes> FromFiveBit(const std::vector<uint8_t>& values) {
    Bytes out;
    uint32_t acc = 0;
    int bits = 0;
    for (uint8_t v : values) {
        if (v > 31) return MakeError(Errc::kInvalid, "5-bit value out of range");
        acc = (acc << 5 | v) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<uint8_t>(acc >> bits & 0xff));
        }
    }
    if (bits >= 5) return MakeError(Errc::kInvalid, "excess padding");
    if ((acc << (8 - bits) & 0xff) != 0) return MakeError(Errc::kInvalid, "non-zero padding");
    return out;
}

}  // namespace tc::util::bech32
