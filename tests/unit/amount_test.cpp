#include "util/amount.h"

#include <gtest/gtest.h>

#include <limits>

using tc::util::Amount;

namespace {

uint64_t Units(std::string_view text) {
    auto r = Amount::Parse(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->units() : 0;
}

std::string Reason(std::string_view text) {
    auto r = Amount::Parse(text);
    EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r->units() : 0);
    return r.ok() ? "" : r.error().message;
}

}  // namespace

TEST(Amount, ParsesExactDecimals) {
    EXPECT_EQ(Units("0"), 0u);
    EXPECT_EQ(Units("1"), 100'000'000u);
    EXPECT_EQ(Units("12.5"), 1'250'000'000u);
    EXPECT_EQ(Units("0.00000001"), 1u);
    EXPECT_EQ(Units("0.1"), 10'000'000u);
    EXPECT_EQ(Units("21000000.12345678"), 2'100'000'012'345'678u);
    EXPECT_EQ(Units("007"), 700'000'000u);
}

TEST(Amount, MaxIsExactAndOneMoreOverflows) {
    EXPECT_EQ(Units("184467440737.09551615"), std::numeric_limits<uint64_t>::max());
    EXPECT_NE(Reason("184467440737.09551616").find("exceeds"), std::string::npos);
    EXPECT_NE(Reason("184467440738").find("exceeds"), std::string::npos);
    EXPECT_NE(Reason("99999999999999999999999").find("exceeds"), std::string::npos);
}

TEST(Amount, RejectsWhatWouldRound) {
    EXPECT_NE(Reason("0.000000001").find("more than 8 decimals"), std::string::npos);
    EXPECT_NE(Reason("1.123456789").find("more than 8 decimals"), std::string::npos);
}

TEST(Amount, RejectsSignsExponentsAndJunk) {
    EXPECT_NE(Reason("-1").find("sign"), std::string::npos);
    EXPECT_NE(Reason("+1").find("sign"), std::string::npos);
    EXPECT_NE(Reason("1e3").find("not a digit"), std::string::npos);
    EXPECT_NE(Reason("").find("empty"), std::string::npos);
    EXPECT_NE(Reason(".5").find("before"), std::string::npos);
    EXPECT_NE(Reason("5.").find("after"), std::string::npos);
    Reason(" 1");
    Reason("1 ");
    Reason("1,5");
    Reason("1.2.3");
    Reason("0x10");
    Reason("NaN");
}

TEST(Amount, FormatsShortestExactForm) {
    EXPECT_EQ(Amount::FromUnits(0).ToString(), "0");
    EXPECT_EQ(Amount::FromUnits(1).ToString(), "0.00000001");
    EXPECT_EQ(Amount::FromUnits(1'250'000'000).ToString(), "12.5");
    EXPECT_EQ(Amount::FromUnits(100'000'000).ToString(), "1");
    EXPECT_EQ(Amount::FromUnits(std::numeric_limits<uint64_t>::max()).ToString(),
              "184467440737.09551615");
}

TEST(Amount, RoundTripsThroughText) {
    for (uint64_t u :
         std::initializer_list<uint64_t>{0, 1, 10, 99'999'999, 100'000'001ull, 123'456'789'012ull,
                                         std::numeric_limits<uint64_t>::max()}) {
        auto a = Amount::FromUnits(u);
        EXPECT_EQ(Units(a.ToString()), u);
    }
}

TEST(Amount, CheckedArithmetic) {
    auto max = Amount::FromUnits(std::numeric_limits<uint64_t>::max());
    EXPECT_FALSE(max.CheckedAdd(Amount::FromUnits(1)).ok());
    EXPECT_EQ(max.CheckedAdd(Amount::FromUnits(0))->units(), max.units());
    EXPECT_FALSE(Amount::FromUnits(1).CheckedSub(Amount::FromUnits(2)).ok());
    EXPECT_EQ(Amount::FromUnits(5).CheckedSub(Amount::FromUnits(2))->units(), 3u);
}
