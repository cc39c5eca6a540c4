// tc-peerprobe: a test-only raw peer for tc-p2p. It opens one CURVE DEALER
// with a node key to a tc-p2p server and sends frames given in hex, exactly
// as given (malformed ones included), then prints one line per frame it
// receives within --wait-ms: the kind, or "undecodable".
//
//   tc-peerprobe --key KEYFILE --server PUBKEY_HEX --connect HOST:PORT
//                [--send HEX]... [--tip HEIGHT] [--count N] [--wait-ms MS]
//
// --tip HEIGHT sends a valid tip frame; --count repeats everything sent.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <zmq.hpp>

#include "crypto/keyfile.h"
#include "crypto/keys.h"
#include "net/daemon.h"
#include "net/zap.h"
#include "p2p_wire.h"
#include "util/bytes.h"

int main(int argc, char** argv) {
    using namespace tc;
    if (!crypto::InitSodium().ok()) return 1;
    CLI::App app{"tc-peerprobe"};
    std::string key_file, server, connect;
    std::vector<std::string> sends;
    uint64_t count = 1, wait_ms = 500;
    int64_t tip = -1;
    app.add_option("--key", key_file)->required();
    app.add_option("--server", server)->required();
    app.add_option("--connect", connect)->required();
    app.add_option("--send", sends);
    app.add_option("--tip", tip);
    app.add_option("--count", count);
    app.add_option("--wait-ms", wait_ms);
    CLI11_PARSE(app, argc, argv);
    auto key = crypto::ReadKeyFile(key_file, nullptr);
    auto server_key = util::FromHexFixed<32>(server);
    if (!key || !server_key) {
        std::cerr << "tc-peerprobe: bad --key or --server\n";
        return 2;
    }
    auto our_curve = crypto::ToCurvePublic(key->public_key());
    auto server_curve = crypto::ToCurvePublic(*server_key);
    if (!our_curve || !server_curve) return 2;
    std::vector<util::Bytes> frames;
    for (const auto& hex : sends) {
        auto b = util::FromHex(hex);
        if (!b) return 2;
        frames.push_back(*b);
    }
    if (tip >= 0) frames.push_back(p2p::EncodeFrame(p2p::Tip{uint64_t(tip), {}}, SIZE_MAX));
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 1000);
    socket.set(zmq::sockopt::sndhwm, 0);
    net::MakeCurveClient(socket, *our_curve, key->CurveSecret().view(), *server_curve);
    socket.connect("tcp://" + connect);
    for (uint64_t i = 0; i < count; ++i) {
        for (const auto& f : frames) socket.send(zmq::buffer(f), zmq::send_flags::none);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (true) {
        zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
        if (net::Poll(&item, 1, net::TimeLeft(deadline)) == 0) break;
        zmq::message_t msg;
        if (!socket.recv(msg, zmq::recv_flags::dontwait)) continue;
        auto decoded =
            p2p::DecodeFrame({static_cast<const uint8_t*>(msg.data()), msg.size()}, 64u << 20);
        std::cout << (decoded ? p2p::KindName(*decoded) : "undecodable") << "\n";
    }
    return 0;
}
