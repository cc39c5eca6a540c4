// The seeded byzantine network simulator behind `tc-pbft simulate`
// (man/tc-pbft.1): n masternodes, each driving real pbft::Replica objects
// (replica.h) over a virtual-time network with seeded delays, loss,
// duplication, reordering, partitions that heal, crashes that restart from
// the persisted votes, and byzantine members (byzantine.h). Every run checks
// agreement, validity, certificates, self-consistency of correct replicas,
// liveness and the memory bounds, and reports each failure as a Violation.
//
// Determinism: all randomness comes from one seeded PRNG (xoshiro256**,
// raw outputs only, no std::*_distribution) and events run in (time,
// sequence) order, so a Scenario always gives the same trace hash.
// CommandLine() prints the command that reproduces a Scenario, and Mix()
// turns a seed into a Scenario with a seeded mix of faults.
//
// Liveness: when the byzantine members plus the nodes that crash and never
// restart are at most f, every correct replica must reach `heights` by
//   GST + heights * (f + 2) * (Tmax + resend_ms + 2 * max_delay)
// of virtual time, where GST is the end of the last partition or crash and
// Tmax = max_timeout_ms is the longest view timeout: each height may
// need f + 1 view changes (byzantine primaries) after one full timeout.
//
// Caveats: the simulator trusts nothing the core says about itself except
// Stats (the memory bounds); every other check works from what the replicas
// sent and committed. The environment variable TC_SIM_TRACE=NODE prints that
// member's inputs and actions to stderr (it does not change the run).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "byzantine.h"
#include "replica.h"
#include "util/result.h"

namespace tc::pbft::sim {

// "START-END:0,1|2,3": from START to END (virtual ms, END excluded) the
// listed groups cannot reach one another; a node named in no group is cut
// off from everyone. Heals at END.
struct Partition {
    uint64_t start_ms = 0;
    uint64_t end_ms = 0;
    std::vector<std::vector<uint32_t>> groups;
    bool operator==(const Partition&) const = default;
};

// "NODE@START-END": node crashes at START (its Replica destroyed; half the
// time it first runs on to just after its next Persist, whose vote it then
// never sends) and restarts at END from its persisted votes and its chain.
// "NODE@START": it never restarts.
struct Crash {
    uint32_t node = 0;
    uint64_t start_ms = 0;
    std::optional<uint64_t> end_ms;
    bool operator==(const Crash&) const = default;
};

struct Scenario {
    uint32_t nodes = 4;
    uint32_t byzantine = 0;  // how many members are byzantine (chosen by the seed)
    uint64_t seed = 1;
    uint64_t heights = 5;
    double loss = 0;       // probability that a message is lost
    double duplicate = 0;  // probability that a message is delivered twice
    bool reorder = false;  // delays 1-100 ms, links not FIFO (else 1-10 ms, FIFO)
    std::vector<Partition> partitions;
    std::vector<Crash> crashes;
    std::vector<Behaviour> behaviours;  // for the byzantine members in order, cycled; empty: seeded
    uint64_t base_timeout_ms = 1000;    // T(0)
    uint64_t max_timeout_ms = 16000;    // T(v) never exceeds it
    uint64_t resend_ms = 500;
    uint64_t max_events = 4'000'000;         // a run stops (not a violation by itself) beyond this
    PlantedBug planted = PlantedBug::kNone;  // only with the planted build (replica.h)
};

struct Violation {
    std::string kind;  // agreement, validity, certificate, contradiction, liveness, memory, ...
    uint64_t height = 0;
    std::vector<uint32_t> replicas;
    std::string detail;
    bool operator==(const Violation&) const = default;
};

struct ByzantineMember {
    uint32_t index = 0;
    Behaviour behaviour = Behaviour::kSilent;
};

// Where one replica (one copy of a member) ended.
struct ReplicaEnd {
    uint32_t index = 0;
    uint32_t copy = 0;  // 1: the second of twins
    bool byzantine = false;
    bool up = true;
    uint64_t chain_height = 0;
    uint64_t view = 0;  // in the height it is deciding
    uint64_t view_changes = 0;
};

struct RunResult {
    Scenario scenario;
    std::vector<ByzantineMember> byzantine_members;
    uint64_t committed_height = 0;      // lowest chain height among correct replicas
    std::vector<Violation> violations;  // distinct ones, at most kMaxListed
    uint64_t violation_count = 0;       // distinct ones, all
    uint64_t view_changes = 0;          // summed over correct replicas and their restarts
    uint64_t messages = 0;              // delivered to a replica
    uint64_t sent = 0;                  // handed to the network, duplicates included
    uint64_t lost = 0;                  // dropped by loss, partitions or a crashed receiver
    uint64_t evidence = 0;              // Evidence actions of correct replicas
    uint64_t events = 0;
    uint64_t virtual_ms = 0;
    bool liveness_checked = false;
    uint64_t liveness_bound_ms = 0;
    bool stopped = false;  // hit max_events
    PeerStats rejected;    // what correct replicas refused, summed over peers and restarts
    std::vector<ReplicaEnd> replicas;
    std::string trace_hash;  // hex blake2b-256 over every delivered input
    std::string command;     // CommandLine(scenario)
};

inline constexpr size_t kMaxListed = 64;

// Runs one scenario. Errors (kUsage) only for a scenario that makes no
// sense: no nodes, more byzantine members than nodes, a fault naming a node
// that does not exist, a partition or crash that ends before it starts.
util::Result<RunResult> Simulate(const Scenario& scenario);

// The members a seed makes byzantine (what Simulate uses).
std::vector<uint32_t> ByzantineIndices(uint64_t seed, uint32_t nodes, uint32_t byzantine);

// What a mix may not choose: a fixed node count and byzantine count.
struct MixBase {
    std::optional<uint32_t> nodes;      // none: one of 1, 4, 7, 10
    std::optional<uint32_t> byzantine;  // none: 0..f
    uint64_t heights = 5;
    PlantedBug planted = PlantedBug::kNone;
};

// A seeded mix of faults for seed: loss, duplication, reordering, a healing
// partition, crashes of correct members that restart, byzantine behaviours;
// each drawn or not. Deterministic in (seed, base).
Scenario Mix(uint64_t seed, const MixBase& base);

// "tc-pbft simulate --nodes 4 ... --json": the command that reruns s.
std::string CommandLine(const Scenario& s);

// Parsers of the fault grammar (Errc::kUsage naming the argument).
util::Result<Partition> ParsePartition(std::string_view text);
util::Result<Crash> ParseCrash(std::string_view text);
std::string FormatPartition(const Partition& p);
std::string FormatCrash(const Crash& c);

}  // namespace tc::pbft::sim
