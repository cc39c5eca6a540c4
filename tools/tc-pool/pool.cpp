#include "pool.h"

#include <iostream>

#include "daemon.h"

namespace tc::pool {

using util::AddBound;
using util::Errc;
using util::MakeError;

namespace {

void AddTimeout(CLI::App* cmd, Options& opts) {
    cmd->add_option("--timeout-ms", opts.timeout_ms, "how long to wait for the daemon's answer")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
}

constexpr uint64_t kMillion = 1'000'000;
constexpr uint64_t kHourMs = 3'600'000;

}  // namespace

void SetupCli(CLI::App& app, Options& opts) {
    app.description(
        "The TimeCoin transaction pool: checks transactions against the ledger, orders them by "
        "fee rate, gives batches to tc-pbft and follows the committed blocks.");
    app.require_subcommand(1);

    auto* run = app.add_subcommand("run", "run the pool daemon (sockets under DATADIR/run/)");
    AddBound(run, "--max-count", opts.max_count, "most transactions pooled", 1, 100 * kMillion);
    AddBound(run, "--max-bytes", opts.max_bytes, "most encoded bytes pooled", 1, 1ull << 40);
    AddBound(run, "--max-history", opts.max_history,
             "txids why remembers after they left or were refused", 0, 100 * kMillion);
    AddBound(run, "--max-message-bytes", opts.max_message_bytes,
             "largest request the daemon accepts", 1, 1ull << 32);
    AddBound(run, "--max-submit", opts.max_submit, "most transactions in one submit request", 1,
             kMillion);
    AddBound(run, "--max-list", opts.max_list, "most entries in one list reply", 1, kMillion);
    AddBound(run, "--max-event-queue", opts.max_event_queue,
             "events queued for one subscriber; beyond it they are dropped (a gap in seq)", 1,
             100 * kMillion);
    run->add_option("--verify-threads", opts.verify_threads,
                    "threads checking witness signatures (0: one per core)")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(0u, 1024u));
    AddBound(run, "--store-timeout-ms", opts.store_timeout_ms,
             "how long to wait for tc-store run's since", 1, kHourMs);
    run->add_option("--metrics-listen", opts.metrics_listen,
                    "serve Prometheus metrics at http://HOST:PORT/metrics (PORT 0: any free one)");
    AddBound(run, "--retry-ms", opts.retry_ms, "how often to retry a failed resync with tc-store",
             1, kHourMs);

    AddTimeout(app.add_subcommand("ping", "ask the daemon for \"pong\"; exit 1 without answer"),
               opts);
    AddTimeout(app.add_subcommand("status", "print the daemon's pool size, fee rates and height"),
               opts);
    auto* list = app.add_subcommand("list", "print the pending txids, best fee rate first");
    AddBound(list, "--limit", opts.limit, "print at most N", 1, kMillion);
    AddTimeout(list, opts);
    auto* why = app.add_subcommand("why", "say where a transaction is, and why");
    why->add_option("TXID", opts.txid, "transaction id (hex)")->required();
    AddTimeout(why, opts);
    app.add_subcommand("watch", "print the daemon's events, one JSON line each");
    auto* submit = app.add_subcommand("submit", "submit hex transactions (one a line on stdin)");
    AddTimeout(submit, opts);
    AddBound(submit, "--batch", opts.max_submit, "transactions per submit request", 1, kMillion);
}

util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out,
                 std::ostream& err) {
    auto got = [&](const char* name) { return app.got_subcommand(name); };
    if (got("run")) return RunDaemon(opts);
    if (got("ping")) return PingDaemon(opts, out);
    if (got("status")) return PrintStatus(opts, out);
    if (got("list")) return PrintList(opts, out);
    if (got("why")) return PrintWhy(opts, out);
    if (got("watch")) return WatchEvents(opts, out, err);
    if (got("submit")) return SubmitTxs(opts, in, out);
    return MakeError(Errc::kUsage, "no command given (see --help)");
}

}  // namespace tc::pool
