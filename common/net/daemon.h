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
#include <string>
#include <zmq.hpp>

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
