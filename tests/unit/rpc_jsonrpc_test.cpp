// The JSON-RPC 2.0 layer of tc-rpc without HTTP (tools/tc-rpc/rpc_jsonrpc.h):
// parse errors, invalid requests, notifications, batches and their bounds.
#include "rpc_jsonrpc.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace tc {
namespace {

using nlohmann::json;
using rpc::HandleBody;
using rpc::Outcome;

// echo [x] -> x; boom throws; everything else is unknown.
std::optional<Outcome> Echo(std::string_view method, const json& params) {
    if (method == "echo") return Outcome::Ok(params.empty() ? json(nullptr) : params[0]);
    if (method == "boom") throw std::runtime_error("it broke");
    if (method == "fail") return Outcome::Fail(-5, "not here", json{{"what", "x"}});
    return std::nullopt;
}

json Handle(const std::string& body, size_t max_batch = 10) {
    auto out = HandleBody(body, Echo, max_batch);
    if (!out) return json("no response");
    return json::parse(*out);
}

int Code(const json& response) {
    return response.at("error").at("code").get<int>();
}

TEST(RpcJsonRpc, AnswersARequestWithItsId) {
    json r = Handle(R"({"jsonrpc":"2.0","id":"a7","method":"echo","params":[42]})");
    EXPECT_EQ(r["jsonrpc"], "2.0");
    EXPECT_EQ(r["result"], 42);
    EXPECT_EQ(r["id"], "a7");
    EXPECT_FALSE(r.contains("error"));
    // Absent params are [].
    r = Handle(R"({"jsonrpc":"2.0","id":3,"method":"echo"})");
    EXPECT_TRUE(r["result"].is_null());
    EXPECT_EQ(r["id"], 3);
}

TEST(RpcJsonRpc, NotJsonIsAParseErrorWithNullId) {
    json r = Handle(R"({"jsonrpc":"2.0","method":)");
    EXPECT_EQ(Code(r), rpc::kParseError);
    EXPECT_TRUE(r["id"].is_null());
    EXPECT_EQ(Code(Handle("")), rpc::kParseError);
}

TEST(RpcJsonRpc, DeepNestingIsRefusedBeforeParsing) {
    const std::string deep(100000, '[');
    EXPECT_EQ(Code(Handle(deep)), rpc::kParseError);
    EXPECT_TRUE(rpc::DepthWithin(R"({"a":"[[[[[[[[[[[[[[[[[[[["})", 2));
    EXPECT_TRUE(rpc::DepthWithin(R"(["\"[[[["])", 1));
    EXPECT_FALSE(rpc::DepthWithin("[[[]]]", 2));
    EXPECT_TRUE(rpc::DepthWithin("[[]][[]]", 2));
}

TEST(RpcJsonRpc, MalformedRequestsAreInvalid) {
    EXPECT_EQ(Code(Handle("5")), rpc::kInvalidRequest);
    EXPECT_EQ(Code(Handle(R"({"id":1,"method":"echo"})")), rpc::kInvalidRequest);  // no jsonrpc
    EXPECT_EQ(Code(Handle(R"({"jsonrpc":"1.0","id":1,"method":"echo"})")), rpc::kInvalidRequest);
    EXPECT_EQ(Code(Handle(R"({"jsonrpc":"2.0","id":1,"method":5})")), rpc::kInvalidRequest);
    EXPECT_EQ(Code(Handle(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":7})")),
              rpc::kInvalidRequest);
    json r = Handle(R"({"jsonrpc":"2.0","id":{"x":1},"method":"echo"})");
    EXPECT_EQ(Code(r), rpc::kInvalidRequest);
    EXPECT_TRUE(r["id"].is_null());
    // The id is kept when it could be read.
    EXPECT_EQ(Handle(R"({"jsonrpc":"2.0","id":9,"method":5})")["id"], 9);
}

TEST(RpcJsonRpc, NamedParamsAreInvalidParams) {
    json r = Handle(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":1}})");
    EXPECT_EQ(Code(r), rpc::kInvalidParams);
}

TEST(RpcJsonRpc, UnknownMethodThrowingMethodAndErrorData) {
    json r = Handle(R"({"jsonrpc":"2.0","id":1,"method":"nope"})");
    EXPECT_EQ(Code(r), rpc::kMethodNotFound);
    EXPECT_EQ(r["error"]["message"], "method not found: nope");
    r = Handle(R"({"jsonrpc":"2.0","id":1,"method":"boom"})");
    EXPECT_EQ(Code(r), rpc::kInternalError);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("it broke"), std::string::npos);
    r = Handle(R"({"jsonrpc":"2.0","id":1,"method":"fail"})");
    EXPECT_EQ(Code(r), -5);
    EXPECT_EQ(r["error"]["data"]["what"], "x");
    // No data member when there is none.
    EXPECT_FALSE(Handle(R"({"jsonrpc":"2.0","id":1,"method":"nope"})")["error"].contains("data"));
}

TEST(RpcJsonRpc, NotificationsGetNoResponse) {
    EXPECT_FALSE(HandleBody(R"({"jsonrpc":"2.0","method":"echo","params":[1]})", Echo, 10));
    EXPECT_FALSE(HandleBody(R"({"jsonrpc":"2.0","method":"nope"})", Echo, 10));
    // A null id is not a notification.
    EXPECT_TRUE(HandleBody(R"({"jsonrpc":"2.0","id":null,"method":"echo"})", Echo, 10));
}

TEST(RpcJsonRpc, BatchAnswersEachRequestInOrder) {
    json r = Handle(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":["a"]},
                        {"jsonrpc":"2.0","method":"echo","params":["skipped"]},
                        {"jsonrpc":"2.0","id":2,"method":"nope"},
                        7])");
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0]["result"], "a");
    EXPECT_EQ(r[0]["id"], 1);
    EXPECT_EQ(Code(r[1]), rpc::kMethodNotFound);
    EXPECT_EQ(r[1]["id"], 2);
    EXPECT_EQ(Code(r[2]), rpc::kInvalidRequest);
    // Only notifications: nothing.
    EXPECT_FALSE(HandleBody(R"([{"jsonrpc":"2.0","method":"echo"}])", Echo, 10));
}

TEST(RpcJsonRpc, EmptyAndOversizeBatchesAreOneError) {
    json r = Handle("[]");
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(Code(r), rpc::kInvalidRequest);
    std::string three = R"([{"jsonrpc":"2.0","id":1,"method":"echo"},
        {"jsonrpc":"2.0","id":2,"method":"echo"},{"jsonrpc":"2.0","id":3,"method":"echo"}])";
    r = Handle(three, 2);
    ASSERT_TRUE(r.is_object());
    EXPECT_EQ(Code(r), rpc::kInvalidRequest);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("--max-batch 2"), std::string::npos);
    EXPECT_EQ(Handle(three, 3).size(), 3u);
}

TEST(RpcJsonRpc, ObserveSeesEveryMethod) {
    std::vector<std::string> seen;
    (void)HandleBody(R"([{"jsonrpc":"2.0","id":1,"method":"echo"},{"id":2,"method":3},
                       {"jsonrpc":"2.0","method":"x"}])",
                     Echo, 10, [&](std::string_view m) { seen.emplace_back(m); });
    EXPECT_EQ(seen, (std::vector<std::string>{"echo", "", "x"}));
}

TEST(RpcJsonRpc, ABatchHandlerGetsTheWellFormedCallsAndAnswersInOrder) {
    std::vector<std::string> seen;
    rpc::BatchHandler batch = [&](const std::vector<std::pair<std::string, json>>& calls) {
        std::vector<std::optional<Outcome>> out;
        for (const auto& [method, params] : calls) {
            seen.push_back(method);
            out.push_back(Echo(method, params));
        }
        return out;
    };
    auto body = HandleBody(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":["a"]},)"
                           R"({"jsonrpc":"2.0","id":2,"method":7},)"
                           R"({"jsonrpc":"2.0","method":"echo","params":["note"]},)"
                           R"({"jsonrpc":"2.0","id":3,"method":"nope"},)"
                           R"({"jsonrpc":"2.0","id":4,"method":"fail"}])",
                           Echo, 10, {}, batch);
    ASSERT_TRUE(body);
    json r = json::parse(*body);
    EXPECT_EQ(seen, (std::vector<std::string>{"echo", "echo", "nope", "fail"}));
    ASSERT_EQ(r.size(), 4u);  // the notification has no response
    EXPECT_EQ(r[0]["id"], 1);
    EXPECT_EQ(r[0]["result"], "a");
    EXPECT_EQ(Code(r[1]), rpc::kInvalidRequest);
    EXPECT_EQ(r[2]["id"], 3);
    EXPECT_EQ(Code(r[2]), rpc::kMethodNotFound);
    EXPECT_EQ(r[3]["id"], 4);
    EXPECT_EQ(Code(r[3]), -5);

    // A handler that throws answers every call with -32603.
    rpc::BatchHandler broken = [](const std::vector<std::pair<std::string, json>>&)
        -> std::vector<std::optional<Outcome>> { throw std::runtime_error("it broke"); };
    auto failed = HandleBody(R"([{"jsonrpc":"2.0","id":1,"method":"echo"}])", Echo, 10, {}, broken);
    ASSERT_TRUE(failed);
    EXPECT_EQ(Code(json::parse(*failed)[0]), rpc::kInternalError);
}

}  // namespace
}  // namespace tc
