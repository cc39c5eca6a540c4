// pbft_bench: how fast the PBFT core runs (scripts/bench pbft). Prints one
// JSON object:
//   core_events_per_s_nosig   Replica::Step calls per second, n = 4, all four
//                             replicas on this one thread, signature checks
//                             off (signing stays: a replica signs its votes)
//   core_events_per_s         the same with every signature checked
//   heights_per_s_nosig, heights_per_s   the heights those runs committed
//   sim_heights_per_s_n4, sim_heights_per_s_n10   heights per second of wall
//                             time that `tc-pbft simulate` commits, fault-free,
//                             every signature made and checked
// Messages go straight from one replica to the next (tests/unit/pbft_harness.h),
// so the figures are the core's own cost: codec, hashing, signatures and
// bookkeeping, without a network.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "pbft_harness.h"
#include "simulator.h"

namespace {

using Clock = std::chrono::steady_clock;

struct CoreRun {
    double events_per_s = 0;
    double heights_per_s = 0;
};

CoreRun RunCore(bool verify, uint64_t heights) {
    tc::pbft::Config config;
    config.verify_signatures = verify;
    tc::pbft::test::Harness h(4, config);
    h.m_max_height = heights;
    auto start = Clock::now();
    h.StartAll();
    h.Run();
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (h.chain(0).size() != heights) {
        std::fprintf(stderr, "pbft_bench: committed %zu of %llu heights\n", h.chain(0).size(),
                     static_cast<unsigned long long>(heights));
        std::exit(1);
    }
    return {static_cast<double>(h.m_steps) / seconds, static_cast<double>(heights) / seconds};
}

double SimHeightsPerSecond(uint32_t nodes, uint64_t heights) {
    tc::pbft::sim::Scenario scenario;
    scenario.nodes = nodes;
    scenario.heights = heights;
    auto start = Clock::now();
    auto result = tc::pbft::sim::Simulate(scenario);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!result || result->violation_count > 0 || result->committed_height < heights) {
        std::fprintf(stderr, "pbft_bench: the simulation of n = %u failed\n", nodes);
        std::exit(1);
    }
    return static_cast<double>(result->committed_height) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t heights = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000;
    if (!tc::crypto::InitSodium().ok()) return 1;
    CoreRun nosig = RunCore(false, heights);
    CoreRun sig = RunCore(true, heights / 4 + 1);
    nlohmann::json out;
    out["core_events_per_s_nosig"] = static_cast<uint64_t>(nosig.events_per_s);
    out["core_events_per_s"] = static_cast<uint64_t>(sig.events_per_s);
    out["heights_per_s_nosig"] = static_cast<uint64_t>(nosig.heights_per_s);
    out["heights_per_s"] = static_cast<uint64_t>(sig.heights_per_s);
    out["n"] = 4;
    out["sim_heights_per_s_n4"] = static_cast<uint64_t>(SimHeightsPerSecond(4, heights / 5));
    out["sim_heights_per_s_n10"] = static_cast<uint64_t>(SimHeightsPerSecond(10, heights / 20));
    std::printf("%s\n", out.dump().c_str());
    return 0;
}
