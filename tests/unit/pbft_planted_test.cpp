// The simulator catches every planted bug of the PBFT core (replica.h,
// PlantedBug; this file links the build with TC_PBFT_PLANTED_BUGS): for each
// one, up to 500 seeds of a fault mix chosen to expose it must report at
// least one violation. The seed that first caught it is printed (and
// recorded as a test property) so a change that makes a bug harder to find
// shows.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <string>

#include "crypto/keys.h"
#include "simulator.h"

using namespace tc;
using namespace tc::pbft;
using namespace tc::pbft::sim;

namespace {

class PbftPlanted : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(crypto::InitSodium().ok()); }

    // Runs seeds 1..500 of make(seed) with the bug planted; returns the first
    // seed with a violation (0: none).
    uint64_t FirstCaught(PlantedBug bug, const std::function<Scenario(uint64_t)>& make) {
        for (uint64_t seed = 1; seed <= 500; ++seed) {
            Scenario s = make(seed);
            s.planted = bug;
            auto r = Simulate(s);
            if (!r.ok()) {
                ADD_FAILURE() << r.error().message;
                return 0;
            }
            if (r->violation_count > 0) {
                const auto& v = r->violations.front();
                std::cout << "caught at seed " << seed << ": " << v.kind << " at height "
                          << v.height << ": " << v.detail << "\n  " << r->command
                          << " (planted build)\n";
                RecordProperty("caught_at_seed", std::to_string(seed));
                return seed;
            }
        }
        return 0;
    }
};

// The seeded mix for n = 4 with one byzantine member of behaviour b.
Scenario MixWith(uint64_t seed, Behaviour b) {
    MixBase base;
    base.nodes = 4;
    base.byzantine = 1;
    base.heights = 5;
    Scenario s = Mix(seed, base);
    s.behaviours = {b};
    return s;
}

// A crash of a correct member, drawn from the seed.
void AddCrash(Scenario& s, uint64_t seed) {
    std::vector<uint32_t> byz = ByzantineIndices(s.seed, s.nodes, s.byzantine);
    for (uint32_t k = 0; k < s.nodes; ++k) {
        uint32_t node = static_cast<uint32_t>((seed + k) % s.nodes);
        if (std::find(byz.begin(), byz.end(), node) != byz.end()) continue;
        uint64_t start = 20 + (seed * 37) % 400;
        s.crashes.push_back({node, start, start + 150 + (seed * 53) % 600});
        return;
    }
}

}  // namespace

TEST_F(PbftPlanted, DuplicateVoteCountedIsCaught) {
    uint64_t seed = FirstCaught(PlantedBug::kDuplicateVoteCounted, [](uint64_t seed) {
        Scenario s = MixWith(seed, Behaviour::kEquivocate);
        s.duplicate = 0.3;
        return s;
    });
    EXPECT_GT(seed, 0u) << "a vote counted twice was never caught in 500 seeds";
}

TEST_F(PbftPlanted, QuorumOfTwoFIsCaught) {
    uint64_t seed = FirstCaught(PlantedBug::kQuorumTwoF, [](uint64_t seed) {
        Scenario s = MixWith(seed, Behaviour::kEquivocate);
        return s;
    });
    EXPECT_GT(seed, 0u) << "a quorum of 2f was never caught in 500 seeds";
}

TEST_F(PbftPlanted, ForgetLastVoteIsCaught) {
    uint64_t seed = FirstCaught(PlantedBug::kForgetLastVote, [](uint64_t seed) {
        Scenario s = MixWith(seed, Behaviour::kEquivocate);
        s.partitions.clear();
        s.crashes.clear();
        AddCrash(s, seed);
        AddCrash(s, seed + 1);
        return s;
    });
    EXPECT_GT(seed, 0u) << "a vote forgotten on restart was never caught in 500 seeds";
}

TEST_F(PbftPlanted, OtherViewVoteIsCaught) {
    uint64_t seed = FirstCaught(PlantedBug::kOtherViewVote, [](uint64_t seed) {
        Scenario s = MixWith(seed, Behaviour::kEquivocate);
        if (s.partitions.empty()) s.partitions.push_back({100, 2500, {{0, 1}, {2, 3}}});
        return s;
    });
    EXPECT_GT(seed, 0u) << "votes of another view counted were never caught in 500 seeds";
}

TEST_F(PbftPlanted, UncheckedNewViewIsCaught) {
    uint64_t seed = FirstCaught(PlantedBug::kUncheckedNewView, [](uint64_t seed) {
        Scenario s = MixWith(seed, Behaviour::kEquivocate);
        if (s.partitions.empty()) {
            s.partitions.push_back({50 + seed % 200, 2500, {{0, 1}, {2, 3}}});
        }
        return s;
    });
    EXPECT_GT(seed, 0u) << "an unchecked NEW-VIEW was never caught in 500 seeds";
}
