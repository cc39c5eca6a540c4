// What tc-store run counts (--metrics-listen HOST:PORT, DESIGN §2). The
// daemon's loop writes one Metrics; the metrics server (net/metrics.h)
// calls RenderMetrics on its own thread, which only reads the atomics, so
// the two share nothing else. Names and meanings are in man/tc-store.1
// (METRICS).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/metrics.h"

namespace tc::store {

// Request methods counted by name; anything else counts as "other".
inline constexpr std::array<std::string_view, 11> kMetricMethods = {
    "ping",        "status",   "apply",        "block", "tx",   "utxos",
    "masternodes", "evidence", "add-evidence", "since", "other"};
// Upper bounds (seconds) of the apply latency histogram's buckets; +Inf is
// implied.
inline constexpr std::array<double, 12> kApplyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                         0.05,   0.1,   0.25,   0.5,   1,    2.5};

struct Metrics {
    std::atomic<uint64_t> height{0};
    std::atomic<uint64_t> map_size{0};
    std::atomic<uint64_t> blocks_applied{0};
    std::atomic<uint64_t> apply_errors{0};     // apply requests refused or failed
    std::atomic<uint64_t> evidence_stored{0};  // equivocations add-evidence wrote
    net::LabeledCounter requests{{kMetricMethods.begin(), kMetricMethods.end()}};
    // Apply requests that committed, by latency.
    net::LatencyHistogram apply_seconds{{kApplyBuckets.begin(), kApplyBuckets.end()}};
    // How many they were (the histogram's count, under its old name).
    const std::atomic<uint64_t>& apply_count = apply_seconds.count();

    void CountRequest(std::string_view method) { requests.Add(method); }
    void ObserveApply(std::chrono::steady_clock::duration took) { apply_seconds.Observe(took); }
};

// The exposition of m, every metric with its HELP and TYPE.
std::string RenderMetrics(const Metrics& m);

}  // namespace tc::store
