#include "net/zap.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <vector>
#include <zmq_addon.hpp>

#include "net/daemon.h"
#include "util/log.h"

namespace tc::net {

namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// How often the thread looks at m_stop while no request comes.
constexpr std::chrono::milliseconds kStopCheck{100};

}  // namespace

util::Result<std::unique_ptr<ZapHandler>> ZapHandler::Start(zmq::context_t& context,
                                                            std::string domain) {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    try {
        socket.set(zmq::sockopt::linger, 0);
        socket.bind(kZapEndpoint);
    } catch (const zmq::error_t& e) {
        return util::MakeError(util::Errc::kIo, std::string(kZapEndpoint) + ": " + e.what());
    }
    std::unique_ptr<ZapHandler> handler(new ZapHandler(std::move(socket), std::move(domain)));
    handler->m_thread = std::thread([h = handler.get()] { h->Serve(); });
    return handler;
}

ZapHandler::ZapHandler(zmq::socket_t socket, std::string domain)
    : m_socket(std::move(socket)), m_domain(std::move(domain)) {}

ZapHandler::~ZapHandler() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
}

void ZapHandler::SetAdmitted(std::map<CurveKey, std::string> admitted) {
    std::lock_guard lock(m_mutex);
    m_admitted = std::move(admitted);
}

std::pair<std::string, std::string> ZapHandler::Decide(const std::vector<zmq::message_t>& req) {
    // [version, request id, domain, address, identity, mechanism, credentials...]
    if (req.size() < 6 || req[0].to_string_view() != "1.0") return {"400", ""};
    if (req[2].to_string_view() != m_domain) return {"400", ""};
    if (req[5].to_string_view() != "CURVE" || req.size() != 7 || req[6].size() != 32) {
        return {"400", ""};
    }
    CurveKey key;
    std::copy_n(static_cast<const uint8_t*>(req[6].data()), key.size(), key.begin());
    std::lock_guard lock(m_mutex);
    auto it = m_admitted.find(key);
    if (it == m_admitted.end()) return {"400", ""};
    return {"200", it->second};
}

void ZapHandler::Serve() {
    std::vector<zmq::message_t> request;
    while (!m_stop) {
        zmq::pollitem_t item{m_socket.handle(), 0, ZMQ_POLLIN, 0};
        try {
            if (Poll(&item, 1, kStopCheck) == 0) continue;
            request.clear();
            if (!zmq::recv_multipart(m_socket, std::back_inserter(request),
                                     zmq::recv_flags::dontwait)) {
                continue;
            }
            auto [status, user] = Decide(request);
            if (status == "200") {
                ++m_admitted_count;
            } else {
                ++m_refused_count;
                log::Warn("zap: refused a {} connection from {}",
                          request.size() > 5 ? request[5].to_string() : std::string("?"),
                          request.size() > 3 ? request[3].to_string() : std::string("?"));
            }
            const std::string id = request.size() > 1 ? request[1].to_string() : std::string();
            std::array<zmq::const_buffer, 6> reply = {
                zmq::buffer(std::string_view("1.0")),
                zmq::buffer(id),
                zmq::buffer(status),
                zmq::buffer(std::string_view(status == "200" ? "OK" : "not admitted")),
                zmq::buffer(user),
                zmq::const_buffer()};
            (void)zmq::send_multipart(m_socket, reply);
        } catch (const zmq::error_t& e) {
            if (e.num() == ETERM) return;  // the context is closing
            log::Warn("zap: {}", e.what());
        }
    }
}

void MakeCurveServer(zmq::socket_t& socket, util::ByteView secret_key, const std::string& domain) {
    socket.set(zmq::sockopt::curve_server, true);
    socket.set(zmq::sockopt::curve_secretkey,
               zmq::const_buffer(secret_key.data(), secret_key.size()));
    socket.set(zmq::sockopt::zap_domain, domain);
}

void MakeCurveClient(zmq::socket_t& socket, util::ByteView public_key, util::ByteView secret_key,
                     util::ByteView server_key) {
    socket.set(zmq::sockopt::curve_publickey,
               zmq::const_buffer(public_key.data(), public_key.size()));
    socket.set(zmq::sockopt::curve_secretkey,
               zmq::const_buffer(secret_key.data(), secret_key.size()));
    socket.set(zmq::sockopt::curve_serverkey,
               zmq::const_buffer(server_key.data(), server_key.size()));
}

}  // namespace tc::net
