// tc-pool: the transaction pool. Only the library (mempool.h, check.h) is
// written so far; this main parses the common options (--help, --version,
// --datadir, ...) and names the commands to come, each of which fails with
// "not written yet" until it is.
#include <iostream>
#include <string>

#include "crypto/keys.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-pool: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-pool: the transaction pool (library only so far)", "tc-pool"};
    tc::util::CommonOptions common;
    tc::util::AddCommonOptions(app, common, "pool");
    app.require_subcommand(1);
    for (const char* name : {"run", "status", "list", "watch", "why"}) {
        app.add_subcommand(name, "not written yet")->allow_extras();
    }
    return tc::util::RunTool(app, common, argc, argv, [&]() -> tc::util::Status {
        const std::string name = app.get_subcommands().front()->get_name();
        return tc::util::MakeError(tc::util::Errc::kInternal, name + ": not written yet");
    });
}
