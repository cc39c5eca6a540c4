// tc-rpc: parse flags, run the daemon, ping or one client call, map the
// result to an exit code.
#include <iostream>

#include "crypto/keys.h"
#include "rpc_cli.h"
#include "util/cli.h"

int main(int argc, char** argv) {
    if (!tc::crypto::InitSodium().ok()) {
        std::cerr << "tc-rpc: error: libsodium failed to initialise\n";
        return 1;
    }
    CLI::App app{"tc-rpc", "tc-rpc"};
    tc::rpc::Options opts;
    tc::util::AddCommonOptions(app, opts.common, "rpc");
    tc::rpc::SetupCli(app, opts);
    return tc::util::RunTool(app, opts.common, argc, argv,
                             [&] { return tc::rpc::Run(app, opts, std::cout, std::cerr); });
}
