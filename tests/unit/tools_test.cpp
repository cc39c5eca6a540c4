// The tool libraries' parsing rules, called directly (the bats tests run
// the programs end to end).
#include <gtest/gtest.h>

#include "keygen.h"
#include "tx.h"
#include "wire/address.h"

using namespace tc;

TEST(KeygenInputs, EmptyMeansAllSlots) {
    auto all = keygen::ParseInputList("", 3);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, (std::vector<size_t>{0, 1, 2}));
    auto some = keygen::ParseInputList("2,0", 3);
    ASSERT_TRUE(some.ok());
    EXPECT_EQ(*some, (std::vector<size_t>{2, 0}));
}

TEST(KeygenInputs, RejectsOutOfRangeDuplicatesAndJunk) {
    for (const char* bad : {"3", "0,0", "a", "1,", ",1", "-1", "1 2", "99999999999999999999999"}) {
        auto r = keygen::ParseInputList(bad, 3);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, util::Errc::kUsage) << bad;
        EXPECT_NE(r.error().message.find("--inputs"), std::string::npos) << r.error().message;
    }
}

TEST(KeygenChainId, ExactlyOneSource) {
    EXPECT_EQ(keygen::ChainFromOptions("", "").error().code, util::Errc::kUsage);
    EXPECT_EQ(keygen::ChainFromOptions("g.json", std::string(64, '0')).error().code,
              util::Errc::kUsage);
    EXPECT_EQ(keygen::ChainFromOptions("", "abc").error().code, util::Errc::kUsage);
    auto id = keygen::ChainFromOptions("", std::string(63, '0') + "1");
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->id[31], 1);
    EXPECT_FALSE(id->network.has_value());
}

namespace {

std::string SomeAddress(wire::Network network, uint8_t seed) {
    wire::Address a{network, {}};
    a.hash[0] = seed;
    return a.ToString();
}

}  // namespace

TEST(TxCreate, BuildsWhatWasAsked) {
    txtool::Options opts;
    opts.ins = {std::string(64, 'a') + ":7"};
    opts.outs = {SomeAddress(wire::Network::kDevnet, 1) + ":12.5",
                 SomeAddress(wire::Network::kDevnet, 2) + ":0.00000001"};
    opts.expiry = 40;
    auto tx = txtool::BuildTransaction(opts);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    EXPECT_EQ(tx->inputs[0].vout, 7u);
    EXPECT_EQ(tx->outputs[0].amount, 1'250'000'000u);
    EXPECT_EQ(tx->outputs[1].amount, 1u);
    EXPECT_EQ(tx->expiry, 40u);
    EXPECT_TRUE(tx->witnesses.empty());
}

TEST(TxCreate, BadArgumentsAreUsageErrorsNamingTheArgument) {
    auto expect_usage = [](txtool::Options opts, const std::string& needle) {
        if (opts.ins.empty()) opts.ins = {std::string(64, 'a') + ":0"};
        auto tx = txtool::BuildTransaction(opts);
        ASSERT_FALSE(tx.ok()) << needle;
        EXPECT_EQ(tx.error().code, util::Errc::kUsage);
        EXPECT_NE(tx.error().message.find(needle), std::string::npos) << tx.error().message;
    };
    std::string dev = SomeAddress(wire::Network::kDevnet, 1);
    std::string main = SomeAddress(wire::Network::kMain, 1);
    txtool::Options o;
    o.outs = {dev + ":1.123456789"};
    expect_usage(o, "more than 8 decimals");
    o.outs = {dev + ":-1"};
    expect_usage(o, "sign");
    o.outs = {dev + "1"};
    expect_usage(o, "ADDRESS:AMOUNT");
    o.outs = {dev + ":1", main + ":1"};
    expect_usage(o, "mixes");
    o.outs = {dev + ":1"};
    o.ins = {"zz:0"};
    expect_usage(o, "--in zz:0");
    o.ins = {std::string(64, 'a') + ":4294967296"};
    expect_usage(o, "vout");
    o.ins = {std::string(64, 'a') + ":0", std::string(64, 'a') + ":0"};
    expect_usage(o, "same output");
}
