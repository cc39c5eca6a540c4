// Prometheus metrics for a daemon (DESIGN §2, --metrics-listen ADDR:PORT):
// thread-safe counters to count with, an Exposition to render them in the
// text format 0.0.4, and the HTTP server that serves the rendering.
//
// A daemon declares its metrics as atomics (and the two classes below) in
// one struct, its loop writes them, and a render function reads them:
//
//   std::string Render(const MyMetrics& m) {
//       net::Exposition out;
//       out.Gauge("tc_pool_size", "Transactions in the pool.", m.size.load());
//       out.Histogram("tc_pool_check_seconds", "Time to check a tx.", m.check);
//       return out.str();
//   }
//   TC_TRY(server, net::MetricsServer::Start(listen, [&m] { return Render(m); }));
//
// The server calls the render function on its own thread, so it must only
// read what is safe to read concurrently (atomics, relaxed order is enough).
// Names and their meanings belong in the daemon's man page (METRICS).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace tc::net {

// Counters by one label's value, the values fixed up front; the last value
// counts every value not in the list ("other"). Add() is thread-safe.
class LabeledCounter {
  public:
    explicit LabeledCounter(std::vector<std::string> values);
    // Counts `value`, or the last value when it is not one of them.
    void Add(std::string_view value, uint64_t n = 1);
    const std::vector<std::string>& values() const { return m_values; }
    uint64_t Get(size_t i) const { return m_counts[i].load(std::memory_order_relaxed); }

  private:
    std::vector<std::string> m_values;
    std::vector<std::atomic<uint64_t>> m_counts;
};

// A histogram of durations in seconds, bucketed by upper bounds (+Inf
// implied). Observe() is thread-safe; durations are kept to the microsecond.
class LatencyHistogram {
  public:
    // `bounds`: increasing upper bounds in seconds.
    explicit LatencyHistogram(std::vector<double> bounds);
    void Observe(std::chrono::steady_clock::duration took);
    const std::vector<double>& bounds() const { return m_bounds; }
    // Observations in bucket i alone (i == bounds().size(): beyond the last
    // bound), not cumulative.
    uint64_t Bucket(size_t i) const { return m_buckets[i].load(std::memory_order_relaxed); }
    uint64_t Count() const { return m_count.load(std::memory_order_relaxed); }
    // The counter behind Count(), for a struct that names it as a member.
    const std::atomic<uint64_t>& count() const { return m_count; }
    uint64_t SumMicros() const { return m_micros.load(std::memory_order_relaxed); }

  private:
    std::vector<double> m_bounds;
    std::vector<std::atomic<uint64_t>> m_buckets;
    std::atomic<uint64_t> m_count{0};
    std::atomic<uint64_t> m_micros{0};
};

// The text exposition, one metric after another, each with its HELP and
// TYPE lines:
//
//   # HELP NAME HELP
//   # TYPE NAME counter|gauge|histogram
//   NAME VALUE                                       counter, gauge
//   NAME{LABEL="VALUE"} COUNT                        each value of a Counters
//   NAME_bucket{le="BOUND"} CUMULATIVE ... {le="+Inf"} COUNT
//   NAME_sum SECONDS (6 decimals)    NAME_count COUNT       histogram
//
// Names, help and label values are written as given: the caller keeps them
// to Prometheus' character sets (no newlines in help, no quotes in values).
class Exposition {
  public:
    Exposition& Counter(std::string_view name, std::string_view help, uint64_t value);
    Exposition& Gauge(std::string_view name, std::string_view help, uint64_t value);
    // One counter per value of `counters`, labelled `label`.
    Exposition& Counters(std::string_view name, std::string_view help, std::string_view label,
                         const LabeledCounter& counters);
    Exposition& Histogram(std::string_view name, std::string_view help,
                          const LatencyHistogram& histogram);
    std::string str() const { return m_out.str(); }

  private:
    void Header(std::string_view name, std::string_view type, std::string_view help);
    std::ostringstream m_out;
};

// An HTTP server on its own thread: GET /metrics answers what `render`
// returns (Content-Type text/plain; version=0.0.4), anything else 404. One
// connection at a time. Stops and joins its thread when destroyed.
class MetricsServer {
  public:
    // Binds HOST:PORT ("127.0.0.1:9100", "[::1]:0"; PORT 0: a free port, see
    // port()) and starts serving. Errors name the flag: kUsage
    // "--metrics-listen L: expected HOST:PORT" or "...: the port must be 0
    // to 65535"; kIo "--metrics-listen L: cannot listen there" (taken, or no
    // such address). The port is bound without SO_REUSEPORT, so a second
    // daemon on the same port fails instead of sharing it.
    static util::Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                              std::function<std::string()> render);
    // What a daemon's --metrics-listen does: nullptr when `listen` is empty,
    // else Start, and the address and port it serves on in the log.
    static util::Result<std::unique_ptr<MetricsServer>> StartIfAsked(
        const std::string& listen, std::function<std::string()> render);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;
    int port() const { return m_port; }

  private:
    struct Impl;
    MetricsServer(std::unique_ptr<Impl> impl, int port);
    std::unique_ptr<Impl> m_impl;
    int m_port = 0;
};

}  // namespace tc::net
