// Who may connect to a CURVE server socket (DESIGN §5): a ZAP handler (ZeroMQ
// RFC 27) that admits only the CURVE public keys it is given (the
// masternodes of the chain's registry and configured observers, in tc-p2p)
// and names each admitted peer, so that every message a server socket
// receives from it carries that name as its "User-Id" property.
//
// Caveat (libzmq 4.3 as Debian builds it, without the draft API): a CURVE
// server whose context has no ZAP handler admits ANY client key, and
// ZMQ_ZAP_ENFORCE_DOMAIN is not available to forbid that. So: Start() the
// handler on the context before binding any CURVE server on it, set the
// ZAP domain on every server socket (MakeCurveServer does), and keep the
// handler alive as long as the sockets. tests/unit/zap_test.cpp shows an
// unknown key refused.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "util/bytes.h"
#include "util/result.h"

namespace tc::net {

using CurveKey = std::array<uint8_t, 32>;

class ZapHandler {
  public:
    // Binds inproc://zeromq.zap.01 on `context` (which must outlive the
    // handler) and answers on a thread of its own. Requests for another
    // domain than `domain`, for another mechanism than CURVE, or from a key
    // not admitted are refused (400). kIo when the endpoint is taken (a
    // second handler on the context).
    static util::Result<std::unique_ptr<ZapHandler>> Start(zmq::context_t& context,
                                                           std::string domain);
    ~ZapHandler();
    ZapHandler(const ZapHandler&) = delete;
    ZapHandler& operator=(const ZapHandler&) = delete;

    // Replaces the admitted keys: CURVE public key -> the peer's name, its
    // messages' User-Id. Takes effect for the next handshake; a peer already
    // connected stays connected.
    void SetAdmitted(std::map<CurveKey, std::string> admitted);

    uint64_t admitted() const { return m_admitted_count.load(); }
    uint64_t refused() const { return m_refused_count.load(); }

  private:
    ZapHandler(zmq::socket_t socket, std::string domain);
    void Serve();
    // The reply's status code and User-Id for one request's frames.
    std::pair<std::string, std::string> Decide(const std::vector<zmq::message_t>& request);

    zmq::socket_t m_socket;  // REP, used by m_thread only
    std::string m_domain;
    std::mutex m_mutex;
    std::map<CurveKey, std::string> m_admitted;
    std::atomic<bool> m_stop{false};
    std::atomic<uint64_t> m_admitted_count{0};
    std::atomic<uint64_t> m_refused_count{0};
    std::thread m_thread;
};

// A CURVE server socket of this node: its secret key (32 bytes) and the ZAP
// domain its ZapHandler answers for.
void MakeCurveServer(zmq::socket_t& socket, util::ByteView secret_key, const std::string& domain);
// A CURVE client socket: our key pair and the server's public key.
void MakeCurveClient(zmq::socket_t& socket, util::ByteView public_key, util::ByteView secret_key,
                     util::ByteView server_key);

}  // namespace tc::net
