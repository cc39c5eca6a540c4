// Bech32m (BIP-350) strings: the human-readable part, '1', data in 5-bit
// groups and a 6-character checksum that catches any typo of up to four
// characters. Used for addresses (wire/address.h); this module knows
// nothing about what the data means.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace tc::util::bech32 {

struct Decoded {
    std::string hrp;            // lower case
    std::vector<uint8_t> data;  // 5-bit values, checksum removed
};

// Encodes hrp (lower case, 1..83 chars of 33..126) and 5-bit values.
std::string Encode(std::string_view hrp, const std::vector<uint8_t>& values);

// Decodes a bech32m string (at most 90 characters, all upper or all lower
// case). Errors say what is wrong: mixed case, bad character at position N,
// missing separator, bad checksum, too long.
Result<Decoded> Decode(std::string_view text);

// Regroups bits: 8 → 5 with padding (for encoding), 5 → 8 without padding
// (for decoding; non-zero padding or a leftover group of 5+ bits is an error).
std::vector<uint8_t> ToFiveBit(ByteView bytes);
Result<Bytes> FromFiveBit(const std::vector<uint8_t>& values);

}  // namespace tc::util::bech32
