#include "metrics.h"

#include <httplib.h>

#include <charconv>
#include <sstream>
#include <thread>

namespace tc::store {

using util::Errc;
using util::MakeError;

void Metrics::CountRequest(std::string_view method) {
    size_t i = 0;
    while (i + 1 < kMetricMethods.size() && kMetricMethods[i] != method) ++i;
    requests[i].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::ObserveApply(std::chrono::steady_clock::duration took) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    const double seconds = static_cast<double>(micros) / 1e6;
    size_t bucket = 0;
    while (bucket < kApplyBuckets.size() && seconds > kApplyBuckets[bucket]) ++bucket;
    apply_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    apply_micros.fetch_add(static_cast<uint64_t>(micros), std::memory_order_relaxed);
    apply_count.fetch_add(1, std::memory_order_relaxed);
}

namespace {

uint64_t Load(const std::atomic<uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
}

void Header(std::ostream& out, std::string_view name, std::string_view type,
            std::string_view help) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

void Single(std::ostream& out, std::string_view name, std::string_view type, std::string_view help,
            uint64_t value) {
    Header(out, name, type, help);
    out << name << " " << value << "\n";
}

}  // namespace

std::string RenderMetrics(const Metrics& m) {
    std::ostringstream out;
    Single(out, "tc_store_height", "gauge", "Height of the ledger's tip.", Load(m.height));
    Single(out, "tc_store_map_size_bytes", "gauge", "Size of the LMDB map.", Load(m.map_size));
    Single(out, "tc_store_blocks_applied_total", "counter", "Blocks committed by apply requests.",
           Load(m.blocks_applied));
    Single(out, "tc_store_apply_errors_total", "counter",
           "Apply requests refused (a block broke a rule, bad params) or failed.",
           Load(m.apply_errors));
    Header(out, "tc_store_requests_total", "counter", "Requests answered, by method.");
    for (size_t i = 0; i < kMetricMethods.size(); ++i) {
        out << "tc_store_requests_total{method=\"" << kMetricMethods[i] << "\"} "
            << Load(m.requests[i]) << "\n";
    }
    Header(out, "tc_store_apply_seconds", "histogram",
           "Time from an apply request to its durable commit, for committed requests.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kApplyBuckets.size(); ++i) {
        cumulative += Load(m.apply_buckets[i]);
        out << "tc_store_apply_seconds_bucket{le=\"" << kApplyBuckets[i] << "\"} " << cumulative
            << "\n";
    }
    cumulative += Load(m.apply_buckets[kApplyBuckets.size()]);
    out << "tc_store_apply_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n";
    const uint64_t micros = Load(m.apply_micros);
    out << "tc_store_apply_seconds_sum " << micros / 1000000 << "." << std::setfill('0')
        << std::setw(6) << micros % 1000000 << "\n";
    out << "tc_store_apply_seconds_count " << Load(m.apply_count) << "\n";
    return out.str();
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

util::Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                                  const Metrics& metrics) {
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
    impl->server.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
        res.set_content(RenderMetrics(metrics), "text/plain; version=0.0.4");
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

}  // namespace tc::store
