// The small pieces every tc-* daemon's Run() needs around its poll loop
// (DESIGN §2): the run directory its ipc:// sockets live in, a poll that a
// signal does not break, and the systemd readiness protocol.
//
// Signals themselves are in net/signals.h, request/reply in net/rpc.h, the
// metrics endpoint in net/metrics.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "net/signals.h"
#include "util/bytes.h"
#include "util/result.h"

namespace tc::net {

// Creates DATADIR/run (and DATADIR) if missing and sets it to 0700, so that
// only the owner can connect to the sockets in it (util::RunEndpoint names
// them). kIo, naming the directory, when either step fails.
util::Status MakeRunDir(const std::string& datadir);

// zmq::poll over `items`, retrying when a signal interrupts it (EINTR); a
// negative timeout waits forever. Returns the number of ready items (0 on
// timeout). Other ZeroMQ errors throw zmq::error_t, as zmq::poll does: they
// mean a closed context or bad items, programmer errors. Caveat: a retry
// starts the timeout afresh; a loop with a deadline recomputes it (see
// TimeLeft).
int Poll(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout);

// The time from now until `deadline`, rounded up to the millisecond and
// never negative: a poll timeout that does not end before the deadline.
std::chrono::milliseconds TimeLeft(std::chrono::steady_clock::time_point deadline);

// The two sockets every daemon binds under DATADIR/run/ (DESIGN §2):
//   NAME.sock         ROUTER for requests: linger 0, messages above
//                     max_message_bytes are refused by ZeroMQ
//   NAME-events.sock  XPUB for events: linger 0, the frame "welcome" to each
//                     new subscriber, at most event_queue messages queued
//                     per subscriber (beyond: dropped, a gap in seq)
// A socket file left by a killed daemon is replaced by the bind. kIo naming
// the endpoint when a bind fails.
struct DaemonSockets {
    zmq::socket_t router;
    zmq::socket_t events;
    std::string requests_endpoint;
    std::string events_endpoint;
};
util::Result<DaemonSockets> BindDaemonSockets(zmq::context_t& context, const std::string& datadir,
                                              const std::string& name, uint64_t max_message_bytes,
                                              uint64_t event_queue = 1000);

// Reads and drops the subscription messages waiting on an XPUB, so that
// they do not queue up (call when it polls readable).
void DrainSubscriptions(zmq::socket_t& xpub);

// The poll loop of a daemon (STYLE §5-6): the sockets it watches, what to
// do when each is readable, and the signalfd that ends it.
//
//   net::DaemonLoop loop(signals);
//   loop.Serve(router, [&](util::ByteView body) { return requests.Handle(body); });
//   loop.Drain(events);
//   loop.Watch(store_events, [&] { ...read what is there... });
//   TC_CHECK(loop.Run([&] { return driver.Timeout(); }, [&] { return driver.Tick(); }));
class DaemonLoop {
  public:
    explicit DaemonLoop(SignalFd& signals) : m_signals(signals) {}

    // Runs on_readable when socket polls readable; handlers run in the
    // order they were added.
    void Watch(zmq::socket_t& socket, std::function<void()> on_readable);
    // The same, and an error of on_readable ends Run with that error.
    void WatchChecked(zmq::socket_t& socket, std::function<util::Status()> on_readable);
    // A request ROUTER: one request a turn, answered by handle (ServeRequest).
    void Serve(zmq::socket_t& router, std::function<msgpack::sbuffer(util::ByteView)> handle);
    // An events XPUB: its subscription messages read and dropped.
    void Drain(zmq::socket_t& xpub);
    // Sockets that change from turn to turn (tc-p2p's links to its peers):
    // handles() is asked before each poll; they come after the others.
    void WatchEach(std::function<std::vector<void*>()> handles,
                   std::function<void(void*)> on_readable);

    // Until SIGTERM or SIGINT (logged as "signal: stopping"; success) or an
    // error of a checked handler or of after() (returned as it is): polls
    // for at most timeout(), runs the handlers of what is readable, then
    // after().
    util::Status Run(const std::function<std::chrono::milliseconds()>& timeout,
                     const std::function<util::Status()>& after);

  private:
    SignalFd& m_signals;
    std::vector<std::pair<zmq::socket_t*, std::function<util::Status()>>> m_watched;
    std::function<std::vector<void*>()> m_each;
    std::function<void(void*)> m_each_readable;
};

// The last words of a daemon's run: logs "stopped", or "stopping: REASON"
// at error level when outcome is an error; returns outcome.
util::Status Stopped(util::Status outcome);

// What a daemon tells its service manager.
enum class Lifecycle {
    kReady,     // READY=1: the sockets are bound, requests are served
    kStopping,  // STOPPING=1: shutting down after a signal
};

// sd_notify(3) of `state`. Does nothing where NOTIFY_SOCKET is not set (not
// under systemd Type=notify); failures are ignored, as a daemon runs the
// same whether or not anyone listens.
void Notify(Lifecycle state);

}  // namespace tc::net
