#include "p2p_node.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "crypto/keyfile.h"
#include "crypto/keys.h"
#include "ledger/ledger.h"
#include "net/daemon.h"
#include "net/envelope.h"
#include "net/metrics.h"
#include "net/rpc.h"
#include "net/signals.h"
#include "net/watch.h"
#include "net/zap.h"
#include "p2p_bans.h"
#include "p2p_limits.h"
#include "p2p_wire.h"
#include "util/bytes.h"
#include "util/config.h"
#include "util/log.h"
#include "wire/codec.h"

namespace tc::p2p {

using net::Packer;
using util::Errc;
using util::MakeError;

namespace {

using Type = msgpack::type::object_type;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kEventTopic = "p2p";
constexpr std::string_view kPbftTopic = "in.pbft";
constexpr const char* kZapDomain = "timecoin";
constexpr uint64_t kApplyBatch = 256;  // tc-store's default --max-batch
constexpr uint64_t kGossipDelayMs = 5;

uint64_t NowMs() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count());
}

// Unix milliseconds, for bans that outlive the process (p2p_bans.h).
uint64_t WallMs() {
    return static_cast<uint64_t>(std::chrono::duration_cast<milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

constexpr size_t kMaxSavedBans = 4096;

struct Metrics {
    std::atomic<uint64_t> height{0};
    std::atomic<uint64_t> connected{0};
    std::atomic<uint64_t> banned{0};
    std::atomic<uint64_t> bans{0};
    std::atomic<uint64_t> refused{0};
    std::atomic<uint64_t> msgs_in{0};
    std::atomic<uint64_t> msgs_out{0};
    std::atomic<uint64_t> dropped_out{0};
    std::atomic<uint64_t> synced_blocks{0};
    std::atomic<uint64_t> gossiped_txs{0};
};

std::string RenderMetrics(const Metrics& m) {
    auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    net::Exposition out;
    out.Gauge("tc_p2p_height", "Our ledger's tip.", load(m.height))
        .Gauge("tc_p2p_peers_connected", "Peers heard from lately.", load(m.connected))
        .Gauge("tc_p2p_peers_banned", "Peers banned now.", load(m.banned))
        .Counter("tc_p2p_bans_total", "Bans given.", load(m.bans))
        .Counter("tc_p2p_zap_refused_total", "Handshakes refused (key not admitted).",
                 load(m.refused))
        .Counter("tc_p2p_messages_in_total", "Messages received from peers.", load(m.msgs_in))
        .Counter("tc_p2p_messages_out_total", "Messages sent to peers.", load(m.msgs_out))
        .Counter("tc_p2p_messages_dropped_total",
                 "Messages to peers dropped (no link, or its queue full).", load(m.dropped_out))
        .Counter("tc_p2p_synced_blocks_total", "Blocks applied by sync.", load(m.synced_blocks))
        .Counter("tc_p2p_gossiped_txs_total", "Transactions sent to peers.", load(m.gossiped_txs));
    return out.str();
}

struct SyncRequest {
    uint64_t id = 0;
    uint64_t from = 0;
    uint64_t count = 0;
    uint64_t deadline_ms = 0;
};

struct Peer {
    crypto::PublicKey key{};
    std::string hex;
    std::optional<std::string> endpoint;  // where its server listens
    bool masternode = false;              // in the set (now or at the activation height)
    bool configured = false;              // a --peer or --observer
    bool wanted = true;                   // admitted by the last Refresh
    std::unique_ptr<zmq::socket_t> out;   // our DEALER to it
    std::string out_endpoint;
    uint64_t out_since_ms = 0;  // when our DEALER was made
    uint64_t out_heard_ms = 0;  // the last message on it (answers to our tips at least)
    uint64_t in_heard_ms = 0;   // the last message on our server
    std::string routing_id;     // its DEALER's id on our ROUTER, once it spoke
    int last_fd = -1;           // the connection its last inbound message came over
    uint64_t height = 0;        // its announced tip
    wire::Hash hash{};
    double score = 0;
    uint64_t score_ms = 0;
    uint64_t banned_until_ms = 0;
    TokenBucket msgs;
    TokenBucket bytes;
    uint64_t msgs_in = 0;
    uint64_t msgs_out = 0;
    uint64_t last_seen_ms = 0;
    bool connected = false;
    std::optional<SyncRequest> sync;
    uint64_t sync_rest_until_ms = 0;  // not asked again before (it timed out)

    Peer(double msgs_rate, double bytes_rate)
        : msgs(msgs_rate, msgs_rate * 2), bytes(bytes_rate, bytes_rate * 2) {}
    bool banned(uint64_t now) const { return banned_until_ms > now; }
};

struct Fetched {
    util::Bytes block;
    util::Bytes cert;
    crypto::PublicKey from{};
};

class Node {
  public:
    Node(const Options& opts, zmq::context_t& context, const ledger::Ledger& view,
         const crypto::SecretKey& key, Metrics& metrics)
        : m_opts(opts),
          m_context(context),
          m_view(view),
          m_key(key),
          m_metrics(metrics),
          m_pool(context, util::RunEndpoint(opts.common.datadir, "pool"),
                 milliseconds(opts.stage_timeout_ms)),
          m_store(context, util::RunEndpoint(opts.common.datadir, "store"),
                  milliseconds(opts.stage_timeout_ms)),
          m_seen(opts.max_seen_txs) {
        m_hex = util::ToHex(key.public_key());
        m_dispatcher.Add("ping", [](uint64_t id, const msgpack::object_array&) {
            return net::EncodeResult(id, [](Packer& p) { net::PackStr(p, "pong"); });
        });
        m_dispatcher.Add("status",
                         [this](uint64_t id, const msgpack::object_array&) { return Status(id); });
        m_dispatcher.Add("peers",
                         [this](uint64_t id, const msgpack::object_array&) { return Peers(id); });
        m_dispatcher.Add("ban", [this](uint64_t id, const msgpack::object_array& params) {
            return BanRequest(id, params);
        });
    }

    // The ZAP handler, the admitted keys, the server socket and the links.
    util::Status Start() {
        TC_TRY(curve_public, crypto::ToCurvePublic(m_key.public_key()));
        m_curve_public = curve_public;
        m_curve_secret = m_key.CurveSecret();
        // Before any peer is made: Ensure gives a peer its saved ban.
        if (auto loaded = m_saved_bans.Load(WallMs()); !loaded) {
            log::Warn("bans: {}", loaded.error().message);
        } else if (m_saved_bans.size() > 0) {
            log::Info("{} bans from before the restart ({})", m_saved_bans.size(),
                      m_saved_bans.path());
        }
        for (const auto& spec : m_opts.peers) TC_CHECK(AddConfiguredPeer(spec));
        for (const auto& hex : m_opts.observers) TC_CHECK(AddObserver(hex));
        TC_TRY(zap, net::ZapHandler::Start(m_context, kZapDomain));
        m_zap = std::move(zap);
        TC_CHECK(Refresh());
        TC_CHECK(Listen());
        log::Info("{} {} with {} peers, listening on {}", m_is_member ? "masternode" : "observer",
                  m_hex.substr(0, 16), m_peers.size(), m_listen.empty() ? "(none)" : m_listen);
        m_started = true;
        SendTips();
        return {};
    }

    // Binds the CURVE server on --listen, else on our endpoint in the
    // registry, once we know it: a masternode registered after the chain we
    // hold when we start (it syncs first) begins to listen when its own
    // registration reaches its ledger. Nothing to do before that, or after.
    util::Status Listen() {
        if (m_router) return {};
        const std::string listen = m_opts.listen.empty() ? m_own_endpoint : m_opts.listen;
        if (listen.empty()) return {};
        auto router = std::make_unique<zmq::socket_t>(m_context, zmq::socket_type::router);
        try {
            router->set(zmq::sockopt::linger, 0);
            router->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(m_opts.max_message_bytes));
            router->set(zmq::sockopt::sndhwm, static_cast<int>(m_opts.max_peer_queue));
            router->set(zmq::sockopt::rcvhwm, static_cast<int>(m_opts.max_peer_queue));
            net::MakeCurveServer(*router, m_curve_secret.view(), kZapDomain);
            router->bind("tcp://" + listen);
            const std::string monitor = "inproc://p2p-monitor";
            if (zmq_socket_monitor(router->handle(), monitor.c_str(),
                                   ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
                return MakeError(Errc::kIo, "monitor: " + std::string(zmq_strerror(errno)));
            }
            m_monitor = std::make_unique<zmq::socket_t>(m_context, zmq::socket_type::pair);
            m_monitor->set(zmq::sockopt::linger, 0);
            m_monitor->connect(monitor);
        } catch (const zmq::error_t& e) {
            return MakeError(Errc::kIo, "listen on tcp://" + listen + ": " + e.what());
        }
        m_router = std::move(router);
        m_listen = listen;
        if (m_started) log::Info("listening on {}", m_listen);
        return {};
    }

    msgpack::sbuffer Handle(util::ByteView body) { return m_dispatcher.Handle(body); }

    std::vector<std::vector<zmq::message_t>> TakeEvents() { return std::exchange(m_events, {}); }

    // The sockets of the loop that are ours: the server, its monitor and
    // every DEALER. Handles, not pointers: what a message does (a ban, a
    // registry change) may close or replace any of them.
    std::vector<void*> Sockets() const {
        std::vector<void*> out;
        if (m_router) out.push_back(m_router->handle());
        if (m_monitor) out.push_back(m_monitor->handle());
        for (const auto& [key, peer] : m_peers) {
            if (peer.out) out.push_back(peer.out->handle());
        }
        return out;
    }

    // Reads what waits on the socket with this handle, if it is still ours.
    void OnReadable(void* handle) {
        std::vector<zmq::message_t> parts;
        for (int budget = 256; budget > 0; --budget) {
            zmq::socket_t* socket = nullptr;
            Peer* peer = nullptr;
            if (m_router && m_router->handle() == handle) {
                socket = m_router.get();
            } else if (m_monitor && m_monitor->handle() == handle) {
                socket = m_monitor.get();
            } else {
                for (auto& [key, p] : m_peers) {
                    if (p.out && p.out->handle() == handle) {
                        socket = p.out.get();
                        peer = &p;
                    }
                }
            }
            if (socket == nullptr) return;
            parts.clear();
            try {
                if (!zmq::recv_multipart(*socket, std::back_inserter(parts),
                                         zmq::recv_flags::dontwait)) {
                    return;
                }
            } catch (const zmq::error_t& e) {
                log::Warn("receive: {}", e.what());
                return;
            }
            if (socket == m_monitor.get()) {
                OnMonitor(parts);
            } else if (peer != nullptr) {
                peer->out_heard_ms = NowMs();
                if (parts.size() == 1) OnFrame(*peer, parts[0], "");
            } else {
                OnServer(parts);
            }
        }
    }

    // ["pbft", to, bytes] and ["misbehaved", key, reason] from local stages.
    void OnLocal(const zmq::message_t& msg) {
        try {
            auto handle = msgpack::unpack(static_cast<const char*>(msg.data()), msg.size());
            const msgpack::object& o = handle.get();
            if (o.type != Type::ARRAY || o.via.array.size != 3 ||
                o.via.array.ptr[0].type != Type::STR) {
                log::Warn("p2p-send: not [kind, ...]: dropped");
                return;
            }
            const auto* a = o.via.array.ptr;
            const std::string_view kind = net::StrView(a[0]);
            if (kind == "pbft" && a[2].type == Type::BIN) {
                util::ByteView bytes = net::BinView(a[2]);
                util::Bytes frame =
                    EncodeFrame(PbftBytes{{bytes.begin(), bytes.end()}}, m_opts.compress_above);
                if (a[1].type == Type::NIL) {
                    for (auto& [k, peer] : m_peers) {
                        if (peer.masternode) Send(peer, frame);
                    }
                } else if (auto* peer = PeerOf(a[1])) {
                    Send(*peer, frame);
                }
                return;
            }
            if (kind == "misbehaved" && a[2].type == Type::STR) {
                if (auto* peer = PeerOf(a[1])) Ban(*peer, std::string(net::StrView(a[2])), {});
                return;
            }
            log::Warn("p2p-send: unknown message \"{}\": dropped", kind);
        } catch (const std::exception& e) {
            log::Warn("p2p-send: not msgpack: {}", e.what());
        }
    }

    // A pool event: an accepted transaction goes to the other masternodes.
    void OnPoolEvent(const std::vector<zmq::message_t>& parts) {
        if (parts.size() != 2 || parts[0].to_string_view() != "tx") return;
        try {
            auto handle =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            const msgpack::object& o = handle.get();
            if (o.type != Type::ARRAY || o.via.array.size != 4 ||
                o.via.array.ptr[1].type != Type::STR ||
                net::StrView(o.via.array.ptr[1]) != "accepted" ||
                o.via.array.ptr[2].type != Type::BIN || o.via.array.ptr[2].via.bin.size != 32) {
                return;
            }
            wire::Hash txid;
            std::copy_n(net::BinView(o.via.array.ptr[2]).begin(), 32, txid.begin());
            if (!m_seen.Insert(txid)) return;  // came from a peer, or sent already
            if (m_gossip.empty()) m_gossip_at_ms = NowMs() + kGossipDelayMs;
            m_gossip.push_back(txid);
        } catch (const std::exception&) {
        }
    }

    // A store event: a new tip.
    void OnStoreEvent(const std::vector<zmq::message_t>& parts) {
        if (parts.size() != 2 || parts[0].to_string_view() != "block") return;
        m_tip_dirty = true;
    }

    void Tick() {
        const uint64_t now = NowMs();
        if (m_tip_dirty) {
            m_tip_dirty = false;
            const uint64_t before = m_tip.height;
            if (auto refreshed = Refresh(); !refreshed) {
                log::Warn("ledger: {}", refreshed.error().message);
            }
            if (m_tip.height != before) SendTips();
            if (auto listening = Listen(); !listening) {
                log::Warn("{} (again at the next block)", listening.error().message);
            }
        }
        for (auto& [k, peer] : m_peers) {
            if (peer.sync && peer.sync->deadline_ms <= now) {
                log::Info("peer {}: no blocks within {} ms: asking others", Short(peer),
                          m_opts.sync_timeout_ms);
                peer.sync.reset();
                peer.sync_rest_until_ms = now + m_opts.sync_timeout_ms;
                Penalize(peer, 5, "sync request timed out");
            }
            if (peer.banned_until_ms != 0 && peer.banned_until_ms <= now) {
                peer.banned_until_ms = 0;
                peer.score = 0;
                SaveBan(peer, 0, "");
                Emit("unbanned", peer.hex, "");
                log::Info("peer {}: ban over", Short(peer));
                m_admitted_dirty = true;
            }
            const bool live =
                peer.last_seen_ms != 0 && now - peer.last_seen_ms <= LiveMs() && !peer.banned(now);
            if (peer.connected && !live) {
                peer.connected = false;
                Emit("disconnected", peer.hex, "");
                log::Info("peer {}: not heard from in {} ms", Short(peer), LiveMs());
            }
        }
        Relink(now);
        if (m_admitted_dirty) {
            m_admitted_dirty = false;
            UpdateLinks();
        }
        if (now >= m_next_tip_ms) SendTips();
        if (!m_gossip.empty() &&
            (now >= m_gossip_at_ms || m_gossip.size() >= m_opts.gossip_batch)) {
            FlushGossip();
        }
        if (!m_fetched.empty() && now >= m_store_retry_ms) ApplyFetched();
        MaybeSync();
        uint64_t connected = 0, banned = 0;
        for (const auto& [k, peer] : m_peers) {
            connected += peer.connected;
            banned += peer.banned(now);
        }
        m_metrics.connected.store(connected, std::memory_order_relaxed);
        m_metrics.banned.store(banned, std::memory_order_relaxed);
        m_metrics.refused.store(m_zap ? m_zap->refused() : 0, std::memory_order_relaxed);
        m_metrics.height.store(m_tip.height, std::memory_order_relaxed);
    }

    milliseconds Timeout() const {
        if (!m_gossip.empty()) return milliseconds(kGossipDelayMs);
        return milliseconds(50);
    }

  private:
    // A DEALER that has heard nothing for RelinkMs() is closed and made
    // again. Our tips are answered, so only a dead link stays silent that
    // long; and libzmq never retries a connection whose handshake the peer
    // refused (its ZAP handler did not know us yet, or had banned us), so
    // without this such a link would stay dead until a restart.
    uint64_t RelinkMs() const { return 2 * LiveMs(); }
    void Relink(uint64_t now) {
        for (auto& [k, peer] : m_peers) {
            if (!peer.out) continue;
            const uint64_t last = std::max(peer.out_heard_ms, peer.out_since_ms);
            if (now - last < RelinkMs()) continue;
            log::Debug("peer {}: nothing on our link for {} ms: connecting again", Short(peer),
                       now - last);
            peer.out.reset();
            peer.out_endpoint.clear();
            m_admitted_dirty = true;
        }
    }

    uint64_t LiveMs() const { return std::max<uint64_t>(3 * m_opts.tip_interval_ms, 1000); }
    static std::string Short(const Peer& p) { return p.hex.substr(0, 16); }

    Peer& Ensure(const crypto::PublicKey& key) {
        auto it = m_peers.find(key);
        if (it == m_peers.end()) {
            it = m_peers
                     .emplace(std::piecewise_construct, std::forward_as_tuple(key),
                              std::forward_as_tuple(double(m_opts.peer_msgs_per_s),
                                                    double(m_opts.peer_bytes_per_s)))
                     .first;
            it->second.key = key;
            it->second.hex = util::ToHex(key);
            if (const uint64_t left = m_saved_bans.RemainingMs(key, WallMs()); left > 0) {
                it->second.banned_until_ms = NowMs() + left;
                log::Info("peer {}: still banned for {} s", Short(it->second), (left + 999) / 1000);
            }
        }
        return it->second;
    }

    Peer* PeerOf(const msgpack::object& o) {
        if (o.type != Type::BIN || o.via.bin.size != 32) return nullptr;
        crypto::PublicKey key;
        std::copy_n(net::BinView(o).begin(), 32, key.begin());
        auto it = m_peers.find(key);
        return it == m_peers.end() ? nullptr : &it->second;
    }

    util::Status AddConfiguredPeer(const std::string& spec) {
        const size_t comma = spec.find(',');
        if (comma == std::string::npos || comma + 1 >= spec.size()) {
            return MakeError(Errc::kUsage, "--peer " + spec + ": expected PUBKEY_HEX,HOST:PORT");
        }
        auto key = util::FromHexFixed<32>(std::string_view(spec).substr(0, comma));
        if (!key) return MakeError(Errc::kUsage, "--peer " + spec + ": " + key.error().message);
        m_configured[*key] = spec.substr(comma + 1);
        return {};
    }

    util::Status AddObserver(const std::string& hex) {
        auto key = util::FromHexFixed<32>(hex);
        if (!key) return MakeError(Errc::kUsage, "--observer " + hex + ": " + key.error().message);
        if (!crypto::ToCurvePublic(*key)) {
            return MakeError(Errc::kUsage, "--observer " + hex + ": not an Ed25519 public key");
        }
        m_configured.emplace(*key, std::nullopt);
        return {};
    }

    // Reads the tip and the registry from the ledger: who is admitted, who
    // we link to, where we listen.
    util::Status Refresh() {
        TC_TRY(status, m_view.GetStatus());
        m_tip = Tip{status.height, status.tip_hash};
        std::map<crypto::PublicKey, std::optional<std::string>> wanted;
        std::set<crypto::PublicKey> members;
        const uint64_t next = status.height + 1;
        for (uint64_t h : {next, next + m_view.genesis().activation_delay}) {
            auto set = m_view.GetMasternodes(h);
            if (!set) {
                if (h == next) return std::move(set).error();
                continue;
            }
            for (const auto& mn : *set) {
                members.insert(mn.key);
                wanted[mn.key] = mn.endpoint;
            }
        }
        m_is_member = members.count(m_key.public_key()) > 0;
        if (auto it = wanted.find(m_key.public_key()); it != wanted.end() && it->second) {
            m_own_endpoint = *it->second;
        }
        for (const auto& [key, endpoint] : m_configured) {
            if (endpoint || !wanted.count(key)) wanted[key] = endpoint;
        }
        wanted.erase(m_key.public_key());
        for (auto& [key, peer] : m_peers) peer.wanted = wanted.count(key) > 0;
        for (const auto& [key, endpoint] : wanted) {
            Peer& peer = Ensure(key);
            peer.wanted = true;
            peer.endpoint = endpoint;
            peer.masternode = members.count(key) > 0;
            peer.configured = m_configured.count(key) > 0;
        }
        // Peers gone from the registry are forgotten, unless banned.
        const uint64_t now = NowMs();
        std::erase_if(m_peers,
                      [&](const auto& kv) { return !kv.second.wanted && !kv.second.banned(now); });
        UpdateLinks();
        return {};
    }

    // DEALERs for the peers we should link to, none for the others, and the
    // ZAP handler's admitted keys.
    void UpdateLinks() {
        const uint64_t now = NowMs();
        std::map<net::CurveKey, std::string> admitted;
        uint64_t outbound = 0;
        for (auto& [key, peer] : m_peers) {
            const bool usable = peer.wanted && !peer.banned(now);
            auto curve = crypto::ToCurvePublic(key);
            if (usable && curve) admitted.emplace(*curve, peer.hex);
            const bool link = usable && curve && peer.endpoint && !peer.endpoint->empty() &&
                              outbound < m_opts.max_outbound;
            if (!link) {
                peer.out.reset();
                peer.out_endpoint.clear();
                continue;
            }
            outbound++;
            const std::string endpoint = "tcp://" + *peer.endpoint;
            if (peer.out && peer.out_endpoint == endpoint) continue;
            try {
                auto socket = std::make_unique<zmq::socket_t>(m_context, zmq::socket_type::dealer);
                socket->set(zmq::sockopt::linger, 0);
                socket->set(zmq::sockopt::immediate, 1);  // nothing queued toward a dead link
                socket->set(zmq::sockopt::sndhwm, static_cast<int>(m_opts.max_peer_queue));
                socket->set(zmq::sockopt::maxmsgsize,
                            static_cast<int64_t>(m_opts.max_message_bytes));
                socket->set(zmq::sockopt::reconnect_ivl, 100);
                socket->set(zmq::sockopt::reconnect_ivl_max, 2000);
                net::MakeCurveClient(*socket, m_curve_public, m_curve_secret.view(), *curve);
                socket->connect(endpoint);
                peer.out = std::move(socket);
                peer.out_endpoint = endpoint;
                peer.out_since_ms = now;
            } catch (const zmq::error_t& e) {
                log::Warn("peer {}: cannot link to {}: {}", Short(peer), endpoint, e.what());
                peer.out.reset();
            }
        }
        if (m_zap) m_zap->SetAdmitted(std::move(admitted));
    }

    // ---- sending --------------------------------------------------------

    // To a peer: on our link to it, else (no link, or it is down: ZeroMQ
    // queues nothing toward a link that is not up) back over its link to
    // us when it spoke on it lately.
    bool Send(Peer& peer, const util::Bytes& frame) {
        const uint64_t now = NowMs();
        if (peer.banned(now)) return false;
        bool sent = false;
        try {
            if (peer.out) {
                sent = peer.out->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value();
            }
        } catch (const zmq::error_t& e) {
            log::Debug("peer {}: send: {}", Short(peer), e.what());
        }
        if (!sent && m_router && !peer.routing_id.empty() && now - peer.in_heard_ms <= LiveMs()) {
            SendBack(peer, peer.routing_id, frame);
            return true;  // counted there
        }
        if (sent) {
            peer.msgs_out++;
            m_metrics.msgs_out.fetch_add(1, std::memory_order_relaxed);
        } else {
            m_metrics.dropped_out.fetch_add(1, std::memory_order_relaxed);
        }
        return sent;
    }

    // An answer goes back over the connection the question came in on (our
    // server, when routing_id is set), else as any message to the peer.
    void SendBack(Peer& peer, const std::string& routing_id, const util::Bytes& frame) {
        if (routing_id.empty() || !m_router || peer.banned(NowMs())) {
            Send(peer, frame);
            return;
        }
        bool sent = false;
        try {
            sent = m_router
                       ->send(zmq::buffer(routing_id),
                              zmq::send_flags::sndmore | zmq::send_flags::dontwait)
                       .has_value() &&
                   m_router->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value();
        } catch (const zmq::error_t& e) {
            log::Debug("peer {}: send back: {}", Short(peer), e.what());
        }
        if (sent) {
            peer.msgs_out++;
            m_metrics.msgs_out.fetch_add(1, std::memory_order_relaxed);
        } else {
            m_metrics.dropped_out.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void SendTips() {
        m_next_tip_ms = NowMs() + m_opts.tip_interval_ms;
        const util::Bytes frame = EncodeFrame(m_tip, SIZE_MAX);
        for (auto& [k, peer] : m_peers) Send(peer, frame);
    }

    void FlushGossip() {
        while (!m_gossip.empty()) {
            const size_t n = std::min<size_t>(m_gossip.size(), m_opts.gossip_batch);
            auto reply = m_pool.Call("get", [&](Packer& p) {
                p.pack_array(static_cast<uint32_t>(n));
                for (size_t i = 0; i < n; ++i) net::PackBin(p, m_gossip[i]);
            });
            m_gossip.erase(m_gossip.begin(), m_gossip.begin() + static_cast<long>(n));
            if (!reply || reply->type != Type::ARRAY) {
                log::Warn("pool: get: {}", reply ? "reply is not an array" : reply.error().message);
                continue;
            }
            Txs txs;
            for (const auto& o : reply->via.array) {
                if (o.type != Type::BIN) continue;  // left the pool meanwhile
                util::ByteView v = net::BinView(o);
                txs.txs.emplace_back(v.begin(), v.end());
            }
            if (txs.txs.empty()) continue;
            const util::Bytes frame = EncodeFrame(txs, m_opts.compress_above);
            for (auto& [k, peer] : m_peers) {
                if (peer.masternode && Send(peer, frame)) {
                    m_metrics.gossiped_txs.fetch_add(txs.txs.size(), std::memory_order_relaxed);
                }
            }
        }
    }

    // ---- receiving ------------------------------------------------------

    void OnServer(std::vector<zmq::message_t>& parts) {
        if (parts.size() != 2) return;
        const char* user = nullptr;
        try {
            user = parts[1].gets("User-Id");
        } catch (const zmq::error_t&) {
        }
        auto key = util::FromHexFixed<32>(user == nullptr ? "" : user);
        auto it = key ? m_peers.find(*key) : m_peers.end();
        if (it == m_peers.end()) return;  // admitted once, since dropped from the registry
        Peer& peer = it->second;
        peer.routing_id = parts[0].to_string();
        peer.last_fd = zmq_msg_get(parts[1].handle(), ZMQ_SRCFD);
        OnFrame(peer, parts[1], peer.routing_id);
    }

    void OnMonitor(const std::vector<zmq::message_t>& parts) {
        if (parts.size() != 2 || parts[0].size() != 6) return;
        uint16_t event = 0;
        uint32_t value = 0;
        std::memcpy(&event, parts[0].data(), 2);
        std::memcpy(&value, static_cast<const uint8_t*>(parts[0].data()) + 2, 4);
        const int fd = static_cast<int>(value);
        if (event == ZMQ_EVENT_ACCEPTED) {
            if (m_inbound.size() >= m_opts.max_inbound) {
                log::Warn("inbound connection from {} refused: --max-inbound {} reached",
                          parts[1].to_string(), m_opts.max_inbound);
                ::shutdown(fd, SHUT_RDWR);
                return;
            }
            m_inbound.insert(fd);
        } else if (event == ZMQ_EVENT_DISCONNECTED) {
            m_inbound.erase(fd);
        }
    }

    // One frame from `peer` (on our server when routing_id is not empty,
    // else on our DEALER to it).
    void OnFrame(Peer& peer, const zmq::message_t& msg, const std::string& routing_id) {
        const uint64_t now = NowMs();
        if (peer.banned(now)) {
            if (!routing_id.empty()) DropConnection(peer);
            return;
        }
        if (!routing_id.empty()) peer.in_heard_ms = now;
        peer.msgs_in++;
        m_metrics.msgs_in.fetch_add(1, std::memory_order_relaxed);
        peer.last_seen_ms = now;
        if (!peer.connected) {
            peer.connected = true;
            Emit("connected", peer.hex, peer.endpoint.value_or(""));
            log::Info("peer {}: connected", Short(peer));
        }
        if (!peer.msgs.Take(1, now) || !peer.bytes.Take(double(msg.size()), now)) {
            Penalize(peer, 1, "flood: beyond --peer-msgs-per-s or --peer-bytes-per-s");
            return;
        }
        util::ByteView bytes(static_cast<const uint8_t*>(msg.data()), msg.size());
        auto decoded = DecodeFrame(bytes, m_opts.max_message_bytes);
        if (!decoded) {
            Ban(peer, "malformed: " + decoded.error().message, routing_id);
            return;
        }
        std::visit(
            [&](auto& m) {
                using T = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<T, Tip>) {
                    OnTip(peer, m, routing_id);
                } else if constexpr (std::is_same_v<T, PbftBytes>) {
                    OnPbft(peer, m, routing_id);
                } else if constexpr (std::is_same_v<T, Txs>) {
                    OnTxs(peer, m, routing_id);
                } else if constexpr (std::is_same_v<T, GetBlocks>) {
                    OnGet(peer, m, routing_id);
                } else {
                    OnBlocks(peer, m, routing_id);
                }
            },
            *decoded);
    }

    void OnTip(Peer& peer, const Tip& tip, const std::string& routing_id) {
        peer.height = tip.height;
        peer.hash = tip.hash;
        // Every tip over our server is answered with ours: a peer we have no
        // link to (an observer) learns our tip this way, and every peer
        // hears on its link to us that the link works (see Relink).
        if (!routing_id.empty()) SendBack(peer, routing_id, EncodeFrame(m_tip, SIZE_MAX));
    }

    void OnPbft(Peer& peer, const PbftBytes& m, const std::string& routing_id) {
        if (auto msg = wire::DecodePbftMessage(m.bytes); !msg) {
            Ban(peer, "malformed pbft message: " + msg.error().message, routing_id);
            return;
        }
        msgpack::sbuffer buf;
        Packer p(buf);
        p.pack_array(2);
        net::PackBin(p, peer.key);
        net::PackBin(p, m.bytes);
        std::vector<zmq::message_t> event;
        event.emplace_back(kPbftTopic.data(), kPbftTopic.size());
        event.push_back(net::ToMessage(buf));
        m_events.push_back(std::move(event));
    }

    void OnTxs(Peer& peer, const Txs& m, const std::string& routing_id) {
        std::vector<const util::Bytes*> fresh;
        for (const auto& raw : m.txs) {
            auto tx = wire::DecodeTransaction(raw);
            if (!tx) {
                Ban(peer, "malformed transaction: " + tx.error().message, routing_id);
                return;
            }
            if (m_seen.Insert(wire::TxId(*tx))) fresh.push_back(&raw);
        }
        if (fresh.empty()) return;
        auto reply = m_pool.Call("submit", [&](Packer& p) {
            p.pack_array(static_cast<uint32_t>(fresh.size()));
            for (const auto* raw : fresh) net::PackBin(p, *raw);
        });
        if (!reply) {
            log::Warn("pool: submit of {} gossiped txs: {}", fresh.size(), reply.error().message);
            return;
        }
        if (reply->type != Type::ARRAY) return;
        for (const auto& o : reply->via.array) {
            if (o.type != Type::MAP) continue;
            for (const auto& kv : o.via.map) {
                if (kv.key.type != Type::STR || net::StrView(kv.key) != "reason" ||
                    kv.val.type != Type::STR) {
                    continue;
                }
                const std::string_view reason = net::StrView(kv.val);
                if (reason == "bad-signature" || reason == "malformed") {
                    Ban(peer, "sent a transaction the pool refused: " + std::string(reason),
                        routing_id);
                    return;
                }
            }
        }
    }

    void OnGet(Peer& peer, const GetBlocks& g, const std::string& routing_id) {
        Blocks out;
        out.id = g.id;
        const uint64_t budget = m_opts.max_message_bytes / 2;
        uint64_t bytes = 0;
        const uint64_t count = std::min<uint64_t>(g.count, kMaxBlocks);
        for (uint64_t h = g.from; h >= 1 && h < g.from + count && h <= m_tip.height; ++h) {
            auto block = m_view.GetBlock(h);
            auto cert = m_view.GetCertificate(h);
            if (!block || !cert) break;
            BlockAndCert bc{wire::Encode(*block), wire::Encode(*cert)};
            bytes += bc.block.size() + bc.cert.size();
            if (!out.blocks.empty() && bytes > budget) break;
            out.blocks.push_back(std::move(bc));
        }
        SendBack(peer, routing_id, EncodeFrame(out, m_opts.compress_above));
    }

    void OnBlocks(Peer& peer, const Blocks& b, const std::string& routing_id) {
        if (!peer.sync || peer.sync->id != b.id) {
            Penalize(peer, 1, "blocks nobody asked for");
            return;
        }
        const SyncRequest req = *peer.sync;
        peer.sync.reset();
        if (b.blocks.size() > req.count) {
            Ban(peer, "sent more blocks than asked", routing_id);
            return;
        }
        if (b.blocks.empty()) {
            // It announced a tip at or above req.from (we ask no one else),
            // and a ledger never shrinks: a lie, or a tip it announced on
            // another chain. Counted, and not asked again until it announces
            // a tip anew.
            peer.height = std::min(peer.height, req.from - 1);
            Penalize(peer, 10, "announced blocks it did not serve");
            return;
        }
        for (size_t i = 0; i < b.blocks.size(); ++i) {
            auto header = wire::DecodeBlock(b.blocks[i].block);
            if (!header || header->header.height != req.from + i) {
                Ban(peer,
                    header ? "sent block " + std::to_string(header->header.height) + " for " +
                                 std::to_string(req.from + i)
                           : "malformed block: " + header.error().message,
                    routing_id);
                return;
            }
            if (req.from + i > m_tip.height) {
                m_fetched[req.from + i] = Fetched{b.blocks[i].block, b.blocks[i].cert, peer.key};
            }
        }
        ApplyFetched();
    }

    // Hands the fetched blocks that follow our tip to the store, in order.
    void ApplyFetched() {
        while (true) {
            std::erase_if(m_fetched, [&](const auto& kv) { return kv.first <= m_tip.height; });
            std::vector<const Fetched*> run;
            for (uint64_t h = m_tip.height + 1; run.size() < kApplyBatch; ++h) {
                auto it = m_fetched.find(h);
                if (it == m_fetched.end()) break;
                run.push_back(&it->second);
            }
            if (run.empty()) return;
            auto reply = m_store.Call("apply", [&](Packer& p) {
                p.pack_array(static_cast<uint32_t>(run.size()));
                for (const Fetched* f : run) {
                    p.pack_array(2);
                    net::PackBin(p, f->block);
                    net::PackBin(p, f->cert);
                }
            });
            if (reply) {
                m_metrics.synced_blocks.fetch_add(run.size(), std::memory_order_relaxed);
                const uint64_t first = m_tip.height + 1;
                if (auto r = Refresh(); !r) log::Warn("ledger: {}", r.error().message);
                log::Info("sync: applied blocks {}..{}", first, first + run.size() - 1);
                SendTips();
                continue;
            }
            const std::string& why = reply.error().message;
            const size_t at = why.find("refused: batch[");
            if (at == std::string::npos) {  // no answer, or a failure of the store's own
                log::Warn("store: apply: {} (again in 1 s)", why);
                m_store_retry_ms = NowMs() + 1000;
                return;
            }
            size_t index = std::strtoull(why.c_str() + at + 15, nullptr, 10);
            if (index >= run.size()) index = 0;
            const uint64_t height = m_tip.height + 1 + index;
            const uint64_t before = m_tip.height;
            if (auto r = Refresh(); !r) log::Warn("ledger: {}", r.error().message);
            if (m_tip.height != before) continue;  // committed meanwhile: not the peer's fault
            const crypto::PublicKey from = run[index]->from;
            auto it = m_peers.find(from);
            if (it != m_peers.end()) {
                Ban(it->second,
                    "served block " + std::to_string(height) + " that the store refused: " + why,
                    {});
            }
            std::erase_if(m_fetched, [&](const auto& kv) { return kv.second.from == from; });
        }
    }

    // Asks peers ahead of us for the blocks we lack.
    void MaybeSync() {
        const uint64_t now = NowMs();
        uint64_t best = 0;
        for (const auto& [k, peer] : m_peers) {
            if (peer.connected && !peer.banned(now)) best = std::max(best, peer.height);
        }
        m_best_height = best;
        bool syncing = false;
        if (best > m_tip.height) {
            if (m_lag_since_ms == 0) m_lag_since_ms = now;
            syncing = best >= m_tip.height + 2 || now - m_lag_since_ms >= m_opts.sync_after_ms;
        } else {
            m_lag_since_ms = 0;
        }
        if (syncing != m_syncing) {
            m_syncing = syncing;
            Emit("sync", "",
                 syncing ? "behind: at " + std::to_string(m_tip.height) + ", peers at " +
                               std::to_string(best)
                         : "at the tip " + std::to_string(m_tip.height));
            log::Info("sync: {}", syncing ? "behind: at " + std::to_string(m_tip.height) +
                                                ", peers at " + std::to_string(best)
                                          : "at the tip " + std::to_string(m_tip.height));
        }
        if (!syncing) return;
        std::vector<std::pair<uint64_t, uint64_t>> taken;  // [from, end) asked already
        size_t in_flight = 0;
        for (const auto& [k, peer] : m_peers) {
            if (peer.sync) {
                taken.emplace_back(peer.sync->from, peer.sync->from + peer.sync->count);
                in_flight++;
            }
        }
        const uint64_t window = m_tip.height + m_opts.sync_batch * m_opts.sync_parallel * 2;
        uint64_t h = m_tip.height + 1;
        while (in_flight < m_opts.sync_parallel && h <= best && h <= window) {
            bool moved = true;
            while (moved) {  // skip what is fetched or asked for
                moved = false;
                while (m_fetched.count(h)) {
                    h++;
                    moved = true;
                }
                for (const auto& [from, end] : taken) {
                    if (h >= from && h < end) {
                        h = end;
                        moved = true;
                    }
                }
            }
            if (h > best || h > window) break;
            uint64_t end = std::min(best + 1, h + m_opts.sync_batch);
            for (const auto& [from, e] : taken) {
                if (from > h) end = std::min(end, from);
            }
            Peer* chosen = nullptr;
            for (size_t tries = 0; tries < m_peers.size() && chosen == nullptr; ++tries) {
                auto it = m_peers.upper_bound(m_last_asked);
                if (it == m_peers.end()) it = m_peers.begin();
                m_last_asked = it->first;
                Peer& p = it->second;
                if (p.connected && !p.banned(now) && !p.sync && p.height >= h &&
                    p.sync_rest_until_ms <= now && (p.out || !p.routing_id.empty())) {
                    chosen = &p;
                }
            }
            if (chosen == nullptr) break;
            const uint64_t count = std::min(end, chosen->height + 1) - h;
            SyncRequest req{m_next_request++, h, count, now + m_opts.sync_timeout_ms};
            if (!Send(*chosen, EncodeFrame(GetBlocks{req.id, req.from, req.count}, SIZE_MAX))) {
                chosen->sync_rest_until_ms = now + 1000;
                continue;
            }
            chosen->sync = req;
            taken.emplace_back(h, h + count);
            in_flight++;
            h += count;
        }
    }

    // ---- scores and bans ------------------------------------------------

    void Penalize(Peer& peer, double points, const std::string& why) {
        const uint64_t now = NowMs();
        if (peer.score_ms != 0 && now > peer.score_ms) {
            peer.score = std::max(0.0, peer.score - double(now - peer.score_ms) / 1000.0);
        }
        peer.score_ms = now;
        peer.score += points;
        if (peer.score >= double(m_opts.ban_score)) Ban(peer, why, {});
    }

    void DropConnection(Peer& peer) {
        // The connection the peer's last message came over, when it was just
        // now: libzmq sees it closed and drops the peer's pipe.
        if (peer.last_fd >= 0 && NowMs() - peer.in_heard_ms <= LiveMs()) {
            ::shutdown(peer.last_fd, SHUT_RDWR);
        }
        peer.last_fd = -1;
    }

    void Ban(Peer& peer, const std::string& why, const std::optional<std::string>& routing_id,
             uint64_t seconds = 0) {
        const uint64_t now = NowMs();
        if (peer.banned(now) && seconds == 0) return;
        const uint64_t s = seconds == 0 ? m_opts.ban_seconds : seconds;
        peer.banned_until_ms = now + s * 1000;
        SaveBan(peer, s, why);
        peer.connected = false;
        peer.sync.reset();
        peer.routing_id.clear();
        (void)routing_id;
        DropConnection(peer);
        std::erase_if(m_fetched, [&](const auto& kv) { return kv.second.from == peer.key; });
        m_metrics.bans.fetch_add(1, std::memory_order_relaxed);
        log::Warn("peer {}: banned for {} s: {}", Short(peer), s, why);
        Emit("banned", peer.hex, why);
        UpdateLinks();
    }

    // Writes peer's ban (0 seconds: its end) to the ban list; a failed
    // write leaves the ban in memory and is logged.
    void SaveBan(const Peer& peer, uint64_t seconds, const std::string& why) {
        auto saved = seconds == 0 ? m_saved_bans.Remove(peer.key)
                                  : m_saved_bans.Add(peer.key, WallMs() + seconds * 1000, why);
        if (!saved) log::Warn("bans: {} (the ban holds until a restart)", saved.error().message);
    }

    // ---- requests -------------------------------------------------------

    msgpack::sbuffer Status(uint64_t id) {
        const uint64_t now = NowMs();
        uint64_t connected = 0, banned = 0, msgs_in = 0, msgs_out = 0;
        for (const auto& [k, peer] : m_peers) {
            connected += peer.connected;
            banned += peer.banned(now);
            msgs_in += peer.msgs_in;
            msgs_out += peer.msgs_out;
        }
        return net::EncodeResult(id, [&](Packer& p) {
            p.pack_map(12);
            net::PackStr(p, "self");
            net::PackStr(p, m_hex);
            net::PackStr(p, "masternode");
            m_is_member ? p.pack_true() : p.pack_false();
            net::PackStr(p, "listen");
            if (m_listen.empty()) {
                p.pack_nil();
            } else {
                net::PackStr(p, m_listen);
            }
            net::PackStr(p, "height");
            p.pack_uint64(m_tip.height);
            net::PackStr(p, "best_height");
            p.pack_uint64(std::max(m_best_height, m_tip.height));
            net::PackStr(p, "syncing");
            m_syncing ? p.pack_true() : p.pack_false();
            net::PackStr(p, "peers");
            p.pack_uint64(m_peers.size());
            net::PackStr(p, "connected");
            p.pack_uint64(connected);
            net::PackStr(p, "banned");
            p.pack_uint64(banned);
            net::PackStr(p, "refused");
            p.pack_uint64(m_zap ? m_zap->refused() : 0);
            net::PackStr(p, "msgs_in");
            p.pack_uint64(msgs_in);
            net::PackStr(p, "msgs_out");
            p.pack_uint64(msgs_out);
        });
    }

    msgpack::sbuffer Peers(uint64_t id) {
        const uint64_t now = NowMs();
        return net::EncodeResult(id, [&](Packer& p) {
            p.pack_array(static_cast<uint32_t>(m_peers.size()));
            for (const auto& [k, peer] : m_peers) {
                p.pack_map(12);
                net::PackStr(p, "key");
                net::PackStr(p, peer.hex);
                net::PackStr(p, "endpoint");
                if (peer.endpoint) {
                    net::PackStr(p, *peer.endpoint);
                } else {
                    p.pack_nil();
                }
                net::PackStr(p, "masternode");
                peer.masternode ? p.pack_true() : p.pack_false();
                net::PackStr(p, "connected");
                peer.connected ? p.pack_true() : p.pack_false();
                net::PackStr(p, "link_out");  // our DEALER hears from it
                peer.out&& peer.out_heard_ms != 0 && now - peer.out_heard_ms <= LiveMs()
                    ? p.pack_true()
                    : p.pack_false();
                net::PackStr(p, "link_in");  // it speaks on our server
                peer.in_heard_ms != 0 && now - peer.in_heard_ms <= LiveMs() ? p.pack_true()
                                                                            : p.pack_false();
                net::PackStr(p, "height");
                p.pack_uint64(peer.height);
                net::PackStr(p, "score");
                p.pack_uint64(static_cast<uint64_t>(peer.score));
                net::PackStr(p, "banned_s");
                p.pack_uint64(peer.banned(now) ? (peer.banned_until_ms - now + 999) / 1000 : 0);
                net::PackStr(p, "last_seen_ms");
                p.pack_uint64(peer.last_seen_ms == 0 ? 0 : now - peer.last_seen_ms);
                net::PackStr(p, "msgs_in");
                p.pack_uint64(peer.msgs_in);
                net::PackStr(p, "msgs_out");
                p.pack_uint64(peer.msgs_out);
            }
        });
    }

    msgpack::sbuffer BanRequest(uint64_t id, const msgpack::object_array& params) {
        if (params.size != 2 || params.ptr[0].type != Type::STR ||
            params.ptr[1].type != Type::POSITIVE_INTEGER) {
            return net::EncodeFailure(id, "ban", "bad-params", "params must be [key hex, seconds]");
        }
        const std::string_view text = net::StrView(params.ptr[0]);
        Peer* found = nullptr;
        size_t matches = 0;
        for (auto& [k, peer] : m_peers) {
            if (!text.empty() && peer.hex.compare(0, text.size(), text) == 0) {
                found = &peer;
                matches++;
            }
        }
        if (matches != 1) {
            return net::EncodeFailure(id, "ban", matches == 0 ? "not-found" : "bad-params",
                                      matches == 0 ? "no peer with key " + std::string(text)
                                                   : "several peers match " + std::string(text));
        }
        const uint64_t seconds = params.ptr[1].via.u64;
        if (seconds == 0) {
            if (found->banned_until_ms != 0) {
                found->banned_until_ms = 0;
                found->score = 0;
                SaveBan(*found, 0, "");
                Emit("unbanned", found->hex, "by request");
                log::Info("peer {}: ban lifted by request", Short(*found));
                UpdateLinks();
            }
        } else {
            Ban(*found, "by request", {}, seconds);
        }
        return net::EncodeResult(id, [](Packer& p) { p.pack_true(); });
    }

    void Emit(std::string_view event, const std::string& peer, const std::string& detail) {
        msgpack::sbuffer buf;
        Packer p(buf);
        p.pack_array(4);
        p.pack_uint64(m_next_seq++);
        net::PackStr(p, event);
        net::PackStr(p, peer);
        net::PackStr(p, detail);
        std::vector<zmq::message_t> e;
        e.emplace_back(kEventTopic.data(), kEventTopic.size());
        e.push_back(net::ToMessage(buf));
        m_events.push_back(std::move(e));
    }

    const Options& m_opts;
    zmq::context_t& m_context;
    const ledger::Ledger& m_view;
    const crypto::SecretKey& m_key;
    Metrics& m_metrics;
    net::Client m_pool;
    net::Client m_store;
    net::Dispatcher m_dispatcher;
    std::string m_hex;
    crypto::CurvePublicKey m_curve_public{};
    crypto::SecureBuffer m_curve_secret;
    std::unique_ptr<net::ZapHandler> m_zap;
    std::unique_ptr<zmq::socket_t> m_router;
    std::unique_ptr<zmq::socket_t> m_monitor;
    std::string m_listen;
    std::string m_own_endpoint;
    bool m_is_member = false;
    bool m_started = false;
    std::map<crypto::PublicKey, std::optional<std::string>> m_configured;
    std::map<crypto::PublicKey, Peer> m_peers;
    BanList m_saved_bans{m_opts.common.datadir + "/p2p/bans.json", kMaxSavedBans};
    std::set<int> m_inbound;
    Tip m_tip;
    bool m_tip_dirty = false;
    bool m_admitted_dirty = false;
    uint64_t m_next_tip_ms = 0;
    SeenCache m_seen;
    std::deque<wire::Hash> m_gossip;
    uint64_t m_gossip_at_ms = 0;
    std::map<uint64_t, Fetched> m_fetched;
    uint64_t m_store_retry_ms = 0;
    uint64_t m_best_height = 0;
    uint64_t m_lag_since_ms = 0;
    bool m_syncing = false;
    uint64_t m_next_request = 1;
    crypto::PublicKey m_last_asked{};
    std::vector<std::vector<zmq::message_t>> m_events;
    uint64_t m_next_seq = 1;
};

std::string KeyPath(const Options& opts) {
    return opts.key_file.empty() ? opts.common.datadir + "/masternode.key" : opts.key_file;
}

class Client : public net::Client {
  public:
    explicit Client(const Options& opts)
        : net::Client(util::RunEndpoint(opts.common.datadir, "p2p"),
                      milliseconds(opts.timeout_ms)) {}
};

}  // namespace

util::Status RunDaemon(const Options& opts) {
    const std::string& datadir = opts.common.datadir;
    net::SignalFd signals;
    if (!signals.ok()) return MakeError(Errc::kIo, "signalfd failed");
    TC_TRY(key, crypto::ReadKeyFileWithPassphrase(KeyPath(opts), opts.passphrase_file));
    TC_TRY(view, ledger::Ledger::OpenReadOnly(util::LedgerDir(datadir)));
    TC_CHECK(net::MakeRunDir(datadir));
    Metrics metrics;
    TC_TRY(metrics_server, net::MetricsServer::StartIfAsked(
                               opts.metrics_listen, [&metrics] { return RenderMetrics(metrics); }));
    util::Status outcome;
    {
        zmq::context_t context;
        TC_TRY(sockets, net::BindDaemonSockets(context, datadir, "p2p", 1 << 20, opts.event_queue));
        auto& [router, events, requests_ep, events_ep] = sockets;
        zmq::socket_t local(context, zmq::socket_type::pull);
        zmq::socket_t pool_events(context, zmq::socket_type::sub);
        zmq::socket_t store_events(context, zmq::socket_type::sub);
        try {
            local.set(zmq::sockopt::linger, 0);
            local.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(opts.max_message_bytes));
            local.bind(util::RunEndpoint(datadir, "p2p-send"));
            for (auto* sub : {&pool_events, &store_events}) {
                sub->set(zmq::sockopt::linger, 0);
                sub->set(zmq::sockopt::rcvhwm, static_cast<int>(opts.event_queue));
            }
            pool_events.set(zmq::sockopt::subscribe, "tx");
            store_events.set(zmq::sockopt::subscribe, "block");
            pool_events.connect(util::RunEndpoint(datadir, "pool-events"));
            store_events.connect(util::RunEndpoint(datadir, "store-events"));
        } catch (const zmq::error_t& e) {
            return MakeError(Errc::kIo,
                             "p2p-send, pool-events, store-events: " + std::string(e.what()));
        }
        Node node(opts, context, *view, key, metrics);
        outcome = node.Start();
        if (outcome) {
            log::Info("serving {} (events {})", requests_ep, events_ep);
            net::Notify(net::Lifecycle::kReady);
        }
        auto publish = [&] {
            for (auto& e : node.TakeEvents()) {
                zmq::send_multipart(sockets.events, e, zmq::send_flags::dontwait);
            }
        };
        std::vector<zmq::message_t> parts;
        net::DaemonLoop loop(signals);
        loop.Serve(router, [&](util::ByteView body) { return node.Handle(body); });
        loop.Drain(events);
        loop.Watch(local, [&] {
            zmq::message_t msg;
            for (int budget = 1024; budget > 0 && local.recv(msg, zmq::recv_flags::dontwait);
                 --budget) {
                node.OnLocal(msg);
            }
        });
        loop.Watch(pool_events, [&] {
            while (zmq::recv_multipart(pool_events, std::back_inserter(parts),
                                       zmq::recv_flags::dontwait)) {
                node.OnPoolEvent(parts);
                parts.clear();
            }
        });
        loop.Watch(store_events, [&] {
            while (zmq::recv_multipart(store_events, std::back_inserter(parts),
                                       zmq::recv_flags::dontwait)) {
                node.OnStoreEvent(parts);
                parts.clear();
            }
        });
        loop.WatchEach([&] { return node.Sockets(); },
                       [&](void* handle) { node.OnReadable(handle); });
        publish();
        if (outcome) {
            outcome = loop.Run([&] { return node.Timeout(); },
                               [&] {
                                   node.Tick();
                                   publish();
                                   return util::Status{};
                               });
        }
        publish();
        net::Notify(net::Lifecycle::kStopping);
    }
    metrics_server.reset();
    return net::Stopped(std::move(outcome));
}

// --- the clients -----------------------------------------------------------

util::Status PingDaemon(const Options& opts, std::ostream& out) {
    Client client(opts);
    return net::PrintPing(client, out);
}

util::Status PrintStatus(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(reply, client.Call("status"));
    return net::PrintStatusMap(reply, opts.common.json, {}, out);
}

util::Status PrintPeers(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(reply, client.Call("peers"));
    if (reply.type != Type::ARRAY) return MakeError(Errc::kInvalid, "peers: reply is not an array");
    nlohmann::json all = nlohmann::json::array();
    for (const auto& o : reply.via.array) {
        all.push_back(net::MsgpackToJson(o));
    }
    if (opts.common.json) {
        out << all.dump() << "\n";
        return {};
    }
    for (const auto& p : all) {
        const std::string state = p.value("banned_s", 0) > 0
                                      ? "banned " + std::to_string(p.value("banned_s", 0)) + "s"
                                  : p.value("connected", false) ? "connected"
                                                                : "unreachable";
        out << p.value("key", "").substr(0, 16) << "  "
            << (p["endpoint"].is_string() ? p["endpoint"].get<std::string>() : "-") << "  "
            << (p.value("masternode", false) ? "masternode" : "observer") << "  " << state
            << "  height " << p.value("height", 0) << "  score " << p.value("score", 0) << "\n";
    }
    return {};
}

util::Status BanPeer(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(reply, client.Call("ban", [&](Packer& p) {
        p.pack_array(2);
        net::PackStr(p, opts.ban_peer);
        p.pack_uint64(opts.ban_for_s);
    }));
    (void)reply;
    out << (opts.ban_for_s == 0 ? "unbanned " : "banned ") << opts.ban_peer << "\n";
    return {};
}

util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err) {
    net::WatchSpec spec;
    spec.program = "tc-p2p";
    spec.endpoint = util::RunEndpoint(opts.common.datadir, "p2p-events");
    spec.topic = std::string(kEventTopic);
    spec.decode = [](const msgpack::object& o) -> util::Result<net::WatchedEvent> {
        const auto* a = o.type == Type::ARRAY ? o.via.array.ptr : nullptr;
        if (a == nullptr || o.via.array.size != 4 || a[0].type != Type::POSITIVE_INTEGER ||
            a[1].type != Type::STR || a[2].type != Type::STR || a[3].type != Type::STR) {
            return MakeError(Errc::kInvalid, "expected [seq, event, peer, detail]");
        }
        const uint64_t seq = a[0].via.u64;
        return net::WatchedEvent{seq,
                                 {{"seq", seq},
                                  {"event", std::string(net::StrView(a[1]))},
                                  {"peer", std::string(net::StrView(a[2]))},
                                  {"detail", std::string(net::StrView(a[3]))}}};
    };
    return net::WatchEvents(spec, out, err);
}

}  // namespace tc::p2p
