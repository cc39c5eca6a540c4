// tc-pool: the transaction pool of one masternode (DESIGN §2). This file
// holds the command line: the options of every subcommand, their
// registration, and Run, which dispatches to the daemon (daemon.h: run) or
// to one of its clients (status, list, why, watch, submit). main.cpp only
// parses flags and maps the Status to an exit code. The grammar of each
// command's output is in man/tc-pool.1.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "mempool.h"
#include "requests.h"
#include "util/config.h"
#include "util/result.h"

namespace tc::pool {

struct Options {
    util::CommonOptions common;

    // run: the bounds (every one a flag, DESIGN §6)
    uint64_t max_count = Limits{}.max_count;
    uint64_t max_bytes = Limits{}.max_bytes;
    uint64_t max_history = Limits{}.max_history;
    uint64_t max_message_bytes = 64ull << 20;  // largest request the ROUTER takes
    uint64_t max_submit = RequestLimits{}.max_submit;
    uint64_t max_list = RequestLimits{}.max_list;
    unsigned verify_threads = 0;         // 0: one per core
    uint64_t max_event_queue = 100'000;  // events queued for one subscriber (ZeroMQ sndhwm)
    uint64_t store_timeout_ms = 1000;    // how long run waits for the store's since
    uint64_t retry_ms = 1000;            // how often run retries a failed resync
    std::string metrics_listen;          // HOST:PORT, empty: no metrics

    // clients
    uint64_t timeout_ms = 2000;  // how long a client waits for a reply
    uint64_t limit = 100;        // list
    std::string txid;            // why
};

// Registers the subcommands and their flags on app.
void SetupCli(CLI::App& app, Options& opts);

// Runs the subcommand that app parsed; data to out, warnings to err.
util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out,
                 std::ostream& err);

}  // namespace tc::pool
