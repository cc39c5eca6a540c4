#include "net/signals.h"

#include <sys/signalfd.h>
#include <unistd.h>

namespace tc::net {

SignalFd::SignalFd(std::initializer_list<int> signals) {
    sigemptyset(&m_set);
    for (int s : signals) sigaddset(&m_set, s);
    sigprocmask(SIG_BLOCK, &m_set, &m_old);
    m_fd = signalfd(-1, &m_set, SFD_NONBLOCK | SFD_CLOEXEC);
}

SignalFd::~SignalFd() {
    if (m_fd >= 0) close(m_fd);
    sigprocmask(SIG_SETMASK, &m_old, nullptr);
}

int SignalFd::Read() {
    if (m_fd < 0) return 0;
    signalfd_siginfo info{};
    if (read(m_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return 0;
    return static_cast<int>(info.ssi_signo);
}

}  // namespace tc::net
