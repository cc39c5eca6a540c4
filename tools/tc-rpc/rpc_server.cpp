#include "rpc_server.h"

#include <httplib.h>
#include <sys/poll.h>

#include <atomic>
#include <charconv>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "ledger/ledger.h"
#include "net/daemon.h"
#include "net/metrics.h"
#include "net/rpc.h"
#include "net/signals.h"
#include "rpc_auth.h"
#include "rpc_events.h"
#include "rpc_jsonrpc.h"
#include "rpc_methods.h"
#include "util/config.h"
#include "util/file.h"
#include "util/log.h"

namespace tc::rpc {

using nlohmann::json;
using util::Errc;
using util::MakeError;

namespace {

// The DEALER clients of the stages, one set per concurrent user: a set is
// taken for one call and given back, so that each socket is used by one
// thread at a time (the mutex is the memory barrier ZeroMQ asks for when a
// socket changes threads).
class StagePool : public Stages {
  public:
    StagePool(std::string datadir, std::chrono::milliseconds timeout)
        : m_datadir(std::move(datadir)), m_timeout(timeout) {}

    util::Result<json> Call(Stage stage, std::string_view method,
                            const std::function<void(net::Packer&)>& params) override {
        std::unique_ptr<Set> set = Take();
        net::Client& client = set->Of(stage);
        auto reply = client.Call(method, params);
        util::Result<json> out = reply ? util::Result<json>(MsgpackToJson(*reply))
                                       : util::Result<json>(std::move(reply).error());
        Give(std::move(set));
        return out;
    }

  private:
    struct Set {
        Set(zmq::context_t& c, const std::string& datadir, std::chrono::milliseconds t)
            : store(c, util::RunEndpoint(datadir, "store"), t),
              pool(c, util::RunEndpoint(datadir, "pool"), t),
              pbft(c, util::RunEndpoint(datadir, "pbft"), t),
              p2p(c, util::RunEndpoint(datadir, "p2p"), t) {}
        net::Client& Of(Stage s) {
            switch (s) {
                case Stage::kStore:
                    return store;
                case Stage::kPool:
                    return pool;
                case Stage::kPbft:
                    return pbft;
                case Stage::kP2p:
                    return p2p;
            }
            return pbft;
        }
        net::Client store, pool, pbft, p2p;
    };

    std::unique_ptr<Set> Take() {
        {
            std::lock_guard lock(m_mutex);
            if (!m_free.empty()) {
                auto set = std::move(m_free.back());
                m_free.pop_back();
                return set;
            }
        }
        // At most one set per worker thread is ever made: the pool is as
        // large as the most calls in flight at once.
        return std::make_unique<Set>(m_context, m_datadir, m_timeout);
    }
    void Give(std::unique_ptr<Set> set) {
        std::lock_guard lock(m_mutex);
        m_free.push_back(std::move(set));
    }

    zmq::context_t m_context;  // before the sets: closed after them
    std::string m_datadir;
    std::chrono::milliseconds m_timeout;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<Set>> m_free;
};

// The method names counted by tc_rpc_requests_total, "other" last.
std::vector<std::string> MetricMethods() {
    std::vector<std::string> names;
    for (const auto& [name, what] : Methods::List()) names.push_back(name);
    names.push_back("other");
    return names;
}

struct RpcMetrics {
    net::LabeledCounter requests{MetricMethods()};
    std::atomic<uint64_t> unauthorized{0};
    std::atomic<uint64_t> too_large{0};
};

std::string RenderMetrics(const RpcMetrics& m, const EventHub& hub) {
    net::Exposition out;
    out.Counters("tc_rpc_requests_total", "JSON-RPC requests by method.", "method", m.requests);
    out.Counter("tc_rpc_unauthorized_total", "HTTP requests refused with 401.",
                m.unauthorized.load(std::memory_order_relaxed));
    out.Counter("tc_rpc_too_large_total", "HTTP requests refused with 413.",
                m.too_large.load(std::memory_order_relaxed));
    out.Gauge("tc_rpc_event_subscribers", "Open /events streams.", hub.subscribers());
    out.Counter("tc_rpc_events_total", "Stage events published to /events.", hub.published());
    out.Counter("tc_rpc_event_subscribers_dropped_total",
                "/events streams ended because their queue was full.", hub.dropped());
    return out.str();
}

void JsonError(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(ErrorResponse(RpcError{kInvalidRequest, message, nullptr}, nullptr).dump(),
                    "application/json");
}

// Removes a file at scope exit (the cookie and the URL at a clean stop).
class RemoveOnExit {
  public:
    explicit RemoveOnExit(std::string path) : m_path(std::move(path)) {}
    ~RemoveOnExit() {
        if (::unlink(m_path.c_str()) != 0 && errno != ENOENT) {
            log::Warn("cannot remove {}: {}", m_path, std::strerror(errno));
        }
    }
    RemoveOnExit(const RemoveOnExit&) = delete;
    RemoveOnExit& operator=(const RemoveOnExit&) = delete;

  private:
    std::string m_path;
};

}  // namespace

util::Result<HostPort> ParseListen(const std::string& listen) {
    const std::string what = "--listen " + listen;
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return MakeError(Errc::kUsage, what + ": expected HOST:PORT");
    }
    HostPort hp;
    hp.host = listen.substr(0, colon);
    if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']') {
        hp.host = hp.host.substr(1, hp.host.size() - 2);
    }
    const std::string port = listen.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || hp.port < 0 ||
        hp.port > 65535) {
        return MakeError(Errc::kUsage, what + ": the port must be 0 to 65535");
    }
    return hp;
}

util::Status RunDaemon(const Options& opts) {
    const std::string& datadir = opts.common.datadir;
    // First: every thread made after this inherits the blocked signals.
    net::SignalFd signals;
    if (!signals.ok()) return MakeError(Errc::kIo, "signalfd failed");
    TC_TRY(listen, ParseListen(opts.listen));
    TC_TRY(ledger, ledger::Ledger::OpenReadOnly(util::LedgerDir(datadir)));
    TC_CHECK(net::MakeRunDir(datadir));

    StagePool stages(datadir, std::chrono::milliseconds(opts.stage_timeout_ms));
    MethodLimits limits;
    limits.max_utxos = opts.max_utxos;
    Methods methods(*ledger, stages, limits);
    EventHub hub(opts.max_event_subscribers, opts.max_event_queue);
    RpcMetrics metrics;
    const std::string secret = NewCookieSecret();
    std::counting_semaphore<> slots(static_cast<std::ptrdiff_t>(opts.max_concurrent));

    httplib::Server server;
    const size_t workers = opts.max_concurrent + opts.max_event_subscribers;
    server.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    server.set_payload_max_length(opts.max_body_bytes);
    // httplib writes the headers and the body of a response separately: with
    // Nagle's algorithm on, the body waits for the client's delayed ACK
    // (40 ms here) on every keep-alive request.
    server.set_tcp_nodelay(true);
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let
    // a second daemon share (and answer half of) this port.
    server.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
        if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
        if (!CheckBasicAuth(req.get_header_value("Authorization"), secret)) {
            metrics.unauthorized.fetch_add(1, std::memory_order_relaxed);
            res.set_header("WWW-Authenticate", "Basic realm=\"tc-rpc\"");
            JsonError(res, 401, "unauthorized: send the cookie of DATADIR/rpc.cookie");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_error_handler([&](const httplib::Request&, httplib::Response& res) {
        if (res.status == 413) {
            metrics.too_large.fetch_add(1, std::memory_order_relaxed);
            JsonError(
                res, 413,
                "request body exceeds --max-body-bytes " + std::to_string(opts.max_body_bytes));
        } else if (res.status == 404 && res.body.empty()) {
            JsonError(res, 404, "no such path: POST /, GET /health or GET /events");
        }
    });
    server.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
        slots.acquire();
        std::optional<std::string> body;
        try {
            body = HandleBody(
                req.body,
                [&](std::string_view method, const json& params) {
                    return methods.Call(method, params);
                },
                opts.max_batch, [&](std::string_view method) { metrics.requests.Add(method); },
                [&](const std::vector<std::pair<std::string, json>>& calls) {
                    return methods.CallBatch(calls);
                });
        } catch (...) {
            slots.release();
            throw;
        }
        slots.release();
        if (!body) {
            res.status = 204;  // notifications only
            return;
        }
        res.set_content(*body, "application/json");
    });
    server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
        auto health = methods.CheckHealth();
        res.status = health.ok ? 200 : 503;
        res.set_content(health.body.dump(), "application/json");
    });
    server.Get("/events", [&](const httplib::Request&, httplib::Response& res) {
        std::shared_ptr<Subscription> sub = hub.Subscribe();
        if (!sub) {
            JsonError(res, 503,
                      "--max-event-subscribers " + std::to_string(opts.max_event_subscribers) +
                          " streams are open");
            return;
        }
        res.set_header("Cache-Control", "no-cache");
        auto welcomed = std::make_shared<bool>(false);
        res.set_chunked_content_provider(
            "text/event-stream", [sub, welcomed](size_t, httplib::DataSink& sink) {
                if (!*welcomed) {
                    *welcomed = true;
                    return sink.write(kSseWelcome.data(), kSseWelcome.size());
                }
                auto next = sub->Wait(std::chrono::seconds(15));
                switch (next.kind) {
                    case Subscription::Kind::kEvent:
                        return sink.write(next.text.data(), next.text.size());
                    case Subscription::Kind::kIdle:
                        return sink.write(kSseKeepAlive.data(), kSseKeepAlive.size());
                    case Subscription::Kind::kEnd:
                        sink.done();
                        return true;
                }
                return false;
            });
    });

    const int port = listen.port == 0 ? server.bind_to_any_port(listen.host)
                     : server.bind_to_port(listen.host, listen.port) ? listen.port
                                                                     : -1;
    if (port <= 0) return MakeError(Errc::kIo, "--listen " + opts.listen + ": cannot listen there");
    const std::string url =
        "http://" +
        (listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host) + ":" +
        std::to_string(port);

    // The cookie before the URL: a client that finds the URL finds the
    // cookie too.
    RemoveOnExit remove_cookie(CookiePath(datadir));
    TC_CHECK(util::WriteFileAtomic(CookiePath(datadir), CookieText(secret) + "\n", 0600));
    RemoveOnExit remove_url(UrlPath(datadir));
    TC_CHECK(util::WriteFileAtomic(UrlPath(datadir), url + "\n", 0644));

    std::unique_ptr<net::MetricsServer> metrics_server;
    if (!opts.metrics_listen.empty()) {
        TC_TRY(started, net::MetricsServer::Start(opts.metrics_listen, [&metrics, &hub] {
                   return RenderMetrics(metrics, hub);
               }));
        metrics_server = std::move(started);
        log::Info("metrics on http://{}/metrics (port {})", opts.metrics_listen,
                  metrics_server->port());
    }
    TC_TRY(reader, EventReader::Start(datadir, hub));
    std::atomic<bool> listening_ended{false};
    std::thread listener([&] {
        server.listen_after_bind();
        listening_ended = true;
    });
    // stop() does nothing to a server not yet running: wait until it runs.
    while (!server.is_running() && !listening_ended) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    log::Info("serving JSON-RPC on {} (cookie {})", url, CookiePath(datadir));
    net::Notify(net::Lifecycle::kReady);

    util::Status outcome;
    while (true) {
        struct pollfd pfd = {signals.fd(), POLLIN, 0};
        const int n = ::poll(&pfd, 1, 200);
        if (n > 0 && signals.Read() != 0) {
            log::Info("signal: stopping");
            break;
        }
        if (listening_ended) {
            outcome = MakeError(Errc::kIo, "the HTTP server stopped on its own");
            break;
        }
    }
    net::Notify(net::Lifecycle::kStopping);
    // The streams first: their workers must return before the server's
    // thread pool can be joined.
    hub.Close();
    server.stop();
    listener.join();
    reader.reset();
    metrics_server.reset();
    log::Info("stopped");
    return outcome;
}

}  // namespace tc::rpc
