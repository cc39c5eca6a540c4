// tc-store: parse flags, run one command, map the result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "store.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-store: error: libsodium failed to initialise\n";
        return 1;
    }
    // export writes a binary stream to stdout and import reads one from stdin:
    // do not let iostreams sync with stdio byte by byte.
    std::ios::sync_with_stdio(false);
    CLI::App app{"tc-store", "tc-store"};
    tc::store::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "store");
    tc::store::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv, [&] {
        return tc::store::Run(app, opts, std::cin, std::cout, std::cerr);
    });
}
