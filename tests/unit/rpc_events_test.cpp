// The event stream of tc-rpc (tools/tc-rpc/rpc_events.h): the SSE form of
// each stage's events, and the hub's bounded per-subscriber queues.
#include "rpc_events.h"

#include <gtest/gtest.h>

#include <chrono>
#include <msgpack.hpp>
#include <string>
#include <thread>

#include "net/envelope.h"

namespace tc {
namespace {

using namespace std::chrono_literals;
using Kind = rpc::Subscription::Kind;

template <typename F>
util::Bytes Pack(F f) {
    msgpack::sbuffer buf;
    net::Packer p(buf);
    f(p);
    return util::Bytes(reinterpret_cast<const uint8_t*>(buf.data()),
                       reinterpret_cast<const uint8_t*>(buf.data()) + buf.size());
}

const util::Bytes kHash(32, 0xab);

std::string HexAb() {
    std::string s;
    for (int i = 0; i < 32; ++i) s += "ab";
    return s;
}

TEST(RpcEvents, SseEventForm) {
    EXPECT_EQ(rpc::SseEvent("block", {{"seq", 5}}), "event: block\ndata: {\"seq\":5}\n\n");
    EXPECT_EQ(rpc::kSseWelcome, ": welcome\n\n");
}

TEST(RpcEvents, BlockTxAndPbftEventsBecomeSse) {
    auto block = Pack([](net::Packer& p) {
        p.pack_array(3);
        p.pack_uint64(5);
        p.pack_uint64(5);
        net::PackBin(p, kHash);
    });
    EXPECT_EQ(*rpc::EventToSse("block", block),
              "event: block\ndata: {\"hash\":\"" + HexAb() + "\",\"height\":5,\"seq\":5}\n\n");
    auto tx = Pack([](net::Packer& p) {
        p.pack_array(4);
        p.pack_uint64(12);
        net::PackStr(p, "committed");
        net::PackBin(p, kHash);
        net::PackStr(p, "committed");
    });
    auto text = rpc::EventToSse("tx", tx);
    ASSERT_TRUE(text);
    ASSERT_EQ(text->rfind("event: tx\ndata: ", 0), 0u);
    auto data = nlohmann::json::parse(text->substr(16));
    EXPECT_EQ(data["seq"], 12);
    EXPECT_EQ(data["event"], "committed");
    EXPECT_EQ(data["txid"], HexAb());
    EXPECT_EQ(data["reason"], "committed");
    auto pbft = Pack([](net::Packer& p) {
        p.pack_array(5);
        p.pack_uint64(3);
        net::PackStr(p, "view-change");
        p.pack_uint64(7);
        p.pack_uint64(1);
        net::PackBin(p, kHash);
    });
    text = rpc::EventToSse("pbft", pbft);
    ASSERT_TRUE(text);
    data = nlohmann::json::parse(text->substr(std::string("event: pbft\ndata: ").size()));
    EXPECT_EQ(data["event"], "view-change");
    EXPECT_EQ(data["view"], 1);
}

TEST(RpcEvents, UnknownTopicsAndWrongShapesAreDropped) {
    auto block = Pack([](net::Packer& p) {
        p.pack_array(3);
        p.pack_uint64(5);
        p.pack_uint64(5);
        net::PackBin(p, kHash);
    });
    EXPECT_FALSE(rpc::EventToSse("mystery", block));
    EXPECT_FALSE(rpc::EventToSse("tx", block));  // a block's shape on the tx topic
    auto short_block = Pack([](net::Packer& p) {
        p.pack_array(2);
        p.pack_uint64(5);
        p.pack_uint64(5);
    });
    EXPECT_FALSE(rpc::EventToSse("block", short_block));
    const util::Bytes garbage = {0xc1, 0xff};
    EXPECT_FALSE(rpc::EventToSse("block", garbage));
}

TEST(RpcEvents, HubDeliversInOrderToEverySubscriber) {
    rpc::EventHub hub(2, 10);
    auto a = hub.Subscribe();
    auto b = hub.Subscribe();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(hub.Subscribe());  // --max-event-subscribers 2
    hub.Publish("one");
    hub.Publish("two");
    EXPECT_EQ(a->Wait(0ms).text, "one");
    EXPECT_EQ(a->Wait(0ms).text, "two");
    EXPECT_EQ(a->Wait(0ms).kind, Kind::kIdle);
    EXPECT_EQ(b->Wait(0ms).text, "one");
    b.reset();  // a place is free again
    EXPECT_EQ(hub.subscribers(), 1u);
    EXPECT_TRUE(hub.Subscribe());
}

TEST(RpcEvents, FullQueueDropsOnlyThatSubscriber) {
    rpc::EventHub hub(4, 2);
    auto slow = hub.Subscribe();
    auto fast = hub.Subscribe();
    hub.Publish("1");
    EXPECT_EQ(fast->Wait(0ms).text, "1");
    hub.Publish("2");
    EXPECT_EQ(fast->Wait(0ms).text, "2");
    EXPECT_FALSE(slow->dropped());
    hub.Publish("3");  // slow holds 1 and 2: the third overflows it
    EXPECT_TRUE(slow->dropped());
    EXPECT_EQ(slow->Wait(0ms).kind, Kind::kEnd);
    EXPECT_EQ(fast->Wait(0ms).text, "3");
    EXPECT_EQ(hub.dropped(), 1u);
}

TEST(RpcEvents, CloseEndsWaitingStreams) {
    rpc::EventHub hub(4, 10);
    auto s = hub.Subscribe();
    std::thread closer([&] {
        std::this_thread::sleep_for(20ms);
        hub.Close();
    });
    // Wakes on the close, long before its timeout.
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(s->Wait(30s).kind, Kind::kEnd);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    closer.join();
    EXPECT_FALSE(hub.Subscribe());
}

}  // namespace
}  // namespace tc
