// tc-store: the sole writer of the LMDB ledger (DESIGN §1, §2) and the
// operator's window into it. This file holds the command-line part: making a
// genesis file, creating the ledger from one, the inspection commands that
// read LMDB directly (daemon up or down), the integrity check, and export /
// import of the chain (the stream format is in export.h). Each command is a
// function over parsed options and streams so that tests call it directly;
// main.cpp only parses flags and maps the Status to an exit code.
//
// Every command but genesis works on DATADIR/ledger (util::LedgerDir). The
// read commands open it read-only (ledger::Ledger::OpenReadOnly); only init,
// import and the daemon (run, in daemon.h) write. ping, submit and watch are
// clients of the running daemon. The output grammar of each command is in
// man/tc-store.1.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "util/config.h"
#include "util/result.h"
#include "wire/genesis.h"

namespace tc::store {

struct Options {
    util::CommonOptions common;

    // genesis
    std::string chain;
    bool devnet = false;
    std::vector<std::string> allocs;       // ADDRESS:AMOUNT
    std::vector<std::string> masternodes;  // PUBKEY,HOST:PORT,PAYOUT_ADDRESS
    std::string collateral = "1000";
    std::string time;  // RFC 3339 UTC; empty = now, rounded down to the second
    uint64_t activation_delay = wire::Genesis{}.activation_delay;
    std::string min_fee_rate = wire::Genesis{}.min_fee_rate.ToString();
    uint64_t max_block_bytes = wire::Genesis{}.max_block_bytes;
    uint64_t max_block_txs = wire::Genesis{}.max_block_txs;
    uint64_t max_tx_bytes = wire::Genesis{}.max_tx_bytes;
    uint64_t timeout_base_ms = wire::Genesis{}.timeout_base_ms;
    uint64_t timeout_max_ms = wire::Genesis{}.timeout_max_ms;

    // init
    std::string genesis_file;

    // block (HEIGHT|HASH), tx (TXID), utxos and balance (ADDRESS)
    std::string target;
    uint64_t limit = 0;  // utxos: at most this many (0 = all)

    // import and submit: blocks per LMDB write transaction / apply request
    uint64_t batch = 64;

    // run (the daemon, daemon.h) and its clients ping, submit, watch, status
    uint64_t max_message_bytes = 64ull << 20;  // largest request the ROUTER takes
    uint64_t max_batch = 256;                  // blocks in one apply request
    uint64_t max_utxos = 1000;                 // outputs in one utxos reply
    uint64_t event_retention = 10000;          // events `since` replays
    uint64_t max_evidence = 1000;              // entries in one evidence reply
    uint64_t max_evidence_entries = 10000;     // entries the evidence database may hold
    std::string metrics_listen;                // HOST:PORT, empty: no metrics
    uint64_t timeout_ms = 2000;                // how long a client waits for a reply
    std::optional<uint64_t> since;             // watch: replay the events after this seq
    bool daemon = false;                       // status: ask the daemon first
};

// Registers the subcommands and their flags on app.
void SetupCli(CLI::App& app, Options& opts);

// Runs the subcommand that app parsed. Data goes to out, progress lines of
// verify and import to err (diagnostics of a failure are the caller's: the
// returned error).
util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out,
                 std::ostream& err);

// The genesis that `genesis` prints, validated by the same parser that
// reads genesis files (wire::ParseGenesis). Bad arguments are Errc::kUsage
// errors naming the argument ("--alloc tct1...:x: ...").
util::Result<wire::Genesis> BuildGenesis(const Options& opts);

}  // namespace tc::store
