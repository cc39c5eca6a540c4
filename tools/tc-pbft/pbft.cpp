#include "pbft.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <ostream>

#include "driver.h"

namespace tc::pbft {

using util::Errc;
using util::MakeError;

namespace {

nlohmann::json RunToJson(const sim::RunResult& r) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& v : r.violations) {
        list.push_back({{"kind", v.kind},
                        {"height", v.height},
                        {"replicas", v.replicas},
                        {"detail", v.detail}});
    }
    nlohmann::json byz = nlohmann::json::array();
    for (const auto& m : r.byzantine_members) {
        byz.push_back({{"index", m.index}, {"behaviour", sim::BehaviourName(m.behaviour)}});
    }
    nlohmann::json replicas = nlohmann::json::array();
    for (const auto& e : r.replicas) {
        replicas.push_back({{"index", e.index},
                            {"copy", e.copy},
                            {"byzantine", e.byzantine},
                            {"up", e.up},
                            {"height", e.chain_height},
                            {"view", e.view},
                            {"view_changes", e.view_changes}});
    }
    const auto& s = r.scenario;
    return {{"seed", s.seed},
            {"nodes", s.nodes},
            {"byzantine", s.byzantine},
            {"heights", s.heights},
            {"byzantine_members", byz},
            {"committed_height", r.committed_height},
            {"violations", r.violation_count},
            {"violation_list", list},
            {"view_changes", r.view_changes},
            {"messages", r.messages},
            {"sent", r.sent},
            {"lost", r.lost},
            {"evidence", r.evidence},
            {"rejected",
             {{"malformed", r.rejected.malformed},
              {"bad_signature", r.rejected.bad_signature},
              {"non_member", r.rejected.non_member},
              {"invalid", r.rejected.invalid},
              {"dropped", r.rejected.dropped},
              {"stale", r.rejected.stale}}},
            {"events", r.events},
            {"virtual_ms", r.virtual_ms},
            {"liveness_checked", r.liveness_checked},
            {"liveness_bound_ms", r.liveness_bound_ms},
            {"stopped", r.stopped},
            {"replicas", replicas},
            {"trace_hash", r.trace_hash},
            {"command", r.command}};
}

std::string RunToText(const sim::RunResult& r) {
    const auto& s = r.scenario;
    std::string line = "seed " + std::to_string(s.seed) + ": " + std::to_string(s.nodes) +
                       " nodes, " + std::to_string(s.byzantine) + " byzantine, height " +
                       std::to_string(r.committed_height) + "/" + std::to_string(s.heights) + ", " +
                       std::to_string(r.violation_count) + " violations, " +
                       std::to_string(r.view_changes) + " view changes, " +
                       std::to_string(r.messages) + " messages, " + std::to_string(r.virtual_ms) +
                       " virtual ms, trace " + r.trace_hash.substr(0, 16);
    for (const auto& v : r.violations) {
        line += "\n  " + v.kind + " at height " + std::to_string(v.height) + ": " + v.detail;
    }
    return line;
}

util::Result<std::pair<uint64_t, uint64_t>> ParseSeeds(const std::string& text) {
    size_t dash = text.find('-');
    auto number = [&](std::string_view part) -> util::Result<uint64_t> {
        uint64_t v = 0;
        auto r = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || r.ec != std::errc() || r.ptr != part.data() + part.size()) {
            return MakeError(Errc::kUsage, "--seeds " + text + ": expected A-B, two numbers");
        }
        return v;
    };
    std::string_view all(text);
    if (dash == std::string::npos) {
        TC_TRY(one, number(all));
        return std::make_pair(one, one);
    }
    TC_TRY(first, number(all.substr(0, dash)));
    TC_TRY(last, number(all.substr(dash + 1)));
    if (last < first) return MakeError(Errc::kUsage, "--seeds " + text + ": B is below A");
    if (last - first >= 10'000'000) {
        return MakeError(Errc::kUsage, "--seeds " + text + ": at most 10000000 seeds at once");
    }
    return std::make_pair(first, last);
}

util::Status Simulate(const CLI::App& app, const Options& opts, std::ostream& out) {
    bool faults_given = false;
    TC_TRY(scenario, ScenarioFromOptions(app, opts, &faults_given));
    if (opts.seeds.empty()) {
        TC_TRY(r, sim::Simulate(scenario));
        out << (opts.common.json ? RunToJson(r).dump() : RunToText(r)) << "\n";
        if (r.violation_count > 0) {
            return MakeError(Errc::kInvalid, std::to_string(r.violation_count) + " violations: " +
                                                 r.violations.front().kind + " at height " +
                                                 std::to_string(r.violations.front().height));
        }
        return {};
    }

    TC_TRY(range, ParseSeeds(opts.seeds));
    const CLI::App* cmd = app.get_subcommand("simulate");
    sim::MixBase base;
    if (cmd->get_option("--nodes")->count() > 0) base.nodes = opts.nodes;
    if (cmd->get_option("--byzantine")->count() > 0) base.byzantine = opts.byzantine;
    base.heights = opts.heights;
    uint64_t runs = 0, failed = 0, violations = 0, messages = 0, view_changes = 0, virtual_ms = 0,
             events = 0, evidence = 0, liveness_checked = 0;
    nlohmann::json failures = nlohmann::json::array();
    std::string failure_lines;
    sim::RunResult slowest;  // the run that took the most virtual time
    for (uint64_t seed = range.first;; ++seed) {
        sim::Scenario s;
        if (faults_given) {
            s = scenario;
            s.seed = seed;
        } else {
            s = sim::Mix(seed, base);
            s.base_timeout_ms = opts.base_timeout_ms;
            s.max_timeout_ms = opts.max_timeout_ms;
            s.resend_ms = opts.resend_ms;
            s.max_events = opts.max_events;
        }
        TC_TRY(r, sim::Simulate(s));
        runs++;
        violations += r.violation_count;
        messages += r.messages;
        view_changes += r.view_changes;
        virtual_ms += r.virtual_ms;
        events += r.events;
        evidence += r.evidence;
        liveness_checked += r.liveness_checked;
        if (runs == 1 || r.virtual_ms > slowest.virtual_ms) slowest = r;
        if (r.violation_count > 0) {
            failed++;
            if (failures.size() < 100) {
                nlohmann::json kinds = nlohmann::json::array();
                for (const auto& v : r.violations) kinds.push_back(v.kind);
                failures.push_back({{"seed", seed},
                                    {"violations", r.violation_count},
                                    {"kinds", kinds},
                                    {"command", r.command}});
                failure_lines += "\n  " + r.command + "  # " + r.violations.front().kind + ": " +
                                 r.violations.front().detail;
            }
        }
        if (seed == range.second) break;
    }
    if (opts.common.json) {
        nlohmann::json j = {{"seeds", opts.seeds},
                            {"runs", runs},
                            {"failed", failed},
                            {"failures", failures},
                            {"totals",
                             {{"violations", violations},
                              {"messages", messages},
                              {"view_changes", view_changes},
                              {"virtual_ms", virtual_ms},
                              {"events", events},
                              {"evidence", evidence},
                              {"liveness_checked", liveness_checked}}},
                            {"slowest",
                             {{"virtual_ms", slowest.virtual_ms},
                              {"liveness_bound_ms", slowest.liveness_bound_ms},
                              {"command", slowest.command}}}};
        out << j.dump() << "\n";
    } else {
        out << "seeds " << opts.seeds << ": " << runs << " runs, " << failed << " failed, "
            << violations << " violations, " << view_changes << " view changes, " << messages
            << " messages" << failure_lines << "\n";
    }
    if (failed > 0) {
        return MakeError(Errc::kInvalid, std::to_string(failed) + " of " + std::to_string(runs) +
                                             " runs reported violations");
    }
    return {};
}

}  // namespace

util::Result<sim::Scenario> ScenarioFromOptions(const CLI::App& app, const Options& opts,
                                                bool* faults_given) {
    sim::Scenario s;
    s.nodes = opts.nodes;
    s.byzantine = opts.byzantine;
    s.seed = opts.seed;
    s.heights = opts.heights;
    s.loss = opts.loss;
    s.duplicate = opts.duplicate;
    s.reorder = opts.reorder;
    s.base_timeout_ms = opts.base_timeout_ms;
    s.max_timeout_ms = opts.max_timeout_ms;
    s.resend_ms = opts.resend_ms;
    s.max_events = opts.max_events;
    for (const auto& p : opts.partitions) {
        TC_TRY(part, sim::ParsePartition(p));
        s.partitions.push_back(std::move(part));
    }
    for (const auto& c : opts.crashes) {
        TC_TRY(crash, sim::ParseCrash(c));
        s.crashes.push_back(crash);
    }
    std::string_view rest = opts.behaviours;
    while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view name = rest.substr(0, comma);
        auto b = sim::ParseBehaviour(name);
        if (!b) {
            return MakeError(Errc::kUsage,
                             "--behaviour: unknown behaviour \"" + std::string(name) +
                                 "\" (equivocate, double-vote, silent, replay, garbage, twins)");
        }
        s.behaviours.push_back(*b);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    if (!s.behaviours.empty() && s.byzantine == 0) {
        return MakeError(Errc::kUsage, "--behaviour: needs --byzantine 1 or more");
    }
    if (faults_given) {
        const CLI::App* cmd = app.get_subcommand("simulate");
        *faults_given = false;
        for (const char* flag :
             {"--loss", "--duplicate", "--reorder", "--partition", "--crash", "--behaviour"}) {
            if (cmd->get_option(flag)->count() > 0) *faults_given = true;
        }
    }
    return s;
}

void SetupCli(CLI::App& app, Options& opts) {
    app.description(
        "The TimeCoin consensus (PBFT): the daemon that orders a masternode's blocks, its "
        "clients, and the seeded byzantine network simulator that proves its core.");
    app.require_subcommand(1);

    const auto bound = &util::AddBound;
    constexpr uint64_t kHourMs = 3'600'000;
    auto* run = app.add_subcommand("run", "run the consensus daemon (sockets under DATADIR/run/)");
    run->add_option("--key", opts.key_file,
                    "the masternode's key file (default: DATADIR/masternode.key)");
    run->add_option("--passphrase-file", opts.passphrase_file,
                    "the passphrase of an encrypted key file");
    bound(run, "--resend-ms", opts.run_resend_ms, "how often our latest votes go out again", 10,
          kHourMs);
    bound(run, "--stage-timeout-ms", opts.stage_timeout_ms,
          "how long to wait for tc-pool's or tc-store's answer", 1, kHourMs);
    bound(run, "--retry-ms", opts.retry_ms, "how often to ask again a stage that did not answer", 1,
          kHourMs);
    bound(run, "--max-clock-skew-ms", opts.max_clock_skew_ms,
          "how far ahead of our clock a proposed block's time may be", 0, kHourMs);
    bound(run, "--max-evidence", opts.max_evidence,
          "evidence pairs held until the store has them (the oldest go first)", 0, 1'000'000);
    bound(run, "--max-message-bytes", opts.max_message_bytes, "largest request the daemon takes", 1,
          1ull << 32);
    bound(run, "--compact-every", opts.compact_every,
          "heights between vote-log compactions (0: never)", 0, 1'000'000);
    bound(run, "--p2p-send-hwm", opts.p2p_send_hwm,
          "messages queued for tc-p2p before more are dropped (PBFT resends them)", 1, 1'000'000);
    bound(run, "--decided-batch", opts.decided_batch,
          "blocks with certificates sent at most to a peer behind us, per request", 1, 10'000);
    run->add_option("--metrics-listen", opts.metrics_listen,
                    "serve Prometheus metrics at http://HOST:PORT/metrics (PORT 0: any free one)");
    for (auto [name, help] :
         {std::pair{"ping", "ask the daemon for \"pong\"; exit 1 without answer"},
          std::pair{"status", "print the height, view, set and what the daemon waits for"},
          std::pair{"evidence", "print the equivocation evidence the daemon holds"}}) {
        auto* sub = app.add_subcommand(name, help);
        bound(sub, "--timeout-ms", opts.timeout_ms, "how long to wait for the daemon's answer", 1,
              kHourMs);
        if (std::string_view(name) == "status") {
            bound(sub, "--p2p-timeout-ms", opts.p2p_timeout_ms,
                  "how long to wait for tc-p2p's list of peers", 1, kHourMs);
        }
    }
    app.add_subcommand("watch", "print the daemon's events, one JSON line each");

    auto* sim = app.add_subcommand(
        "simulate", "run replicas of the PBFT core over a seeded faulty network and check them");
    sim->add_option("--nodes", opts.nodes, "masternodes in the set (n)")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(1u, 1000u));
    sim->add_option("--byzantine", opts.byzantine, "how many of them are byzantine")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    sim->add_option("--seed", opts.seed, "seed of keys, network and faults")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    sim->add_option("--heights", opts.heights, "heights every correct replica must commit")
        ->capture_default_str()
        ->check(util::DecimalUnsigned())
        ->check(CLI::Range(uint64_t{1}, uint64_t{100000}));
    sim->add_option("--loss", opts.loss, "probability that a message is lost, in [0, 1)")
        ->check(CLI::Range(0.0, 0.999));
    sim->add_option("--duplicate", opts.duplicate, "probability that a message arrives twice")
        ->check(CLI::Range(0.0, 1.0));
    sim->add_flag("--reorder", opts.reorder, "wide random delays (1-100 ms), links not FIFO");
    sim->add_option("--partition", opts.partitions,
                    "START-END:A,B|C,D  groups cut off from each other until END (repeat)");
    sim->add_option("--crash", opts.crashes,
                    "NODE@START-END  crash at START, restart at END (no -END: never) (repeat)");
    sim->add_option("--behaviour", opts.behaviours,
                    "byzantine behaviours, comma-separated, given to the byzantine members in "
                    "order: equivocate, double-vote, silent, replay, garbage, twins");
    sim->add_option("--seeds", opts.seeds,
                    "A-B: run every seed from A to B (a seeded fault mix unless fault flags are "
                    "given) and print one summary");
    sim->add_option("--base-timeout-ms", opts.base_timeout_ms, "view timeout of view 0")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    sim->add_option("--max-timeout-ms", opts.max_timeout_ms, "longest view timeout")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    sim->add_option("--resend-ms", opts.resend_ms, "period of the replicas' resends")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    sim->add_option("--max-events", opts.max_events, "stop a run after this many events")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
}

util::Status Run(const CLI::App& app, const Options& opts, std::ostream& out, std::ostream& err) {
    auto got = [&](const char* name) { return app.got_subcommand(name); };
    if (got("run")) return RunDaemon(opts);
    if (got("ping")) return PingDaemon(opts, out);
    if (got("status")) return PrintStatus(opts, out);
    if (got("watch")) return WatchEvents(opts, out, err);
    if (got("evidence")) return PrintEvidence(opts, out);
    if (got("simulate")) return Simulate(app, opts, out);
    return MakeError(Errc::kUsage, "no command given (see --help)");
}

}  // namespace tc::pbft
