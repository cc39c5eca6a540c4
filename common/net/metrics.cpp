#include "net/metrics.h"

#include <httplib.h>

#include <charconv>
#include <iomanip>
#include <thread>

#include "util/log.h"

namespace tc::net {

using util::Errc;
using util::MakeError;

LabeledCounter::LabeledCounter(std::vector<std::string> values)
    : m_values(std::move(values)), m_counts(m_values.size()) {}

void LabeledCounter::Add(std::string_view value, uint64_t n) {
    if (m_values.empty()) return;
    size_t i = 0;
    while (i + 1 < m_values.size() && m_values[i] != value) ++i;
    m_counts[i].fetch_add(n, std::memory_order_relaxed);
}

LatencyHistogram::LatencyHistogram(std::vector<double> bounds)
    : m_bounds(std::move(bounds)), m_buckets(m_bounds.size() + 1) {}

void LatencyHistogram::Observe(std::chrono::steady_clock::duration took) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    const double seconds = static_cast<double>(micros) / 1e6;
    size_t bucket = 0;
    while (bucket < m_bounds.size() && seconds > m_bounds[bucket]) ++bucket;
    m_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    m_micros.fetch_add(static_cast<uint64_t>(micros), std::memory_order_relaxed);
    m_count.fetch_add(1, std::memory_order_relaxed);
}

void Exposition::Header(std::string_view name, std::string_view type, std::string_view help) {
    m_out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

Exposition& Exposition::Counter(std::string_view name, std::string_view help, uint64_t value) {
    Header(name, "counter", help);
    m_out << name << " " << value << "\n";
    return *this;
}

Exposition& Exposition::Gauge(std::string_view name, std::string_view help, uint64_t value) {
    Header(name, "gauge", help);
    m_out << name << " " << value << "\n";
    return *this;
}

Exposition& Exposition::Counters(std::string_view name, std::string_view help,
                                 std::string_view label, const LabeledCounter& counters) {
    Header(name, "counter", help);
    for (size_t i = 0; i < counters.values().size(); ++i) {
        m_out << name << "{" << label << "=\"" << counters.values()[i] << "\"} " << counters.Get(i)
              << "\n";
    }
    return *this;
}

Exposition& Exposition::Histogram(std::string_view name, std::string_view help,
                                  const LatencyHistogram& h) {
    Header(name, "histogram", help);
    // Each bucket is counted alone; Prometheus wants them cumulative. The
    // bounds print as the stream prints a double ("0.0005", "1", "2.5").
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.bounds().size(); ++i) {
        cumulative += h.Bucket(i);
        m_out << name << "_bucket{le=\"" << h.bounds()[i] << "\"} " << cumulative << "\n";
    }
    cumulative += h.Bucket(h.bounds().size());
    m_out << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n";
    const uint64_t micros = h.SumMicros();
    std::ostringstream sum;
    sum << micros / 1000000 << "." << std::setfill('0') << std::setw(6) << micros % 1000000;
    m_out << name << "_sum " << sum.str() << "\n";
    m_out << name << "_count " << h.Count() << "\n";
    return *this;
}

struct MetricsServer::Impl {
    httplib::Server server;
    std::thread thread;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl, int port)
    : m_impl(std::move(impl)), m_port(port) {}

MetricsServer::~MetricsServer() {
    m_impl->server.stop();
    if (m_impl->thread.joinable()) m_impl->thread.join();
}

util::Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, std::function<std::string()> render) {
    const std::string what = "--metrics-listen " + listen;
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return MakeError(Errc::kUsage, what + ": expected HOST:PORT");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);  // [::1]:9100
    }
    const std::string port_text = listen.substr(colon + 1);
    int port = -1;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port < 0 || port > 65535) {
        return MakeError(Errc::kUsage, what + ": the port must be 0 to 65535");
    }
    auto impl = std::make_unique<Impl>();
    impl->server.Get("/metrics",
                     [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
                         res.set_content(render(), "text/plain; version=0.0.4");
                     });
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let
    // a second daemon share (and answer half of) this port.
    impl->server.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // One connection at a time is plenty for a scraper, and bounds the
    // threads this server may start.
    impl->server.new_task_queue = [] { return new httplib::ThreadPool(1); };
    const int bound = port == 0                               ? impl->server.bind_to_any_port(host)
                      : impl->server.bind_to_port(host, port) ? port
                                                              : -1;
    if (bound <= 0) return MakeError(Errc::kIo, what + ": cannot listen there");
    Impl* raw = impl.get();
    raw->thread = std::thread([raw] { raw->server.listen_after_bind(); });
    return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl), bound));
}

util::Result<std::unique_ptr<MetricsServer>> MetricsServer::StartIfAsked(
    const std::string& listen, std::function<std::string()> render) {
    if (listen.empty()) return std::unique_ptr<MetricsServer>();
    TC_TRY(server, Start(listen, std::move(render)));
    log::Info("metrics on http://{}/metrics (port {})", listen, server->port());
    return server;
}

}  // namespace tc::net
