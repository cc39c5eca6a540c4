#include "daemon.h"

#include <chrono>
#include <iostream>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "export.h"
#include "metrics.h"
#include "net/daemon.h"
#include "net/metrics.h"
#include "net/rpc.h"
#include "net/signals.h"
#include "protocol.h"
#include "requests.h"
#include "util/amount.h"
#include "util/bytes.h"
#include "util/config.h"
#include "util/log.h"
#include "wire/codec.h"

namespace tc::store {

using protocol::BinView;
using protocol::Event;
using protocol::Packer;
using util::Errc;
using util::MakeError;

namespace {

constexpr auto kReaderSweep = std::chrono::seconds(60);

void Publish(zmq::socket_t& events, const Event& e) {
    // XPUB drops a message for a subscriber whose queue is full: a watcher
    // sees that as a gap in seq and asks `since`.
    events.send(zmq::buffer(protocol::kBlockTopic), zmq::send_flags::sndmore);
    events.send(net::ToMessage(protocol::EncodeEvent(e)), zmq::send_flags::none);
}

// --- the client ------------------------------------------------------------

// A client of this datadir's tc-store run, with --timeout, that maps
// gap-beyond-retention to kConflict.
class Client : public net::Client {
  public:
    explicit Client(const Options& opts)
        : net::Client(util::RunEndpoint(opts.common.datadir, "store"),
                      std::chrono::milliseconds(opts.timeout_ms), &protocol::ErrcOfReply) {}
};

// --- the daemon's loop -----------------------------------------------------

RequestLimits LimitsOf(const Options& opts) {
    RequestLimits limits;
    limits.max_batch = opts.max_batch;
    limits.max_utxos = opts.max_utxos;
    limits.event_retention = opts.event_retention;
    limits.max_evidence = opts.max_evidence;
    limits.max_evidence_entries = opts.max_evidence_entries;
    return limits;
}

// Answers one request waiting on the router; publishes the blocks it
// committed first, so a subscriber has the event before the client its
// acknowledgement.
void ServeRequest(zmq::socket_t& router, zmq::socket_t& events, Requests& requests) {
    (void)net::ServeRequest(router, [&](util::ByteView body) {
        std::vector<Event> committed;
        msgpack::sbuffer reply = requests.Handle(body, committed);
        for (const auto& e : committed) Publish(events, e);
        return reply;
    });
}

void SweepReaders(ledger::Ledger& ledger) {
    if (auto cleared = ledger.ClearStaleReaders(); !cleared) {
        log::Warn("clearing stale readers: {}", cleared.error().message);
    } else if (*cleared > 0) {
        log::Info("cleared {} stale reader slots", *cleared);
    }
}

}  // namespace

util::Status RunDaemon(const Options& opts) {
    const std::string& datadir = opts.common.datadir;
    net::SignalFd signals;
    if (!signals.ok()) return MakeError(Errc::kIo, "signalfd failed");
    TC_TRY(ledger, ledger::Ledger::Open(util::LedgerDir(datadir)));
    TC_CHECK(net::MakeRunDir(datadir));
    Metrics metrics;
    Requests requests(*ledger, LimitsOf(opts), metrics);
    requests.UpdateGauges();
    TC_TRY(metrics_server, net::MetricsServer::StartIfAsked(
                               opts.metrics_listen, [&metrics] { return RenderMetrics(metrics); }));
    {
        zmq::context_t context;
        TC_TRY(sockets, net::BindDaemonSockets(context, datadir, "store", opts.max_message_bytes));
        auto& [router, events, requests_ep, events_ep] = sockets;
        log::Info("serving {} (events {})", requests_ep, events_ep);
        net::Notify(net::Lifecycle::kReady);

        auto next_sweep = std::chrono::steady_clock::now() + kReaderSweep;
        net::DaemonLoop loop(signals);
        loop.Watch(router, [&] { ServeRequest(router, events, requests); });
        loop.Drain(events);
        TC_CHECK(loop.Run([&] { return net::TimeLeft(next_sweep); },
                          [&] {
                              if (std::chrono::steady_clock::now() >= next_sweep) {
                                  SweepReaders(*ledger);
                                  next_sweep = std::chrono::steady_clock::now() + kReaderSweep;
                              }
                              return util::Status{};
                          }));
        net::Notify(net::Lifecycle::kStopping);
    }
    metrics_server.reset();
    ledger.reset();
    log::Info("stopped");
    return {};
}

util::Status PingDaemon(const Options& opts, std::ostream& out) {
    Client client(opts);
    return net::PrintPing(client, out);
}

// --- status --daemon -------------------------------------------------------

namespace {

// The field `key` of a status reply map, of type `type`.
util::Result<msgpack::object> Field(const msgpack::object& map, std::string_view key,
                                    msgpack::type::object_type type) {
    for (const auto& kv : map.via.map) {
        if (kv.key.type == msgpack::type::STR && protocol::StrView(kv.key) == key) {
            if (kv.val.type != type) break;
            return kv.val;
        }
    }
    return MakeError(Errc::kInvalid, "status reply: no " + std::string(key) + " of the right type");
}

util::Result<uint64_t> UintField(const msgpack::object& map, std::string_view key) {
    TC_TRY(v, Field(map, key, msgpack::type::POSITIVE_INTEGER));
    return v.via.u64;
}

util::Result<std::string_view> StrField(const msgpack::object& map, std::string_view key) {
    TC_TRY(v, Field(map, key, msgpack::type::STR));
    return protocol::StrView(v);
}

util::Result<util::Amount> AmountField(const msgpack::object& map, std::string_view key) {
    TC_TRY(text, StrField(map, key));
    auto amount = util::Amount::Parse(text);
    if (!amount) return std::move(amount).error().In("status reply: " + std::string(key));
    return amount;
}

util::Result<wire::Hash> HashField(const msgpack::object& map, std::string_view key) {
    TC_TRY(text, StrField(map, key));
    auto hash = util::FromHexFixed<32>(text);
    if (!hash) return std::move(hash).error().In("status reply: " + std::string(key));
    return *hash;
}

util::Result<ledger::Status> StatusOfReply(const msgpack::object& map) {
    if (map.type != msgpack::type::MAP) {
        return MakeError(Errc::kInvalid, "status reply: not a map");
    }
    ledger::Status s;
    TC_TRY(chain, StrField(map, "chain"));
    s.chain = std::string(chain);
    TC_TRY(chain_id, HashField(map, "chain_id"));
    s.chain_id = chain_id;
    TC_TRY(network, StrField(map, "network"));
    s.network = network == "main" ? wire::Network::kMain : wire::Network::kDevnet;
    TC_TRY(height, UintField(map, "height"));
    s.height = height;
    TC_TRY(tip_hash, HashField(map, "tip_hash"));
    s.tip_hash = tip_hash;
    TC_TRY(tip_time, UintField(map, "tip_time_ms"));
    s.tip_time_ms = tip_time;
    TC_TRY(genesis_supply, AmountField(map, "genesis_supply"));
    s.genesis_supply = genesis_supply;
    TC_TRY(supply, AmountField(map, "supply"));
    s.supply = supply;
    TC_TRY(fees, AmountField(map, "fees_burned"));
    s.fees_burned = fees;
    TC_TRY(tx_count, UintField(map, "tx_count"));
    s.tx_count = tx_count;
    TC_TRY(utxo_count, UintField(map, "utxo_count"));
    s.utxo_count = utxo_count;
    TC_TRY(masternodes, UintField(map, "masternodes"));
    s.masternodes = masternodes;
    TC_TRY(map_size, UintField(map, "map_size"));
    s.map_size = map_size;
    return s;
}

}  // namespace

util::Result<ledger::Status> DaemonStatus(const Options& opts) {
    Client client(opts);
    TC_TRY(reply, client.Call("status"));
    auto status = StatusOfReply(reply);
    if (!status) return std::move(status).error().In(client.endpoint());
    return status;
}

// --- submit ----------------------------------------------------------------

namespace {

// Blocks read from the stream and not yet acknowledged.
struct Batch {
    std::vector<util::Bytes> blocks;
    std::vector<util::Bytes> certs;
    std::vector<uint64_t> heights;
    std::vector<wire::Hash> hashes;
    size_t bytes = 0;

    size_t size() const { return heights.size(); }
    void Add(util::Bytes block, util::Bytes cert, uint64_t height, const wire::Hash& hash) {
        bytes += block.size() + cert.size();
        blocks.push_back(std::move(block));
        certs.push_back(std::move(cert));
        heights.push_back(height);
        hashes.push_back(hash);
    }
    void Clear() { *this = Batch(); }
};

// Sends batch to apply as one request; prints a line per acknowledged block.
util::Status SendBatch(Client& client, Batch& batch, std::ostream& out) {
    if (batch.size() == 0) return {};
    auto result = client.Call("apply", [&](Packer& p) {
        p.pack_array(static_cast<uint32_t>(batch.size()));
        for (size_t i = 0; i < batch.size(); ++i) {
            p.pack_array(2);
            protocol::PackBin(p, batch.blocks[i]);
            protocol::PackBin(p, batch.certs[i]);
        }
    });
    const std::string what = batch.size() == 1 ? "block " + std::to_string(batch.heights[0])
                                               : "blocks " + std::to_string(batch.heights[0]) +
                                                     ".." + std::to_string(batch.heights.back());
    if (!result) return std::move(result).error().In(what);
    if (result->type != msgpack::type::POSITIVE_INTEGER ||
        result->via.u64 != batch.heights.back()) {
        return MakeError(Errc::kInvalid, what + ": the daemon acknowledged another height");
    }
    for (size_t i = 0; i < batch.size(); ++i) {
        out << batch.heights[i] << " " << util::ToHex(batch.hashes[i]) << "\n";
    }
    out.flush();
    batch.Clear();
    return {};
}

// The daemon's ledger height, from its status reply.
util::Result<uint64_t> DaemonHeight(Client& client) {
    TC_TRY(status, client.Call("status"));
    if (status.type != msgpack::type::MAP) {
        return MakeError(Errc::kInvalid, "status: the daemon's reply is not a map");
    }
    auto height = UintField(status, "height");
    if (!height) return MakeError(Errc::kInvalid, "status: the daemon's reply has no height");
    return height;
}

}  // namespace

util::Status SubmitChain(const Options& opts, std::istream& in, std::ostream& out) {
    ExportReader reader(in, "stdin");
    TC_CHECK(reader.ReadHeader());
    Client client(opts);
    // Resume: blocks the daemon already has are skipped, so that re-running
    // submit after an interruption (or a daemon restart) carries on. Unlike
    // import, the skipped blocks are not compared with the stored ones.
    TC_TRY(tip, DaemonHeight(client));
    // Room for the msgpack framing around the blocks of one request.
    const size_t budget = opts.max_message_bytes > 4096 ? opts.max_message_bytes - 4096 : 0;
    const size_t max_blocks = std::max<uint64_t>(opts.batch, 1);
    Batch batch;
    while (true) {
        TC_TRY(record, reader.Next());
        if (!record) break;
        const uint64_t height = record->block.header.height;
        if (height <= tip) continue;
        util::Bytes block = wire::Encode(record->block);
        util::Bytes cert = wire::Encode(record->cert);
        // A block that would take the request over the daemon's size limit
        // goes in the next one (alone, if it is that big).
        if (batch.size() > 0 && batch.bytes + block.size() + cert.size() > budget) {
            TC_CHECK(SendBatch(client, batch, out));
        }
        batch.Add(std::move(block), std::move(cert), height, wire::BlockHash(record->block.header));
        if (batch.size() >= max_blocks) TC_CHECK(SendBatch(client, batch, out));
    }
    return SendBatch(client, batch, out);
}

// --- watch -----------------------------------------------------------------

namespace {

// since(seq) over the client.
util::Result<std::vector<Event>> CallSince(Client& client, uint64_t seq) {
    TC_TRY(reply, client.Call("since", [&](Packer& p) {
        p.pack_array(1);
        p.pack_uint64(seq);
    }));
    if (reply.type != msgpack::type::ARRAY) {
        return MakeError(Errc::kInvalid, "since: the reply is not an array");
    }
    std::vector<Event> events;
    for (const auto& o : reply.via.array) {
        TC_TRY(e, protocol::DecodeEvent(o));
        events.push_back(e);
    }
    return events;
}

void PrintJson(std::ostream& out, const Event& e) {
    nlohmann::json j = {{"seq", e.seq}, {"height", e.height}, {"hash", util::ToHex(e.hash)}};
    out << j.dump() << std::endl;
}

}  // namespace

EventFollower::EventFollower(Since since, Printer print, std::optional<uint64_t> last)
    : m_since(std::move(since)), m_print(std::move(print)), m_last(last) {}

util::Status EventFollower::Connected() {
    return m_last ? CatchUp() : util::Status();
}

util::Status EventFollower::Received(const Event& e) {
    if (m_last && e.seq <= *m_last) return {};  // printed already (from since)
    util::Status caught;
    if (m_last && e.seq > *m_last + 1) caught = CatchUp();
    if (!m_last || e.seq > *m_last) Emit(e);
    return caught;
}

util::Status EventFollower::CatchUp() {
    auto events = m_since(*m_last);
    if (!events) {
        if (events.error().message.find("ahead of the tip") != std::string::npos) {
            // Another ledger behind the same socket: follow it afresh.
            m_last.reset();
        }
        return std::move(events).error();
    }
    for (const auto& e : *events) {
        if (!m_last || e.seq > *m_last) Emit(e);
    }
    return {};
}

void EventFollower::Emit(const Event& e) {
    m_print(e);
    m_last = e.seq;
}

util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err) {
    net::SignalFd signals;
    if (!signals.ok()) return MakeError(Errc::kIo, "signalfd failed");
    const std::string endpoint = util::RunEndpoint(opts.common.datadir, "store-events");
    Client client(opts);
    EventFollower follower([&](uint64_t seq) { return CallSince(client, seq); },
                           [&](const Event& e) { PrintJson(out, e); }, opts.since);
    zmq::context_t context;
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, "");  // "welcome" and "block"
    sub.connect(endpoint);
    bool first_connect = true;
    while (true) {
        zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0},
                                   {nullptr, signals.fd(), ZMQ_POLLIN, 0}};
        net::Poll(items, 2, std::chrono::milliseconds(-1));
        if ((items[1].revents & ZMQ_POLLIN) && signals.Read() != 0) return {};
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        std::vector<zmq::message_t> parts;
        (void)zmq::recv_multipart(sub, std::back_inserter(parts));
        if (parts.size() == 1 && parts[0].to_string_view() == protocol::kWelcome) {
            err << "tc-store: watch: connected to " << endpoint << std::endl;
            auto caught = follower.Connected();
            // What --since asked for cannot be had: say so and stop.
            if (!caught && first_connect) return caught;
            if (!caught) {
                err << "tc-store: warning: missed events after a reconnect: "
                    << caught.error().message << std::endl;
            }
            first_connect = false;
            continue;
        }
        if (parts.size() != 2 || parts[0].to_string_view() != protocol::kBlockTopic) {
            err << "tc-store: warning: unknown event of " << parts.size() << " frames" << std::endl;
            continue;
        }
        try {
            auto handle =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            auto event = protocol::DecodeEvent(handle.get());
            if (!event) throw std::runtime_error(event.error().message);
            if (auto caught = follower.Received(*event); !caught) {
                err << "tc-store: warning: gap in events before seq " << event->seq << ": "
                    << caught.error().message << std::endl;
            }
        } catch (const std::exception& ex) {
            err << "tc-store: warning: unreadable block event: " << ex.what() << std::endl;
        }
    }
}

}  // namespace tc::store
