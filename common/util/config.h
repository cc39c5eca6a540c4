// Options every tc-* program shares, and where option values come from.
//
// A value is taken from the first of these that sets it:
//   1. the command line            --log-level debug
//   2. a TC_* environment variable TC_LOG_LEVEL=debug
//   3. the TOML config file        log-level = "debug"  (top level), or in
//                                  the program's own table: [store] ...
//   4. the built-in default
//
// The config file is --config FILE (env TC_CONFIG); without it,
// DATADIR/timecoin.toml is read when it exists. One file serves every program
// of a datadir: top-level keys apply to each program that has such an option
// (and are ignored by the others), a table named after the program's stage
// ([keygen], [tx], [store], [pool], [pbft], [p2p], [rpc], [load]) holds that
// program's keys and overrides the top level. Keys are long option names
// without the dashes; values are strings, integers, floats, booleans (for
// flags) or arrays (for options that take several values), checked by CLI11
// exactly as on the command line. Other programs' tables are ignored; an
// unknown key in the program's own table is an error; so is --config,
// --datadir, --help or --version anywhere in the file. A key for a
// subcommand's option applies only when that subcommand runs.
//
//   log-level = "debug"          # every program
//   [pool]
//   max-pool-bytes = 300000000   # tc-pool only
//
// Keep at the top level only options that mean the same in every program
// (log-level, log-format): tc-keygen new --out and tc-tx create --out share a
// name, not a meaning.
//
// Mains do not call ParseCommandLine themselves: util::RunTool (cli.h) does,
// then starts logging and maps the outcome to an exit code.
//
// Caveats: CLI11 2.1 reads its own config files *before* the environment,
// which would make the file beat TC_*; that is why the file is applied here,
// after CLI11 has parsed flags and environment, and not through
// CLI::App::set_config. As a consequence a value from the file is not seen by
// CLI11's needs() checks nor by App (subcommand) callbacks, which run before
// it is applied; required() options and excludes() are handled here (a file
// value is dropped when the command line or environment gave an option that
// excludes it).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "util/result.h"

namespace tc::util {

struct CommonOptions {
    std::string datadir;      // after parsing: never empty
    std::string config_file;  // after parsing: the file that was read, or empty
    std::string log_level = "info";
    std::string log_format = "text";
    bool json = false;
    std::string stage;  // set by AddCommonOptions: "store" for tc-store
};

// Adds --datadir DIR (TC_DATADIR), --config FILE (TC_CONFIG), --log-level
// trace|debug|info|warn|error (TC_LOG_LEVEL), --log-format text|json
// (TC_LOG_FORMAT), --json and --version ("tc-STAGE VERSION") to app. Names
// the app "tc-STAGE" if it has no name. --config, --datadir, --help and
// --version cannot be set in a config file (the file's location depends on
// the first two).
void AddCommonOptions(CLI::App& app, CommonOptions& opts, std::string stage);

// Gives opt the environment name TC_<LONG_NAME>: --max-pool-bytes reads
// TC_MAX_POOL_BYTES. Returns opt, so that it chains:
//   WithEnv(app.add_option("--max-pool-bytes", o.max_pool_bytes, "..."));
CLI::Option* WithEnv(CLI::Option* opt);

// A check for every unsigned integer option: plain decimal digits only.
// CLI11 2.1 converts with strtoull in base 0, so without it "-5" wraps to
// 2^64-5 and "010" is read as octal 8.
//   app.add_option("--expiry", o.expiry)->check(DecimalUnsigned());
const CLI::Validator& DecimalUnsigned();

// A bound of a daemon or client (DESIGN §6: every bound is a flag): an
// unsigned option in [lowest, highest], plain decimal, its default shown in
// --help. Returns the option, so that it chains.
CLI::Option* AddBound(CLI::App* cmd, const std::string& flag, uint64_t& value,
                      const std::string& help, uint64_t lowest, uint64_t highest);

// $HOME/.timecoin. Errc::kUsage when HOME is unset or empty.
Result<std::string> DefaultDatadir();

// Paths derived from a datadir: "ipc://DATADIR/run/NAME.sock" (a stage's
// socket), DATADIR/ledger (LMDB) and DATADIR/log. No trailing slash.
std::string RunEndpoint(const std::string& datadir, const std::string& name);
std::string LedgerDir(const std::string& datadir);
std::string LogDir(const std::string& datadir);

// Parses argv into app with the precedence above. CLI11's own errors, and
// --help/--version, propagate as CLI::ParseError (CLI::Success for the
// latter), exactly as from app.parse(). A problem with the config file
// (missing --config file, TOML syntax, unknown key, bad value) and a missing
// datadir (no --datadir, TC_DATADIR or HOME) are returned as Errc::kUsage with
// a message that names FILE:LINE:COLUMN where there is one.
// Call once, after AddCommonOptions and after the program's own options.
Status ParseCommandLine(CLI::App& app, CommonOptions& opts, int argc, const char* const* argv);

}  // namespace tc::util
