#include "daemon.h"

#include <chrono>
#include <iostream>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "net/daemon.h"
#include "net/metrics.h"
#include "net/rpc.h"
#include "net/signals.h"
#include "net/watch.h"
#include "protocol.h"
#include "requests.h"
#include "util/bytes.h"
#include "util/config.h"
#include "util/log.h"

namespace tc::pool {

using net::Packer;
using util::Errc;
using util::MakeError;

namespace {

using Type = msgpack::type::object_type;
using Clock = std::chrono::steady_clock;

// A client of this datadir's tc-pool run.
class Client : public net::Client {
  public:
    explicit Client(const Options& opts)
        : net::Client(util::RunEndpoint(opts.common.datadir, "pool"),
                      std::chrono::milliseconds(opts.timeout_ms)) {}
};

// --- the daemon ------------------------------------------------------------

void Publish(zmq::socket_t& events, const std::vector<protocol::TxEvent>& batch) {
    // XPUB drops a message for a subscriber whose queue is full: a watcher
    // sees that as a gap in seq.
    for (const auto& e : batch) {
        events.send(zmq::buffer(protocol::kTxTopic), zmq::send_flags::sndmore);
        events.send(net::ToMessage(protocol::EncodeEvent(e)), zmq::send_flags::none);
    }
}

// The height of a store event ["block", [seq, height, bin hash]].
std::optional<uint64_t> StoreEventHeight(const msgpack::object& o) {
    if (o.type != Type::ARRAY || o.via.array.size != 3 ||
        o.via.array.ptr[1].type != Type::POSITIVE_INTEGER) {
        return std::nullopt;
    }
    return o.via.array.ptr[1].via.u64;
}

// Follows tc-store run: takes the blocks its events announce, and fills
// gaps from its `since` (or the ledger).
class StoreFollower {
  public:
    StoreFollower(zmq::context_t& context, const Options& opts, Requests& requests,
                  const ledger::Ledger& view)
        : m_store(context, util::RunEndpoint(opts.common.datadir, "store"),
                  std::chrono::milliseconds(opts.store_timeout_ms)),
          m_requests(requests),
          m_view(view),
          m_retry(std::chrono::milliseconds(opts.retry_ms)) {}

    // One message of the SUB socket.
    void Received(const std::vector<zmq::message_t>& parts, std::vector<protocol::TxEvent>& out) {
        if (parts.size() == 1 && parts[0].to_string_view() == protocol::kWelcome) {
            log::Info("following tc-store run's events");
            m_resync = true;  // what was committed while we were not connected
            m_next_try = Clock::now();
            return;
        }
        if (parts.size() != 2 || parts[0].to_string_view() != "block") {
            log::Warn("store event of {} frames ignored", parts.size());
            return;
        }
        std::optional<uint64_t> height;
        try {
            auto handle =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            height = StoreEventHeight(handle.get());
        } catch (const std::exception&) {
        }
        if (!height) {
            log::Warn("unreadable store event ignored");
            return;
        }
        if (*height <= m_requests.height()) return;
        if (*height > m_requests.height() + 1) {
            log::Info("gap in store events: at {}, event for {}", m_requests.height(), *height);
            m_resync = true;
            m_next_try = Clock::now();
            return;
        }
        if (auto taken = m_requests.BlockCommitted(*height, out); !taken) {
            log::Warn("block {}: {}", *height, taken.error().message);
            m_resync = true;
            m_next_try = Clock::now() + m_retry;
        }
    }

    // Asks since when a resync is due.
    void Tick(std::vector<protocol::TxEvent>& out) {
        if (!m_resync || Clock::now() < m_next_try) return;
        auto done = Resync(out);
        if (done) {
            m_resync = false;
            return;
        }
        log::Warn("resync with tc-store: {} (again in {} ms)", done.error().message,
                  m_retry.count());
        m_next_try = Clock::now() + m_retry;
    }

    // The poll timeout until the next retry (-1: none due).
    std::chrono::milliseconds Timeout() const {
        return m_resync ? net::TimeLeft(m_next_try) : std::chrono::milliseconds(-1);
    }

  private:
    util::Status Resync(std::vector<protocol::TxEvent>& out) {
        auto reply = m_store.Call("since", [&](Packer& p) {
            p.pack_array(1);
            p.pack_uint64(m_requests.height());
        });
        if (!reply && reply.error().code == Errc::kIo) return std::move(reply).error();
        if (!reply || reply->type != Type::ARRAY) {
            // The store answered but cannot replay that far back: the ledger
            // has every block.
            TC_TRY(status, m_view.GetStatus());
            return m_requests.BlockCommitted(status.height, out);
        }
        uint64_t last = m_requests.height();
        for (const auto& e : reply->via.array) {
            auto h = StoreEventHeight(e);
            if (h && *h > last) last = *h;
        }
        return m_requests.BlockCommitted(last, out);
    }

    net::Client m_store;
    Requests& m_requests;
    const ledger::Ledger& m_view;
    std::chrono::milliseconds m_retry;
    bool m_resync = false;
    Clock::time_point m_next_try = Clock::now();
};

}  // namespace

util::Status RunDaemon(const Options& opts) {
    const std::string& datadir = opts.common.datadir;
    net::SignalFd signals;
    if (!signals.ok()) return MakeError(Errc::kIo, "signalfd failed");
    TC_TRY(view, ledger::Ledger::OpenReadOnly(util::LedgerDir(datadir)));
    TC_CHECK(net::MakeRunDir(datadir));
    Limits limits;
    limits.max_count = opts.max_count;
    limits.max_bytes = opts.max_bytes;
    limits.max_history = opts.max_history;
    RequestLimits request_limits;
    request_limits.max_submit = opts.max_submit;
    request_limits.max_list = opts.max_list;
    request_limits.verify_threads = opts.verify_threads;
    TC_TRY(requests, Requests::Create(*view, limits, request_limits));
    // After the SignalFd (its thread inherits the blocked signals).
    const Metrics& metrics = requests->metrics();
    TC_TRY(metrics_server, net::MetricsServer::StartIfAsked(
                               opts.metrics_listen, [&metrics] { return RenderMetrics(metrics); }));
    {
        zmq::context_t context;
        TC_TRY(sockets, net::BindDaemonSockets(context, datadir, "pool", opts.max_message_bytes,
                                               opts.max_event_queue));
        auto& [router, events, requests_ep, events_ep] = sockets;
        zmq::socket_t store_events(context, zmq::socket_type::sub);
        try {
            store_events.set(zmq::sockopt::linger, 0);
            store_events.set(zmq::sockopt::subscribe, "");  // "welcome" and "block"
            store_events.connect(util::RunEndpoint(datadir, "store-events"));
        } catch (const zmq::error_t& e) {
            return MakeError(Errc::kIo, "store-events: " + std::string(e.what()));
        }
        StoreFollower follower(context, opts, *requests, *view);
        log::Info("serving {} (events {}), following the ledger from height {}", requests_ep,
                  events_ep, requests->height());
        net::Notify(net::Lifecycle::kReady);

        std::vector<protocol::TxEvent> batch;
        net::DaemonLoop loop(signals);
        // The events go out before the reply: a watcher has them before the
        // submitter its acknowledgement.
        loop.Serve(router, [&](util::ByteView body) {
            msgpack::sbuffer reply = requests->Handle(body, batch);
            Publish(events, batch);
            batch.clear();
            return reply;
        });
        loop.Drain(events);
        loop.Watch(store_events, [&] {
            std::vector<zmq::message_t> parts;
            while (zmq::recv_multipart(store_events, std::back_inserter(parts),
                                       zmq::recv_flags::dontwait)) {
                follower.Received(parts, batch);
                parts.clear();
            }
        });
        TC_CHECK(loop.Run([&] { return follower.Timeout(); },
                          [&] {
                              follower.Tick(batch);
                              Publish(events, batch);
                              batch.clear();
                              return util::Status{};
                          }));
        net::Notify(net::Lifecycle::kStopping);
    }
    metrics_server.reset();
    requests.reset();
    view.reset();
    log::Info("stopped");
    return {};
}

// --- the clients -----------------------------------------------------------

util::Status PingDaemon(const Options& opts, std::ostream& out) {
    Client client(opts);
    return net::PrintPing(client, out);
}

util::Status PrintStatus(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(reply, client.Call("status"));
    return net::PrintStatusMap(
        reply, opts.common.json,
        {"count", "bytes", "lowest", "highest", "height", "max_count", "max_bytes", "history"},
        out);
}

util::Status PrintList(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(reply, client.Call("list", [&](Packer& p) {
        p.pack_array(1);
        p.pack_uint64(opts.limit);
    }));
    if (reply.type != Type::ARRAY) return MakeError(Errc::kInvalid, "list: reply is not an array");
    nlohmann::json all = nlohmann::json::array();
    for (const auto& e : reply.via.array) {
        if (e.type != Type::ARRAY || e.via.array.size != 3 ||
            e.via.array.ptr[0].type != Type::BIN) {
            return MakeError(Errc::kInvalid, "list: unreadable entry");
        }
        const std::string txid = util::ToHex(net::BinView(e.via.array.ptr[0]));
        const uint64_t fee = e.via.array.ptr[1].via.u64;
        const uint64_t bytes = e.via.array.ptr[2].via.u64;
        const std::string rate = FeeRate{fee, bytes}.ToString();
        if (opts.common.json) {
            all.push_back({{"txid", txid}, {"fee", fee}, {"bytes", bytes}, {"rate", rate}});
        } else {
            out << txid << " " << rate << "\n";
        }
    }
    if (opts.common.json) out << all.dump() << "\n";
    return {};
}

util::Status PrintWhy(const Options& opts, std::ostream& out) {
    auto txid = util::FromHexFixed<32>(opts.txid);
    if (!txid) return MakeError(Errc::kUsage, "TXID " + opts.txid + ": not 64 hex digits");
    Client client(opts);
    TC_TRY(reply, client.Call("why", [&](Packer& p) {
        p.pack_array(1);
        net::PackBin(p, *txid);
    }));
    if (reply.type != Type::MAP) return MakeError(Errc::kInvalid, "why: reply is not a map");
    nlohmann::json j = net::MsgpackToJson(reply);
    j["txid"] = util::ToHex(*txid);
    if (opts.common.json) {
        out << j.dump() << "\n";
        return {};
    }
    const std::string status = j.value("status", "");
    out << status;
    if (status == "pending") {
        out << " rank=" << j.value("rank", 0) << " rate=" << j.value("rate", "");
    }
    if (status == "committed" || status == "conflicted") out << " height=" << j.value("height", 0);
    if (!j.value("reason", "").empty()) out << " reason=" << j.value("reason", "");
    if (!j.value("detail", "").empty()) out << " " << j.value("detail", "");
    out << "\n";
    return {};
}

util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err) {
    net::WatchSpec spec;
    spec.program = "tc-pool";
    spec.endpoint = util::RunEndpoint(opts.common.datadir, "pool-events");
    spec.topic = std::string(protocol::kTxTopic);
    spec.decode = [](const msgpack::object& payload) -> util::Result<net::WatchedEvent> {
        TC_TRY(e, protocol::DecodeEvent(payload));
        return net::WatchedEvent{e.seq,
                                 {{"seq", e.seq},
                                  {"event", e.event},
                                  {"txid", util::ToHex(e.txid)},
                                  {"reason", e.reason}}};
    };
    return net::WatchEvents(spec, out, err);
}

util::Status SubmitTxs(const Options& opts, std::istream& in, std::ostream& out) {
    std::vector<util::Bytes> txs;
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty()) continue;
        auto bytes = util::FromHex(line);
        if (!bytes) return std::move(bytes).error().In("stdin line " + std::to_string(n));
        txs.push_back(std::move(*bytes));
    }
    Client client(opts);
    size_t refused = 0;
    const size_t per_call = std::max<uint64_t>(1, opts.max_submit);
    for (size_t start = 0; start < txs.size(); start += per_call) {
        const size_t end = std::min(txs.size(), start + per_call);
        TC_TRY(reply, client.Call("submit", [&](Packer& p) {
            p.pack_array(static_cast<uint32_t>(end - start));
            for (size_t i = start; i < end; ++i) net::PackBin(p, txs[i]);
        }));
        if (reply.type != Type::ARRAY || reply.via.array.size != end - start) {
            return MakeError(Errc::kInvalid, "submit: reply is not one result per tx");
        }
        for (const auto& r : reply.via.array) {
            nlohmann::json j = net::MsgpackToJson(r);
            const bool accepted = j.value("accepted", false);
            if (!accepted) ++refused;
            if (opts.common.json) {
                out << j.dump() << "\n";
                continue;
            }
            const std::string txid = j["txid"].is_string() ? j["txid"].get<std::string>() : "-";
            if (accepted) {
                out << txid << " accepted\n";
            } else {
                out << txid << " refused " << j.value("reason", "") << ": " << j.value("detail", "")
                    << "\n";
            }
        }
    }
    out.flush();
    if (refused > 0) {
        return MakeError(Errc::kInvalid, std::to_string(refused) + " of " +
                                             std::to_string(txs.size()) + " transactions refused");
    }
    return {};
}

}  // namespace tc::pool
