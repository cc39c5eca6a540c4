#include "daemon.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
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
#include "ledger/ledger.h"
#include "util/bytes.h"
#include "util/config.h"
#include "util/log.h"
#include "wire/codec.h"

namespace tc::store {

using util::Errc;
using util::MakeError;

namespace {

constexpr uint64_t kProtocolVersion = 1;
constexpr std::string_view kWelcome = "welcome";
constexpr std::string_view kBlockTopic = "block";
constexpr auto kReaderSweep = std::chrono::seconds(60);

// SIGTERM and SIGINT blocked and read from a signalfd, so that the poll loop
// sees a stop as one more readable descriptor. Block before the zmq context
// exists: its threads inherit the mask and never take the signal.
class SignalFd {
  public:
    SignalFd() {
        sigemptyset(&m_set);
        sigaddset(&m_set, SIGTERM);
        sigaddset(&m_set, SIGINT);
        sigprocmask(SIG_BLOCK, &m_set, &m_old);
        m_fd = signalfd(-1, &m_set, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    ~SignalFd() {
        if (m_fd >= 0) close(m_fd);
        sigprocmask(SIG_SETMASK, &m_old, nullptr);
    }
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;
    int fd() const { return m_fd; }
    // The signal number read, or 0.
    int Read() {
        signalfd_siginfo info{};
        if (read(m_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) return 0;
        return static_cast<int>(info.ssi_signo);
    }

  private:
    sigset_t m_set{};
    sigset_t m_old{};
    int m_fd = -1;
};

util::Status MakeRunDir(const std::string& datadir) {
    std::string dir = datadir + "/run";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return MakeError(Errc::kIo, dir + ": " + ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    if (ec) return MakeError(Errc::kIo, dir + ": " + ec.message());
    return {};
}

// --- messages --------------------------------------------------------------

using Packer = msgpack::packer<msgpack::sbuffer>;

void PackStr(Packer& p, std::string_view s) {
    p.pack_str(static_cast<uint32_t>(s.size()));
    p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackBin(Packer& p, util::ByteView b) {
    p.pack_bin(static_cast<uint32_t>(b.size()));
    p.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
}

zmq::message_t ToMessage(const msgpack::sbuffer& buf) {
    return zmq::message_t(buf.data(), buf.size());
}

// A reply body: [1, id, ok, result], result written by fill.
template <typename Fill>
msgpack::sbuffer Reply(uint64_t id, bool ok, Fill fill) {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(4);
    p.pack_uint64(kProtocolVersion);
    p.pack_uint64(id);
    if (ok) {
        p.pack_true();
    } else {
        p.pack_false();
    }
    fill(p);
    return buf;
}

msgpack::sbuffer ErrorReply(uint64_t id, std::string_view why) {
    return Reply(id, false, [&](Packer& p) { PackStr(p, why); });
}

util::ByteView BinView(const msgpack::object& o) {
    return {reinterpret_cast<const uint8_t*>(o.via.bin.ptr), o.via.bin.size};
}

// --- the daemon ------------------------------------------------------------

class Daemon {
  public:
    Daemon(ledger::Ledger& ledger, zmq::socket_t& events) : m_ledger(ledger), m_events(events) {}

    // The reply body for one request body; never throws.
    msgpack::sbuffer Handle(const zmq::message_t& body) {
        msgpack::object_handle handle;
        try {
            // No maps or extensions in a request; bins as large as the socket
            // lets through.
            msgpack::unpack_limit limit(16, 0, 256, body.size(), 0, 4);
            handle = msgpack::unpack(static_cast<const char*>(body.data()), body.size(), nullptr,
                                     nullptr, limit);
        } catch (const std::exception& e) {
            return ErrorReply(0, std::string("malformed request: not msgpack: ") + e.what());
        }
        const msgpack::object& req = handle.get();
        if (req.type != msgpack::type::ARRAY || req.via.array.size != 4) {
            return ErrorReply(0, "malformed request: expected [version, id, method, params]");
        }
        const msgpack::object* f = req.via.array.ptr;
        if (f[1].type != msgpack::type::POSITIVE_INTEGER) {
            return ErrorReply(0, "malformed request: id is not an unsigned integer");
        }
        const uint64_t id = f[1].via.u64;
        if (f[0].type != msgpack::type::POSITIVE_INTEGER || f[0].via.u64 != kProtocolVersion) {
            return ErrorReply(id, "unsupported request version (this daemon speaks 1)");
        }
        if (f[2].type != msgpack::type::STR) {
            return ErrorReply(id, "malformed request: method is not a string");
        }
        if (f[3].type != msgpack::type::ARRAY) {
            return ErrorReply(id, "malformed request: params is not an array");
        }
        const std::string method(f[2].via.str.ptr, f[2].via.str.size);
        const msgpack::object_array& params = f[3].via.array;
        try {
            if (method == "ping") return Reply(id, true, [](Packer& p) { PackStr(p, "pong"); });
            if (method == "status") return Status(id);
            if (method == "apply") return Apply(id, params);
        } catch (const std::exception& e) {
            log::Error("request {} {}: {}", id, method, e.what());
            return ErrorReply(id, method + ": internal error: " + e.what());
        }
        return ErrorReply(id, "unknown method \"" + method + "\" (ping, status, apply)");
    }

  private:
    msgpack::sbuffer Status(uint64_t id) {
        auto s = m_ledger.GetStatus();
        if (!s) return ErrorReply(id, "status: " + s.error().message);
        return Reply(id, true, [&](Packer& p) {
            p.pack_map(13);
            PackStr(p, "chain");
            PackStr(p, s->chain);
            PackStr(p, "chain_id");
            PackStr(p, util::ToHex(s->chain_id));
            PackStr(p, "network");
            PackStr(p, s->network == wire::Network::kMain ? "main" : "devnet");
            PackStr(p, "height");
            p.pack_uint64(s->height);
            PackStr(p, "tip_hash");
            PackStr(p, util::ToHex(s->tip_hash));
            PackStr(p, "tip_time_ms");
            p.pack_uint64(s->tip_time_ms);
            PackStr(p, "genesis_supply");
            PackStr(p, s->genesis_supply.ToString());
            PackStr(p, "supply");
            PackStr(p, s->supply.ToString());
            PackStr(p, "fees_burned");
            PackStr(p, s->fees_burned.ToString());
            PackStr(p, "tx_count");
            p.pack_uint64(s->tx_count);
            PackStr(p, "utxo_count");
            p.pack_uint64(s->utxo_count);
            PackStr(p, "masternodes");
            p.pack_uint64(s->masternodes);
            PackStr(p, "map_size");
            p.pack_uint64(s->map_size);
        });
    }

    msgpack::sbuffer Apply(uint64_t id, const msgpack::object_array& params) {
        if (params.size != 2 || params.ptr[0].type != msgpack::type::BIN ||
            params.ptr[1].type != msgpack::type::BIN) {
            return ErrorReply(id, "apply: params must be [bin block, bin certificate]");
        }
        auto block = wire::DecodeBlock(BinView(params.ptr[0]));
        if (!block) return ErrorReply(id, "apply: block: " + block.error().message);
        auto cert = wire::DecodeCertificate(BinView(params.ptr[1]));
        if (!cert) return ErrorReply(id, "apply: certificate: " + cert.error().message);
        ledger::ApplyOptions options;
        options.verify_witnesses = false;
        if (auto applied = m_ledger.ApplyBlock(*block, *cert, options); !applied) {
            log::Warn("apply: block {} refused: {}", block->header.height, applied.error().message);
            return ErrorReply(id, "apply: " + applied.error().message);
        }
        const uint64_t height = block->header.height;
        const wire::Hash hash = wire::BlockHash(block->header);
        log::Info("applied block {} {}", height, util::ToHex(hash));
        Publish(height, hash);
        return Reply(id, true, [&](Packer& p) { p.pack_uint64(height); });
    }

    void Publish(uint64_t height, const wire::Hash& hash) {
        msgpack::sbuffer buf;
        Packer p(buf);
        p.pack_array(3);
        p.pack_uint64(++m_seq);
        p.pack_uint64(height);
        PackBin(p, hash);
        // XPUB drops a message for a subscriber whose queue is full: a
        // watcher sees that as a gap in seq.
        m_events.send(zmq::buffer(kBlockTopic), zmq::send_flags::sndmore);
        m_events.send(ToMessage(buf), zmq::send_flags::none);
    }

    ledger::Ledger& m_ledger;
    zmq::socket_t& m_events;
    uint64_t m_seq = 0;
};

// --- the client ------------------------------------------------------------

class Client {
  public:
    explicit Client(const Options& opts)
        : m_endpoint(util::RunEndpoint(opts.common.datadir, "store")),
          m_socket(m_context, zmq::socket_type::dealer),
          m_timeout(opts.timeout_ms) {
        m_socket.set(zmq::sockopt::linger, 0);
        m_socket.connect(m_endpoint);
    }

    // The result object of a successful reply (kept alive in m_reply), or
    // kIo "no answer", or kInvalid with the daemon's reason.
    util::Result<msgpack::object> Call(std::string_view method,
                                       const std::vector<util::ByteView>& bins) {
        msgpack::sbuffer buf;
        Packer p(buf);
        p.pack_array(4);
        p.pack_uint64(kProtocolVersion);
        const uint64_t id = ++m_id;
        p.pack_uint64(id);
        PackStr(p, method);
        p.pack_array(static_cast<uint32_t>(bins.size()));
        for (const auto& b : bins) PackBin(p, b);
        m_socket.send(zmq::message_t(), zmq::send_flags::sndmore);
        m_socket.send(ToMessage(buf), zmq::send_flags::none);
        const auto deadline = std::chrono::steady_clock::now() + m_timeout;
        while (true) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() < 0) left = std::chrono::milliseconds(0);
            zmq::pollitem_t item{m_socket.handle(), 0, ZMQ_POLLIN, 0};
            if (zmq::poll(&item, 1, left) == 0) {
                return MakeError(Errc::kIo, "no answer from " + m_endpoint);
            }
            std::vector<zmq::message_t> parts;
            (void)zmq::recv_multipart(m_socket, std::back_inserter(parts));
            if (parts.size() != 2 || parts[0].size() != 0) continue;
            try {
                m_reply =
                    msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            } catch (const std::exception& e) {
                return MakeError(Errc::kInvalid, m_endpoint + ": unreadable reply: " + e.what());
            }
            const msgpack::object& r = m_reply.get();
            if (r.type != msgpack::type::ARRAY || r.via.array.size != 4 ||
                r.via.array.ptr[1].type != msgpack::type::POSITIVE_INTEGER ||
                r.via.array.ptr[2].type != msgpack::type::BOOLEAN) {
                return MakeError(Errc::kInvalid, m_endpoint + ": malformed reply");
            }
            if (r.via.array.ptr[1].via.u64 != id) continue;  // a late answer to an old request
            const msgpack::object& result = r.via.array.ptr[3];
            if (!r.via.array.ptr[2].via.boolean) {
                std::string why = result.type == msgpack::type::STR
                                      ? std::string(result.via.str.ptr, result.via.str.size)
                                      : "refused";
                return MakeError(Errc::kInvalid, why);
            }
            return result;
        }
    }

    const std::string& endpoint() const { return m_endpoint; }

  private:
    std::string m_endpoint;
    zmq::context_t m_context;
    zmq::socket_t m_socket;
    std::chrono::milliseconds m_timeout;
    uint64_t m_id = 0;
    msgpack::object_handle m_reply;
};

}  // namespace

util::Status RunDaemon(const Options& opts) {
    const std::string& datadir = opts.common.datadir;
    SignalFd signals;
    if (signals.fd() < 0) return MakeError(Errc::kIo, "signalfd failed");
    TC_TRY(ledger, ledger::Ledger::Open(util::LedgerDir(datadir)));
    TC_CHECK(MakeRunDir(datadir));
    const std::string requests_ep = util::RunEndpoint(datadir, "store");
    const std::string events_ep = util::RunEndpoint(datadir, "store-events");
    {
        zmq::context_t context;
        zmq::socket_t router(context, zmq::socket_type::router);
        zmq::socket_t events(context, zmq::socket_type::xpub);
        try {
            router.set(zmq::sockopt::linger, 0);
            router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(opts.max_message_bytes));
            events.set(zmq::sockopt::linger, 0);
            events.set(zmq::sockopt::xpub_welcome_msg, std::string(kWelcome));
            // A socket file left by a killed daemon: bind replaces it.
            router.bind(requests_ep);
            events.bind(events_ep);
        } catch (const zmq::error_t& e) {
            return MakeError(Errc::kIo, requests_ep + ": " + e.what());
        }
        log::Info("serving {} (events {})", requests_ep, events_ep);
        sd_notify(0, "READY=1");

        Daemon daemon(*ledger, events);
        auto next_sweep = std::chrono::steady_clock::now() + kReaderSweep;
        bool stop = false;
        while (!stop) {
            zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0},
                                       {events.handle(), 0, ZMQ_POLLIN, 0},
                                       {nullptr, signals.fd(), ZMQ_POLLIN, 0}};
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                next_sweep - std::chrono::steady_clock::now());
            if (left.count() < 0) left = std::chrono::milliseconds(0);
            try {
                zmq::poll(items, 3, left);
            } catch (const zmq::error_t& e) {
                if (e.num() == EINTR) continue;
                throw;
            }
            if (items[2].revents & ZMQ_POLLIN) {
                int sig = signals.Read();
                if (sig != 0) {
                    log::Info("signal {}: stopping", sig);
                    stop = true;
                }
            }
            if (items[0].revents & ZMQ_POLLIN) {
                std::vector<zmq::message_t> parts;
                (void)zmq::recv_multipart(router, std::back_inserter(parts));
                if (parts.size() != 3 || parts[1].size() != 0) {
                    log::Warn("dropped a request of {} frames (want identity, \"\", body)",
                              parts.size());
                } else {
                    msgpack::sbuffer reply = daemon.Handle(parts[2]);
                    router.send(parts[0], zmq::send_flags::sndmore);
                    router.send(zmq::message_t(), zmq::send_flags::sndmore);
                    router.send(ToMessage(reply), zmq::send_flags::none);
                }
            }
            if (items[1].revents & ZMQ_POLLIN) {
                // Subscriptions: drained so they do not queue up.
                zmq::message_t sub;
                while (events.recv(sub, zmq::recv_flags::dontwait)) {
                }
            }
            if (std::chrono::steady_clock::now() >= next_sweep) {
                if (auto cleared = ledger->ClearStaleReaders(); !cleared) {
                    log::Warn("clearing stale readers: {}", cleared.error().message);
                } else if (*cleared > 0) {
                    log::Info("cleared {} stale reader slots", *cleared);
                }
                next_sweep = std::chrono::steady_clock::now() + kReaderSweep;
            }
        }
        sd_notify(0, "STOPPING=1");
    }
    ledger.reset();
    log::Info("stopped");
    return {};
}

util::Status PingDaemon(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(result, client.Call("ping", {}));
    if (result.type != msgpack::type::STR) {
        return MakeError(Errc::kInvalid, client.endpoint() + ": ping: unexpected answer");
    }
    out << std::string(result.via.str.ptr, result.via.str.size) << "\n";
    return {};
}

// The daemon's ledger height, from its status reply.
util::Result<uint64_t> DaemonHeight(Client& client) {
    TC_TRY(status, client.Call("status", {}));
    if (status.type == msgpack::type::MAP) {
        for (const auto& kv : status.via.map) {
            if (kv.key.type == msgpack::type::STR && kv.key.as<std::string>() == "height" &&
                kv.val.type == msgpack::type::POSITIVE_INTEGER) {
                return kv.val.via.u64;
            }
        }
    }
    return MakeError(Errc::kInvalid, "status: the daemon's reply has no height");
}

util::Status SubmitChain(const Options& opts, std::istream& in, std::ostream& out) {
    ExportReader reader(in, "stdin");
    TC_CHECK(reader.ReadHeader());
    Client client(opts);
    // Resume: blocks the daemon already has are skipped, so that re-running
    // submit after an interruption (or a daemon restart) carries on. Unlike
    // import, the skipped blocks are not compared with the stored ones.
    TC_TRY(tip, DaemonHeight(client));
    while (true) {
        TC_TRY(record, reader.Next());
        if (!record) break;
        const uint64_t height = record->block.header.height;
        if (height <= tip) continue;
        const util::Bytes block = wire::Encode(record->block);
        const util::Bytes cert = wire::Encode(record->cert);
        auto result = client.Call("apply", {block, cert});
        if (!result) {
            return MakeError(result.error().code,
                             "block " + std::to_string(height) + ": " + result.error().message);
        }
        if (result->type != msgpack::type::POSITIVE_INTEGER || result->via.u64 != height) {
            return MakeError(Errc::kInvalid, "block " + std::to_string(height) +
                                                 ": the daemon acknowledged another height");
        }
        out << height << " " << util::ToHex(wire::BlockHash(record->block.header)) << std::endl;
    }
    return {};
}

util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err) {
    SignalFd signals;
    if (signals.fd() < 0) return MakeError(Errc::kIo, "signalfd failed");
    const std::string endpoint = util::RunEndpoint(opts.common.datadir, "store-events");
    zmq::context_t context;
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, "");  // "welcome" and "block"
    sub.connect(endpoint);
    uint64_t last_seq = 0;
    while (true) {
        zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0},
                                   {nullptr, signals.fd(), ZMQ_POLLIN, 0}};
        try {
            zmq::poll(items, 2, std::chrono::milliseconds(-1));
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            throw;
        }
        if ((items[1].revents & ZMQ_POLLIN) && signals.Read() != 0) return {};
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        std::vector<zmq::message_t> parts;
        (void)zmq::recv_multipart(sub, std::back_inserter(parts));
        if (parts.size() == 1 && parts[0].to_string_view() == kWelcome) {
            err << "tc-store: watch: connected to " << endpoint << std::endl;
            continue;
        }
        if (parts.size() != 2 || parts[0].to_string_view() != kBlockTopic) {
            err << "tc-store: warning: unknown event of " << parts.size() << " frames" << std::endl;
            continue;
        }
        try {
            auto handle =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            const msgpack::object& e = handle.get();
            if (e.type != msgpack::type::ARRAY || e.via.array.size != 3 ||
                e.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER ||
                e.via.array.ptr[1].type != msgpack::type::POSITIVE_INTEGER ||
                e.via.array.ptr[2].type != msgpack::type::BIN) {
                throw std::runtime_error("not [seq, height, hash]");
            }
            const uint64_t seq = e.via.array.ptr[0].via.u64;
            const uint64_t height = e.via.array.ptr[1].via.u64;
            if (seq == 1 && last_seq != 0) {
                err << "tc-store: warning: the daemon restarted (seq 1 after " << last_seq << ")"
                    << std::endl;
            } else if (last_seq != 0 && seq != last_seq + 1) {
                err << "tc-store: warning: gap in events: seq " << seq << " after " << last_seq
                    << " (" << (seq > last_seq ? seq - last_seq - 1 : 0) << " missed)" << std::endl;
            }
            last_seq = seq;
            nlohmann::json j = {{"seq", seq},
                                {"height", height},
                                {"hash", util::ToHex(BinView(e.via.array.ptr[2]))}};
            out << j.dump() << std::endl;
        } catch (const std::exception& ex) {
            err << "tc-store: warning: unreadable block event: " << ex.what() << std::endl;
        }
    }
}

}  // namespace tc::store
