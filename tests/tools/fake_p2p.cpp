// tc-fake-p2p: a test-only stand-in for tc-p2p that links the tc-pbft run
// daemons of several datadirs on one host, for tests/bats/pbft_p2p.bats. It
// binds in every DATADIR/run/ the three sockets tc-p2p binds there and
// relays without any network:
//
//   p2p-send.sock    PULL  ["pbft", nil, bytes] -> "in.pbft" [key, bytes] to
//                          every other datadir; ["pbft", key, bytes] -> to the
//                          datadir of that key; ["misbehaved", key, reason]
//                          -> printed
//   p2p-events.sock  XPUB  what the others sent, labelled with their key
//   p2p.sock         ROUTER ping -> "pong"; peers -> the other datadirs'
//                          keys as tc-p2p's peers (connected unless --down)
//
// One line on stdout per message taken (flushed):
//   pbft FROM TO KIND HEIGHT VIEW       FROM, TO: datadir index, TO "all"
//   misbehaved FROM KEYHEX REASON
//
//   tc-fake-p2p --node DATADIR=KEYHEX... [--down KEYHEX]...
//               [--garbage-to I --garbage-from KEYHEX]
//               [--equivocate-to I --equivocate-key KEYFILE]
//
// --garbage-to sends datadir I an undecodable "in.pbft" message from
// KEYHEX every 200 ms until I reports that key misbehaved.
// --equivocate-to sends datadir I, every 200 ms, two PREPAREs signed by the
// masternode key in KEYFILE for the height after I's tip, view 0, with
// different digests: equivocation evidence against that masternode. SIGTERM
// or SIGINT stops it (exit 0).
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <msgpack.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "crypto/keyfile.h"
#include "ledger/ledger.h"
#include "net/daemon.h"
#include "net/envelope.h"
#include "net/rpc.h"
#include "net/signals.h"
#include "util/bytes.h"
#include "util/config.h"
#include "wire/codec.h"
#include "wire/pbft.h"

namespace {

using namespace tc;
using Type = msgpack::type::object_type;
using Clock = std::chrono::steady_clock;

struct Node {
    std::string datadir;
    util::ByteArray<32> key{};
    std::string hex;
    std::unique_ptr<zmq::socket_t> pull, xpub, router;
};

void Relay(Node& to, const Node& from, util::ByteView bytes) {
    msgpack::sbuffer buf;
    net::Packer p(buf);
    p.pack_array(2);
    net::PackBin(p, from.key);
    net::PackBin(p, bytes);
    to.xpub->send(zmq::str_buffer("in.pbft"), zmq::send_flags::sndmore);
    to.xpub->send(zmq::buffer(buf.data(), buf.size()), zmq::send_flags::dontwait);
}

// Two PREPAREs by `key` for (the height after datadir's tip, view 0) with
// different digests, encoded.
util::Result<std::pair<util::Bytes, util::Bytes>> Equivocation(const std::string& datadir,
                                                               const crypto::SecretKey& key) {
    TC_TRY(ledger, ledger::Ledger::OpenReadOnly(util::LedgerDir(datadir)));
    TC_TRY(status, ledger->GetStatus());
    const uint64_t height = status.height + 1;
    TC_TRY(set, ledger->GetMasternodes(height));
    std::optional<uint32_t> replica;
    for (size_t i = 0; i < set.size(); ++i) {
        if (set[i].key == key.public_key()) replica = static_cast<uint32_t>(i);
    }
    if (!replica) return util::MakeError(util::Errc::kNotFound, "the key is no masternode");
    const crypto::Hash256 chain_id = wire::ChainId(ledger->genesis());
    auto vote = [&](std::string_view digest_of) {
        return wire::Encode(wire::PbftMessage{
            wire::SignedVote(chain_id, key, wire::VotePhase::kPrepare, height, 0,
                             crypto::Blake2b256(util::AsBytes(digest_of)), *replica)});
    };
    return std::make_pair(vote("equivocation a"), vote("equivocation b"));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tc-fake-p2p"};
    std::vector<std::string> specs, down;
    int garbage_to = -1;
    std::string garbage_from;
    app.add_option("--node", specs, "DATADIR=KEYHEX (repeat)")->required();
    app.add_option("--down", down, "KEYHEX shown as not connected (repeat)");
    app.add_option("--garbage-to", garbage_to);
    app.add_option("--garbage-from", garbage_from);
    int equivocate_to = -1;
    std::string equivocate_key;
    app.add_option("--equivocate-to", equivocate_to);
    app.add_option("--equivocate-key", equivocate_key);
    CLI11_PARSE(app, argc, argv);

    net::SignalFd signals;
    zmq::context_t context;
    std::vector<Node> nodes;
    try {
        for (const auto& spec : specs) {
            auto eq = spec.rfind('=');
            auto key = eq == std::string::npos ? util::Result<util::ByteArray<32>>(util::MakeError(
                                                     util::Errc::kUsage, "DATADIR=KEYHEX"))
                                               : util::FromHexFixed<32>(spec.substr(eq + 1));
            if (!key) {
                std::cerr << "tc-fake-p2p: " << spec << ": expected DATADIR=KEYHEX\n";
                return 2;
            }
            Node n;
            n.datadir = spec.substr(0, eq);
            n.key = *key;
            n.hex = util::ToHex(*key);
            n.pull = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pull);
            n.xpub = std::make_unique<zmq::socket_t>(context, zmq::socket_type::xpub);
            n.router = std::make_unique<zmq::socket_t>(context, zmq::socket_type::router);
            for (auto* s : {n.pull.get(), n.xpub.get(), n.router.get()}) {
                s->set(zmq::sockopt::linger, 0);
            }
            if (!net::MakeRunDir(n.datadir)) return 1;
            n.pull->bind(util::RunEndpoint(n.datadir, "p2p-send"));
            n.xpub->bind(util::RunEndpoint(n.datadir, "p2p-events"));
            n.router->bind(util::RunEndpoint(n.datadir, "p2p"));
            nodes.push_back(std::move(n));
        }
    } catch (const zmq::error_t& e) {
        std::cerr << "tc-fake-p2p: bind: " << e.what() << "\n";
        return 1;
    }
    std::optional<util::ByteArray<32>> garbage_key;
    if (garbage_to >= 0) {
        auto k = util::FromHexFixed<32>(garbage_from);
        if (!k || garbage_to >= static_cast<int>(nodes.size())) {
            std::cerr << "tc-fake-p2p: bad --garbage-to/--garbage-from\n";
            return 2;
        }
        garbage_key = *k;
    }
    const std::set<std::string> down_keys(down.begin(), down.end());
    // The equivocating masternode and its two votes.
    std::optional<std::pair<util::Bytes, util::Bytes>> votes;
    Node equivocator;
    if (equivocate_to >= 0) {
        auto key = crypto::ReadKeyFileWithPassphrase(equivocate_key, "");
        if (!key || equivocate_to >= static_cast<int>(nodes.size())) {
            std::cerr << "tc-fake-p2p: bad --equivocate-to/--equivocate-key\n";
            return 2;
        }
        auto pair = Equivocation(nodes[equivocate_to].datadir, *key);
        if (!pair) {
            std::cerr << "tc-fake-p2p: equivocation: " << pair.error().message << "\n";
            return 1;
        }
        votes = *pair;
        const crypto::PublicKey pk = key->public_key();
        std::copy(pk.begin(), pk.end(), equivocator.key.begin());
    }

    auto peers_of = [&](size_t self) {
        net::Dispatcher d;
        d.Add("ping", [](uint64_t id, const msgpack::object_array&) {
            return net::EncodeResult(id, [](net::Packer& p) { net::PackStr(p, "pong"); });
        });
        d.Add("peers", [&nodes, &down_keys, self](uint64_t id, const msgpack::object_array&) {
            return net::EncodeResult(id, [&](net::Packer& p) {
                p.pack_array(static_cast<uint32_t>(nodes.size() - 1));
                for (size_t j = 0; j < nodes.size(); ++j) {
                    if (j == self) continue;
                    const bool up = down_keys.count(nodes[j].hex) == 0;
                    p.pack_map(4);
                    net::PackStr(p, "key");
                    net::PackStr(p, nodes[j].hex);
                    net::PackStr(p, "masternode");
                    p.pack_true();
                    net::PackStr(p, "connected");
                    up ? p.pack_true() : p.pack_false();
                    net::PackStr(p, "banned_s");
                    p.pack_uint64(0);
                }
            });
        });
        return d;
    };
    std::vector<net::Dispatcher> dispatchers;
    for (size_t i = 0; i < nodes.size(); ++i) dispatchers.push_back(peers_of(i));

    bool garbage_done = false;
    auto next_garbage = Clock::now();
    auto next_equivocation = Clock::now();
    const Node garbage_sender{"", garbage_key.value_or(util::ByteArray<32>{}), "", {}, {}, {}};
    std::vector<zmq::pollitem_t> items;
    for (auto& n : nodes) {
        items.push_back({n.pull->handle(), 0, ZMQ_POLLIN, 0});
        items.push_back({n.xpub->handle(), 0, ZMQ_POLLIN, 0});
        items.push_back({n.router->handle(), 0, ZMQ_POLLIN, 0});
    }
    items.push_back({nullptr, signals.fd(), ZMQ_POLLIN, 0});
    for (;;) {
        net::Poll(items.data(), items.size(), std::chrono::milliseconds(100));
        if ((items.back().revents & ZMQ_POLLIN) && signals.Read() != 0) break;
        if (garbage_key && !garbage_done && Clock::now() >= next_garbage) {
            const util::Bytes junk = {0xc1, 0xff, 0x00};
            Relay(nodes[garbage_to], garbage_sender, junk);
            next_garbage = Clock::now() + std::chrono::milliseconds(200);
        }
        if (votes && Clock::now() >= next_equivocation) {
            Relay(nodes[equivocate_to], equivocator, votes->first);
            Relay(nodes[equivocate_to], equivocator, votes->second);
            next_equivocation = Clock::now() + std::chrono::milliseconds(200);
        }
        for (size_t i = 0; i < nodes.size(); ++i) {
            Node& n = nodes[i];
            if (items[3 * i + 1].revents & ZMQ_POLLIN) {
                zmq::message_t sub;
                while (n.xpub->recv(sub, zmq::recv_flags::dontwait)) {
                }
            }
            if (items[3 * i + 2].revents & ZMQ_POLLIN) {
                (void)net::ServeRequest(
                    *n.router, [&](util::ByteView body) { return dispatchers[i].Handle(body); });
            }
            if (!(items[3 * i].revents & ZMQ_POLLIN)) continue;
            zmq::message_t msg;
            while (n.pull->recv(msg, zmq::recv_flags::dontwait)) {
                auto handle = msgpack::unpack(msg.data<char>(), msg.size());
                const msgpack::object& o = handle.get();
                if (o.type != Type::ARRAY || o.via.array.size != 3 ||
                    o.via.array.ptr[0].type != Type::STR) {
                    std::cout << "unreadable " << i << std::endl;
                    continue;
                }
                const auto* a = o.via.array.ptr;
                const std::string kind(net::StrView(a[0]));
                if (kind == "misbehaved") {
                    const std::string hex = util::ToHex(net::BinView(a[1]));
                    std::cout << "misbehaved " << i << " " << hex << " " << net::StrView(a[2])
                              << std::endl;
                    if (garbage_key && hex == util::ToHex(*garbage_key)) garbage_done = true;
                    continue;
                }
                if (kind != "pbft" || a[2].type != Type::BIN) {
                    std::cout << "unreadable " << i << std::endl;
                    continue;
                }
                const util::ByteView bytes = net::BinView(a[2]);
                auto decoded = wire::DecodePbftMessage(bytes);
                std::string what = "undecodable 0 0";
                if (decoded) {
                    what = std::string(wire::MessageKindName(*decoded)) + " " +
                           std::to_string(wire::MessageHeight(*decoded)) + " " +
                           std::to_string(wire::MessageView(*decoded));
                }
                if (a[1].type == Type::NIL) {
                    std::cout << "pbft " << i << " all " << what << std::endl;
                    for (size_t j = 0; j < nodes.size(); ++j) {
                        if (j != i) Relay(nodes[j], n, bytes);
                    }
                } else {
                    const std::string to = util::ToHex(net::BinView(a[1]));
                    for (size_t j = 0; j < nodes.size(); ++j) {
                        if (nodes[j].hex != to) continue;
                        std::cout << "pbft " << i << " " << j << " " << what << std::endl;
                        Relay(nodes[j], n, bytes);
                    }
                }
            }
        }
    }
    return 0;
}
