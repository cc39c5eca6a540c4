// tc-load: parse flags, run the load, map the result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "load_run.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-load: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-load", "tc-load"};
    tc::load::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "load");
    tc::load::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv,
                             [&] { return tc::load::Run(opts, std::cout, std::cerr); });
}
