#include "rpc_client.h"

#include <httplib.h>

#include <fstream>
#include <ostream>

#include "rpc_auth.h"

namespace tc::rpc {

using nlohmann::json;
using util::Errc;
using util::MakeError;

namespace {

httplib::Client MakeClient(const std::string& url, const Options& opts) {
    httplib::Client client(url);
    const auto timeout = std::chrono::milliseconds(opts.timeout_ms);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_tcp_nodelay(true);
    return client;
}

std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

std::string ResolveUrl(const Options& opts) {
    if (!opts.rpc_url.empty()) return opts.rpc_url;
    std::ifstream in(UrlPath(opts.common.datadir));
    std::string line;
    if (in && std::getline(in, line) && !Trim(line).empty()) return Trim(line);
    return "http://" + std::string(kDefaultListen);
}

std::string ResolveCookiePath(const Options& opts) {
    return opts.cookie_file.empty() ? CookiePath(opts.common.datadir) : opts.cookie_file;
}

json ParseParam(const std::string& text) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return text;
    return j;
}

std::string FormatResult(const json& result, bool as_json) {
    if (result.is_string() && !as_json) return result.get<std::string>();
    return result.dump();
}

util::Status CallMethod(const Options& opts, const std::vector<std::string>& call,
                        std::ostream& out) {
    const std::string url = ResolveUrl(opts);
    const std::string cookie_path = ResolveCookiePath(opts);
    TC_TRY(secret, ReadCookie(cookie_path));
    json params = json::array();
    for (size_t i = 1; i < call.size(); ++i) params.push_back(ParseParam(call[i]));
    const json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", call[0]}, {"params", params}};
    httplib::Client client = MakeClient(url, opts);
    httplib::Headers headers = {{"Authorization", BasicAuthHeader(secret)}};
    auto res = client.Post("/", headers, request.dump(), "application/json");
    if (!res) {
        return MakeError(Errc::kIo,
                         "cannot connect to " + url + ": " + httplib::to_string(res.error()));
    }
    if (res->status == 401) {
        return MakeError(Errc::kPermission, url + ": 401 unauthorized: the cookie " + cookie_path +
                                                " is not this daemon's (restarted since?)");
    }
    json reply = json::parse(res->body, nullptr, false);
    if (reply.is_discarded() || !reply.is_object()) {
        return MakeError(Errc::kInvalid, url + ": HTTP " + std::to_string(res->status) +
                                             ": not a JSON-RPC response");
    }
    if (const auto e = reply.find("error"); e != reply.end() && e->is_object()) {
        return MakeError(Errc::kInvalid, e->value("message", std::string("error")) + " (code " +
                                             std::to_string(e->value("code", 0)) + ")");
    }
    if (!reply.contains("result")) {
        return MakeError(Errc::kInvalid, url + ": a response without result");
    }
    out << FormatResult(reply["result"], opts.common.json) << std::endl;
    return {};
}

util::Status Ping(const Options& opts, std::ostream& out) {
    const std::string url = ResolveUrl(opts);
    httplib::Client client = MakeClient(url, opts);
    auto res = client.Get("/health");
    if (!res) {
        return MakeError(Errc::kIo,
                         "cannot connect to " + url + ": " + httplib::to_string(res.error()));
    }
    out << Trim(res->body) << std::endl;
    return {};
}

}  // namespace tc::rpc
