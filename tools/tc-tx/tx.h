// tc-tx: builds, decodes and inspects transactions offline (as bitcoin-tx
// does); signing is tc-keygen sign. Hex on stdin and stdout.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include "util/config.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::txtool {

struct Options {
    util::CommonOptions common;
    std::vector<std::string> ins;   // TXID:VOUT
    std::vector<std::string> outs;  // ADDRESS:AMOUNT
    uint64_t expiry = 0;
    std::string register_spec;  // PUBKEY,HOST:PORT,PAYOUT_ADDRESS
    std::string retire_key;     // PUBKEY
    bool devnet = false;        // decode: show tct1 addresses
};

void SetupCli(CLI::App& app, Options& opts);
util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out);

// Builds the unsigned transaction that `create` prints. Bad arguments are
// usage errors naming the argument.
util::Result<wire::Transaction> BuildTransaction(const Options& opts);

}  // namespace tc::txtool
