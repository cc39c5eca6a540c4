// The one entry point of every tc-* main, so that mains stay thin and every
// program keeps the same contract (DESIGN.md §8, STYLE.md 7):
//
//   exit 0  success; also --help and --version (printed on stdout)
//   exit 1  an operational failure: "tc-NAME: error: REASON" on stderr
//   exit 2  a usage error: a bad flag or config file, or Errc::kUsage
//
// The reason is always one line on stderr; CLI11's usage dump is never
// printed on an error. A main looks like:
//
//   CLI::App app{"what it does", "tc-store"};
//   store::Options opts;
//   util::AddCommonOptions(app, opts.common, "store");
//   store::SetupCli(app, opts);  // may call app.require_subcommand(1)
//   return util::RunTool(app, opts.common, argc, argv, [&] { return store::Run(app, opts); });
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string_view>

#include "util/config.h"
#include "util/result.h"

namespace tc::util {

// Parses argv with util::ParseCommandLine (flag > TC_* > config file >
// default), starts logging (InitLogging with --log-level/--log-format), runs
// body and maps the outcome to an exit code:
//   --help, --version               stdout, 0
//   CLI11 parse error of any kind   "tc-NAME: error: REASON (see tc-NAME --help)", 2
//   config file or datadir error    "tc-NAME: error: FILE:LINE:COL: ...", 2
//   body() ok                       0
//   body() Errc::kUsage             "tc-NAME: error: MESSAGE", 2
//   body() any other error          "tc-NAME: error: MESSAGE", 1
//   std::exception out of body      "tc-NAME: error: internal: WHAT", 1
// NAME is app.get_name() (AddCommonOptions sets it when empty). Call once.
int RunTool(CLI::App& app, CommonOptions& opts, int argc, char** argv,
            const std::function<Status()>& body);

// Writes "PROGRAM: error: MESSAGE\n" to stderr, line breaks in the message
// folded into spaces so that it stays one line.
void PrintError(std::string_view program, const Error& error);

// 2 for Errc::kUsage, else 1.
int ExitCode(const Error& error);

}  // namespace tc::util
