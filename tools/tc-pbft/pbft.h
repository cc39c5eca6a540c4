// tc-pbft: the consensus program. This file holds its command line: the
// daemon and its clients (driver.h: run, ping, status, watch, evidence) and
// `simulate` (the seeded byzantine network simulator of simulator.h). Each command is a function
// over parsed options and a stream so that tests call it directly; main.cpp only parses flags and
// maps the Status to an exit code. The output grammar is in man/tc-pbft.1.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "simulator.h"
#include "util/config.h"
#include "util/result.h"

namespace tc::pbft {

struct Options {
    util::CommonOptions common;

    // simulate
    uint32_t nodes = 4;
    uint32_t byzantine = 0;
    uint64_t seed = 1;
    uint64_t heights = 5;
    double loss = 0;
    double duplicate = 0;
    bool reorder = false;
    std::vector<std::string> partitions;  // START-END:GROUP|GROUP...
    std::vector<std::string> crashes;     // NODE@START[-END]
    std::string behaviours;               // comma-separated behaviour names
    std::string seeds;                    // A-B: a sweep
    uint64_t base_timeout_ms = sim::Scenario{}.base_timeout_ms;
    uint64_t max_timeout_ms = sim::Scenario{}.max_timeout_ms;
    uint64_t resend_ms = sim::Scenario{}.resend_ms;
    uint64_t max_events = sim::Scenario{}.max_events;

    // run (driver.h)
    std::string key_file;                 // empty: DATADIR/masternode.key
    std::string passphrase_file;          // for an encrypted key file
    uint64_t run_resend_ms = 1000;        // Config::resend_ms
    uint64_t stage_timeout_ms = 5000;     // how long run waits for the pool's or the store's answer
    uint64_t retry_ms = 500;              // how often run retries what a stage did not answer
    uint64_t max_clock_skew_ms = 10'000;  // a proposal's timestamp may be this far ahead
    uint64_t max_evidence = 1000;         // evidence pairs kept (oldest dropped)
    uint64_t max_message_bytes = 64ull << 20;  // largest request the ROUTER takes
    uint64_t compact_every = 64;               // heights between vote-log compactions
    std::string metrics_listen;                // HOST:PORT, empty: no metrics
    uint64_t p2p_send_hwm = 1000;  // messages queued for tc-p2p; beyond: dropped (PBFT resends)
    uint64_t decided_batch = 16;   // blocks one SendDecided sends at most

    // clients
    uint64_t timeout_ms = 2000;     // how long a client waits for a reply
    uint64_t p2p_timeout_ms = 500;  // status: how long it waits for tc-p2p's peers
};

// Registers the subcommands and their flags on app.
void SetupCli(CLI::App& app, Options& opts);

// Runs the subcommand that app parsed, printing its result to out and
// warnings to err. simulate: Errc::kInvalid ("N violations") when a run
// reports violations, after the result has been printed.
util::Status Run(const CLI::App& app, const Options& opts, std::ostream& out, std::ostream& err);

// The scenario the simulate flags describe (Errc::kUsage naming the flag).
// `given` says whether any fault flag was given at all.
util::Result<sim::Scenario> ScenarioFromOptions(const CLI::App& app, const Options& opts,
                                                bool* faults_given);

}  // namespace tc::pbft
