// The seeded byzantine simulator (tools/tc-pbft/simulator.h) running the real
// PBFT core: determinism, fault-free runs, each byzantine behaviour alone,
// crashes, partitions, and the seed sweep of issue 5 (2,016 seeds by
// default, 100,800 with TC_LONG=1), split into shards that ctest runs in
// parallel.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "pbft.h"
#include "simulator.h"
#include "util/config.h"

using namespace tc;
using namespace tc::pbft::sim;

namespace {

class PbftSim : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(crypto::InitSodium().ok()); }
};

RunResult MustRun(const Scenario& s) {
    auto r = Simulate(s);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : RunResult{};
}

std::string Describe(const RunResult& r) {
    std::string out = r.command + "\n";
    for (const auto& v : r.violations) {
        out += "  " + v.kind + " at height " + std::to_string(v.height) + ": " + v.detail + "\n";
    }
    return out;
}

// No violation, and every correct replica at the last height.
void ExpectClean(const RunResult& r) {
    EXPECT_EQ(r.violation_count, 0u) << Describe(r);
    EXPECT_EQ(r.committed_height, r.scenario.heights) << Describe(r);
}

bool LongRun() {
    const char* v = std::getenv("TC_LONG");
    return v && std::string(v) == "1";
}

}  // namespace

TEST_F(PbftSim, SameArgumentsSameTraceOtherSeedOtherTrace) {
    Scenario s;
    s.nodes = 4;
    s.byzantine = 1;
    s.seed = 42;
    s.loss = 0.05;
    s.duplicate = 0.05;
    s.reorder = true;
    s.crashes.push_back({2, 300, 900});
    RunResult a = MustRun(s);
    RunResult b = MustRun(s);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_EQ(a.messages, b.messages);
    EXPECT_EQ(a.virtual_ms, b.virtual_ms);
    s.seed = 43;
    RunResult c = MustRun(s);
    EXPECT_NE(a.trace_hash, c.trace_hash);
}

TEST_F(PbftSim, MixIsDeterministicAndItsCommandLineSaysAll) {
    MixBase base;
    for (uint64_t seed = 1; seed <= 50; ++seed) {
        Scenario s = Mix(seed, base);
        Scenario t = Mix(seed, base);
        EXPECT_EQ(CommandLine(s), CommandLine(t));
        EXPECT_EQ(s.partitions, t.partitions);
        EXPECT_EQ(s.crashes, t.crashes);
    }
}

// The command line a mixed run prints, parsed by tc-pbft's own flags, runs
// the very same scenario.
TEST_F(PbftSim, MixCommandLinesReproduceTheirRuns) {
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        MixBase base;
        base.heights = 3;
        Scenario s = Mix(seed, base);
        std::string cmd = CommandLine(s);
        std::vector<std::string> args;
        std::string word;
        for (char ch : cmd) {
            if (ch == ' ') {
                if (!word.empty()) args.push_back(word);
                word.clear();
            } else if (ch != '\'') {  // the partition's quotes are the shell's
                word += ch;
            }
        }
        if (!word.empty()) args.push_back(word);
        ASSERT_GE(args.size(), 2u);
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        CLI::App app{"tc-pbft", "tc-pbft"};
        tc::pbft::Options opts;
        util::AddCommonOptions(app, opts.common, "pbft");
        tc::pbft::SetupCli(app, opts);
        ASSERT_NO_THROW(app.parse(static_cast<int>(argv.size()), argv.data())) << cmd;
        auto parsed = tc::pbft::ScenarioFromOptions(app, opts, nullptr);
        ASSERT_TRUE(parsed.ok()) << cmd;
        RunResult a = MustRun(s);
        RunResult b = MustRun(*parsed);
        EXPECT_EQ(a.trace_hash, b.trace_hash) << cmd;
        EXPECT_EQ(b.command, cmd);
    }
}

TEST_F(PbftSim, FaultFreeRunsReachEveryHeight) {
    for (uint32_t n : {1u, 4u, 7u, 10u}) {
        Scenario s;
        s.nodes = n;
        s.seed = n;
        s.heights = 8;
        RunResult r = MustRun(s);
        ExpectClean(r);
        EXPECT_EQ(r.view_changes, 0u) << Describe(r);
        EXPECT_TRUE(r.liveness_checked);
    }
}

TEST_F(PbftSim, EachByzantineBehaviourAloneKeepsAgreementAndLiveness) {
    for (Behaviour b : kAllBehaviours) {
        for (uint32_t n : {4u, 7u}) {
            for (uint64_t seed = 1; seed <= 4; ++seed) {
                Scenario s;
                s.nodes = n;
                s.byzantine = (n - 1) / 3;  // f
                s.behaviours = {b};
                s.seed = seed;
                s.heights = 6;
                RunResult r = MustRun(s);
                ExpectClean(r);
                EXPECT_EQ(r.byzantine_members.size(), s.byzantine);
            }
        }
    }
}

TEST_F(PbftSim, CrashedReplicasRestartFromTheirVotes) {
    for (uint64_t seed = 1; seed <= 6; ++seed) {
        Scenario s;
        s.nodes = 4;
        s.seed = seed;
        s.heights = 6;
        s.crashes.push_back({static_cast<uint32_t>(seed % 4), 20 * seed, 600 + 100 * seed});
        ExpectClean(MustRun(s));
    }
    // A lone node crashing and restarting.
    Scenario one;
    one.nodes = 1;
    one.heights = 6;
    one.crashes.push_back({0, 30, 400});
    ExpectClean(MustRun(one));
    // Beyond f at once (two of four down): no progress meanwhile, all of it after.
    Scenario two;
    two.nodes = 4;
    two.heights = 4;
    two.crashes.push_back({0, 10, 2000});
    two.crashes.push_back({1, 10, 2500});
    RunResult r = MustRun(two);
    ExpectClean(r);
    EXPECT_GT(r.virtual_ms, 2500u);
}

TEST_F(PbftSim, ANodeThatNeverRestartsIsAFault) {
    Scenario s;
    s.nodes = 4;
    s.heights = 4;
    s.crashes.push_back({3, 50, std::nullopt});
    RunResult r = MustRun(s);
    ExpectClean(r);
    EXPECT_TRUE(r.liveness_checked);
    s.byzantine = 1;
    s.behaviours = {Behaviour::kSilent};
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        s.seed = seed;
        if (ByzantineIndices(seed, 4, 1) != std::vector<uint32_t>{3}) break;
    }
    r = MustRun(s);
    EXPECT_FALSE(r.liveness_checked);  // f + 1 faulty: safety only
    EXPECT_EQ(r.violation_count, 0u) << Describe(r);
}

TEST_F(PbftSim, APartitionThatHealsDelaysButDoesNotStop) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
        Scenario s;
        s.nodes = 4;
        s.seed = seed;
        s.heights = 5;
        s.partitions.push_back({50, 3000, {{0, 1}, {2, 3}}});
        RunResult r = MustRun(s);
        ExpectClean(r);
        EXPECT_GT(r.virtual_ms, 3000u) << Describe(r);  // no quorum on either side meanwhile
        EXPECT_GT(r.view_changes, 0u);
    }
    // A minority cut off: the majority goes on, the minority catches up.
    Scenario s;
    s.nodes = 7;
    s.heights = 6;
    s.partitions.push_back({0, 2000, {{0, 1, 2, 3, 4}, {5, 6}}});
    ExpectClean(MustRun(s));
}

TEST_F(PbftSim, FaultGrammarRoundTripsAndRejectsNonsense) {
    auto p = ParsePartition("100-2500:0,1|2,3");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->start_ms, 100u);
    EXPECT_EQ(p->end_ms, 2500u);
    EXPECT_EQ(p->groups, (std::vector<std::vector<uint32_t>>{{0, 1}, {2, 3}}));
    EXPECT_EQ(FormatPartition(*p), "100-2500:0,1|2,3");
    auto c = ParseCrash("2@300-900");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(FormatCrash(*c), "2@300-900");
    auto forever = ParseCrash("1@50");
    ASSERT_TRUE(forever.ok());
    EXPECT_FALSE(forever->end_ms.has_value());
    for (const char* bad : {"", "100", "100-50:0|1", "a-b:0|1", "0-10:0,0|1", "0-10:0|x"}) {
        EXPECT_FALSE(ParsePartition(bad).ok()) << bad;
    }
    for (const char* bad : {"", "2", "x@1-2", "2@9-3", "2@-5", "2@1-"}) {
        EXPECT_FALSE(ParseCrash(bad).ok()) << bad;
    }
    Scenario s;
    s.nodes = 4;
    s.crashes.push_back({4, 1, 2});
    EXPECT_FALSE(Simulate(s).ok());
    s.crashes.clear();
    s.partitions.push_back({0, 10, {{0}, {9}}});
    EXPECT_FALSE(Simulate(s).ok());
}

// ---- the seed sweep ------------------------------------------------------------

struct Shard {
    uint32_t nodes;
    uint64_t first;  // seeds first .. first + count - 1; shards 100,000 apart
    uint64_t count;
    uint64_t long_count;  // with TC_LONG=1
};

class PbftSweep : public ::testing::TestWithParam<Shard> {
  protected:
    void SetUp() override { ASSERT_TRUE(crypto::InitSodium().ok()); }
};

// The seeded fault mix over n = 1, 4, 7, 10; every run must be free of
// violations, and reach the last height whenever liveness is checked.
TEST_P(PbftSweep, MixedFaultsKeepEveryProperty) {
    const Shard& shard = GetParam();
    uint64_t count = LongRun() ? shard.long_count : shard.count;
    MixBase base;
    base.nodes = shard.nodes;
    base.heights = 4;
    uint64_t failures = 0;
    for (uint64_t seed = shard.first; seed < shard.first + count; ++seed) {
        RunResult r = MustRun(Mix(seed, base));
        if (r.violation_count > 0 && ++failures <= 20) ADD_FAILURE() << Describe(r);
        if (r.liveness_checked && r.violation_count == 0) {
            EXPECT_EQ(r.committed_height, base.heights) << Describe(r);
        }
    }
    EXPECT_EQ(failures, 0u);
}

// gtest prints the parameter in ctest's listing: keep it readable.
void PrintTo(const Shard& shard, std::ostream* os) {
    *os << "n=" << shard.nodes << " seeds " << shard.first << "+" << shard.count;
}

// 2,016 seeds by default, 100,800 with TC_LONG=1, in 32 shards of about
// equal time (a run of n = 10 costs about 8 of n = 4 and 70 of n = 1), so
// that ctest -j spreads them and each stays well inside ctest's --timeout
// even in the long sweep.
std::vector<Shard> Shards() {
    struct Size {
        uint32_t nodes;
        uint64_t shards;
        uint64_t per_shard;
    };
    std::vector<Shard> out;
    for (Size size : {Size{1, 2, 250}, Size{4, 6, 117}, Size{7, 10, 45}, Size{10, 14, 26}}) {
        for (uint64_t k = 0; k < size.shards; ++k) {
            out.push_back({size.nodes, size.nodes * 10'000'000ull + k * 100'000, size.per_shard,
                           size.per_shard * 50});
        }
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Seeds, PbftSweep, ::testing::ValuesIn(Shards()), [](const auto& info) {
    return "n" + std::to_string(info.param.nodes) + "_" + std::to_string(info.param.first);
});
