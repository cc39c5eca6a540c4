#include "net/rpc.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <ostream>
#include <vector>
#include <zmq_addon.hpp>

#include "net/daemon.h"
#include "util/log.h"

namespace tc::net {

using util::Errc;
using util::MakeError;

zmq::message_t ToMessage(const msgpack::sbuffer& buf) {
    return zmq::message_t(buf.data(), buf.size());
}

bool ServeRequest(zmq::socket_t& router,
                  const std::function<msgpack::sbuffer(util::ByteView body)>& handle) {
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(router, std::back_inserter(parts));
    if (parts.size() != 3 || parts[1].size() != 0) {
        log::Warn("dropped a request of {} frames (want identity, \"\", body)", parts.size());
        return false;
    }
    msgpack::sbuffer reply =
        handle({static_cast<const uint8_t*>(parts[2].data()), parts[2].size()});
    router.send(parts[0], zmq::send_flags::sndmore);
    router.send(zmq::message_t(), zmq::send_flags::sndmore);
    router.send(ToMessage(reply), zmq::send_flags::none);
    return true;
}

Client::Client(std::string endpoint, std::chrono::milliseconds timeout, ErrcOf errc_of)
    : m_own_context(std::make_unique<zmq::context_t>()),
      m_endpoint(std::move(endpoint)),
      m_socket(*m_own_context, zmq::socket_type::dealer),
      m_timeout(timeout),
      m_errc_of(errc_of) {
    m_socket.set(zmq::sockopt::linger, 0);
    m_socket.connect(m_endpoint);
}

Client::Client(zmq::context_t& context, std::string endpoint, std::chrono::milliseconds timeout,
               ErrcOf errc_of)
    : m_endpoint(std::move(endpoint)),
      m_socket(context, zmq::socket_type::dealer),
      m_timeout(timeout),
      m_errc_of(errc_of) {
    m_socket.set(zmq::sockopt::linger, 0);
    m_socket.connect(m_endpoint);
}

util::Result<msgpack::object> Client::Call(std::string_view method,
                                           const std::function<void(Packer&)>& params) {
    const uint64_t id = ++m_id;
    m_socket.send(zmq::message_t(), zmq::send_flags::sndmore);
    m_socket.send(ToMessage(EncodeRequest(id, method, params)), zmq::send_flags::none);
    const auto deadline = std::chrono::steady_clock::now() + m_timeout;
    while (true) {
        zmq::pollitem_t item{m_socket.handle(), 0, ZMQ_POLLIN, 0};
        if (Poll(&item, 1, TimeLeft(deadline)) == 0) {
            // zmq_poll keeps time in coarse milliseconds and may give up a
            // little early: the deadline is ours to judge.
            if (std::chrono::steady_clock::now() < deadline) continue;
            return MakeError(Errc::kIo, "no answer from " + m_endpoint);
        }
        std::vector<zmq::message_t> parts;
        (void)zmq::recv_multipart(m_socket, std::back_inserter(parts));
        if (parts.size() != 2 || parts[0].size() != 0) continue;
        try {
            size_t used = 0;
            m_reply =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size(), used);
            if (used != parts[1].size()) {
                return MakeError(Errc::kInvalid, m_endpoint + ": reply with trailing bytes");
            }
        } catch (const std::exception& e) {
            return MakeError(Errc::kInvalid, m_endpoint + ": unreadable reply: " + e.what());
        }
        auto reply = DecodeReply(m_reply.get());
        if (!reply) return MakeError(Errc::kInvalid, m_endpoint + ": malformed reply");
        if (reply->id != id) continue;  // a late answer to an old request
        if (!reply->ok) {
            std::string why = reply->result.type == msgpack::type::STR
                                  ? std::string(StrView(reply->result))
                                  : "refused";
            return MakeError(m_errc_of(why), why);
        }
        return reply->result;
    }
}

util::Result<msgpack::object> Client::Call(std::string_view method) {
    return Call(method, [](Packer& p) { p.pack_array(0); });
}

util::Status Client::Ping() {
    TC_TRY(result, Call("ping"));
    if (result.type != msgpack::type::STR || StrView(result) != "pong") {
        return util::MakeError(util::Errc::kInvalid, m_endpoint + ": ping: unexpected answer");
    }
    return {};
}

util::Status PrintStatusMap(const msgpack::object& reply, bool json,
                            const std::vector<std::string>& keys, std::ostream& out) {
    if (reply.type != msgpack::type::MAP) {
        return util::MakeError(util::Errc::kInvalid, "status: reply is not a map");
    }
    const nlohmann::json j = MsgpackToJson(reply);
    if (json) {
        out << j.dump() << "\n";
        return {};
    }
    std::vector<std::string> order = keys;
    if (order.empty()) {
        for (const auto& [key, v] : j.items()) order.push_back(key);
    }
    size_t width = 0;
    for (const auto& key : order) width = std::max(width, key.size());
    for (const auto& key : order) {
        if (!j.contains(key)) continue;
        const auto& v = j[key];
        out << key << std::string(width + 3 - key.size(), ' ')
            << (v.is_null()     ? std::string("-")
                : v.is_string() ? v.get<std::string>()
                                : v.dump())
            << "\n";
    }
    return {};
}

util::Status PrintPing(Client& client, std::ostream& out) {
    TC_CHECK(client.Ping());
    out << "pong\n";
    return {};
}

}  // namespace tc::net
