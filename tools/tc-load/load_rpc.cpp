#include "load_rpc.h"

#include <httplib.h>

#include <fstream>
#include <set>
#include <sstream>

namespace tc::load {

using util::Errc;
using util::MakeError;

namespace {

std::string Trim(std::string s) {
    const char* ws = " \t\r\n";
    s.erase(s.find_last_not_of(ws) + 1);
    s.erase(0, s.find_first_not_of(ws));
    return s;
}

util::Result<std::string> ReadFirstLine(const std::string& path) {
    std::ifstream in(path);
    if (!in) return MakeError(Errc::kNotFound, path + ": cannot read it");
    std::string line;
    std::getline(in, line);
    return Trim(line);
}

bool Exists(const std::string& path) {
    std::ifstream in(path);
    return static_cast<bool>(in);
}

RpcReply ReplyOf(const nlohmann::json& j) {
    RpcReply r;
    if (j.contains("error") && !j["error"].is_null()) {
        const auto& e = j["error"];
        if (e.is_object()) {
            if (e.contains("code") && e["code"].is_number_integer()) r.code = e["code"];
            if (e.contains("message") && e["message"].is_string()) r.message = e["message"];
            if (e.contains("data")) r.data = e["data"];
        } else {
            r.message = e.dump();
        }
        return r;
    }
    r.ok = true;
    if (j.contains("result")) r.result = j["result"];
    return r;
}

nlohmann::json Request(uint64_t id, const std::string& method, nlohmann::json params) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

}  // namespace

util::Result<Endpoint> ResolveEndpoint(const std::string& rpc_url, const std::string& cookie,
                                       const std::string& datadir) {
    Endpoint ep;
    if (!rpc_url.empty()) {
        ep.url = rpc_url;
    } else if (const std::string f = datadir + "/run/rpc.url"; Exists(f)) {
        TC_TRY(line, ReadFirstLine(f));
        if (line.empty()) return MakeError(Errc::kInvalid, f + ": empty");
        ep.url = line;
    } else {
        ep.url = "http://127.0.0.1:8732";
    }
    while (!ep.url.empty() && ep.url.back() == '/') ep.url.pop_back();
    std::string cookie_file = cookie;
    if (cookie_file.empty()) {
        cookie_file = datadir + "/rpc.cookie";
        if (!Exists(cookie_file)) return ep;  // no auth; a 401 will say so
    }
    TC_TRY(text, ReadFirstLine(cookie_file));
    const size_t colon = text.find(':');
    if (colon == std::string::npos) {
        return MakeError(Errc::kInvalid, cookie_file + ": expected USER:PASSWORD");
    }
    ep.user = text.substr(0, colon);
    ep.password = text.substr(colon + 1);
    return ep;
}

util::Result<std::vector<RpcReply>> MatchBatchReplies(const nlohmann::json& reply,
                                                      uint64_t first_id, size_t count) {
    if (reply.is_object() && reply.contains("error")) {
        return std::vector<RpcReply>(count, ReplyOf(reply));
    }
    if (!reply.is_array()) {
        return MakeError(Errc::kInvalid, "batch reply: neither an array nor an error object");
    }
    std::vector<RpcReply> out(count);
    std::vector<bool> seen(count, false);
    for (size_t i = 0; i < reply.size(); ++i) {
        const auto& r = reply[i];
        const std::string at = "batch reply[" + std::to_string(i) + "]";
        if (!r.is_object() || !r.contains("id")) {
            return MakeError(Errc::kInvalid, at + ": not a reply object with an id");
        }
        if (!r["id"].is_number_integer() || r["id"].get<int64_t>() < 0) {
            // A null id: the server could not read a request of the batch.
            if (r["id"].is_null() && r.contains("error")) {
                RpcReply e = ReplyOf(r);
                return MakeError(Errc::kInvalid, at + ": error " + std::to_string(e.code) + " " +
                                                     e.message + " for an unknown request");
            }
            return MakeError(Errc::kInvalid, at + ": id is not an unsigned integer");
        }
        const auto id = static_cast<uint64_t>(r["id"].get<int64_t>());
        if (id < first_id || id - first_id >= count) {
            return MakeError(Errc::kInvalid, at + ": id " + std::to_string(id) + " not asked for");
        }
        const size_t k = id - first_id;
        if (seen[k]) return MakeError(Errc::kInvalid, at + ": id " + std::to_string(id) + " twice");
        seen[k] = true;
        out[k] = ReplyOf(r);
    }
    for (size_t k = 0; k < count; ++k) {
        if (!seen[k]) {
            return MakeError(Errc::kInvalid,
                             "batch reply: no reply for id " + std::to_string(first_id + k));
        }
    }
    return out;
}

std::string RefusalReason(const RpcReply& reply) {
    if (reply.code == -26 && reply.data.is_object() && reply.data.contains("reason") &&
        reply.data["reason"].is_string()) {
        return reply.data["reason"];
    }
    return "error " + std::to_string(reply.code);
}

struct RpcClient::Impl {
    explicit Impl(const Endpoint& ep) : endpoint(ep), client(ep.url) {}
    Endpoint endpoint;
    httplib::Client client;
};

RpcClient::RpcClient(Endpoint endpoint, std::chrono::milliseconds timeout)
    : m_impl(std::make_unique<Impl>(endpoint)) {
    auto& c = m_impl->client;
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout - s);
    c.set_connection_timeout(s.count(), us.count());
    c.set_read_timeout(s.count(), us.count());
    c.set_write_timeout(s.count(), us.count());
    c.set_keep_alive(true);
    c.set_tcp_nodelay(true);  // headers and body go out in two writes: no Nagle delay
    if (!endpoint.password.empty()) c.set_basic_auth(endpoint.user, endpoint.password);
}

RpcClient::~RpcClient() = default;

util::Result<nlohmann::json> RpcClient::Post(const nlohmann::json& body) {
    const std::string& url = m_impl->endpoint.url;
    auto res = m_impl->client.Post("/", body.dump(), "application/json");
    if (!res) {
        return MakeError(
            Errc::kIo, "cannot reach " + url + " (" + httplib::to_string(res.error()) + " error)");
    }
    if (res->status == 401) {
        return MakeError(Errc::kPermission,
                         url + ": 401 unauthorized (check --cookie or DATADIR/rpc.cookie)");
    }
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    const bool rpc_shaped = j.is_array() || (j.is_object() && j.contains("jsonrpc"));
    if (j.is_discarded() || (res->status != 200 && !rpc_shaped)) {
        return MakeError(
            Errc::kIo, url + ": HTTP " + std::to_string(res->status) + " without a JSON-RPC reply");
    }
    return j;
}

util::Result<nlohmann::json> RpcClient::Call(const std::string& method, nlohmann::json params) {
    const uint64_t id = m_next_id++;
    TC_TRY(j, Post(Request(id, method, std::move(params))));
    if (!j.is_object()) return MakeError(Errc::kInvalid, method + ": reply is not an object");
    RpcReply r = ReplyOf(j);
    if (!r.ok) {
        return MakeError(r.code == -5 ? Errc::kNotFound : Errc::kInvalid,
                         method + ": " + std::to_string(r.code) + " " + r.message);
    }
    return r.result;
}

util::Result<std::vector<RpcReply>> RpcClient::Batch(
    const std::string& method, const std::vector<nlohmann::json>& params_list) {
    if (params_list.empty()) return std::vector<RpcReply>{};
    const uint64_t first = m_next_id;
    nlohmann::json body = nlohmann::json::array();
    for (const auto& p : params_list) body.push_back(Request(m_next_id++, method, p));
    TC_TRY(j, Post(body));
    auto matched = MatchBatchReplies(j, first, params_list.size());
    if (!matched) return std::move(matched).error().In(method);
    return matched;
}

bool SseParser::Feed(std::string_view chunk, const std::function<void(SseEvent&&)>& emit) {
    while (!chunk.empty()) {
        const size_t nl = chunk.find('\n');
        if (nl == std::string_view::npos) {
            m_partial.append(chunk);
            return m_partial.size() <= m_max_line;
        }
        std::string_view line;
        if (m_partial.empty()) {
            line = chunk.substr(0, nl);
        } else {
            m_partial.append(chunk.substr(0, nl));
            line = m_partial;
        }
        if (line.size() > m_max_line) return false;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        Line(line, emit);
        m_partial.clear();
        chunk.remove_prefix(nl + 1);
    }
    return true;
}

void SseParser::Line(std::string_view line, const std::function<void(SseEvent&&)>& emit) {
    if (line.empty()) {
        if (m_has_data) emit(std::move(m_event));
        m_event = SseEvent{};
        m_has_data = false;
        return;
    }
    if (line.front() == ':') {
        ++m_comments;
        return;
    }
    const size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "event") {
        m_event.event = std::string(value);
    } else if (field == "data") {
        if (m_has_data) m_event.data.push_back('\n');
        m_event.data.append(value);
        m_has_data = true;
    }
}

struct EventFollower::ClientSlot {
    std::mutex mu;
    httplib::Client* client = nullptr;
    std::atomic<bool> done{false};
};

EventFollower::EventFollower(Endpoint endpoint)
    : m_endpoint(std::move(endpoint)), m_client(std::make_shared<ClientSlot>()) {}

EventFollower::~EventFollower() {
    Stop();
}

util::Status EventFollower::Start(std::chrono::milliseconds timeout) {
    m_thread = std::thread([this] { Loop(); });
    std::unique_lock lock(m_mu);
    if (!m_cv.wait_for(lock, timeout, [&] { return m_connected || !m_failure.empty(); })) {
        lock.unlock();
        Stop();
        return MakeError(Errc::kIo, m_endpoint.url + "/events: no event stream within " +
                                        std::to_string(timeout.count()) + " ms");
    }
    if (!m_connected) {
        const std::string failure = m_failure;
        lock.unlock();
        Stop();
        const bool auth = failure.find("401") != std::string::npos;
        return MakeError(auth ? Errc::kPermission : Errc::kIo, failure);
    }
    return {};
}

void EventFollower::Stop() {
    m_stop = true;
    if (!m_thread.joinable()) return;
    // client->stop() only interrupts a request in flight; repeat it until the
    // thread has seen m_stop, in case it was between requests.
    while (!m_client->done.load()) {
        {
            std::lock_guard lock(m_client->mu);
            if (m_client->client) m_client->client->stop();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    m_thread.join();
}

void EventFollower::Watch(const std::vector<std::string>& txids) {
    std::lock_guard lock(m_mu);
    m_watched.insert(txids.begin(), txids.end());
}

void EventFollower::MarkCommitted(const std::string& txid) {
    std::lock_guard lock(m_mu);
    if (m_watched.count(txid) && m_committed.emplace(txid, Clock::now()).second) ++m_count;
}

std::unordered_map<std::string, EventFollower::Clock::time_point> EventFollower::Committed() const {
    std::lock_guard lock(m_mu);
    return m_committed;
}

bool EventFollower::IsCommitted(const std::string& txid) const {
    std::lock_guard lock(m_mu);
    return m_committed.count(txid) != 0;
}

void EventFollower::OnEvent(SseEvent&& event) {
    if (event.event != "tx") return;
    auto j = nlohmann::json::parse(event.data, nullptr, false);
    if (!j.is_object() || !j.contains("event") || !j.contains("txid")) return;
    if (!j["event"].is_string() || j["event"] != "committed" || !j["txid"].is_string()) return;
    MarkCommitted(j["txid"].get<std::string>());
}

void EventFollower::Loop() {
    bool ever_connected = false;
    while (!m_stop.load()) {
        httplib::Client client(m_endpoint.url);
        client.set_connection_timeout(5, 0);
        // The node sends a keep-alive comment every 15 s.
        client.set_read_timeout(60, 0);
        if (!m_endpoint.password.empty())
            client.set_basic_auth(m_endpoint.user, m_endpoint.password);
        {
            std::lock_guard lock(m_client->mu);
            if (m_stop.load()) break;
            m_client->client = &client;
        }
        SseParser parser;
        int status = 0;
        auto res = client.Get(
            "/events", httplib::Headers{{"Accept", "text/event-stream"}},
            [&](const httplib::Response& r) {
                status = r.status;
                return r.status == 200;
            },
            [&](const char* data, size_t len) {
                if (!ever_connected) {
                    ever_connected = true;
                    std::lock_guard lock(m_mu);
                    m_connected = true;
                    m_cv.notify_all();
                }
                if (!parser.Feed({data, len}, [&](SseEvent&& e) { OnEvent(std::move(e)); })) {
                    return false;
                }
                return !m_stop.load();
            });
        {
            std::lock_guard lock(m_client->mu);
            m_client->client = nullptr;
        }
        if (m_stop.load()) break;
        if (!ever_connected) {
            std::lock_guard lock(m_mu);
            m_failure = m_endpoint.url + "/events: " +
                        (status == 401 ? std::string("401 unauthorized (check --cookie)")
                         : status != 0 ? "HTTP " + std::to_string(status)
                         : !res        ? "cannot connect: " + httplib::to_string(res.error())
                                       : std::string("stream ended"));
            m_cv.notify_all();
            break;
        }
        ++m_reconnects;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    m_client->done = true;
}

}  // namespace tc::load
