#include "net/watch.h"

#include <iterator>
#include <optional>
#include <ostream>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "net/daemon.h"
#include "net/signals.h"

namespace tc::net {

util::Status WatchEvents(const WatchSpec& spec, std::ostream& out, std::ostream& err) {
    SignalFd signals;
    if (!signals.ok()) return util::MakeError(util::Errc::kIo, "signalfd failed");
    zmq::context_t context;
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, "");  // "welcome" and the topic
    sub.connect(spec.endpoint);
    const std::string warning = spec.program + ": warning: ";
    std::optional<uint64_t> last;
    std::vector<zmq::message_t> parts;
    while (true) {
        zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0},
                                   {nullptr, signals.fd(), ZMQ_POLLIN, 0}};
        Poll(items, 2, std::chrono::milliseconds(-1));
        if ((items[1].revents & ZMQ_POLLIN) && signals.Read() != 0) return {};
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        parts.clear();
        (void)zmq::recv_multipart(sub, std::back_inserter(parts));
        if (parts.size() == 1 && parts[0].to_string_view() == "welcome") {
            err << spec.program << ": watch: connected to " << spec.endpoint << std::endl;
            continue;
        }
        if (parts.size() != 2 || parts[0].to_string_view() != spec.topic) {
            err << warning << "unknown event of " << parts.size() << " frames" << std::endl;
            continue;
        }
        util::Result<WatchedEvent> event = util::MakeError(util::Errc::kInvalid, "not msgpack");
        try {
            auto handle =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            event = spec.decode(handle.get());
        } catch (const std::exception& e) {
            event = util::MakeError(util::Errc::kInvalid, e.what());
        }
        if (!event) {
            err << warning << "unreadable event: " << event.error().message << std::endl;
            continue;
        }
        if (last && event->seq > *last + 1) {
            err << warning << "missed " << (event->seq - *last - 1) << " events before seq "
                << event->seq << std::endl;
        }
        last = event->seq;
        out << event->line.dump() << std::endl;
    }
}

}  // namespace tc::net
