#include "rpc_jsonrpc.h"

#include <exception>

namespace tc::rpc {

using nlohmann::json;

namespace {

// One request of a body or a batch, read: either `error` (the response to a
// malformed request) or the call to make.
struct Parsed {
    std::optional<json> error;
    std::string name;
    json params = json::array();
    json id;
    bool notification = false;
};

Parsed Parse(const json& request, const std::function<void(std::string_view)>& observe) {
    Parsed out;
    auto invalid = [&](std::string message, const json& id) {
        out.error = ErrorResponse(RpcError{kInvalidRequest, std::move(message), nullptr}, id);
        return out;
    };
    if (!request.is_object()) {
        if (observe) observe("");
        return invalid("invalid request: not an object", nullptr);
    }
    // The id first, so that the other errors can name it.
    const auto id_it = request.find("id");
    out.notification = id_it == request.end();
    out.id = out.notification ? json(nullptr) : *id_it;
    if (!out.id.is_null() && !out.id.is_string() && !out.id.is_number()) {
        if (observe) observe("");
        return invalid("invalid request: id must be a string, a number or null", nullptr);
    }
    const auto version = request.find("jsonrpc");
    const auto method = request.find("method");
    if (method == request.end() || !method->is_string()) {
        if (observe) observe("");
        return invalid("invalid request: method must be a string", out.id);
    }
    out.name = method->get<std::string>();
    if (observe) observe(out.name);
    if (version == request.end() || *version != "2.0") {
        return invalid("invalid request: jsonrpc must be \"2.0\"", out.id);
    }
    if (const auto p = request.find("params"); p != request.end()) {
        if (p->is_object()) {
            out.error = ErrorResponse(
                RpcError{kInvalidParams, out.name + ": params must be an array (positional)",
                         nullptr},
                out.id);
            return out;
        }
        if (!p->is_array()) return invalid("invalid request: params must be an array", out.id);
        out.params = *p;
    }
    return out;
}

// The response to a parsed call and its outcome; nullopt for a
// notification.
std::optional<json> Respond(const Parsed& call, std::optional<Outcome> outcome) {
    if (!outcome) outcome = Outcome::Fail(kMethodNotFound, "method not found: " + call.name);
    if (call.notification) return std::nullopt;
    if (!outcome->ok()) return ErrorResponse(outcome->error(), call.id);
    return json{{"jsonrpc", "2.0"}, {"result", outcome->result()}, {"id", call.id}};
}

Outcome InternalError(const std::string& name, const std::exception& e) {
    return Outcome::Fail(kInternalError, name + ": internal error: " + e.what());
}

// One request of a body or a batch: its response, or nullopt for a
// notification.
std::optional<json> HandleOne(const json& request, const Handler& handler,
                              const std::function<void(std::string_view)>& observe) {
    Parsed call = Parse(request, observe);
    if (call.error) return call.error;
    std::optional<Outcome> outcome;
    try {
        outcome = handler(call.name, call.params);
    } catch (const std::exception& e) {
        outcome = InternalError(call.name, e);
    }
    return Respond(call, std::move(outcome));
}

}  // namespace

bool DepthWithin(std::string_view body, size_t max_depth) {
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (in_string) {
            if (c == '\\') {
                ++i;  // the escaped character, whatever it is
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return true;
}

json ErrorResponse(const RpcError& error, const json& id) {
    json e = {{"code", error.code}, {"message", error.message}};
    if (!error.data.is_null()) e["data"] = error.data;
    return json{{"jsonrpc", "2.0"}, {"error", std::move(e)}, {"id", id}};
}

std::optional<std::string> HandleBody(std::string_view body, const Handler& handler,
                                      size_t max_batch,
                                      const std::function<void(std::string_view)>& observe,
                                      const BatchHandler& batch) {
    auto single_error = [](int code, std::string message) {
        return ErrorResponse(RpcError{code, std::move(message), nullptr}, nullptr).dump();
    };
    if (!DepthWithin(body, kMaxDepth)) {
        return single_error(kParseError,
                            "parse error: nested deeper than " + std::to_string(kMaxDepth));
    }
    json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) return single_error(kParseError, "parse error: not JSON");
    if (!request.is_array()) {
        auto response = HandleOne(request, handler, observe);
        if (!response) return std::nullopt;
        return response->dump();
    }
    if (request.empty()) return single_error(kInvalidRequest, "invalid request: empty batch");
    if (request.size() > max_batch) {
        return single_error(kInvalidRequest,
                            "invalid request: batch of " + std::to_string(request.size()) +
                                " exceeds --max-batch " + std::to_string(max_batch));
    }
    json responses = json::array();
    if (!batch) {
        for (const auto& one : request) {
            if (auto response = HandleOne(one, handler, observe)) {
                responses.push_back(std::move(*response));
            }
        }
    } else {
        std::vector<Parsed> parsed;
        std::vector<std::pair<std::string, json>> calls;
        for (const auto& one : request) {
            parsed.push_back(Parse(one, observe));
            if (!parsed.back().error) calls.emplace_back(parsed.back().name, parsed.back().params);
        }
        std::vector<std::optional<Outcome>> outcomes;
        try {
            outcomes = batch(calls);
        } catch (const std::exception& e) {
            outcomes.assign(calls.size(), InternalError("batch", e));
        }
        if (outcomes.size() != calls.size()) {
            outcomes.assign(calls.size(), Outcome::Fail(kInternalError,
                                                        "batch: internal error: "
                                                        "outcomes do not match the calls"));
        }
        size_t next = 0;
        for (const Parsed& call : parsed) {
            std::optional<json> response =
                call.error ? call.error : Respond(call, std::move(outcomes[next++]));
            if (response) responses.push_back(std::move(*response));
        }
    }
    if (responses.empty()) return std::nullopt;
    return responses.dump();
}

}  // namespace tc::rpc
