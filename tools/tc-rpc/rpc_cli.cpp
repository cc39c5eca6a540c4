#include "rpc_cli.h"

#include "rpc_client.h"
#include "rpc_server.h"

namespace tc::rpc {

using util::AddBound;
using util::Errc;
using util::MakeError;

namespace {

constexpr uint64_t kMillion = 1'000'000;
constexpr uint64_t kHourMs = 3'600'000;

}  // namespace

void SetupCli(CLI::App& app, Options& opts) {
    app.description(
        "The TimeCoin JSON-RPC 2.0 server (tc-rpc run) and its client.\n"
        "Client: tc-rpc [OPTIONS] METHOD [PARAMS...] calls METHOD with each PARAM read as JSON "
        "when it parses (5, true, [1,2]) and as a string otherwise; `tc-rpc help` lists the "
        "methods.");
    app.footer(
        "Exit status: 0 success, 1 a JSON-RPC error or no connection, 2 usage. See tc-rpc(1).");
    // METHOD PARAMS... are whatever follows the first positional that is not
    // a subcommand: Run reads them from app.remaining().
    app.prefix_command();
    // --rpc-url and friends also after `ping`.
    app.fallthrough();
    util::WithEnv(app.add_option("--rpc-url", opts.rpc_url,
                                 "the daemon's URL (default: DATADIR/run/rpc.url, else "
                                 "http://127.0.0.1:8732)"));
    util::WithEnv(app.add_option("--cookie", opts.cookie_file,
                                 "the cookie file (default: DATADIR/rpc.cookie)"));
    AddBound(&app, "--timeout-ms", opts.timeout_ms, "how long the client waits for the answer", 1,
             kHourMs);

    auto* run = app.add_subcommand("run", "run the HTTP JSON-RPC daemon");
    run->add_option("--listen", opts.listen, "HOST:PORT to serve on (PORT 0: any free port)")
        ->capture_default_str();
    AddBound(run, "--max-body-bytes", opts.max_body_bytes,
             "largest request body (larger: HTTP 413)", 64, 1ull << 30);
    AddBound(run, "--max-concurrent", opts.max_concurrent,
             "JSON-RPC requests served at once (worker threads)", 1, 1024);
    AddBound(run, "--max-batch", opts.max_batch, "most requests in one batch", 1, kMillion);
    AddBound(run, "--max-event-queue", opts.max_event_queue,
             "events queued for one /events subscriber before it is dropped", 1, 100 * kMillion);
    AddBound(run, "--max-event-subscribers", opts.max_event_subscribers, "/events streams at once",
             0, 1024);
    AddBound(run, "--max-utxos", opts.max_utxos, "most entries in one listunspent answer", 1,
             kMillion);
    AddBound(run, "--stage-timeout-ms", opts.stage_timeout_ms,
             "how long tc-store, tc-pool or tc-pbft may take to answer (else error -28)", 1,
             kHourMs);
    run->add_option("--metrics-listen", opts.metrics_listen,
                    "serve Prometheus metrics at http://HOST:PORT/metrics (PORT 0: any free one)");

    app.add_subcommand("ping", "exit 0 when the daemon's /health answers (any status), else 1");
}

util::Status Run(const CLI::App& app, const Options& opts, std::ostream& out, std::ostream& err) {
    (void)err;
    if (app.got_subcommand("run")) return RunDaemon(opts);
    if (app.got_subcommand("ping")) return Ping(opts, out);
    const std::vector<std::string> call = app.remaining();
    if (call.empty()) {
        return MakeError(Errc::kUsage,
                         "no METHOD given (see tc-rpc --help; tc-rpc help lists them)");
    }
    // prefix_command hands an unknown option before METHOD over as well.
    if (call[0].size() > 1 && call[0][0] == '-') {
        return MakeError(Errc::kUsage, "unknown option " + call[0] + " (see tc-rpc --help)");
    }
    return CallMethod(opts, call, out);
}

}  // namespace tc::rpc
