// tc-load: the load generator and latency probe (DESIGN §1, §8). It splits
// a faucet output into one small output per transfer (load_plan.h), signs
// every transfer before the timed window so that its own signing does not
// compete with the node, submits them in JSON-RPC batches at --rate (or as
// fast as the node accepts), follows GET /events for their commits
// (load_rpc.h) and prints one JSON object of figures. main.cpp only parses
// flags and maps the Status to an exit code; the output grammar is in
// man/tc-load.1.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "load_plan.h"
#include "util/config.h"
#include "util/result.h"

namespace tc::load {

struct Options {
    util::CommonOptions common;
    std::string rpc_url;          // empty: DATADIR/run/rpc.url, else http://127.0.0.1:8732
    std::string cookie;           // empty: DATADIR/rpc.cookie
    std::string faucet_key;       // key file of the faucet (required)
    std::string passphrase_file;  // for an encrypted faucet key
    uint64_t rate = 0;            // tx/s; 0: as fast as accepted
    uint64_t count = 0;           // transfers; or
    uint64_t duration = 0;        // seconds (needs --rate: count = rate x duration)
    uint64_t fee_rate = 0;        // units per byte; 0: the chain's min_fee_rate (at least 1)
    uint64_t batch = 100;         // sendrawtransaction calls per HTTP request
    uint64_t max_batch_bytes = 512 * 1024;  // and at most this much hex in one
    uint64_t split_fanout = 1000;           // most outputs of one split tx
    uint64_t timeout =
        120;  // seconds to wait for splits, and for commits after the last submission
    uint64_t leaf_units = 1000;   // what each transfer moves to the sink, besides its fee
    uint64_t max_sources = 1000;  // the largest faucet outputs kept for splitting
};

// Registers the flags on app (no subcommands).
void SetupCli(CLI::App& app, Options& opts);

// The figures of a run (man/tc-load.1, OUTPUT).
struct Report {
    uint64_t submitted = 0;
    uint64_t accepted = 0;
    std::map<std::string, uint64_t> refused;  // reason -> count
    uint64_t committed = 0;
    double tx_per_s = 0;  // committed / (last commit - first submission)
    std::optional<Percentiles> latency_ms;
    double duration_s = 0;  // first submission to the end of the wait
    double split_s = 0;
    double sign_s = 0;
    uint64_t rate = 0;  // asked for; 0: as fast as accepted
    uint64_t count = 0;
    uint64_t fee_rate = 0;
    uint64_t split_rounds = 0;
    uint64_t split_txs = 0;
    uint64_t stream_reconnects = 0;  // times /events dropped and was reopened
    uint64_t polled = 0;             // commits found by gettransaction, not by /events
};

nlohmann::json ReportJson(const Report& report);

// The whole run; the report on out (one line of JSON), the progress line
// and warnings on err. Errors: kUsage for flag combinations CLI11 cannot
// check (no --count or --duration, --duration without --rate, a --count of
// 0), kIo when the node cannot be reached, kPermission on a wrong cookie,
// kInvalid for a faucet too small, kIo for splits not committed within
// --timeout or refused.
util::Status Run(const Options& opts, std::ostream& out, std::ostream& err);

}  // namespace tc::load
