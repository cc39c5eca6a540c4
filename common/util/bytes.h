// Byte strings and their hex form. Hashes, keys and signatures are
// fixed-size std::arrays so that a 31-byte "hash" cannot exist.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace tc::util {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

template <size_t N>
using ByteArray = std::array<uint8_t, N>;

inline ByteView AsBytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Lower-case hex of bytes.
std::string ToHex(ByteView bytes);

// Parses hex (either case, no prefix, no spaces). Errors name the offset of
// the first bad character or an odd length.
Result<Bytes> FromHex(std::string_view hex);

// Parses hex that must decode to exactly N bytes.
template <size_t N>
Result<ByteArray<N>> FromHexFixed(std::string_view hex) {
    TC_TRY(bytes, FromHex(hex));
    if (bytes.size() != N) {
        return MakeError(Errc::kInvalid, "expected " + std::to_string(N) + " bytes of hex, got " +
                                             std::to_string(bytes.size()));
    }
    ByteArray<N> out;
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

// Appends integers in big-endian order (used in signature preimages, where
// a fixed width keeps concatenations unambiguous).
void AppendBe64(Bytes& out, uint64_t v);
void AppendBe32(Bytes& out, uint32_t v);
inline void Append(Bytes& out, ByteView b) {
    out.insert(out.end(), b.begin(), b.end());
}

}  // namespace tc::util
