// Signals as a file descriptor (DESIGN §2, STYLE §6): SIGTERM and SIGINT
// blocked and read from a signalfd, so that a daemon's poll loop sees a stop
// request as one more readable descriptor and finishes what it is doing
// instead of dying in the middle of it.
//
//   net::SignalFd signals;                 // first thing in Run()
//   if (!signals.ok()) return error;
//   zmq::context_t context;                // after: its threads inherit the mask
//   zmq::pollitem_t items[] = {..., {nullptr, signals.fd(), ZMQ_POLLIN, 0}};
//   if ((items[n].revents & ZMQ_POLLIN) && signals.Read() != 0) stop = true;
//
// Caveats:
// * sigprocmask changes the mask of the calling thread only. Create the
//   SignalFd before the zmq context, the metrics server or any other thread:
//   threads inherit the mask they are created with, and a thread that does
//   not block the signal takes it with the default action (the process
//   dies).
// * The destructor restores the previous mask. A signal that arrived and
//   was not Read() is then delivered the ordinary way, which for SIGTERM
//   without a handler ends the process: read what is pending, or let the
//   object live as long as the loop.
// * Not for more than one live SignalFd per thread for the same signals:
//   each one reads the same queue.
#pragma once

#include <signal.h>

#include <initializer_list>

namespace tc::net {

class SignalFd {
  public:
    // Blocks `signals` in the calling thread and opens a non-blocking,
    // close-on-exec signalfd for them. ok() is false when the signalfd could
    // not be made (the mask is blocked all the same, and restored on
    // destruction).
    explicit SignalFd(std::initializer_list<int> signals = {SIGTERM, SIGINT});
    ~SignalFd();
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;

    bool ok() const { return m_fd >= 0; }
    // The descriptor to poll for POLLIN; -1 when !ok().
    int fd() const { return m_fd; }
    // The number of one pending signal (SIGTERM, ...), consuming it; 0 when
    // none is pending. Never blocks.
    int Read();

  private:
    sigset_t m_set{};
    sigset_t m_old{};
    int m_fd = -1;
};

}  // namespace tc::net
