#include "util/bech32.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "wire/address.h"

namespace bech32 = tc::util::bech32;
using tc::wire::Address;
using tc::wire::Network;

// BIP-350 test vectors: valid bech32m strings.
TEST(Bech32m, AcceptsBip350ValidVectors) {
    const char* valid[] = {
        "A1LQFN3A",
        "a1lqfn3a",
        "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg"
        "6",
        "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
        "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr"
        "8",
        "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
        "?1v759aa",
    };
    for (const char* s : valid) {
        auto d = bech32::Decode(s);
        ASSERT_TRUE(d.ok()) << s << ": " << d.error().message;
        // Re-encoding gives the lower-case form back.
        std::string lower(s);
        for (char& c : lower) c = static_cast<char>(std::tolower(c));
        EXPECT_EQ(bech32::Encode(d->hrp, d->data), lower);
    }
}

// BIP-350 test vectors: invalid bech32m strings, each with its reason.
TEST(Bech32m, RejectsBip350InvalidVectors) {
    struct Case {
        std::string text;
        const char* reason;
    };
    const Case invalid[] = {
        {std::string("\x20") + "1xj0phk", "invalid character"},  // HRP char out of range
        {std::string("\x7f") + "1g6xzxy", "invalid character"},
        {std::string("\x80") + "1vctc34", "invalid character"},
        {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pt"
         "s4",
         "too long"},
        {"qyrz8wqd2c9m", "no separator"},
        {"1qyrz8wqd2c9m", "empty human-readable part"},
        {"y1b0jsk6g", "invalid data character"},
        {"lt1igcx5c0", "invalid data character"},
        {"in1muywd", "checksum too short"},
        {"mm1crxm3i", "invalid data character"},
        {"au1s5cgom", "invalid data character"},
        {"M1VUXWEZ", "bad checksum"},  // checksum computed over the upper-case HRP
        {"16plkw9", "empty human-readable part"},
        {"1p2gdwpf", "empty human-readable part"},
    };
    for (const auto& c : invalid) {
        auto d = bech32::Decode(c.text);
        ASSERT_FALSE(d.ok()) << c.text;
        EXPECT_NE(d.error().message.find(c.reason), std::string::npos)
            << c.text << ": " << d.error().message;
    }
}

TEST(Bech32m, RejectsClassicBech32Checksum) {
    // Valid BIP-173 (bech32, not bech32m) string: the constant differs.
    EXPECT_FALSE(bech32::Decode("a12uel5l").ok());
}

TEST(Bech32m, RejectsMixedCase) {
    auto d = bech32::Decode("A1lqfn3a");
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().message.find("mixed"), std::string::npos);
}

TEST(Bech32m, FiveBitRoundTripAndPaddingRules) {
    tc::util::Bytes bytes = {0x00, 0xff, 0x12, 0x34, 0x56};
    auto five = bech32::ToFiveBit(bytes);
    EXPECT_EQ(five.size(), 8u);
    EXPECT_EQ(*bech32::FromFiveBit(five), bytes);
    // Non-zero padding bits are refused.
    auto bad = bech32::ToFiveBit(tc::util::Bytes{0xff});
    bad.back() |= 1;
    EXPECT_FALSE(bech32::FromFiveBit(bad).ok());
}

class AddressTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(tc::crypto::InitSodium().ok()); }
};

TEST_F(AddressTest, RoundTripsOnBothNetworks) {
    tc::crypto::PublicKey pk{};
    pk[0] = 7;
    for (Network n : {Network::kMain, Network::kDevnet}) {
        Address a = Address::FromPublicKey(pk, n);
        std::string s = a.ToString();
        EXPECT_EQ(s.rfind(n == Network::kMain ? "tc1" : "tct1", 0), 0u) << s;
        auto back = Address::Parse(s);
        ASSERT_TRUE(back.ok()) << back.error().message;
        EXPECT_EQ(*back, a);
        EXPECT_TRUE(Address::Parse(s, n).ok());
    }
}

TEST_F(AddressTest, AnySingleTypoFailsTheChecksum) {
    tc::crypto::PublicKey pk{};
    std::string s = Address::FromPublicKey(pk, Network::kDevnet).ToString();
    const std::string charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    for (size_t i = 4; i < s.size(); ++i) {
        for (char c : charset) {
            if (c == s[i]) continue;
            std::string typo = s;
            typo[i] = c;
            EXPECT_FALSE(Address::Parse(typo).ok()) << typo;
        }
    }
}

TEST_F(AddressTest, RejectsWrongNetworkAndPrefix) {
    tc::crypto::PublicKey pk{};
    std::string main = Address::FromPublicKey(pk, Network::kMain).ToString();
    auto r = Address::Parse(main, Network::kDevnet);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("main-network"), std::string::npos);
    auto other = bech32::Encode("bc", bech32::ToFiveBit(tc::util::Bytes(20, 1)));
    r = Address::Parse(other);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("unknown prefix"), std::string::npos);
    auto short_one = bech32::Encode("tc", bech32::ToFiveBit(tc::util::Bytes(19, 1)));
    r = Address::Parse(short_one);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("expected 20"), std::string::npos);
}
