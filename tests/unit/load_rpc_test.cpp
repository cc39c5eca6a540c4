// tc-load's client side of tc-rpc (tools/tc-load/load_rpc.h): the SSE
// parser fed in chunks cut anywhere, JSON-RPC batch reply matching, and
// where the URL and the cookie come from.
#include "load_rpc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace tc::load {
namespace {

const std::string kStream =
    ": welcome\n\n"
    "event: block\ndata: {\"seq\":5,\"height\":5,\"hash\":\"ab\"}\n\n"
    "event: tx\r\ndata: {\"seq\":12,\"event\":\"committed\",\"txid\":\"cd\"}\r\n\r\n"
    ": keep-alive\n\n"
    "data: first\ndata:second\nid: 7\n\n"
    "event: lonely\n\n";  // no data: not an event

std::vector<SseEvent> ParseInChunks(const std::string& text, std::vector<size_t> cuts,
                                    uint64_t* comments = nullptr) {
    SseParser parser;
    std::vector<SseEvent> events;
    size_t at = 0;
    cuts.push_back(text.size());
    for (size_t cut : cuts) {
        EXPECT_TRUE(parser.Feed(std::string_view(text).substr(at, cut - at),
                                [&](SseEvent&& e) { events.push_back(std::move(e)); }));
        at = cut;
    }
    if (comments) *comments = parser.comments();
    return events;
}

void ExpectStreamEvents(const std::vector<SseEvent>& events) {
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].event, "block");
    EXPECT_EQ(events[0].data, "{\"seq\":5,\"height\":5,\"hash\":\"ab\"}");
    EXPECT_EQ(events[1].event, "tx");
    EXPECT_EQ(events[1].data, "{\"seq\":12,\"event\":\"committed\",\"txid\":\"cd\"}");
    EXPECT_EQ(events[2].event, "message");
    EXPECT_EQ(events[2].data, "first\nsecond");
}

TEST(LoadSse, ParsesAWholeStream) {
    uint64_t comments = 0;
    ExpectStreamEvents(ParseInChunks(kStream, {}, &comments));
    EXPECT_EQ(comments, 2u);
}

TEST(LoadSse, SameEventsWhereverTheChunksAreCut) {
    for (size_t cut = 0; cut <= kStream.size(); ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        ExpectStreamEvents(ParseInChunks(kStream, {cut}));
    }
    // One byte at a time: every CRLF split between chunks.
    std::vector<size_t> every;
    for (size_t i = 1; i < kStream.size(); ++i) every.push_back(i);
    ExpectStreamEvents(ParseInChunks(kStream, every));
}

TEST(LoadSse, NoEventBeforeItsBlankLine) {
    SseParser parser;
    int n = 0;
    ASSERT_TRUE(parser.Feed("event: tx\ndata: x\n", [&](SseEvent&&) { ++n; }));
    EXPECT_EQ(n, 0);
    ASSERT_TRUE(parser.Feed("\n", [&](SseEvent&&) { ++n; }));
    EXPECT_EQ(n, 1);
}

TEST(LoadSse, OverlongLineIsAnError) {
    SseParser parser(16);
    EXPECT_TRUE(parser.Feed("data: short\n\n", [](SseEvent&&) {}));
    EXPECT_FALSE(parser.Feed(std::string(40, 'x'), [](SseEvent&&) {}));
}

nlohmann::json Ok(uint64_t id, nlohmann::json result) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

TEST(LoadBatch, MatchesRepliesInAnyOrder) {
    nlohmann::json refusal = {{"jsonrpc", "2.0"}, {"id", 10}};
    refusal["error"] = {{"code", -26},
                        {"message", "double-spend: x"},
                        {"data", {{"reason", "double-spend"}, {"detail", "x"}}}};
    nlohmann::json reply = nlohmann::json::array();
    reply.push_back(Ok(12, "c"));
    reply.push_back(refusal);
    reply.push_back(Ok(11, "b"));
    auto m = MatchBatchReplies(reply, 10, 3);
    ASSERT_TRUE(m.ok()) << m.error().message;
    ASSERT_EQ(m->size(), 3u);
    EXPECT_FALSE((*m)[0].ok);
    EXPECT_EQ((*m)[0].code, -26);
    EXPECT_EQ(RefusalReason((*m)[0]), "double-spend");
    EXPECT_TRUE((*m)[1].ok);
    EXPECT_EQ((*m)[1].result, "b");
    EXPECT_EQ((*m)[2].result, "c");
}

TEST(LoadBatch, RejectsMissingDuplicateAndUnknownIds) {
    auto missing = MatchBatchReplies(nlohmann::json::array({Ok(1, 1)}), 1, 2);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("no reply for id 2"), std::string::npos);
    EXPECT_FALSE(MatchBatchReplies(nlohmann::json::array({Ok(1, 1), Ok(1, 1)}), 1, 2).ok());
    EXPECT_FALSE(MatchBatchReplies(nlohmann::json::array({Ok(1, 1), Ok(9, 1)}), 1, 2).ok());
    EXPECT_FALSE(MatchBatchReplies(nlohmann::json::array({Ok(0, 1), Ok(1, 1)}), 1, 2).ok());
    EXPECT_FALSE(MatchBatchReplies("nonsense", 1, 1).ok());
    nlohmann::json null_id = {{"jsonrpc", "2.0"},
                              {"id", nullptr},
                              {"error", {{"code", -32700}, {"message", "parse error"}}}};
    EXPECT_FALSE(MatchBatchReplies(nlohmann::json::array({null_id}), 1, 1).ok());
}

TEST(LoadBatch, AWholeBatchRefusedGivesEveryoneTheError) {
    nlohmann::json reply = {{"jsonrpc", "2.0"},
                            {"id", nullptr},
                            {"error", {{"code", -32600}, {"message", "invalid request"}}}};
    auto m = MatchBatchReplies(reply, 5, 3);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(m->size(), 3u);
    for (const auto& r : *m) {
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.code, -32600);
        EXPECT_EQ(RefusalReason(r), "error -32600");
    }
}

void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
}

TEST(LoadEndpoint, FlagThenRunFileThenDefault) {
    test::TempDir dir("tc-load");
    auto def = ResolveEndpoint("", "", dir.path());
    ASSERT_TRUE(def.ok());
    EXPECT_EQ(def->url, "http://127.0.0.1:8732");
    EXPECT_TRUE(def->password.empty());

    Write(dir.path() + "/run/rpc.url", "http://127.0.0.1:45678\n");
    Write(dir.path() + "/rpc.cookie", "__cookie__:" + std::string(64, 'a'));
    auto file = ResolveEndpoint("", "", dir.path());
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->url, "http://127.0.0.1:45678");
    EXPECT_EQ(file->user, "__cookie__");
    EXPECT_EQ(file->password, std::string(64, 'a'));

    Write(dir.path() + "/other.cookie", "__cookie__:beef\n");
    auto flag = ResolveEndpoint("http://10.0.0.1:1/", dir.path() + "/other.cookie", dir.path());
    ASSERT_TRUE(flag.ok());
    EXPECT_EQ(flag->url, "http://10.0.0.1:1");
    EXPECT_EQ(flag->password, "beef");

    EXPECT_FALSE(ResolveEndpoint("", dir.path() + "/absent.cookie", dir.path()).ok());
    Write(dir.path() + "/bad.cookie", "nocolon");
    EXPECT_FALSE(ResolveEndpoint("", dir.path() + "/bad.cookie", dir.path()).ok());
}

}  // namespace
}  // namespace tc::load
