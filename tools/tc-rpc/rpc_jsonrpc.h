// The JSON-RPC 2.0 layer of tc-rpc run, without HTTP: reads a request body
// (one request object or a batch array), checks each request's shape, runs
// the method a Handler names and writes the response body. The methods
// themselves are in rpc_methods.h; the HTTP server (rpc_server.h) only moves
// bodies in and out. The codes are those of man/tc-rpc.1 (ERRORS).
//
//   request   {"jsonrpc": "2.0", "method": STR, "params": [...]?, "id": ID?}
//             ID a string, a number or null; no "id" at all: a notification,
//             which is run and gets no response
//   response  {"jsonrpc": "2.0", "result": ..., "id": ID}
//             {"jsonrpc": "2.0", "error": {"code", "message", "data"?}, "id": ID}
//
// A batch is an array of requests, answered by an array of the responses of
// its non-notifications, in order. An empty batch, or one of more than
// max_batch entries, is one -32600 error; a body that is not JSON (or nests
// deeper than kMaxDepth) is one -32700 error with id null.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tc::rpc {

// JSON-RPC error codes (man/tc-rpc.1, ERRORS).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kNotFound = -5;    // no such block or transaction
inline constexpr int kTxRefused = -26;  // the pool refused the transaction
inline constexpr int kStageDown = -28;  // a stage did not answer in time

// How deep a request body may nest arrays and objects: deeper is a parse
// error, found before the JSON parser (which recurses) sees the body.
inline constexpr size_t kMaxDepth = 64;

struct RpcError {
    int code = kInternalError;
    std::string message;
    nlohmann::json data;  // null: no "data" member
};

// What a method gives: a result, or an error.
class Outcome {
  public:
    static Outcome Ok(nlohmann::json result) { return Outcome(std::move(result), std::nullopt); }
    static Outcome Fail(int code, std::string message, nlohmann::json data = nullptr) {
        return Outcome(nullptr, RpcError{code, std::move(message), std::move(data)});
    }
    bool ok() const { return !m_error.has_value(); }
    const nlohmann::json& result() const { return m_result; }
    const RpcError& error() const { return *m_error; }

  private:
    Outcome(nlohmann::json result, std::optional<RpcError> error)
        : m_result(std::move(result)), m_error(std::move(error)) {}
    nlohmann::json m_result;
    std::optional<RpcError> m_error;
};

// Runs one method: `params` is always an array (absent params become []).
// Returns nullopt when there is no such method (-32601). May throw: the
// exception becomes -32603 "internal error: WHAT".
using Handler =
    std::function<std::optional<Outcome>(std::string_view method, const nlohmann::json& params)>;

// Runs the well-formed requests of one batch together: one outcome per call,
// in order (nullopt: no such method). Lets the methods group work: tc-rpc
// sends a batch's transactions to the pool in one submit. May throw: every
// call of the batch then gets -32603 "internal error: WHAT".
using BatchHandler = std::function<std::vector<std::optional<Outcome>>(
    const std::vector<std::pair<std::string, nlohmann::json>>& calls)>;

// true when `body` nests arrays/objects at most max_depth deep (strings
// are skipped, escapes included). Not a JSON check: the parser does that.
bool DepthWithin(std::string_view body, size_t max_depth);

// The response body for `body`; nullopt when nothing is to be sent back (a
// notification, or a batch of only notifications). `observe` (may be empty)
// is called with each request's method, "" for one without a readable
// method, before it runs: for metrics. A batch runs through `batch` when
// given, else one request after the other through `handler`.
std::optional<std::string> HandleBody(std::string_view body, const Handler& handler,
                                      size_t max_batch,
                                      const std::function<void(std::string_view)>& observe = {},
                                      const BatchHandler& batch = {});

// The error response object for one request id.
nlohmann::json ErrorResponse(const RpcError& error, const nlohmann::json& id);

}  // namespace tc::rpc
