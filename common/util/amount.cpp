#include "util/amount.h"

#include <limits>

namespace tc::util {

Result<Amount> Amount::Parse(std::string_view text) {
    auto fail = [&](const std::string& why) {
        return MakeError(Errc::kInvalid, "amount \"" + std::string(text) + "\": " + why);
    };
    if (text.empty()) return fail("empty");
    if (text[0] == '-' || text[0] == '+') return fail("a sign is not allowed");
    size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac =
        dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty()) return fail("no digits before '.'");
    if (dot != std::string_view::npos && frac.empty()) return fail("no digits after '.'");
    for (std::string_view part : {whole, frac}) {
        for (char c : part) {
            if (c < '0' || c > '9') {
                return fail(std::string("'") + c +
                            "' is not a digit (plain decimal only: \"12.5\")");
            }
        }
    }
    if (frac.size() > static_cast<size_t>(kDecimals)) {
        return fail("more than 8 decimals (the smallest unit is 0.00000001)");
    }

    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    uint64_t coins = 0;
    for (char c : whole) {
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (coins > (kMax - d) / 10)
            return fail("exceeds the largest amount 184467440737.09551615");
        coins = coins * 10 + d;
    }
    uint64_t units = 0;
    for (int i = 0; i < kDecimals; ++i) {
        units = units * 10 + (static_cast<size_t>(i) < frac.size() ? frac[i] - '0' : 0);
    }
    if (coins > (kMax - units) / kUnitsPerCoin) {
        return fail("exceeds the largest amount 184467440737.09551615");
    }
    return Amount(coins * kUnitsPerCoin + units);
}

std::string Amount::ToString() const {
    std::string out = std::to_string(m_units / kUnitsPerCoin);
    uint64_t frac = m_units % kUnitsPerCoin;
    if (frac == 0) return out;
    std::string digits = std::to_string(frac);
    digits.insert(0, kDecimals - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    return out + "." + digits;
}

Result<Amount> Amount::CheckedAdd(Amount other) const {
    if (m_units > std::numeric_limits<uint64_t>::max() - other.m_units) {
        return MakeError(Errc::kInvalid,
                         "amount overflow: " + ToString() + " + " + other.ToString());
    }
    return Amount(m_units + other.m_units);
}

Result<Amount> Amount::CheckedSub(Amount other) const {
    if (other.m_units > m_units) {
        return MakeError(Errc::kInvalid,
                         "amount underflow: " + ToString() + " - " + other.ToString());
    }
    return Amount(m_units - other.m_units);
}

}  // namespace tc::util
