#include "rpc_events.h"

#include <algorithm>
#include <msgpack.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "net/daemon.h"
#include "rpc_methods.h"
#include "util/config.h"
#include "util/log.h"

namespace tc::rpc {

using nlohmann::json;

std::string SseEvent(std::string_view name, const json& data) {
    return "event: " + std::string(name) + "\ndata: " + data.dump() + "\n\n";
}

std::optional<std::string> EventToSse(std::string_view topic, util::ByteView body) {
    json e;
    try {
        auto handle = msgpack::unpack(reinterpret_cast<const char*>(body.data()), body.size());
        e = MsgpackToJson(handle.get());
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (!e.is_array()) return std::nullopt;
    auto fields = [&](std::initializer_list<std::pair<const char*, json::value_t>> names)
        -> std::optional<json> {
        if (e.size() != names.size()) return std::nullopt;
        json out = json::object();
        size_t i = 0;
        for (const auto& [name, type] : names) {
            if (e[i].type() != type) return std::nullopt;
            out[name] = e[i++];
        }
        return out;
    };
    using V = json::value_t;
    std::optional<json> data;
    if (topic == "block") {
        data = fields(
            {{"seq", V::number_unsigned}, {"height", V::number_unsigned}, {"hash", V::string}});
    } else if (topic == "tx") {
        data = fields({{"seq", V::number_unsigned},
                       {"event", V::string},
                       {"txid", V::string},
                       {"reason", V::string}});
    } else if (topic == "pbft") {
        data = fields({{"seq", V::number_unsigned},
                       {"event", V::string},
                       {"height", V::number_unsigned},
                       {"view", V::number_unsigned},
                       {"hash", V::string}});
    }
    if (!data) return std::nullopt;
    return SseEvent(topic, *data);
}

// --- Subscription / EventHub ----------------------------------------------

Subscription::~Subscription() {
    m_hub.Remove(this);
}

Subscription::Next Subscription::Wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_hub.m_mutex);
    m_hub.m_cv.wait_for(lock, timeout,
                        [&] { return !m_queue.empty() || m_dropped || m_hub.m_closed; });
    if (m_dropped || m_hub.m_closed) return {Kind::kEnd, {}};
    if (m_queue.empty()) return {Kind::kIdle, {}};
    Next next{Kind::kEvent, std::move(m_queue.front())};
    m_queue.pop_front();
    return next;
}

bool Subscription::dropped() const {
    std::lock_guard lock(m_hub.m_mutex);
    return m_dropped;
}

EventHub::~EventHub() {
    Close();
}

std::unique_ptr<Subscription> EventHub::Subscribe() {
    std::lock_guard lock(m_mutex);
    if (m_closed || m_subs.size() >= m_max_subscribers) return nullptr;
    std::unique_ptr<Subscription> s(new Subscription(*this));
    m_subs.push_back(s.get());
    return s;
}

void EventHub::Publish(const std::string& text) {
    {
        std::lock_guard lock(m_mutex);
        for (Subscription* s : m_subs) {
            if (s->m_dropped) continue;
            if (s->m_queue.size() >= m_max_queue) {
                s->m_dropped = true;
                s->m_queue.clear();
                m_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            s->m_queue.push_back(text);
        }
        m_published.fetch_add(1, std::memory_order_relaxed);
    }
    m_cv.notify_all();
}

void EventHub::Close() {
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
    }
    m_cv.notify_all();
}

size_t EventHub::subscribers() const {
    std::lock_guard lock(m_mutex);
    return m_subs.size();
}

void EventHub::Remove(Subscription* s) {
    std::lock_guard lock(m_mutex);
    m_subs.erase(std::remove(m_subs.begin(), m_subs.end(), s), m_subs.end());
}

// --- EventReader ------------------------------------------------------------

util::Result<std::unique_ptr<EventReader>> EventReader::Start(const std::string& datadir,
                                                              EventHub& hub) {
    std::vector<std::string> endpoints;
    for (const char* name : {"store-events", "pool-events", "pbft-events"}) {
        endpoints.push_back(util::RunEndpoint(datadir, name));
    }
    std::unique_ptr<EventReader> reader(new EventReader());
    EventReader* raw = reader.get();
    raw->m_thread = std::thread([raw, endpoints = std::move(endpoints), &hub]() mutable {
        raw->Loop(std::move(endpoints), hub);
    });
    return reader;
}

EventReader::~EventReader() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
}

void EventReader::Loop(std::vector<std::string> endpoints, EventHub& hub) {
    // The socket belongs to this thread alone (STYLE §6).
    zmq::context_t context;
    zmq::socket_t sub(context, zmq::socket_type::sub);
    try {
        sub.set(zmq::sockopt::linger, 0);
        // ZeroMQ drops what does not fit (1000 messages by default): at
        // thousands of transactions a second the stages' events need room.
        sub.set(zmq::sockopt::rcvhwm,
                static_cast<int>(std::min<size_t>(hub.max_queue(), 1u << 30)));
        sub.set(zmq::sockopt::subscribe, "");  // "welcome", "block", "tx", "pbft"
        for (const auto& ep : endpoints) sub.connect(ep);
    } catch (const zmq::error_t& e) {
        log::Error("events: cannot subscribe: {}", e.what());
        return;
    }
    while (!m_stop) {
        zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
        // A short timeout so that the destructor's stop is seen soon.
        if (net::Poll(items, 1, std::chrono::milliseconds(100)) == 0) continue;
        std::vector<zmq::message_t> parts;
        while (zmq::recv_multipart(sub, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
            if (parts.size() == 1 && parts[0].to_string_view() == "welcome") {
                log::Debug("events: a stage's event socket connected");
            } else if (parts.size() == 2) {
                auto text = EventToSse(
                    parts[0].to_string_view(),
                    util::ByteView(static_cast<const uint8_t*>(parts[1].data()), parts[1].size()));
                if (text) {
                    hub.Publish(*text);
                } else {
                    log::Warn("events: unreadable {} event ignored", parts[0].to_string_view());
                }
            } else {
                log::Warn("events: event of {} frames ignored", parts.size());
            }
            parts.clear();
        }
    }
}

}  // namespace tc::rpc
