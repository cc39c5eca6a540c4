// libtimecoin's net layer (common/net/): the request/reply envelope and each
// way a body can be malformed, the dispatcher, the DEALER client against
// nobody and against an in-test ROUTER on ipc://, the signalfd, the run
// directory, sd_notify, and the Prometheus exposition and its HTTP server.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <zmq_addon.hpp>

#include "net/daemon.h"
#include "net/envelope.h"
#include "net/metrics.h"
#include "net/rpc.h"
#include "net/signals.h"
#include "temp_dir.h"

using namespace tc;
using net::Packer;
using namespace std::chrono_literals;

namespace {

util::ByteView View(const msgpack::sbuffer& buf) {
    return {reinterpret_cast<const uint8_t*>(buf.data()), buf.size()};
}

// A body packed by `fill`.
msgpack::sbuffer Body(const std::function<void(Packer&)>& fill) {
    msgpack::sbuffer buf;
    Packer p(buf);
    fill(p);
    return buf;
}

// The reply body decoded (it must be a well-formed reply).
struct Decoded {
    msgpack::object_handle handle;
    net::Reply reply;
    std::string text() const {
        return reply.result.type == msgpack::type::STR ? std::string(net::StrView(reply.result))
                                                       : "";
    }
};

Decoded DecodeReplyBody(const msgpack::sbuffer& body) {
    Decoded d;
    d.handle = msgpack::unpack(body.data(), body.size());
    auto reply = net::DecodeReply(d.handle.get());
    if (!reply) throw std::runtime_error(reply.error().message);
    d.reply = *reply;
    return d;
}

std::string ErrorOf(const net::Request& req) {
    return req.malformed;
}

}  // namespace

// --- the envelope ----------------------------------------------------------

TEST(Envelope, RequestRoundTrip) {
    auto body = net::EncodeRequest(7, "block", [](Packer& p) {
        p.pack_array(2);
        p.pack_uint64(5);
        net::PackBin(p, util::Bytes{1, 2, 3});
    });
    msgpack::object_handle handle;
    auto req = net::DecodeRequest(View(body), {}, handle);
    ASSERT_TRUE(req.ok()) << req.malformed;
    EXPECT_EQ(req.id, 7u);
    EXPECT_EQ(req.method, "block");
    ASSERT_EQ(req.params.size, 2u);
    EXPECT_EQ(req.params.ptr[0].via.u64, 5u);
    ASSERT_EQ(req.params.ptr[1].type, msgpack::type::BIN);
    EXPECT_EQ(
        util::Bytes(net::BinView(req.params.ptr[1]).begin(), net::BinView(req.params.ptr[1]).end()),
        (util::Bytes{1, 2, 3}));
}

TEST(Envelope, ReplyRoundTrip) {
    auto ok = DecodeReplyBody(net::EncodeResult(9, [](Packer& p) { net::PackStr(p, "pong"); }));
    EXPECT_EQ(ok.reply.id, 9u);
    EXPECT_TRUE(ok.reply.ok);
    EXPECT_EQ(ok.text(), "pong");

    auto fail = DecodeReplyBody(net::EncodeFailure(10, "block", net::kNotFound, "block 9: gone"));
    EXPECT_EQ(fail.reply.id, 10u);
    EXPECT_FALSE(fail.reply.ok);
    EXPECT_EQ(fail.text(), "block: not-found: block 9: gone");
    EXPECT_EQ(net::ErrorText("m", "r", "d"), "m: r: d");

    // The envelope's bytes: [1, id, ok, result], nothing else.
    auto raw = net::EncodeError(3, "x");
    auto handle = msgpack::unpack(raw.data(), raw.size());
    EXPECT_EQ(handle.get().via.array.size, 4u);
    EXPECT_EQ(handle.get().via.array.ptr[0].via.u64, net::kVersion);
}

TEST(Envelope, RejectsEveryMalformedRequest) {
    struct Case {
        const char* what;
        msgpack::sbuffer body;
        std::string error;  // a prefix of the malformed text
        uint64_t id;
        std::string_view method;
    };
    std::vector<Case> cases;
    cases.push_back({"empty", msgpack::sbuffer(), "malformed request: not msgpack: ", 0, ""});
    {
        msgpack::sbuffer never_used;
        never_used.write("\xc1", 1);
        cases.push_back(
            {"not msgpack", std::move(never_used), "malformed request: not msgpack: ", 0, ""});
    }
    {
        auto whole = net::EncodeRequest(1, "ping", [](Packer& p) { p.pack_array(0); });
        msgpack::sbuffer cut;
        cut.write(whole.data(), whole.size() - 1);
        cases.push_back({"truncated", std::move(cut), "malformed request: not msgpack: ", 0, ""});
    }
    {
        auto whole = net::EncodeRequest(1, "ping", [](Packer& p) { p.pack_array(0); });
        whole.write("\x00", 1);
        cases.push_back({"a trailing byte", std::move(whole),
                         "malformed request: 1 trailing bytes after the request", 0, ""});
    }
    cases.push_back({"an array beyond the limit",
                     net::EncodeRequest(1, "ping",
                                        [](Packer& p) {
                                            p.pack_array(2000);
                                            for (int i = 0; i < 2000; ++i) p.pack_nil();
                                        }),
                     "malformed request: not msgpack: array size overflow", 0, ""});
    cases.push_back({"a map where none may be",
                     net::EncodeRequest(1, "ping",
                                        [](Packer& p) {
                                            p.pack_array(1);
                                            p.pack_map(1);
                                            p.pack_nil();
                                            p.pack_nil();
                                        }),
                     "malformed request: not msgpack: map size overflow", 0, ""});
    cases.push_back({"too deep",
                     net::EncodeRequest(1, "ping",
                                        [](Packer& p) {
                                            p.pack_array(1);
                                            p.pack_array(1);
                                            p.pack_array(1);
                                            p.pack_array(0);
                                        }),
                     "malformed request: not msgpack: depth size overflow", 0, ""});
    cases.push_back(
        {"a long string",
         net::EncodeRequest(1, std::string(300, 'm'), [](Packer& p) { p.pack_array(0); }),
         "malformed request: not msgpack: str size overflow", 0, ""});
    cases.push_back({"not an array", Body([](Packer& p) { p.pack_uint64(5); }),
                     "malformed request: expected [version, id, method, params]", 0, ""});
    cases.push_back({"an array of 3", Body([](Packer& p) {
                         p.pack_array(3);
                         p.pack_uint64(1);
                         p.pack_uint64(2);
                         net::PackStr(p, "ping");
                     }),
                     "malformed request: expected [version, id, method, params]", 0, ""});
    auto four = [](auto version, auto id, auto method, auto params) {
        return Body([&](Packer& p) {
            p.pack_array(4);
            version(p);
            id(p);
            method(p);
            params(p);
        });
    };
    auto v1 = [](Packer& p) { p.pack_uint64(1); };
    auto id5 = [](Packer& p) { p.pack_uint64(5); };
    auto ping = [](Packer& p) { net::PackStr(p, "ping"); };
    auto none = [](Packer& p) { p.pack_array(0); };
    cases.push_back({"an id that is a string",
                     four(
                         v1, [](Packer& p) { net::PackStr(p, "5"); }, ping, none),
                     "malformed request: id is not an unsigned integer", 0, "ping"});
    cases.push_back({"a negative id",
                     four(
                         v1, [](Packer& p) { p.pack_int64(-5); }, ping, none),
                     "malformed request: id is not an unsigned integer", 0, "ping"});
    cases.push_back({"version 2", four([](Packer& p) { p.pack_uint64(2); }, id5, ping, none),
                     "unsupported request version (this daemon speaks 1)", 5, "ping"});
    cases.push_back({"a version that is a string",
                     four([](Packer& p) { net::PackStr(p, "1"); }, id5, ping, none),
                     "unsupported request version (this daemon speaks 1)", 5, "ping"});
    cases.push_back({"a method that is a number",
                     four(
                         v1, id5, [](Packer& p) { p.pack_uint64(3); }, none),
                     "malformed request: method is not a string", 5, ""});
    cases.push_back({"params that are nil", four(v1, id5, ping, [](Packer& p) { p.pack_nil(); }),
                     "malformed request: params is not an array", 5, "ping"});
    cases.push_back({"params that are a string",
                     four(v1, id5, ping, [](Packer& p) { net::PackStr(p, "x"); }),
                     "malformed request: params is not an array", 5, "ping"});

    for (const auto& c : cases) {
        msgpack::object_handle handle;
        auto req = net::DecodeRequest(View(c.body), {}, handle);
        EXPECT_FALSE(req.ok()) << c.what;
        EXPECT_EQ(ErrorOf(req).rfind(c.error, 0), 0u) << c.what << ": " << ErrorOf(req);
        EXPECT_EQ(req.id, c.id) << c.what;
        EXPECT_EQ(req.method, c.method) << c.what;
    }
}

TEST(Envelope, RejectsMalformedReplies) {
    std::vector<msgpack::sbuffer> bad;
    bad.push_back(Body([](Packer& p) { net::PackStr(p, "pong"); }));
    bad.push_back(Body([](Packer& p) {
        p.pack_array(3);
        p.pack_uint64(1);
        p.pack_uint64(1);
        p.pack_true();
    }));
    bad.push_back(Body([](Packer& p) {
        p.pack_array(4);
        p.pack_uint64(1);
        net::PackStr(p, "1");
        p.pack_true();
        p.pack_nil();
    }));
    bad.push_back(Body([](Packer& p) {
        p.pack_array(4);
        p.pack_uint64(1);
        p.pack_uint64(1);
        p.pack_uint64(1);
        p.pack_nil();
    }));
    for (size_t i = 0; i < bad.size(); ++i) {
        auto handle = msgpack::unpack(bad[i].data(), bad[i].size());
        auto reply = net::DecodeReply(handle.get());
        ASSERT_FALSE(reply.ok()) << i;
        EXPECT_EQ(reply.error().code, util::Errc::kInvalid);
        EXPECT_EQ(reply.error().message, "malformed reply");
    }
}

TEST(Envelope, ReasonWords) {
    EXPECT_EQ(net::ReasonOf("block: not-found: block 9: not in the ledger"), "not-found");
    EXPECT_EQ(net::ReasonOf("apply: refused"), "refused");
    EXPECT_EQ(net::ReasonOf("no reason here"), "");
    EXPECT_EQ(net::ErrcOfReply("block: not-found: block 9"), util::Errc::kNotFound);
    EXPECT_EQ(net::ErrcOfReply("block: bad-params: params must be [height]"), util::Errc::kInvalid);
    EXPECT_EQ(net::ErrcOfReply("unknown method \"x\" (ping)"), util::Errc::kInvalid);
}

// --- the dispatcher --------------------------------------------------------

namespace {

net::Dispatcher MakeDispatcher(std::vector<std::string>& seen) {
    net::Dispatcher d;
    d.OnRequest([&seen](std::string_view method) { seen.emplace_back(method); });
    d.Add("ping", [](uint64_t id, const msgpack::object_array&) {
        return net::EncodeResult(id, [](Packer& p) { net::PackStr(p, "pong"); });
    });
    d.Add("echo", [](uint64_t id, const msgpack::object_array& params) {
        return net::EncodeResult(id, [&](Packer& p) { p.pack(params.size); });
    });
    d.Add("find", [](uint64_t id, const msgpack::object_array&) {
        return net::EncodeFailure(id, "find", net::kNotFound, "nothing here");
    });
    d.Add("boom", [](uint64_t, const msgpack::object_array&) -> msgpack::sbuffer {
        throw std::runtime_error("kaboom");
    });
    return d;
}

}  // namespace

TEST(Dispatcher, RunsTheMethodsHandler) {
    std::vector<std::string> seen;
    auto d = MakeDispatcher(seen);
    auto pong = DecodeReplyBody(
        d.Handle(View(net::EncodeRequest(4, "ping", [](Packer& p) { p.pack_array(0); }))));
    EXPECT_TRUE(pong.reply.ok);
    EXPECT_EQ(pong.reply.id, 4u);
    EXPECT_EQ(pong.text(), "pong");
    auto echo = DecodeReplyBody(d.Handle(View(net::EncodeRequest(5, "echo", [](Packer& p) {
        p.pack_array(3);
        p.pack_nil();
        p.pack_nil();
        p.pack_nil();
    }))));
    EXPECT_EQ(echo.reply.result.via.u64, 3u);
    auto find = DecodeReplyBody(
        d.Handle(View(net::EncodeRequest(6, "find", [](Packer& p) { p.pack_array(0); }))));
    EXPECT_FALSE(find.reply.ok);
    EXPECT_EQ(find.text(), "find: not-found: nothing here");
    EXPECT_EQ(seen, (std::vector<std::string>{"ping", "echo", "find"}));
}

TEST(Dispatcher, AnswersWhatItCannotRun) {
    std::vector<std::string> seen;
    auto d = MakeDispatcher(seen);
    auto unknown = DecodeReplyBody(
        d.Handle(View(net::EncodeRequest(8, "nope", [](Packer& p) { p.pack_array(0); }))));
    EXPECT_FALSE(unknown.reply.ok);
    EXPECT_EQ(unknown.reply.id, 8u);
    EXPECT_EQ(unknown.text(), "unknown method \"nope\" (ping, echo, find, boom)");

    auto boom = DecodeReplyBody(
        d.Handle(View(net::EncodeRequest(9, "boom", [](Packer& p) { p.pack_array(0); }))));
    EXPECT_FALSE(boom.reply.ok);
    EXPECT_EQ(boom.reply.id, 9u);
    EXPECT_EQ(boom.text(), "boom: internal error: kaboom");

    msgpack::sbuffer garbage;
    garbage.write("\xc1\xc1", 2);
    auto malformed = DecodeReplyBody(d.Handle(View(garbage)));
    EXPECT_FALSE(malformed.reply.ok);
    EXPECT_EQ(malformed.reply.id, 0u);
    EXPECT_EQ(malformed.text().rfind("malformed request: not msgpack: ", 0), 0u);
    EXPECT_EQ(seen, (std::vector<std::string>{"nope", "boom", ""}));
}

TEST(Dispatcher, AddAgainReplacesTheHandler) {
    std::vector<std::string> seen;
    auto d = MakeDispatcher(seen);
    d.Add("ping", [](uint64_t id, const msgpack::object_array&) {
        return net::EncodeResult(id, [](Packer& p) { net::PackStr(p, "PONG"); });
    });
    auto pong = DecodeReplyBody(
        d.Handle(View(net::EncodeRequest(1, "ping", [](Packer& p) { p.pack_array(0); }))));
    EXPECT_EQ(pong.text(), "PONG");
    auto unknown = DecodeReplyBody(
        d.Handle(View(net::EncodeRequest(2, "x", [](Packer& p) { p.pack_array(0); }))));
    EXPECT_EQ(unknown.text(), "unknown method \"x\" (ping, echo, find, boom)");
}

// --- the client and the router ---------------------------------------------

TEST(Client, TimesOutWhenNobodyAnswers) {
    test::TempDir dir("tc-net");
    const std::string endpoint = "ipc://" + dir.path() + "/nobody.sock";
    net::Client client(endpoint, 200ms);
    const auto start = std::chrono::steady_clock::now();
    auto reply = client.Call("ping");
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code, util::Errc::kIo);
    EXPECT_EQ(reply.error().message, "no answer from " + endpoint);
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 5s);
}

TEST(Client, TimesOutWhenTheRouterStaysSilent) {
    test::TempDir dir("tc-net");
    const std::string endpoint = "ipc://" + dir.path() + "/silent.sock";
    zmq::context_t context;
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind(endpoint);
    net::Client client(context, endpoint, 150ms);
    const auto start = std::chrono::steady_clock::now();
    auto reply = client.Call("ping");
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code, util::Errc::kIo);
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 5s);
    // The request did arrive, in the ROUTER's frames.
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    ASSERT_EQ(net::Poll(&item, 1, 1000ms), 1);
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(router, std::back_inserter(parts));
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[1].size(), 0u);
}

namespace {

// A ROUTER served by net::ServeRequest on a thread of its own until stop.
class TestServer {
  public:
    TestServer(zmq::context_t& context, const std::string& endpoint,
               std::function<msgpack::sbuffer(util::ByteView)> handle)
        : m_router(context, zmq::socket_type::router), m_handle(std::move(handle)) {
        m_router.set(zmq::sockopt::linger, 0);
        m_router.bind(endpoint);
        // The socket moves to the thread (thread creation is the full
        // barrier ZeroMQ asks for) and is used only there until join.
        m_thread = std::thread([this] {
            while (!m_stop.load()) {
                zmq::pollitem_t item{m_router.handle(), 0, ZMQ_POLLIN, 0};
                if (net::Poll(&item, 1, 20ms) == 0) continue;
                if (!net::ServeRequest(m_router, m_handle)) ++m_dropped;
            }
        });
    }
    ~TestServer() {
        m_stop = true;
        m_thread.join();
    }
    int dropped() const { return m_dropped.load(); }

  private:
    zmq::socket_t m_router;
    std::function<msgpack::sbuffer(util::ByteView)> m_handle;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_dropped{0};
    std::thread m_thread;
};

util::Errc ConflictOnGone(std::string_view error) {
    return net::ReasonOf(error) == "gone" ? util::Errc::kConflict : net::ErrcOfReply(error);
}

}  // namespace

TEST(Client, CallsAnInTestRouter) {
    test::TempDir dir("tc-net");
    const std::string endpoint = "ipc://" + dir.path() + "/test.sock";
    zmq::context_t context;
    std::vector<std::string> seen;
    std::mutex seen_mutex;  // the dispatcher's observer runs on the server's thread
    net::Dispatcher d;
    d.OnRequest([&](std::string_view m) {
        std::lock_guard lock(seen_mutex);
        seen.emplace_back(m);
    });
    d.Add("ping", [](uint64_t id, const msgpack::object_array&) {
        return net::EncodeResult(id, [](Packer& p) { net::PackStr(p, "pong"); });
    });
    d.Add("add", [](uint64_t id, const msgpack::object_array& params) {
        if (params.size != 2 || params.ptr[0].type != msgpack::type::POSITIVE_INTEGER ||
            params.ptr[1].type != msgpack::type::POSITIVE_INTEGER) {
            return net::EncodeFailure(id, "add", net::kBadParams, "params must be [uint, uint]");
        }
        return net::EncodeResult(
            id, [&](Packer& p) { p.pack_uint64(params.ptr[0].via.u64 + params.ptr[1].via.u64); });
    });
    d.Add("get", [](uint64_t id, const msgpack::object_array&) {
        return net::EncodeFailure(id, "get", net::kNotFound, "no such thing");
    });
    d.Add("old", [](uint64_t id, const msgpack::object_array&) {
        return net::EncodeFailure(id, "old", "gone", "too far back");
    });
    d.Add("weird", [](uint64_t id, const msgpack::object_array&) {
        msgpack::sbuffer buf;
        Packer p(buf);
        p.pack_array(4);
        p.pack_uint64(1);
        p.pack_uint64(id);
        p.pack_false();
        p.pack_uint64(42);  // an error that is not a string
        return buf;
    });
    TestServer server(context, endpoint, [&d](util::ByteView body) { return d.Handle(body); });

    net::Client client(context, endpoint, 5s);
    auto pong = client.Call("ping");
    ASSERT_TRUE(pong.ok()) << pong.error().message;
    ASSERT_EQ(pong->type, msgpack::type::STR);
    EXPECT_EQ(net::StrView(*pong), "pong");

    auto sum = client.Call("add", [](Packer& p) {
        p.pack_array(2);
        p.pack_uint64(40);
        p.pack_uint64(2);
    });
    ASSERT_TRUE(sum.ok()) << sum.error().message;
    EXPECT_EQ(sum->via.u64, 42u);

    auto bad = client.Call("add");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, util::Errc::kInvalid);
    EXPECT_EQ(bad.error().message, "add: bad-params: params must be [uint, uint]");

    auto missing = client.Call("get");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, util::Errc::kNotFound);

    auto unknown = client.Call("nope");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().message, "unknown method \"nope\" (ping, add, get, old, weird)");

    auto weird = client.Call("weird");
    ASSERT_FALSE(weird.ok());
    EXPECT_EQ(weird.error().message, "refused");

    // A daemon's own reason words map through its errc_of.
    auto plain_old = client.Call("old");
    EXPECT_EQ(plain_old.error().code, util::Errc::kInvalid);
    net::Client mapped(context, endpoint, 5s, &ConflictOnGone);
    auto old = mapped.Call("old");
    ASSERT_FALSE(old.ok());
    EXPECT_EQ(old.error().code, util::Errc::kConflict);
    EXPECT_EQ(old.error().message, "old: gone: too far back");

    // A message without the empty delimiter frame is dropped, unanswered;
    // the server carries on.
    zmq::socket_t raw(context, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 0);
    raw.connect(endpoint);
    auto body = net::EncodeRequest(1, "ping", [](Packer& p) { p.pack_array(0); });
    raw.send(net::ToMessage(body), zmq::send_flags::none);
    zmq::pollitem_t item{raw.handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(net::Poll(&item, 1, 200ms), 0);
    auto again = client.Call("ping");
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(server.dropped(), 1);
    // Every request seen once (the observer runs before the reply is sent).
    std::lock_guard lock(seen_mutex);
    EXPECT_EQ(seen.size(), 9u);
}

TEST(Client, SkipsALateReplyToATimedOutCall) {
    test::TempDir dir("tc-net");
    const std::string endpoint = "ipc://" + dir.path() + "/late.sock";
    zmq::context_t context;
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind(endpoint);
    // Holds the first request until the second arrives, then answers both,
    // the stale one first.
    std::thread server([&router] {
        std::vector<std::vector<zmq::message_t>> held;
        while (held.size() < 2) {
            std::vector<zmq::message_t> parts;
            (void)zmq::recv_multipart(router, std::back_inserter(parts));
            held.push_back(std::move(parts));
        }
        for (auto& parts : held) {
            msgpack::object_handle handle;
            auto req = net::DecodeRequest(
                {static_cast<const uint8_t*>(parts[2].data()), parts[2].size()}, {}, handle);
            auto reply = net::EncodeResult(req.id, [&](Packer& p) { net::PackStr(p, req.method); });
            router.send(parts[0], zmq::send_flags::sndmore);
            router.send(zmq::message_t(), zmq::send_flags::sndmore);
            router.send(net::ToMessage(reply), zmq::send_flags::none);
        }
    });
    net::Client client(context, endpoint, 300ms);
    auto first = client.Call("first");
    EXPECT_FALSE(first.ok());
    EXPECT_EQ(first.error().code, util::Errc::kIo);
    auto second = client.Call("second");
    server.join();
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(net::StrView(*second), "second");
}

TEST(Client, ReportsAnUnreadableReply) {
    test::TempDir dir("tc-net");
    const std::string endpoint = "ipc://" + dir.path() + "/garbage.sock";
    zmq::context_t context;
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind(endpoint);
    std::thread server([&router] {
        for (const char* answer : {"\xc1", "\x05"}) {  // not msgpack; not an envelope
            std::vector<zmq::message_t> parts;
            (void)zmq::recv_multipart(router, std::back_inserter(parts));
            router.send(parts[0], zmq::send_flags::sndmore);
            router.send(zmq::message_t(), zmq::send_flags::sndmore);
            router.send(zmq::buffer(answer, 1), zmq::send_flags::none);
        }
    });
    net::Client client(context, endpoint, 5s);
    auto unreadable = client.Call("ping");
    auto malformed = client.Call("ping");
    server.join();
    ASSERT_FALSE(unreadable.ok());
    EXPECT_EQ(unreadable.error().code, util::Errc::kInvalid);
    EXPECT_EQ(unreadable.error().message.rfind(endpoint + ": unreadable reply: ", 0), 0u)
        << unreadable.error().message;
    ASSERT_FALSE(malformed.ok());
    EXPECT_EQ(malformed.error().message, endpoint + ": malformed reply");
}

// --- signals and the daemon's pieces ---------------------------------------

TEST(SignalFd, SeesARaisedSigterm) {
    net::SignalFd signals;
    ASSERT_TRUE(signals.ok());
    EXPECT_EQ(signals.Read(), 0);  // nothing pending, and no blocking
    ASSERT_EQ(raise(SIGTERM), 0);  // blocked: pending, not fatal
    pollfd pfd{signals.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
    EXPECT_EQ(signals.Read(), SIGTERM);
    EXPECT_EQ(signals.Read(), 0);
    ASSERT_EQ(raise(SIGINT), 0);
    EXPECT_EQ(signals.Read(), SIGINT);
}

TEST(SignalFd, WakesAZmqPoll) {
    net::SignalFd signals;
    ASSERT_TRUE(signals.ok());
    ASSERT_EQ(raise(SIGTERM), 0);
    zmq::pollitem_t item{nullptr, signals.fd(), ZMQ_POLLIN, 0};
    ASSERT_EQ(net::Poll(&item, 1, 5000ms), 1);
    EXPECT_EQ(signals.Read(), SIGTERM);
}

TEST(SignalFd, RestoresTheMask) {
    sigset_t before;
    ASSERT_EQ(sigprocmask(SIG_SETMASK, nullptr, &before), 0);
    ASSERT_FALSE(sigismember(&before, SIGTERM));
    {
        net::SignalFd signals;
        sigset_t during;
        ASSERT_EQ(sigprocmask(SIG_SETMASK, nullptr, &during), 0);
        EXPECT_TRUE(sigismember(&during, SIGTERM));
        EXPECT_TRUE(sigismember(&during, SIGINT));
    }
    sigset_t after;
    ASSERT_EQ(sigprocmask(SIG_SETMASK, nullptr, &after), 0);
    EXPECT_FALSE(sigismember(&after, SIGTERM));
}

// The daemon loop: handlers in order for what is readable, after() each
// turn, a signal ends it with success and a checked handler's error with
// that error.
TEST(DaemonLoop, RunsHandlersUntilASignalOrAnError) {
    net::SignalFd signals;
    ASSERT_TRUE(signals.ok());
    zmq::context_t context;
    zmq::socket_t in(context, zmq::socket_type::pull), out(context, zmq::socket_type::push);
    in.bind("inproc://loop");
    out.connect("inproc://loop");
    std::vector<std::string> got;
    int turns = 0;
    net::DaemonLoop loop(signals);
    loop.Watch(in, [&] {
        zmq::message_t msg;
        while (in.recv(msg, zmq::recv_flags::dontwait)) got.push_back(msg.to_string());
    });
    out.send(zmq::str_buffer("one"), zmq::send_flags::none);
    auto status = loop.Run([] { return 20ms; },
                           [&] {
                               if (++turns == 3) {
                                   EXPECT_EQ(raise(SIGTERM), 0);
                               }
                               return util::Status{};
                           });
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(turns, 3);  // the signal is seen at the next poll, before any handler
    EXPECT_EQ(got, std::vector<std::string>{"one"});

    net::DaemonLoop checked(signals);
    checked.WatchChecked(in,
                         [&] { return util::Status(util::MakeError(util::Errc::kIo, "boom")); });
    out.send(zmq::str_buffer("two"), zmq::send_flags::none);
    status = checked.Run([] { return 1000ms; }, [] { return util::Status{}; });
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message, "boom");
}

TEST(Daemon, MakeRunDirIsPrivate) {
    test::TempDir dir("tc-net");
    const std::string datadir = dir.path() + "/data";
    ASSERT_TRUE(net::MakeRunDir(datadir).ok());
    struct stat st {};
    ASSERT_EQ(stat((datadir + "/run").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // An existing, looser directory is tightened.
    ASSERT_EQ(chmod((datadir + "/run").c_str(), 0755), 0);
    ASSERT_TRUE(net::MakeRunDir(datadir).ok());
    ASSERT_EQ(stat((datadir + "/run").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // A datadir that is a file.
    const std::string file = dir.path() + "/file";
    std::ofstream(file) << "x";
    auto bad = net::MakeRunDir(file);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, util::Errc::kIo);
    EXPECT_EQ(bad.error().message.rfind(file + "/run: ", 0), 0u) << bad.error().message;
}

TEST(Daemon, BindDaemonSocketsServesRequestsAndWelcomesSubscribers) {
    test::TempDir dir("tc-net");
    const std::string datadir = dir.path();
    ASSERT_TRUE(net::MakeRunDir(datadir).ok());
    zmq::context_t context;
    auto sockets = net::BindDaemonSockets(context, datadir, "demo", 1024, 5);
    ASSERT_TRUE(sockets.ok()) << sockets.error().message;
    EXPECT_EQ(sockets->requests_endpoint, "ipc://" + datadir + "/run/demo.sock");
    EXPECT_EQ(sockets->events_endpoint, "ipc://" + datadir + "/run/demo-events.sock");
    EXPECT_EQ(sockets->events.get(zmq::sockopt::sndhwm), 5);
    EXPECT_EQ(sockets->router.get(zmq::sockopt::maxmsgsize), 1024);

    // A subscriber first gets "welcome"; the XPUB's subscription is drained.
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::subscribe, "");
    sub.connect(sockets->events_endpoint);
    zmq::pollitem_t xpub_item{sockets->events.handle(), 0, ZMQ_POLLIN, 0};
    ASSERT_EQ(net::Poll(&xpub_item, 1, std::chrono::seconds(5)), 1);
    net::DrainSubscriptions(sockets->events);
    zmq::message_t welcome;
    sub.set(zmq::sockopt::rcvtimeo, 5000);
    ASSERT_TRUE(sub.recv(welcome));
    EXPECT_EQ(welcome.to_string(), "welcome");

    // The request socket answers: a ping through net::Client.
    std::thread server([&] {
        zmq::pollitem_t item{sockets->router.handle(), 0, ZMQ_POLLIN, 0};
        if (net::Poll(&item, 1, std::chrono::seconds(5)) == 1) {
            net::Dispatcher d;
            d.Add("ping", [](uint64_t id, const msgpack::object_array&) {
                return net::EncodeResult(id, [](net::Packer& p) { net::PackStr(p, "pong"); });
            });
            net::ServeRequest(sockets->router, [&](util::ByteView b) { return d.Handle(b); });
        }
    });
    net::Client client(sockets->requests_endpoint, std::chrono::seconds(5));
    EXPECT_TRUE(client.Ping().ok());
    server.join();

    // A second daemon cannot bind a file that is not a socket's: kIo naming it.
    zmq::context_t other;
    auto bad = net::BindDaemonSockets(other, dir.path() + "/no/such/dir", "demo", 1024);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, util::Errc::kIo);
    EXPECT_NE(bad.error().message.find("/no/such/dir/run/demo.sock"), std::string::npos);
}

TEST(Daemon, TimeLeftIsNeverNegative) {
    const auto now = std::chrono::steady_clock::now();
    EXPECT_EQ(net::TimeLeft(now - 5s), 0ms);
    EXPECT_GT(net::TimeLeft(now + 10s), 5s);
}

TEST(Daemon, NotifyTellsTheNotifySocket) {
    test::TempDir dir("tc-net");
    const std::string path = dir.path() + "/notify";
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    std::copy(path.begin(), path.end(), addr.sun_path);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(setenv("NOTIFY_SOCKET", path.c_str(), 1), 0);
    auto next = [fd] {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 5000) != 1) return std::string("(nothing)");
        char buf[256];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        return n < 0 ? std::string("(error)") : std::string(buf, static_cast<size_t>(n));
    };
    net::Notify(net::Lifecycle::kReady);
    EXPECT_EQ(next(), "READY=1");
    net::Notify(net::Lifecycle::kStopping);
    EXPECT_EQ(next(), "STOPPING=1");
    unsetenv("NOTIFY_SOCKET");
    net::Notify(net::Lifecycle::kReady);  // nobody listening: nothing happens
    close(fd);
}

// --- metrics ---------------------------------------------------------------

TEST(Metrics, RendersTheExposition) {
    net::LabeledCounter by_method({"ping", "status", "other"});
    by_method.Add("ping");
    by_method.Add("ping");
    by_method.Add("nope");  // counts as other
    by_method.Add("other");
    by_method.Add("status", 5);
    net::LatencyHistogram latency({0.001, 0.5, 1});
    latency.Observe(200us);
    latency.Observe(700ms);
    latency.Observe(1s);  // on the bound: in its bucket
    latency.Observe(3s);
    net::Exposition out;
    out.Gauge("t_height", "Height.", 7)
        .Counter("t_total", "Things.", 3)
        .Counters("t_requests_total", "Requests, by method.", "method", by_method)
        .Histogram("t_seconds", "Latency.", latency)
        .Counter("t_after_total", "After a histogram.", 1);
    EXPECT_EQ(out.str(),
              "# HELP t_height Height.\n"
              "# TYPE t_height gauge\n"
              "t_height 7\n"
              "# HELP t_total Things.\n"
              "# TYPE t_total counter\n"
              "t_total 3\n"
              "# HELP t_requests_total Requests, by method.\n"
              "# TYPE t_requests_total counter\n"
              "t_requests_total{method=\"ping\"} 2\n"
              "t_requests_total{method=\"status\"} 5\n"
              "t_requests_total{method=\"other\"} 2\n"
              "# HELP t_seconds Latency.\n"
              "# TYPE t_seconds histogram\n"
              "t_seconds_bucket{le=\"0.001\"} 1\n"
              "t_seconds_bucket{le=\"0.5\"} 1\n"
              "t_seconds_bucket{le=\"1\"} 3\n"
              "t_seconds_bucket{le=\"+Inf\"} 4\n"
              "t_seconds_sum 4.700200\n"
              "t_seconds_count 4\n"
              "# HELP t_after_total After a histogram.\n"
              "# TYPE t_after_total counter\n"
              "t_after_total 1\n");
}

TEST(Metrics, ServesGetMetricsOnPortZero) {
    std::atomic<int> renders{0};
    auto server = net::MetricsServer::Start(
        "127.0.0.1:0", [&renders] { return "t_renders " + std::to_string(++renders) + "\n"; });
    ASSERT_TRUE(server.ok()) << server.error().message;
    const int port = (*server)->port();
    ASSERT_GT(port, 0);
    httplib::Client http("127.0.0.1", port);
    http.set_connection_timeout(5);
    http.set_read_timeout(5);
    auto res = http.Get("/metrics");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "t_renders 1\n");
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4");
    auto again = http.Get("/metrics");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, "t_renders 2\n");
    auto other = http.Get("/other");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 404);

    // The port is taken: a second server fails rather than sharing it.
    auto second = net::MetricsServer::Start("127.0.0.1:" + std::to_string(port), [] { return ""; });
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, util::Errc::kIo);
    EXPECT_EQ(second.error().message,
              "--metrics-listen 127.0.0.1:" + std::to_string(port) + ": cannot listen there");
}

TEST(Metrics, RejectsListenAddressesThatDoNotParse) {
    for (const char* listen : {"nonsense", ":9100"}) {
        auto s = net::MetricsServer::Start(listen, [] { return ""; });
        ASSERT_FALSE(s.ok()) << listen;
        EXPECT_EQ(s.error().code, util::Errc::kUsage);
        EXPECT_EQ(s.error().message,
                  std::string("--metrics-listen ") + listen + ": expected HOST:PORT");
    }
    for (const char* listen : {"127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "127.0.0.1:-1"}) {
        auto s = net::MetricsServer::Start(listen, [] { return ""; });
        ASSERT_FALSE(s.ok()) << listen;
        EXPECT_EQ(s.error().code, util::Errc::kUsage);
        EXPECT_EQ(s.error().message,
                  std::string("--metrics-listen ") + listen + ": the port must be 0 to 65535");
    }
}
