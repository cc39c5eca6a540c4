// tc-load's side of the tc-rpc HTTP API (man/tc-rpc.1, the brief's
// interfaces): where the node is (URL and cookie), JSON-RPC 2.0 calls and
// batches over HTTP with Basic auth, and the server-sent event stream of
// GET /events, parsed incrementally (SseParser) and followed by a thread that
// notes when each watched transaction is committed (EventFollower).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "util/result.h"

namespace tc::load {

// Where the node's tc-rpc listens and how to log in.
struct Endpoint {
    std::string url;  // "http://HOST:PORT"
    std::string user;
    std::string password;  // empty: no Authorization header
};

// --rpc-url, else the first line of DATADIR/run/rpc.url, else
// http://127.0.0.1:8732; the cookie from --cookie FILE, else
// DATADIR/rpc.cookie when it exists ("__cookie__:HEX"). Errors: kNotFound or
// kIo for a --cookie file that cannot be read, kInvalid for a cookie without
// a ':'.
util::Result<Endpoint> ResolveEndpoint(const std::string& rpc_url, const std::string& cookie,
                                       const std::string& datadir);

// One JSON-RPC reply: a result, or an error's code, message and data.
struct RpcReply {
    bool ok = false;
    nlohmann::json result;
    int64_t code = 0;
    std::string message;
    nlohmann::json data;
};

// Matches the reply to a batch of `count` requests with ids first_id ..
// first_id + count - 1 (a JSON-RPC server may answer in any order). A single
// error object instead of an array (the server refused the whole batch)
// gives that error to every request. Errors: kInvalid for a reply that is
// neither, an unknown or repeated id, or a request without a reply.
util::Result<std::vector<RpcReply>> MatchBatchReplies(const nlohmann::json& reply,
                                                      uint64_t first_id, size_t count);

// The reason word of a refusal: error.data.reason for -26, else "error CODE".
std::string RefusalReason(const RpcReply& reply);

// A JSON-RPC client over one keep-alive HTTP connection. Not thread-safe.
class RpcClient {
  public:
    RpcClient(Endpoint endpoint, std::chrono::milliseconds timeout);
    ~RpcClient();
    RpcClient(const RpcClient&) = delete;
    RpcClient& operator=(const RpcClient&) = delete;

    // One call; an error reply becomes kInvalid "METHOD: CODE MESSAGE",
    // except -5 (kNotFound). Transport failures: kIo naming the URL; HTTP 401
    // is kPermission (a wrong or missing cookie).
    util::Result<nlohmann::json> Call(const std::string& method, nlohmann::json params);

    // A batch of calls of one method, one per params entry; one reply each,
    // in the order of params_list.
    util::Result<std::vector<RpcReply>> Batch(const std::string& method,
                                              const std::vector<nlohmann::json>& params_list);

  private:
    util::Result<nlohmann::json> Post(const nlohmann::json& body);

    struct Impl;
    std::unique_ptr<Impl> m_impl;
    uint64_t m_next_id = 1;
};

// An incremental text/event-stream parser: feed it the body as it arrives,
// in chunks cut anywhere; it calls back once per complete event (a blank
// line after one or more data lines). Lines end in LF or CRLF; ':' lines are
// comments (counted); fields other than event and data are ignored. A line
// longer than max_line_bytes is a protocol error (Feed returns false and the
// parser must be dropped).
struct SseEvent {
    std::string event = "message";
    std::string data;
};
class SseParser {
  public:
    explicit SseParser(size_t max_line_bytes = 1 << 20) : m_max_line(max_line_bytes) {}
    [[nodiscard]] bool Feed(std::string_view chunk, const std::function<void(SseEvent&&)>& emit);
    uint64_t comments() const { return m_comments; }

  private:
    void Line(std::string_view line, const std::function<void(SseEvent&&)>& emit);

    size_t m_max_line;
    std::string m_partial;
    SseEvent m_event;
    bool m_has_data = false;
    uint64_t m_comments = 0;
};

// Follows GET /events on its own thread and keeps, for every watched txid
// (lowercase hex), the time its "tx" event "committed" arrived. Reconnects
// after a drop (the node disconnects a slow subscriber); commits announced
// while it was away are not seen.
class EventFollower {
  public:
    using Clock = std::chrono::steady_clock;

    explicit EventFollower(Endpoint endpoint);
    ~EventFollower();  // stops the thread
    EventFollower(const EventFollower&) = delete;
    EventFollower& operator=(const EventFollower&) = delete;

    // Starts the thread and waits until the node has sent the stream's first
    // bytes (its ": welcome"), so that nothing submitted after this returns
    // can be missed. kIo when it does not within timeout, or on HTTP errors
    // (kPermission for 401).
    util::Status Start(std::chrono::milliseconds timeout);
    void Stop();

    void Watch(const std::vector<std::string>& txids);
    // Marks a watched txid committed now, unless already (for a commit learned
    // by polling gettransaction).
    void MarkCommitted(const std::string& txid);
    // Commit times of the watched txids committed so far.
    std::unordered_map<std::string, Clock::time_point> Committed() const;
    uint64_t committed_count() const { return m_count.load(); }
    bool IsCommitted(const std::string& txid) const;
    uint64_t reconnects() const { return m_reconnects.load(); }

  private:
    void Loop();
    void OnEvent(SseEvent&& event);

    Endpoint m_endpoint;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    mutable std::mutex m_mu;
    std::unordered_set<std::string> m_watched;
    std::unordered_map<std::string, Clock::time_point> m_committed;
    std::atomic<uint64_t> m_count{0};
    std::atomic<uint64_t> m_reconnects{0};
    // Start's handshake
    bool m_connected = false;
    std::string m_failure;
    std::condition_variable m_cv;
    struct ClientSlot;
    std::shared_ptr<ClientSlot> m_client;
};

}  // namespace tc::load
