// What tc-store run counts, and the HTTP endpoint that shows it
// (--metrics-listen HOST:PORT, DESIGN §2). The daemon's loop writes the
// atomics of one Metrics; the HTTP server's thread only reads them, so the
// two share nothing else. Names and meanings are in man/tc-store.1
// (METRICS); the text format is Prometheus exposition 0.0.4.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace tc::store {

// Request methods counted by name; anything else counts as "other".
inline constexpr std::array<std::string_view, 10> kMetricMethods = {
    "ping", "status", "apply", "block", "tx", "utxos", "masternodes", "evidence", "since", "other"};
// Upper bounds (seconds) of the apply latency histogram's buckets; +Inf is
// implied.
inline constexpr std::array<double, 12> kApplyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                         0.05,   0.1,   0.25,   0.5,   1,    2.5};

struct Metrics {
    std::atomic<uint64_t> height{0};
    std::atomic<uint64_t> map_size{0};
    std::atomic<uint64_t> blocks_applied{0};
    std::atomic<uint64_t> apply_errors{0};  // apply requests refused or failed
    std::array<std::atomic<uint64_t>, kMetricMethods.size()> requests{};
    // Apply requests that committed, by latency (each bucket counted alone;
    // RenderMetrics sums them into Prometheus' cumulative form).
    std::array<std::atomic<uint64_t>, kApplyBuckets.size() + 1> apply_buckets{};
    std::atomic<uint64_t> apply_count{0};
    std::atomic<uint64_t> apply_micros{0};

    void CountRequest(std::string_view method);
    void ObserveApply(std::chrono::steady_clock::duration took);
};

// The exposition of m, every metric with its HELP and TYPE.
std::string RenderMetrics(const Metrics& m);

// An HTTP server on its own thread: GET /metrics answers RenderMetrics,
// anything else 404. Stops and joins its thread when destroyed.
class MetricsServer {
  public:
    // Binds HOST:PORT (PORT 0: a free port, see port()). kUsage for a
    // listen address that does not parse, kIo when it cannot bind.
    static util::Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                              const Metrics& metrics);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;
    int port() const { return m_port; }

  private:
    struct Impl;
    explicit MetricsServer(std::unique_ptr<Impl> impl, int port);
    std::unique_ptr<Impl> m_impl;
    int m_port = 0;
};

}  // namespace tc::store
