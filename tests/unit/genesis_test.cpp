#include "wire/genesis.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto/keys.h"

using nlohmann::json;
using tc::wire::Address;
using tc::wire::Network;

namespace {

class GenesisTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(tc::crypto::InitSodium().ok());
        for (int i = 0; i < 3; ++i) keys.push_back(tc::crypto::SecretKey::Generate());
        doc = {
            {"version", 1},
            {"chain", "unit-test"},
            {"network", "devnet"},
            {"time", "2026-11-24T08:00:00Z"},
            {"allocations",
             {{{"address", Addr(0)}, {"amount", "1000.5"}},
              {{"address", Addr(1)}, {"amount", "7"}}}},
            {"masternodes",
             {{{"public_key", tc::util::ToHex(keys[0].public_key())},
               {"endpoint", "127.0.0.1:7001"},
               {"payout", Addr(0)}},
              {{"public_key", tc::util::ToHex(keys[1].public_key())},
               {"endpoint", "node2.example:7001"},
               {"payout", Addr(1)}}}},
            {"collateral", "100"},
            {"activation_delay", 5},
            {"min_fee_rate", "0.00000002"},
            {"limits",
             {{"max_block_bytes", 1 << 20}, {"max_block_txs", 5000}, {"max_tx_bytes", 65536}}},
            {"timeouts", {{"base_ms", 1000}, {"max_ms", 30000}}},
        };
    }

    std::string Addr(int i) const {
        return Address::FromPublicKey(keys[i].public_key(), Network::kDevnet).ToString();
    }

    // Parses doc after `edit`; expects failure whose message contains `field`
    // and `why`.
    void ExpectError(const std::function<void(json&)>& edit, const std::string& field,
                     const std::string& why) {
        json copy = doc;
        edit(copy);
        auto g = tc::wire::ParseGenesis(copy.dump());
        ASSERT_FALSE(g.ok()) << "accepted after edit; expected " << field;
        EXPECT_NE(g.error().message.find(field), std::string::npos) << g.error().message;
        EXPECT_NE(g.error().message.find(why), std::string::npos) << g.error().message;
    }

    std::vector<tc::crypto::SecretKey> keys;
    json doc;
};

}  // namespace

TEST_F(GenesisTest, ParsesAValidGenesis) {
    auto g = tc::wire::ParseGenesis(doc.dump());
    ASSERT_TRUE(g.ok()) << g.error().message;
    EXPECT_EQ(g->chain, "unit-test");
    EXPECT_EQ(g->network, Network::kDevnet);
    EXPECT_EQ(g->time_ms, 1795507200000u);
    ASSERT_EQ(g->allocations.size(), 2u);
    EXPECT_EQ(g->allocations[0].amount.units(), 100'050'000'000u);
    ASSERT_EQ(g->masternodes.size(), 2u);
    EXPECT_LT(g->masternodes[0].public_key, g->masternodes[1].public_key);
    EXPECT_EQ(g->min_fee_rate.units(), 2u);
    EXPECT_EQ(g->activation_delay, 5u);
}

TEST_F(GenesisTest, JsonRoundTripKeepsTheChainId) {
    auto g = tc::wire::ParseGenesis(doc.dump());
    ASSERT_TRUE(g.ok());
    auto again = tc::wire::ParseGenesis(tc::wire::GenesisToJson(*g).dump(2));
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*again, *g);
    EXPECT_EQ(tc::wire::ChainId(*again), tc::wire::ChainId(*g));
}

TEST_F(GenesisTest, ChainIdIgnoresFormattingAndMasternodeOrderButNotContent) {
    auto a = tc::wire::ParseGenesis(doc.dump());
    json swapped = doc;
    std::swap(swapped["masternodes"][0], swapped["masternodes"][1]);
    auto b = tc::wire::ParseGenesis(swapped.dump(4));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(tc::wire::ChainId(*a), tc::wire::ChainId(*b));
    json other = doc;
    other["chain"] = "unit-test-2";
    auto c = tc::wire::ParseGenesis(other.dump());
    ASSERT_TRUE(c.ok());
    EXPECT_NE(tc::wire::ChainId(*a), tc::wire::ChainId(*c));
}

TEST_F(GenesisTest, EachBadFieldIsNamed) {
    ExpectError([](json& j) { j["version"] = 2; }, "genesis.version", "unknown version 2");
    ExpectError([](json& j) { j["chain"] = "Has Space"; }, "genesis.chain", "a-z");
    ExpectError([](json& j) { j["network"] = "test"; }, "genesis.network", "main or devnet");
    ExpectError([](json& j) { j["time"] = "2026-02-30T00:00:00Z"; }, "genesis.time", "UTC time");
    ExpectError([](json& j) { j["time"] = 12; }, "genesis.time", "must be a string");
    ExpectError([](json& j) { j["colateral"] = "1"; }, "genesis", "unknown field \"colateral\"");
    ExpectError([](json& j) { j.erase("collateral"); }, "genesis.collateral", "missing");
    ExpectError([](json& j) { j["collateral"] = "0"; }, "genesis.collateral", "above zero");
    ExpectError([](json& j) { j["allocations"][1]["amount"] = "1.000000001"; },
                "genesis.allocations[1].amount", "more than 8 decimals");
    ExpectError([](json& j) { j["allocations"][1]["amount"] = "-5"; },
                "genesis.allocations[1].amount", "sign");
    ExpectError([](json& j) { j["allocations"][1]["address"] = j["allocations"][0]["address"]; },
                "genesis.allocations[1].address", "listed twice");
    ExpectError(
        [](json& j) {
            j["allocations"][0]["amount"] = "184467440737";
            j["allocations"][1]["amount"] = "1";
        },
        "genesis.allocations[1].amount", "overflows");
    ExpectError([](json& j) { j["masternodes"] = json::array(); }, "genesis.masternodes",
                "at least one");
    ExpectError([](json& j) { j["masternodes"][1]["endpoint"] = "host:70000"; },
                "genesis.masternodes[1].endpoint", "out of range");
    ExpectError([](json& j) { j["masternodes"][0]["endpoint"] = "justahost"; },
                "genesis.masternodes[0].endpoint", "HOST:PORT");
    ExpectError([](json& j) { j["masternodes"][0]["public_key"] = "abcd"; },
                "genesis.masternodes[0].public_key", "32 bytes");
    ExpectError([](json& j) { j["masternodes"][0]["public_key"] = std::string(64, '0'); },
                "genesis.masternodes[0].public_key", "not a valid Ed25519");
    ExpectError(
        [](json& j) { j["masternodes"][1]["public_key"] = j["masternodes"][0]["public_key"]; },
        "genesis.masternodes[1].public_key", "listed twice");
    ExpectError([](json& j) { j["activation_delay"] = 0; }, "genesis.activation_delay", "outside");
    ExpectError([](json& j) { j["activation_delay"] = -1; }, "genesis.activation_delay",
                "non-negative integer");
    ExpectError([](json& j) { j["limits"]["max_tx_bytes"] = 2 << 20; },
                "genesis.limits.max_tx_bytes", "outside");
    ExpectError([](json& j) { j["limits"]["max_block_txs"] = 0; }, "genesis.limits.max_block_txs",
                "outside");
    ExpectError([](json& j) { j["timeouts"]["max_ms"] = 10; }, "genesis.timeouts.max_ms",
                "outside");
    ExpectError([](json& j) { j["timeouts"]["extra"] = 1; }, "genesis.timeouts", "unknown field");
}

TEST_F(GenesisTest, AddressesOfTheOtherNetworkAreRefused) {
    std::string main_addr = Address::FromPublicKey(keys[2].public_key(), Network::kMain).ToString();
    ExpectError([&](json& j) { j["allocations"][0]["address"] = main_addr; },
                "genesis.allocations[0].address", "main-network");
}

TEST_F(GenesisTest, NotJsonOrNotAnObject) {
    auto g = tc::wire::ParseGenesis("{\"version\": 1,");
    ASSERT_FALSE(g.ok());
    EXPECT_NE(g.error().message.find("not valid JSON"), std::string::npos);
    g = tc::wire::ParseGenesis("[1,2]");
    ASSERT_FALSE(g.ok());
    EXPECT_NE(g.error().message.find("JSON object"), std::string::npos);
}

TEST_F(GenesisTest, LoadNamesTheFile) {
    auto g = tc::wire::LoadGenesisFile("/nonexistent/genesis.json");
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code, tc::util::Errc::kNotFound);
    EXPECT_NE(g.error().message.find("/nonexistent/genesis.json"), std::string::npos);
}

TEST(UtcTime, ParsesAndFormats) {
    EXPECT_EQ(*tc::wire::ParseUtcTime("1970-01-01T00:00:00Z"), 0u);
    EXPECT_EQ(*tc::wire::ParseUtcTime("2026-11-24T08:00:00.250Z"), 1795507200250u);
    EXPECT_EQ(tc::wire::FormatUtcTime(1795507200250u), "2026-11-24T08:00:00.250Z");
    EXPECT_EQ(tc::wire::FormatUtcTime(1795507200000u), "2026-11-24T08:00:00Z");
    for (const char* bad :
         {"2026-11-24 08:00:00Z", "2026-11-24T08:00:00", "2026-13-01T00:00:00Z",
          "2026-11-24T24:00:00Z", "1969-12-31T23:59:59Z", "", "2026-11-24T08:00:00+01:00"}) {
        EXPECT_FALSE(tc::wire::ParseUtcTime(bad).ok()) << bad;
    }
}
