// net::ZapHandler: over real TCP CURVE sockets, an admitted key connects and
// its messages carry the name it was admitted under; a key outside the set,
// and a server socket of another ZAP domain, are refused. Waits are on
// conditions with a deadline.
#include "net/zap.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <chrono>
#include <string>
#include <thread>

#include "net/daemon.h"

namespace tc::net {
namespace {

using Clock = std::chrono::steady_clock;

struct KeyPair {
    CurveKey pub{};
    CurveKey sec{};
};

KeyPair NewKeys() {
    char pub_z85[41];
    char sec_z85[41];
    EXPECT_EQ(zmq_curve_keypair(pub_z85, sec_z85), 0);
    KeyPair k;
    EXPECT_NE(zmq_z85_decode(k.pub.data(), pub_z85), nullptr);
    EXPECT_NE(zmq_z85_decode(k.sec.data(), sec_z85), nullptr);
    return k;
}

// Waits until pred() or 5 s have passed; returns pred().
template <typename Pred>
bool WaitFor(Pred pred) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!pred() && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

class ZapTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto zap = ZapHandler::Start(m_context, "tc-test");
        ASSERT_TRUE(zap.ok()) << zap.error().message;
        m_zap = std::move(*zap);
        m_server_keys = NewKeys();
    }

    // A CURVE ROUTER of domain `domain` on a free TCP port; its endpoint.
    std::string Serve(zmq::socket_t& server, const std::string& domain) {
        server.set(zmq::sockopt::linger, 0);
        MakeCurveServer(server, m_server_keys.sec, domain);
        server.bind("tcp://127.0.0.1:*");
        return server.get(zmq::sockopt::last_endpoint);
    }

    // A client with `keys` that sends "hello" to `endpoint`.
    void Send(zmq::socket_t& client, const KeyPair& keys, const std::string& endpoint) {
        client.set(zmq::sockopt::linger, 0);
        MakeCurveClient(client, keys.pub, keys.sec, m_server_keys.pub);
        client.connect(endpoint);
        client.send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
    }

    zmq::context_t m_context;
    std::unique_ptr<ZapHandler> m_zap;
    KeyPair m_server_keys;
};

TEST_F(ZapTest, AnAdmittedKeyConnectsAndIsNamed) {
    const KeyPair alice = NewKeys();
    m_zap->SetAdmitted({{alice.pub, "masternode-3"}});
    zmq::socket_t server(m_context, zmq::socket_type::router);
    const std::string endpoint = Serve(server, "tc-test");
    zmq::socket_t client(m_context, zmq::socket_type::dealer);
    Send(client, alice, endpoint);

    zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
    ASSERT_EQ(Poll(&item, 1, std::chrono::seconds(5)), 1);
    zmq::message_t identity;
    zmq::message_t body;
    ASSERT_TRUE(server.recv(identity));
    ASSERT_TRUE(server.recv(body));
    EXPECT_EQ(body.to_string(), "hello");
    EXPECT_STREQ(body.gets("User-Id"), "masternode-3");
    EXPECT_EQ(m_zap->admitted(), 1u);
    EXPECT_EQ(m_zap->refused(), 0u);
}

TEST_F(ZapTest, AKeyOutsideTheSetIsRefused) {
    const KeyPair alice = NewKeys();
    const KeyPair mallory = NewKeys();
    m_zap->SetAdmitted({{alice.pub, "masternode-0"}});
    zmq::socket_t server(m_context, zmq::socket_type::router);
    const std::string endpoint = Serve(server, "tc-test");
    zmq::socket_t client(m_context, zmq::socket_type::dealer);
    Send(client, mallory, endpoint);

    ASSERT_TRUE(WaitFor([&] { return m_zap->refused() >= 1; }));
    EXPECT_EQ(m_zap->admitted(), 0u);
    // The handshake failed: nothing of mallory's reaches the server.
    zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(Poll(&item, 1, std::chrono::milliseconds(200)), 0);

    // Admitted later (the registry changed), a new connection gets through.
    m_zap->SetAdmitted({{alice.pub, "masternode-0"}, {mallory.pub, "masternode-1"}});
    zmq::socket_t again(m_context, zmq::socket_type::dealer);
    Send(again, mallory, endpoint);
    ASSERT_EQ(Poll(&item, 1, std::chrono::seconds(5)), 1);
}

TEST_F(ZapTest, AServerOfAnotherDomainAdmitsNoOne) {
    const KeyPair alice = NewKeys();
    m_zap->SetAdmitted({{alice.pub, "masternode-0"}});
    zmq::socket_t server(m_context, zmq::socket_type::router);
    const std::string endpoint = Serve(server, "someone-else");
    zmq::socket_t client(m_context, zmq::socket_type::dealer);
    Send(client, alice, endpoint);
    ASSERT_TRUE(WaitFor([&] { return m_zap->refused() >= 1; }));
    zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(Poll(&item, 1, std::chrono::milliseconds(200)), 0);
}

// Why the handler must be started before any CURVE server binds: libzmq 4.3
// (without the draft ZMQ_ZAP_ENFORCE_DOMAIN) lets a CURVE server of a
// context with no ZAP handler admit any client key. If this ever fails,
// libzmq has started to enforce it and the caveat in net/zap.h can go.
TEST(ZapCaveat, WithoutAHandlerACurveServerAdmitsAnyKey) {
    zmq::context_t context;
    const KeyPair server_keys = NewKeys();
    const KeyPair stranger = NewKeys();
    zmq::socket_t server(context, zmq::socket_type::router);
    server.set(zmq::sockopt::linger, 0);
    MakeCurveServer(server, server_keys.sec, "tc-test");
    server.bind("tcp://127.0.0.1:*");
    zmq::socket_t client(context, zmq::socket_type::dealer);
    client.set(zmq::sockopt::linger, 0);
    MakeCurveClient(client, stranger.pub, stranger.sec, server_keys.pub);
    client.connect(server.get(zmq::sockopt::last_endpoint));
    client.send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
    zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(Poll(&item, 1, std::chrono::seconds(5)), 1);
}

TEST_F(ZapTest, OneHandlerPerContext) {
    auto second = ZapHandler::Start(m_context, "tc-test");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, util::Errc::kIo);
    EXPECT_NE(second.error().message.find("inproc://zeromq.zap.01"), std::string::npos);
}

}  // namespace
}  // namespace tc::net
