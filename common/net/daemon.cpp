#include "net/daemon.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <filesystem>

#include "net/rpc.h"
#include "util/config.h"
#include "util/log.h"

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

util::Result<DaemonSockets> BindDaemonSockets(zmq::context_t& context, const std::string& datadir,
                                              const std::string& name, uint64_t max_message_bytes,
                                              uint64_t event_queue) {
    DaemonSockets s{zmq::socket_t(context, zmq::socket_type::router),
                    zmq::socket_t(context, zmq::socket_type::xpub),
                    util::RunEndpoint(datadir, name), util::RunEndpoint(datadir, name + "-events")};
    const std::string* binding = &s.requests_endpoint;
    try {
        s.router.set(zmq::sockopt::linger, 0);
        s.router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_message_bytes));
        s.events.set(zmq::sockopt::linger, 0);
        s.events.set(zmq::sockopt::xpub_welcome_msg, std::string("welcome"));
        s.events.set(zmq::sockopt::sndhwm,
                     static_cast<int>(std::min<uint64_t>(event_queue, 1u << 30)));
        s.router.bind(s.requests_endpoint);
        binding = &s.events_endpoint;
        s.events.bind(s.events_endpoint);
    } catch (const zmq::error_t& e) {
        return util::MakeError(util::Errc::kIo, *binding + ": " + e.what());
    }
    return s;
}

void DrainSubscriptions(zmq::socket_t& xpub) {
    zmq::message_t sub;
    while (xpub.recv(sub, zmq::recv_flags::dontwait)) {
    }
}

void DaemonLoop::Watch(zmq::socket_t& socket, std::function<void()> on_readable) {
    m_watched.emplace_back(&socket, [f = std::move(on_readable)] {
        f();
        return util::Status{};
    });
}

void DaemonLoop::WatchChecked(zmq::socket_t& socket, std::function<util::Status()> on_readable) {
    m_watched.emplace_back(&socket, std::move(on_readable));
}

void DaemonLoop::Serve(zmq::socket_t& router,
                       std::function<msgpack::sbuffer(util::ByteView)> handle) {
    Watch(router, [&router, h = std::move(handle)] { (void)ServeRequest(router, h); });
}

void DaemonLoop::Drain(zmq::socket_t& xpub) {
    Watch(xpub, [&xpub] { DrainSubscriptions(xpub); });
}

void DaemonLoop::WatchEach(std::function<std::vector<void*>()> handles,
                           std::function<void(void*)> on_readable) {
    m_each = std::move(handles);
    m_each_readable = std::move(on_readable);
}

util::Status DaemonLoop::Run(const std::function<std::chrono::milliseconds()>& timeout,
                             const std::function<util::Status()>& after) {
    std::vector<zmq::pollitem_t> items;
    for (;;) {
        const std::vector<void*> each = m_each ? m_each() : std::vector<void*>{};
        items.clear();
        items.push_back({nullptr, m_signals.fd(), ZMQ_POLLIN, 0});
        for (auto& [socket, _] : m_watched) items.push_back({socket->handle(), 0, ZMQ_POLLIN, 0});
        for (void* handle : each) items.push_back({handle, 0, ZMQ_POLLIN, 0});
        Poll(items.data(), items.size(), timeout());
        if ((items[0].revents & ZMQ_POLLIN) && m_signals.Read() != 0) {
            log::Info("signal: stopping");
            return {};
        }
        for (size_t i = 0; i < m_watched.size(); ++i) {
            if (items[1 + i].revents & ZMQ_POLLIN) TC_CHECK(m_watched[i].second());
        }
        for (size_t i = 0; i < each.size(); ++i) {
            if (items[1 + m_watched.size() + i].revents & ZMQ_POLLIN) m_each_readable(each[i]);
        }
        TC_CHECK(after());
    }
}

util::Status Stopped(util::Status outcome) {
    if (!outcome) {
        log::Error("stopping: {}", outcome.error().message);
    } else {
        log::Info("stopped");
    }
    return outcome;
}

}  // namespace tc::net
