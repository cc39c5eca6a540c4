// What tc-pool run counts (--metrics-listen HOST:PORT, DESIGN §2). The
// loop's Requests writes one Metrics; the metrics server (net/metrics.h)
// calls RenderMetrics on its own thread, which only reads the atomics.
// Names and meanings are in man/tc-pool.1 (METRICS).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/metrics.h"

namespace tc::pool {

// Request methods counted by name; anything else counts as "other".
inline constexpr std::array<std::string_view, 8> kMetricMethods = {
    "ping", "status", "submit", "list", "why", "propose", "validate", "other"};
// Submissions by outcome: accepted, or the refusal's reason.
inline constexpr std::array<std::string_view, 11> kMetricOutcomes = {
    "accepted", "malformed",    "bad-signature", "missing-input", "fee-too-low",
    "expired",  "double-spend", "already-known", "pool-full",     "masternode-changed-twice",
    "other"};
// Transactions that left the pool, by reason.
inline constexpr std::array<std::string_view, 6> kMetricRemovals = {
    "committed", "double-spend", "masternode-changed-twice", "expired", "pool-full", "other"};

struct Metrics {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> height{0};
    net::LabeledCounter requests{{kMetricMethods.begin(), kMetricMethods.end()}};
    net::LabeledCounter submitted{{kMetricOutcomes.begin(), kMetricOutcomes.end()}};
    net::LabeledCounter removed{{kMetricRemovals.begin(), kMetricRemovals.end()}};
};

// The exposition of m, every metric with its HELP and TYPE.
std::string RenderMetrics(const Metrics& m);

}  // namespace tc::pool
