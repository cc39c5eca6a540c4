// tc-rpc: the client-facing JSON-RPC 2.0 daemon of one masternode (DESIGN
// §1, §2, §8) and its command-line client. This file holds the command
// line: the options, their registration, and Run, which dispatches to the
// daemon (rpc_server.h: run), to ping, or to one method call (rpc_client.h:
// METHOD [PARAMS...]). man/tc-rpc.1 is the contract.
//
// CLI shape: `run` and `ping` are subcommands; anything else is a call. The
// app is a prefix command: the first positional that is not a subcommand
// and everything after it (options included) are METHOD and its PARAMS, so
// `tc-rpc getblock -1` sends [-1]. Options go before METHOD.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "util/config.h"
#include "util/result.h"

namespace tc::rpc {

inline constexpr std::string_view kDefaultListen = "127.0.0.1:8732";

struct Options {
    util::CommonOptions common;

    // run: where, and the bounds (every one a flag, DESIGN §6)
    std::string listen = std::string(kDefaultListen);
    uint64_t max_body_bytes = 1ull << 20;  // larger: HTTP 413
    uint64_t max_concurrent = 8;           // JSON-RPC worker threads
    uint64_t max_batch = 1000;             // entries of one batch
    uint64_t max_event_queue = 100000;     // events queued for one /events subscriber
    uint64_t max_event_subscribers = 16;   // /events streams at once
    uint64_t max_utxos = 1000;             // entries of one listunspent
    uint64_t stage_timeout_ms = 2000;      // how long a stage may take to answer
    std::string metrics_listen;            // HOST:PORT, empty: no metrics

    // the client (METHOD ... and ping)
    std::string rpc_url;      // empty: DATADIR/run/rpc.url, else http://127.0.0.1:8732
    std::string cookie_file;  // empty: DATADIR/rpc.cookie
    uint64_t timeout_ms = 30000;
};

// Registers the subcommands and flags on app.
void SetupCli(CLI::App& app, Options& opts);

// Runs what app parsed: the daemon, ping, or the call in app.remaining().
util::Status Run(const CLI::App& app, const Options& opts, std::ostream& out, std::ostream& err);

}  // namespace tc::rpc
