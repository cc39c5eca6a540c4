#include "net/daemon.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <filesystem>

namespace tc::net {

using util::Errc;
using util::MakeError;

util::Status MakeRunDir(const std::string& datadir) {
    std::string dir = datadir + "/run";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return MakeError(Errc::kIo, dir + ": " + ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    if (ec) return MakeError(Errc::kIo, dir + ": " + ec.message());
    return {};
}

int Poll(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout) {
    while (true) {
        try {
            return zmq::poll(items, count, timeout);
        } catch (const zmq::error_t& e) {
            if (e.num() != EINTR) throw;
        }
    }
}

std::chrono::milliseconds TimeLeft(std::chrono::steady_clock::time_point deadline) {
    // Rounded up: a poll given the time left does not wake a hair before the
    // deadline only to find it has not passed.
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return std::max(left, std::chrono::milliseconds(0));
}

void Notify(Lifecycle state) {
    (void)sd_notify(0, state == Lifecycle::kReady ? "READY=1" : "STOPPING=1");
}

}  // namespace tc::net
