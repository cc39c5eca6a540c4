#include "util/cli.h"

#include <exception>
#include <iostream>
#include <string>

#include "util/log.h"

namespace tc::util {

namespace {

// One line: CLI11 and std::exception messages may hold line breaks.
std::string OneLine(std::string_view text) {
    std::string line(text);
    for (char& c : line) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

void PrintLine(std::string_view program, std::string_view message) {
    std::cerr << program << ": error: " << OneLine(message) << std::endl;
}

}  // namespace

void PrintError(std::string_view program, const Error& error) {
    PrintLine(program, error.message);
}

int ExitCode(const Error& error) {
    return error.code == Errc::kUsage ? 2 : 1;
}

int RunTool(CLI::App& app, CommonOptions& opts, int argc, char** argv,
            const std::function<Status()>& body) {
    const std::string program = app.get_name();
    try {
        Status parsed;
        try {
            parsed = ParseCommandLine(app, opts, argc, argv);
        } catch (const CLI::ParseError& e) {
            // --help and --version are CLI::Success (exit code 0): CLI11
            // prints them to stdout. Everything else is a usage error in
            // one line, never CLI11's usage dump.
            if (e.get_exit_code() == 0) return app.exit(e, std::cout, std::cerr);
            std::string reason = e.what();
            // CLI11 checks requirements before leftovers: "tc-store --bogus"
            // would say "A subcommand is required". Name the stray argument.
            if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !app.get_allow_extras() &&
                !app.remaining().empty()) {
                reason = CLI::ExtrasError(app.remaining()).what();
            }
            PrintLine(program, reason + " (see " + program + " --help)");
            return 2;
        }
        if (!parsed.ok()) {
            PrintError(program, parsed.error());
            return ExitCode(parsed.error());
        }
        // CLI11 checked both values, wherever they came from; this guards
        // against a program that changed them in a callback.
        if (Status logging = InitLogging(program, opts.log_level, opts.log_format); !logging.ok()) {
            PrintError(program, logging.error());
            return 2;
        }
        Status status = body();
        if (status.ok()) return 0;
        PrintError(program, status.error());
        return ExitCode(status.error());
    } catch (const std::exception& e) {
        PrintLine(program, std::string("internal: ") + e.what());
        return 1;
    }
}

}  // namespace tc::util
