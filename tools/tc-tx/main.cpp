// tc-tx: parse flags, run one command, map the result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "tx.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-tx: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-tx", "tc-tx"};
    tc::txtool::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "tx");
    tc::txtool::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv,
                             [&] { return tc::txtool::Run(app, opts, std::cin, std::cout); });
}
