#include "load_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "crypto/keyfile.h"
#include "load_rpc.h"
#include "util/amount.h"
#include "util/bytes.h"
#include "wire/address.h"
#include "wire/codec.h"
#include "wire/tx_text.h"

namespace tc::load {

using util::Errc;
using util::MakeError;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

double Round3(double x) {
    return std::round(x * 1000.0) / 1000.0;
}

// What getinfo tells tc-load about the chain.
struct ChainInfo {
    crypto::Hash256 chain_id{};
    uint64_t min_fee_rate = 1;  // units per byte
    uint64_t max_tx_bytes = 0;
    std::optional<wire::Network> network;
};

util::Result<ChainInfo> GetInfo(RpcClient& rpc) {
    TC_TRY(info, rpc.Call("getinfo", nlohmann::json::array()));
    ChainInfo out;
    if (!info.is_object() || !info.contains("chain_id") || !info["chain_id"].is_string()) {
        return MakeError(Errc::kInvalid, "getinfo: no chain_id");
    }
    auto id = util::FromHexFixed<32>(info["chain_id"].get<std::string>());
    if (!id) return MakeError(Errc::kInvalid, "getinfo.chain_id: " + id.error().message);
    out.chain_id = *id;
    if (info.contains("min_fee_rate") && info["min_fee_rate"].is_string()) {
        auto rate = util::Amount::Parse(info["min_fee_rate"].get<std::string>());
        if (!rate)
            return MakeError(Errc::kInvalid, "getinfo.min_fee_rate: " + rate.error().message);
        out.min_fee_rate = rate->units();
    }
    if (!info.contains("max_tx_bytes") || !info["max_tx_bytes"].is_number_integer() ||
        info["max_tx_bytes"].get<int64_t>() <= 0) {
        return MakeError(Errc::kInvalid, "getinfo: no max_tx_bytes");
    }
    out.max_tx_bytes = info["max_tx_bytes"].get<uint64_t>();
    if (info.contains("network") && info["network"].is_string()) {
        if (info["network"] == "devnet") out.network = wire::Network::kDevnet;
        if (info["network"] == "main") out.network = wire::Network::kMain;
    }
    return out;
}

// The faucet's spendable outputs, page by page (listunspent's limit is
// tc-rpc's --max-utxos), keeping the `keep` largest: every run leaves change
// outputs on the faucet, and the big one may be anywhere in outpoint order.
util::Result<std::vector<Source>> FaucetSources(RpcClient& rpc, const std::string& address,
                                                size_t keep, std::ostream& err) {
    auto larger = [](const Source& a, const Source& b) { return a.amount > b.amount; };
    std::vector<Source> out;
    nlohmann::json after = nullptr;
    uint64_t seen = 0, pages = 0;
    for (;;) {
        const nlohmann::json asked = after;
        TC_TRY(list, rpc.Call("listunspent", nlohmann::json::array({address, nullptr, asked})));
        if (!list.is_array()) return MakeError(Errc::kInvalid, "listunspent: not an array");
        if (list.empty()) break;
        ++pages;
        for (size_t i = 0; i < list.size(); ++i) {
            const auto& u = list[i];
            const std::string at = "listunspent[" + std::to_string(seen + i) + "]";
            if (!u.is_object() || !u.contains("txid") || !u["txid"].is_string() ||
                !u.contains("vout") || !u["vout"].is_number_integer() ||
                u["vout"].get<int64_t>() < 0 || !u.contains("amount") || !u["amount"].is_string()) {
                return MakeError(Errc::kInvalid, at + ": expected txid, vout and amount");
            }
            auto txid = util::FromHexFixed<32>(u["txid"].get<std::string>());
            if (!txid) return MakeError(Errc::kInvalid, at + ".txid: " + txid.error().message);
            const auto vout = u["vout"].get<uint64_t>();
            if (vout > UINT32_MAX) return MakeError(Errc::kInvalid, at + ".vout: too large");
            const wire::OutPoint outpoint{*txid, static_cast<uint32_t>(vout)};
            if (i + 1 == list.size()) after = wire::OutPointText(outpoint);
            if (u.contains("locked") && u["locked"].is_boolean() && u["locked"].get<bool>()) {
                continue;
            }
            auto amount = util::Amount::Parse(u["amount"].get<std::string>());
            if (!amount) {
                return MakeError(Errc::kInvalid, at + ".amount: " + amount.error().message);
            }
            out.push_back(Source{outpoint, amount->units()});
        }
        seen += list.size();
        if (after == asked) {
            // A node that ignores the start would hand out this page forever.
            return MakeError(Errc::kInvalid, "listunspent: the page after " + asked.dump() +
                                                 " ends where it started");
        }
        if (out.size() >= 2 * keep) {
            std::nth_element(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep),
                             out.end(), larger);
            out.resize(keep);
        }
    }
    std::sort(out.begin(), out.end(), larger);
    if (out.size() > keep) out.resize(keep);
    if (pages > 1) {
        err << "tc-load: read " << seen << " faucet outputs in " << pages << " pages, using the "
            << out.size() << " largest\n";
    }
    return out;
}

// One signed transaction, ready to send.
struct Prepared {
    std::string hex;
    std::string txid;
};

Prepared Prepare(const wire::Transaction& tx) {
    return Prepared{util::ToHex(wire::Encode(tx)), util::ToHex(wire::TxId(tx))};
}

// The end of the batch that starts at txs[begin]: at most max_count calls
// and max_bytes of hex (tc-rpc refuses a body over its --max-body-bytes), and
// at least one call.
size_t BatchEnd(const std::vector<Prepared>& txs, size_t begin, size_t max_count,
                size_t max_bytes) {
    size_t end = begin;
    size_t bytes = 0;
    while (end < txs.size() && end - begin < max_count &&
           (end == begin || bytes + txs[end].hex.size() <= max_bytes)) {
        bytes += txs[end].hex.size();
        ++end;
    }
    return end;
}

// Sends txs[begin, end) as one batch; reply i for txs[begin + i].
util::Result<std::vector<RpcReply>> SubmitRange(RpcClient& rpc, const std::vector<Prepared>& txs,
                                                size_t begin, size_t end) {
    std::vector<nlohmann::json> params;
    params.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) params.push_back(nlohmann::json::array({txs[i].hex}));
    return rpc.Batch("sendrawtransaction", params);
}

// Waits until every txid is committed (events, and gettransaction polled
// once a second in case the stream missed one) or the deadline passes.
util::Status WaitCommitted(RpcClient& rpc, EventFollower& events,
                           const std::vector<std::string>& txids, Clock::time_point deadline,
                           const std::string& what, uint64_t timeout_s) {
    auto next_poll = Clock::now() + std::chrono::seconds(1);
    while (true) {
        std::vector<std::string> missing;
        for (const auto& t : txids) {
            if (!events.IsCommitted(t)) missing.push_back(t);
        }
        if (missing.empty()) return {};
        const auto now = Clock::now();
        if (now >= deadline) {
            return MakeError(Errc::kIo, what + ": " + std::to_string(missing.size()) + " of " +
                                            std::to_string(txids.size()) +
                                            " transactions not committed within " +
                                            std::to_string(timeout_s) + " s (--timeout), e.g. " +
                                            missing.front());
        }
        if (now >= next_poll) {
            std::vector<nlohmann::json> params;
            for (const auto& t : missing) params.push_back(nlohmann::json::array({t}));
            TC_TRY(replies, rpc.Batch("gettransaction", params));
            for (size_t i = 0; i < replies.size(); ++i) {
                if (replies[i].ok) events.MarkCommitted(missing[i]);
            }
            next_poll = Clock::now() + std::chrono::seconds(1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Prints "tc-load: submitted N accepted N committed N (R tx/s)" once a
// second until stopped.
class Progress {
  public:
    Progress(std::ostream& err, const std::atomic<uint64_t>& submitted,
             const std::atomic<uint64_t>& accepted, std::function<uint64_t()> committed)
        : m_err(err),
          m_submitted(submitted),
          m_accepted(accepted),
          m_committed(std::move(committed)) {
        m_thread = std::thread([this] { Loop(); });
    }
    ~Progress() {
        {
            std::lock_guard lock(m_mu);
            m_stop = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }

  private:
    void Loop() {
        uint64_t last = m_committed();
        std::unique_lock lock(m_mu);
        while (!m_cv.wait_for(lock, std::chrono::seconds(1), [&] { return m_stop; })) {
            const uint64_t now = m_committed();
            m_err << "tc-load: submitted " << m_submitted.load() << " accepted "
                  << m_accepted.load() << " committed " << now << " (" << (now - last) << " tx/s)\n"
                  << std::flush;
            last = now;
        }
    }

    std::ostream& m_err;
    const std::atomic<uint64_t>& m_submitted;
    const std::atomic<uint64_t>& m_accepted;
    std::function<uint64_t()> m_committed;
    std::mutex m_mu;
    std::condition_variable m_cv;
    bool m_stop = false;
    std::thread m_thread;
};

util::Result<crypto::SecretKey> LoadKey(const Options& opts) {
    return crypto::ReadKeyFileWithPassphrase(opts.faucet_key, opts.passphrase_file);
}

}  // namespace

void SetupCli(CLI::App& app, Options& opts) {
    app.description(
        "The TimeCoin load generator and latency probe: splits a faucet output into one output "
        "per transfer, signs the transfers, submits them to tc-rpc at a rate and reports how "
        "many were committed and how fast, as one JSON object.");
    auto bound = [&](const std::string& flag, uint64_t& value, const std::string& help, uint64_t lo,
                     uint64_t hi) {
        return util::WithEnv(app.add_option(flag, value, help)
                                 ->capture_default_str()
                                 ->check(util::DecimalUnsigned())
                                 ->check(CLI::Range(lo, hi)));
    };
    util::WithEnv(app.add_option("--rpc-url", opts.rpc_url,
                                 "tc-rpc's URL (default: DATADIR/run/rpc.url, else "
                                 "http://127.0.0.1:8732)"));
    util::WithEnv(
        app.add_option("--cookie", opts.cookie, "cookie file (default: DATADIR/rpc.cookie)"));
    util::WithEnv(app.add_option("--faucet-key", opts.faucet_key, "key file of the faucet"))
        ->required();
    util::WithEnv(app.add_option("--passphrase-file", opts.passphrase_file,
                                 "passphrase of an encrypted faucet key"));
    bound("--rate", opts.rate, "transfers per second (0: as fast as the node accepts)", 0,
          10'000'000);
    auto* count = bound("--count", opts.count, "how many transfers", 1, 100'000'000);
    auto* duration =
        bound("--duration", opts.duration, "seconds of load (needs --rate)", 1, 86'400);
    count->excludes(duration);
    duration->excludes(count);
    bound("--fee-rate", opts.fee_rate,
          "fee in units per encoded byte (0: the chain's min_fee_rate, at least 1)", 0,
          100'000'000);
    bound("--batch", opts.batch, "sendrawtransaction calls per HTTP request", 1, 100'000);
    bound("--max-batch-bytes", opts.max_batch_bytes,
          "most bytes of transaction hex in one request (under tc-rpc's --max-body-bytes)", 1024,
          1ull << 30);
    bound("--split-fanout", opts.split_fanout, "most outputs of one split transaction", 1,
          wire::kMaxTxOutputs - 1);
    bound("--timeout", opts.timeout,
          "seconds to wait for each split round, and for commits after the last submission", 1,
          86'400);
    bound("--max-sources", opts.max_sources,
          "most faucet outputs kept for splitting (the largest; all are read, page by page)", 1,
          1'000'000);
    bound("--leaf-units", opts.leaf_units,
          "units each transfer moves to a throw-away sink key, besides its fee", 1,
          util::Amount::kUnitsPerCoin);
}

nlohmann::json ReportJson(const Report& r) {
    nlohmann::json refused = nlohmann::json::object();
    for (const auto& [reason, n] : r.refused) refused[reason] = n;
    nlohmann::json latency = nullptr;
    if (r.latency_ms) {
        latency = {{"p50", Round3(r.latency_ms->p50)},
                   {"p90", Round3(r.latency_ms->p90)},
                   {"p99", Round3(r.latency_ms->p99)},
                   {"max", Round3(r.latency_ms->max)}};
    }
    return {{"submitted", r.submitted},
            {"accepted", r.accepted},
            {"refused", refused},
            {"committed", r.committed},
            {"pending", r.accepted - std::min(r.accepted, r.committed)},
            {"tx_per_s", Round3(r.tx_per_s)},
            {"latency_ms", latency},
            {"duration_s", Round3(r.duration_s)},
            {"split_s", Round3(r.split_s)},
            {"sign_s", Round3(r.sign_s)},
            {"rate", r.rate == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.rate)},
            {"count", r.count},
            {"fee_rate", r.fee_rate},
            {"split_rounds", r.split_rounds},
            {"split_txs", r.split_txs},
            {"stream_reconnects", r.stream_reconnects},
            {"committed_by_poll", r.polled}};
}

util::Status Run(const Options& opts, std::ostream& out, std::ostream& err) {
    uint64_t count = opts.count;
    if (opts.count == 0 && opts.duration == 0) {
        return MakeError(Errc::kUsage, "give --count N or --duration S");
    }
    if (opts.duration != 0) {
        if (opts.rate == 0) {
            return MakeError(Errc::kUsage,
                             "--duration needs --rate (how many to prepare); or give --count");
        }
        if (__builtin_mul_overflow(opts.rate, opts.duration, &count) || count > 100'000'000) {
            return MakeError(Errc::kUsage, "--rate x --duration: more than 100000000 transfers");
        }
    }
    TC_TRY(key, LoadKey(opts));
    TC_TRY(endpoint, ResolveEndpoint(opts.rpc_url, opts.cookie, opts.common.datadir));
    const auto timeout = std::chrono::seconds(opts.timeout);
    RpcClient rpc(endpoint, std::max<std::chrono::milliseconds>(timeout, std::chrono::seconds(10)));

    TC_TRY(chain, GetInfo(rpc));
    const uint64_t fee_rate =
        opts.fee_rate != 0 ? opts.fee_rate : std::max<uint64_t>(chain.min_fee_rate, 1);
    bool devnet = chain.network ? *chain.network == wire::Network::kDevnet : false;
    if (!chain.network) {
        TC_TRY(info, crypto::ReadKeyFileInfo(opts.faucet_key));
        devnet = info.devnet;
    }
    const wire::Address faucet = wire::Address::FromPublicKey(
        key.public_key(), devnet ? wire::Network::kDevnet : wire::Network::kMain);
    TC_TRY(sources, FaucetSources(rpc, faucet.ToString(), opts.max_sources, err));
    if (sources.empty()) {
        return MakeError(Errc::kNotFound,
                         "the faucet " + faucet.ToString() + " has no spendable outputs");
    }

    // Transfers go to a throw-away key, so the faucet keeps few outputs.
    const crypto::SecretKey sink = crypto::SecretKey::Generate();
    const wire::PubKeyHash sink_hash = wire::KeyHash(sink.public_key());
    wire::Transaction widest;
    widest.inputs.push_back(wire::OutPoint{{}, UINT32_MAX});
    widest.outputs.push_back(wire::TxOut{UINT64_MAX, sink_hash});
    TC_TRY(transfer_fee, RequiredFee(widest, fee_rate));
    SplitParams params;
    params.leaf_amount = opts.leaf_units + transfer_fee;
    params.fanout = static_cast<uint32_t>(opts.split_fanout);
    params.fee_rate = fee_rate;
    params.max_tx_bytes = chain.max_tx_bytes;
    params.address = faucet.hash;

    EventFollower events(endpoint);
    TC_CHECK(events.Start(std::chrono::seconds(10)));

    Report report;
    report.rate = opts.rate;
    report.count = count;
    report.fee_rate = fee_rate;

    // Split, round after round, until there is one leaf per transfer.
    const auto split_start = Clock::now();
    std::vector<Source> leaves;
    for (uint64_t r = 1;; ++r) {
        auto planned = PlanSplitRound(sources, count, params);
        if (!planned) return MakeError(Errc::kInvalid, planned.error().message);
        SplitRound round = std::move(planned).value();
        std::vector<Prepared> txs;
        std::vector<std::string> txids;
        for (auto& tx : round.txs) {
            wire::Transaction signed_tx = tx;
            SignAll(signed_tx, key, chain.chain_id);
            txs.push_back(Prepare(signed_tx));
            txids.push_back(txs.back().txid);
        }
        events.Watch(txids);
        const std::string what = "split round " + std::to_string(r);
        err << "tc-load: " << what << ": " << txs.size() << " transactions, " << round.outputs
            << " outputs of " << round.output_amount << " units\n"
            << std::flush;
        for (size_t b = 0, e = 0; b < txs.size(); b = e) {
            e = BatchEnd(txs, b, opts.batch, opts.max_batch_bytes);
            TC_TRY(replies, SubmitRange(rpc, txs, b, e));
            for (size_t i = 0; i < replies.size(); ++i) {
                if (!replies[i].ok) {
                    return MakeError(Errc::kIo, what + ": split " + txs[b + i].txid +
                                                    " refused: " + replies[i].message);
                }
            }
        }
        TC_CHECK(WaitCommitted(rpc, events, txids, Clock::now() + timeout, what, opts.timeout));
        ++report.split_rounds;
        report.split_txs += txs.size();
        sources = RoundOutputs(round);
        if (round.depth == 0) {
            leaves = std::move(sources);
            break;
        }
    }
    report.split_s = Seconds(Clock::now() - split_start);
    leaves.resize(std::min<size_t>(leaves.size(), count));

    // Sign every transfer before the timed window.
    const auto sign_start = Clock::now();
    std::vector<Prepared> transfers;
    transfers.reserve(leaves.size());
    std::vector<std::string> transfer_ids;
    for (const auto& leaf : leaves) {
        TC_TRY(tx, BuildTransfer(leaf, sink_hash, fee_rate));
        SignAll(tx, key, chain.chain_id);
        transfers.push_back(Prepare(tx));
        transfer_ids.push_back(transfers.back().txid);
    }
    report.sign_s = Seconds(Clock::now() - sign_start);
    const uint64_t baseline = events.committed_count();
    events.Watch(transfer_ids);

    // The timed window.
    std::atomic<uint64_t> submitted{0}, accepted{0};
    std::vector<Clock::time_point> sent_at(transfers.size());
    std::vector<bool> was_accepted(transfers.size(), false);
    const auto commits = [&] { return events.committed_count() - baseline; };
    Clock::time_point first_submit;
    Clock::time_point last_submit;
    {
        Progress progress(err, submitted, accepted, commits);
        // With a rate, batches are small enough to go out ten times a second.
        const size_t batch =
            opts.rate == 0 ? opts.batch : std::clamp<size_t>(opts.rate / 10, 1, opts.batch);
        first_submit = Clock::now();
        for (size_t b = 0, e = 0; b < transfers.size(); b = e) {
            if (opts.rate != 0) {
                std::this_thread::sleep_until(
                    first_submit + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(double(b) / opts.rate)));
            }
            e = BatchEnd(transfers, b, batch, opts.max_batch_bytes);
            const auto now = Clock::now();
            for (size_t i = b; i < e; ++i) sent_at[i] = now;
            TC_TRY(replies, SubmitRange(rpc, transfers, b, e));
            for (size_t i = 0; i < replies.size(); ++i) {
                if (replies[i].ok) {
                    was_accepted[b + i] = true;
                    ++accepted;
                } else {
                    ++report.refused[RefusalReason(replies[i])];
                }
            }
            submitted += e - b;
        }
        last_submit = Clock::now();
        const auto deadline = last_submit + timeout;
        auto next_poll = Clock::now() + std::chrono::seconds(1);
        size_t seen = commits();
        auto last_progress = Clock::now();
        while (commits() < accepted.load() && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (commits() != seen) {
                seen = commits();
                last_progress = Clock::now();
            }
            // After a reconnect the stream may have missed commits, and a
            // busy node drops events for a slow subscriber (ZeroMQ's high
            // water marks): when the stream reconnected or has brought
            // nothing for a second, ask for the rest once a second (their
            // latency is then an upper bound).
            const bool stalled = Clock::now() - last_progress >= std::chrono::seconds(1);
            if ((events.reconnects() == 0 && !stalled) || Clock::now() < next_poll) continue;
            std::vector<std::string> missing;
            for (size_t i = 0; i < transfers.size(); ++i) {
                if (was_accepted[i] && !events.IsCommitted(transfers[i].txid)) {
                    missing.push_back(transfers[i].txid);
                }
                if (missing.size() >= opts.batch) break;
            }
            std::vector<nlohmann::json> params;
            for (const auto& t : missing) params.push_back(nlohmann::json::array({t}));
            TC_TRY(replies, rpc.Batch("gettransaction", params));
            for (size_t i = 0; i < replies.size(); ++i) {
                if (replies[i].ok) {
                    events.MarkCommitted(missing[i]);
                    ++report.polled;
                }
            }
            next_poll = Clock::now() + std::chrono::seconds(1);
        }
    }
    report.stream_reconnects = events.reconnects();
    const auto end = Clock::now();
    events.Stop();

    report.submitted = submitted.load();
    report.accepted = accepted.load();
    const auto committed = events.Committed();
    std::vector<double> latencies;
    Clock::time_point last_commit = first_submit;
    for (size_t i = 0; i < transfers.size(); ++i) {
        if (!was_accepted[i]) continue;
        auto it = committed.find(transfers[i].txid);
        if (it == committed.end()) continue;
        latencies.push_back(
            std::chrono::duration<double, std::milli>(it->second - sent_at[i]).count());
        last_commit = std::max(last_commit, it->second);
    }
    report.committed = latencies.size();
    report.latency_ms = Summarize(latencies);
    const double window = Seconds(last_commit - first_submit);
    report.tx_per_s = window > 0 ? double(report.committed) / window : 0;
    report.duration_s =
        Seconds((report.committed == report.accepted ? last_commit : end) - first_submit);
    out << ReportJson(report).dump() << "\n" << std::flush;
    return {};
}

}  // namespace tc::load
