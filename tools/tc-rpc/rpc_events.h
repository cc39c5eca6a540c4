// GET /events of tc-rpc run (man/tc-rpc.1, EVENTS): the events of the
// stages as server-sent events. One EventReader thread subscribes to
// store-events.sock, pool-events.sock and pbft-events.sock, turns each event
// into its SSE text (EventToSse) and publishes it to the EventHub, which
// copies it into every subscriber's bounded queue; each HTTP connection on
// /events drains its own queue (Subscription::Wait).
//
//   event: block   data: {"seq","height","hash"}
//   event: tx      data: {"seq","event","txid","reason"}
//   event: pbft    data: {"seq","event","height","view","hash"}
//
// A stream opens with the comment ": welcome" and carries ": keep-alive"
// when idle. A subscriber whose queue would exceed max_queue is dropped: its
// stream ends, and a client that reconnects knows it missed events (seq).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace tc::rpc {

inline constexpr std::string_view kSseWelcome = ": welcome\n\n";
inline constexpr std::string_view kSseKeepAlive = ": keep-alive\n\n";

// "event: NAME\ndata: JSON\n\n" (the JSON on one line).
std::string SseEvent(std::string_view name, const nlohmann::json& data);

// The SSE text of one stage event [topic, msgpack body]; nullopt for an
// unknown topic or a body not of its topic's shape (see above).
std::optional<std::string> EventToSse(std::string_view topic, util::ByteView body);

class EventHub;

// One /events stream's queue. Made by EventHub::Subscribe; unsubscribes when
// destroyed. Wait is for one thread at a time.
class Subscription {
  public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    enum class Kind {
        kEvent,  // text holds the next event's SSE text
        kIdle,   // nothing within the timeout: send a keep-alive
        kEnd,    // the hub closed, or this subscriber was dropped: end the stream
    };
    struct Next {
        Kind kind = Kind::kIdle;
        std::string text;
    };
    Next Wait(std::chrono::milliseconds timeout);
    // true when the queue overflowed and the subscriber was dropped.
    bool dropped() const;

  private:
    friend class EventHub;
    explicit Subscription(EventHub& hub) : m_hub(hub) {}
    EventHub& m_hub;
    std::deque<std::string> m_queue;  // guarded by the hub's mutex
    bool m_dropped = false;
};

class EventHub {
  public:
    EventHub(size_t max_subscribers, size_t max_queue)
        : m_max_subscribers(max_subscribers), m_max_queue(max_queue) {}
    ~EventHub();
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    // A new subscriber; nullptr when max_subscribers are subscribed or the hub
    // is closed. The hub must outlive it.
    std::unique_ptr<Subscription> Subscribe();
    // Queues `text` for every subscriber; drops those whose queue is full.
    void Publish(const std::string& text);
    // Ends every stream (Wait gives kEnd) and refuses new subscribers.
    void Close();

    size_t subscribers() const;
    size_t max_queue() const { return m_max_queue; }
    uint64_t published() const { return m_published.load(std::memory_order_relaxed); }
    uint64_t dropped() const { return m_dropped.load(std::memory_order_relaxed); }

  private:
    friend class Subscription;
    void Remove(Subscription* s);

    const size_t m_max_subscribers;
    const size_t m_max_queue;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Subscription*> m_subs;
    bool m_closed = false;
    std::atomic<uint64_t> m_published{0};
    std::atomic<uint64_t> m_dropped{0};
};

// The thread that subscribes to the stages' event sockets of a datadir and
// publishes to a hub. Connecting is done in the background: a stage that is
// not up yet is picked up when it comes (its "welcome" frame is logged).
class EventReader {
  public:
    // hub must outlive this. Create after the SignalFd (the thread inherits
    // the blocked signals).
    static util::Result<std::unique_ptr<EventReader>> Start(const std::string& datadir,
                                                            EventHub& hub);
    // Stops and joins the thread.
    ~EventReader();
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

  private:
    EventReader() = default;
    void Loop(std::vector<std::string> endpoints, EventHub& hub);
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

}  // namespace tc::rpc
