// tc-pbft: parse flags, run one command, map the result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "pbft.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-pbft: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-pbft", "tc-pbft"};
    tc::pbft::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "pbft");
    tc::pbft::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv,
                             [&] { return tc::pbft::Run(app, opts, std::cout, std::cerr); });
}
