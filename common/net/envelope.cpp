#include "net/envelope.h"

#include <exception>

#include "util/log.h"

namespace tc::net {

using Type = msgpack::type::object_type;
using util::Errc;
using util::MakeError;

void PackStr(Packer& p, std::string_view s) {
    p.pack_str(static_cast<uint32_t>(s.size()));
    p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackBin(Packer& p, util::ByteView b) {
    p.pack_bin(static_cast<uint32_t>(b.size()));
    p.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
}

util::ByteView BinView(const msgpack::object& o) {
    return {reinterpret_cast<const uint8_t*>(o.via.bin.ptr), o.via.bin.size};
}

std::string_view StrView(const msgpack::object& o) {
    return {o.via.str.ptr, o.via.str.size};
}

msgpack::sbuffer EncodeRequest(uint64_t id, std::string_view method,
                               const std::function<void(Packer&)>& params) {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(4);
    p.pack_uint64(kVersion);
    p.pack_uint64(id);
    PackStr(p, method);
    params(p);
    return buf;
}

util::Result<Reply> DecodeReply(const msgpack::object& r) {
    if (r.type != Type::ARRAY || r.via.array.size != 4 ||
        r.via.array.ptr[1].type != Type::POSITIVE_INTEGER ||
        r.via.array.ptr[2].type != Type::BOOLEAN) {
        return MakeError(Errc::kInvalid, "malformed reply");
    }
    return Reply{r.via.array.ptr[1].via.u64, r.via.array.ptr[2].via.boolean, r.via.array.ptr[3]};
}

std::string_view ReasonOf(std::string_view error) {
    // "METHOD: REASON: detail"
    const size_t colon = error.find(": ");
    if (colon == std::string_view::npos) return {};
    const std::string_view rest = error.substr(colon + 2);
    return rest.substr(0, rest.find(": "));
}

util::Errc ErrcOfReply(std::string_view error) {
    return ReasonOf(error) == kNotFound ? Errc::kNotFound : Errc::kInvalid;
}

namespace {

msgpack::sbuffer EncodeReply(uint64_t id, bool ok, const std::function<void(Packer&)>& fill) {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(4);
    p.pack_uint64(kVersion);
    p.pack_uint64(id);
    if (ok) {
        p.pack_true();
    } else {
        p.pack_false();
    }
    fill(p);
    return buf;
}

}  // namespace

msgpack::sbuffer EncodeResult(uint64_t id, const std::function<void(Packer&)>& result) {
    return EncodeReply(id, true, result);
}

msgpack::sbuffer EncodeError(uint64_t id, std::string_view error) {
    return EncodeReply(id, false, [&](Packer& p) { PackStr(p, error); });
}

std::string ErrorText(std::string_view method, std::string_view reason, std::string_view detail) {
    std::string text;
    text.reserve(method.size() + reason.size() + detail.size() + 4);
    text.append(method).append(": ").append(reason).append(": ").append(detail);
    return text;
}

msgpack::sbuffer EncodeFailure(uint64_t id, std::string_view method, std::string_view reason,
                               std::string_view detail) {
    return EncodeError(id, ErrorText(method, reason, detail));
}

Request DecodeRequest(util::ByteView body, const UnpackLimits& limits,
                      msgpack::object_handle& handle) {
    Request req;
    try {
        msgpack::unpack_limit limit(limits.array, limits.map, limits.str, body.size(), limits.ext,
                                    limits.depth);
        size_t used = 0;
        handle = msgpack::unpack(reinterpret_cast<const char*>(body.data()), body.size(), used,
                                 nullptr, nullptr, limit);
        if (used != body.size()) {
            req.malformed = "malformed request: " + std::to_string(body.size() - used) +
                            " trailing bytes after the request";
            return req;
        }
    } catch (const std::exception& e) {
        req.malformed = std::string("malformed request: not msgpack: ") + e.what();
        return req;
    }
    const msgpack::object& o = handle.get();
    if (o.type != Type::ARRAY || o.via.array.size != 4) {
        req.malformed = "malformed request: expected [version, id, method, params]";
        return req;
    }
    const msgpack::object* f = o.via.array.ptr;
    // The method is read before the id is checked, so that a daemon counts
    // a request with a bad id under its method.
    if (f[2].type == Type::STR) req.method = StrView(f[2]);
    if (f[1].type != Type::POSITIVE_INTEGER) {
        req.malformed = "malformed request: id is not an unsigned integer";
        return req;
    }
    req.id = f[1].via.u64;
    if (f[0].type != Type::POSITIVE_INTEGER || f[0].via.u64 != kVersion) {
        req.malformed = "unsupported request version (this daemon speaks 1)";
        return req;
    }
    if (f[2].type != Type::STR) {
        req.malformed = "malformed request: method is not a string";
        return req;
    }
    if (f[3].type != Type::ARRAY) {
        req.malformed = "malformed request: params is not an array";
        return req;
    }
    req.params = f[3].via.array;
    return req;
}

void Dispatcher::Add(std::string method, Handler handler) {
    for (auto& [name, h] : m_handlers) {
        if (name == method) {
            h = std::move(handler);
            return;
        }
    }
    m_handlers.emplace_back(std::move(method), std::move(handler));
}

msgpack::sbuffer Dispatcher::Handle(util::ByteView body) const {
    msgpack::object_handle handle;
    const Request req = DecodeRequest(body, m_limits, handle);
    if (m_observe) m_observe(req.method);
    if (!req.ok()) return EncodeError(req.id, req.malformed);
    for (const auto& [name, handler] : m_handlers) {
        if (name != req.method) continue;
        try {
            return handler(req.id, req.params);
        } catch (const std::exception& e) {
            log::Error("request {} {}: {}", req.id, req.method, e.what());
            return EncodeError(req.id, std::string(req.method) + ": internal error: " + e.what());
        }
    }
    std::string known;
    for (const auto& [name, handler] : m_handlers) {
        if (!known.empty()) known += ", ";
        known += name;
    }
    return EncodeError(req.id,
                       "unknown method \"" + std::string(req.method) + "\" (" + known + ")");
}

nlohmann::json MsgpackToJson(const msgpack::object& o) {
    using Type = msgpack::type::object_type;
    switch (o.type) {
        case Type::NIL:
            return nullptr;
        case Type::BOOLEAN:
            return o.via.boolean;
        case Type::POSITIVE_INTEGER:
            return o.via.u64;
        case Type::NEGATIVE_INTEGER:
            return o.via.i64;
        case Type::STR:
            return std::string(StrView(o));
        case Type::BIN:
            return util::ToHex(BinView(o));
        case Type::ARRAY: {
            nlohmann::json a = nlohmann::json::array();
            for (const auto& e : o.via.array) a.push_back(MsgpackToJson(e));
            return a;
        }
        case Type::MAP: {
            nlohmann::json m = nlohmann::json::object();
            for (const auto& kv : o.via.map) {
                m[kv.key.type == Type::STR ? std::string(StrView(kv.key)) : "?"] =
                    MsgpackToJson(kv.val);
            }
            return m;
        }
        default:
            return nullptr;
    }
}

}  // namespace tc::net
