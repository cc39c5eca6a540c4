// tc-pool: parse flags, run one command, map the result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "pool.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-pool: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-pool", "tc-pool"};
    tc::pool::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "pool");
    tc::pool::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv, [&] {
        return tc::pool::Run(app, opts, std::cin, std::cout, std::cerr);
    });
}
