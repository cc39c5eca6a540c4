// tc-keygen: the only program besides the node daemons that touches secret
// keys. Creates and shows key files, signs transactions (a witness per
// input) and messages, and verifies them. Each command is a function over
// parsed options and streams so that tests call it directly; main.cpp only
// parses flags and maps the Status to an exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "util/config.h"
#include "util/result.h"
#include "wire/address.h"

namespace tc::keygen {

struct Options {
    util::CommonOptions common;
    std::string out;              // new: key file to create
    bool devnet = false;          // new: a devnet (tct) key
    std::string passphrase_file;  // new: encrypt; sign/sign-message: decrypt
    std::string key;              // show (positional), sign, sign-message
    std::string genesis;          // sign/verify: chain id from this genesis
    std::string chain_id;         // sign/verify: chain id in hex
    std::string inputs;           // sign: "0,2" (default all)
    std::string address;          // verify-message
    std::string signature;        // verify-message
    std::string message;          // sign-message / verify-message
};

// Registers the subcommands and their flags on app.
void SetupCli(CLI::App& app, Options& opts);

// Runs the subcommand that app parsed.
util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out);

util::Status New(const Options& opts, std::ostream& out);
util::Status Show(const Options& opts, std::ostream& out);
util::Status Sign(const Options& opts, std::istream& in, std::ostream& out);
util::Status Verify(const Options& opts, std::istream& in, std::ostream& out);
util::Status SignMessage(const Options& opts, std::ostream& out);
util::Status VerifyMessage(const Options& opts, std::ostream& out);

// The chain named by --genesis FILE or --chain-id HEX (exactly one): its
// id, and its network when a genesis file says it.
struct Chain {
    crypto::Hash256 id{};
    std::optional<wire::Network> network;
};
util::Result<Chain> ChainFromOptions(const std::string& genesis, const std::string& chain_id_hex);

// Parses "0,2,5" into distinct indices below `slots`; empty means all.
util::Result<std::vector<size_t>> ParseInputList(const std::string& list, size_t slots);

}  // namespace tc::keygen
