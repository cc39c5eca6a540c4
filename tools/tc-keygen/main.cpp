// tc-keygen: parse flags, run one command, map the result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "keygen.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-keygen: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-keygen", "tc-keygen"};
    tc::keygen::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "keygen");
    tc::keygen::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv,
                             [&] { return tc::keygen::Run(app, opts, std::cin, std::cout); });
}
