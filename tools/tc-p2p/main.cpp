// tc-p2p: parse flags, run one command, map the result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "p2p.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-p2p: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-p2p", "tc-p2p"};
    tc::p2p::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "p2p");
    tc::p2p::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv,
                             [&] { return tc::p2p::Run(app, opts, std::cout, std::cerr); });
}
