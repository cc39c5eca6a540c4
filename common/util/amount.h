// Amounts: uint64 base units, 1 TIME = 10^8 units. Arithmetic is checked
// (overflow is an error, never a wrap) and the decimal form is exact: at
// most 8 decimals, no sign, no exponent, no rounding, ever.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace tc::util {

class Amount {
  public:
    static constexpr uint64_t kUnitsPerCoin = 100'000'000;
    static constexpr int kDecimals = 8;

    constexpr Amount() = default;
    static constexpr Amount FromUnits(uint64_t units) { return Amount(units); }

    constexpr uint64_t units() const { return m_units; }

    // Parses "12.5", "0.00000001", "184467440737.09551615". Rejects an empty
    // string, signs, exponents, spaces, a leading or trailing '.', more than
    // 8 decimals and values above 2^64-1 units, each with its reason.
    static Result<Amount> Parse(std::string_view text);

    // Shortest exact decimal form: "12.5", "1", "0.00000001".
    std::string ToString() const;

    Result<Amount> CheckedAdd(Amount other) const;
    Result<Amount> CheckedSub(Amount other) const;

    constexpr auto operator<=>(const Amount&) const = default;

  private:
    constexpr explicit Amount(uint64_t units) : m_units(units) {}
    uint64_t m_units = 0;
};

}  // namespace tc::util
