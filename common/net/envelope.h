// The request/reply envelope every tc-* daemon speaks on its ROUTER socket
// (DESIGN §2; the messages are in man/timecoin-protocol.7), as msgpack,
// without sockets: the daemons, their clients, the fuzzers and the tests
// share it. The socket side is net/rpc.h.
//
//   request  [1, id (uint), method (str), params (array)]
//   reply    [1, id, ok (bool), result | error (str)]
//
// An error reply's string is "METHOD: REASON: detail", REASON one of the
// words below (or a word of the daemon's own, such as tc-store's
// gap-beyond-retention), so that a client can tell a missing block from a
// bad request without parsing the detail ("block: not-found: block 9: not
// in the ledger"). A request that names no method ("malformed request:
// ...", "unknown method ...") has no REASON.
//
// Caveat: the decoders return views (std::string_view, msgpack::object)
// into the msgpack::object_handle the body was unpacked into; keep the
// handle alive while they are used.
#pragma once

#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace tc::net {

inline constexpr uint64_t kVersion = 1;

// Generic REASON words of error replies.
inline constexpr std::string_view kBadParams = "bad-params";  // params the method cannot take
inline constexpr std::string_view kNotFound = "not-found";    // no such block, tx, ...
inline constexpr std::string_view kRefused = "refused";       // well-formed, but breaks a rule
inline constexpr std::string_view kFailed = "failed";         // the daemon could not answer (I/O)

using Packer = msgpack::packer<msgpack::sbuffer>;

void PackStr(Packer& p, std::string_view s);
void PackBin(Packer& p, util::ByteView b);
// The bytes of a BIN object and the text of a STR object. The type is not
// checked: check o.type first.
util::ByteView BinView(const msgpack::object& o);
std::string_view StrView(const msgpack::object& o);

// A msgpack object as JSON, for the clients' --json output and tc-rpc: BIN
// as lowercase hex, maps with string keys (others become "?"), EXT and
// floats as null.
nlohmann::json MsgpackToJson(const msgpack::object& o);

// --- the client's side -----------------------------------------------------

// A request body [1, id, method, params]; `params` packs the params array
// (exactly one object, an array).
msgpack::sbuffer EncodeRequest(uint64_t id, std::string_view method,
                               const std::function<void(Packer&)>& params);

// A reply, decoded. `result` is the method's result when ok, else the error
// (a STR in every reply a tc-* daemon sends).
struct Reply {
    uint64_t id = 0;
    bool ok = false;
    msgpack::object result;
};

// kInvalid "malformed reply" unless `body` is an array of 4 whose id is a
// uint and whose ok is a bool. The version is not checked.
util::Result<Reply> DecodeReply(const msgpack::object& body);

// The REASON of an error reply's string "METHOD: REASON: detail"; "" when it
// has none.
std::string_view ReasonOf(std::string_view error);

// The Errc for an error reply's string: kNotFound for not-found, kInvalid
// otherwise. Daemons with REASON words of their own wrap this (tc-store
// maps gap-beyond-retention to kConflict).
util::Errc ErrcOfReply(std::string_view error);

// --- the daemon's side -----------------------------------------------------

// A success reply [1, id, true, result]; `result` packs exactly one object.
msgpack::sbuffer EncodeResult(uint64_t id, const std::function<void(Packer&)>& result);
// An error reply [1, id, false, error].
msgpack::sbuffer EncodeError(uint64_t id, std::string_view error);
// "METHOD: REASON: detail".
std::string ErrorText(std::string_view method, std::string_view reason, std::string_view detail);
// EncodeError(id, ErrorText(method, reason, detail)).
msgpack::sbuffer EncodeFailure(uint64_t id, std::string_view method, std::string_view reason,
                               std::string_view detail);

// How big a request body may unpack to (msgpack::unpack_limit); a BIN may be
// as large as the body, since the socket's maxmsgsize bounds that.
struct UnpackLimits {
    size_t array = 1024;  // elements of one array
    size_t map = 0;       // pairs of one map (0: no maps)
    size_t str = 256;     // bytes of one string
    size_t ext = 0;       // bytes of one extension (0: none)
    size_t depth = 4;     // nesting
};

// A request body, decoded. Well-formed when `malformed` is empty; else
// `malformed` is the error reply's text ("malformed request: ...",
// "unsupported request version ..."), to be sent with `id`. `id` is 0 until
// the id is read, `method` "" until the method is read (a daemon counting
// requests by method counts "" as "other").
struct Request {
    uint64_t id = 0;
    std::string_view method;
    msgpack::object_array params{};
    std::string malformed;
    bool ok() const { return malformed.empty(); }
};

// Unpacks `body` into `handle` within `limits` and decodes it. Never throws.
// The rejections, in the order they are checked:
//   not msgpack, or beyond limits       "malformed request: not msgpack: ..."
//   not an array of 4                   "malformed request: expected [version, id, method, params]"
//   id not a uint                       "malformed request: id is not an unsigned integer"
//   version not 1                       "unsupported request version (this daemon speaks 1)"
//   method not a str                    "malformed request: method is not a string"
//   params not an array                 "malformed request: params is not an array"
Request DecodeRequest(util::ByteView body, const UnpackLimits& limits,
                      msgpack::object_handle& handle);

// Method name -> handler, for a daemon's request socket. Handle() decodes a
// body, runs the handler of its method and returns the reply body; whatever
// the body holds, it returns a reply and never throws.
class Dispatcher {
  public:
    // The reply body for request `id` with these params. May throw: the
    // exception becomes the error reply "METHOD: internal error: what" (and
    // an error in the log).
    using Handler =
        std::function<msgpack::sbuffer(uint64_t id, const msgpack::object_array& params)>;

    explicit Dispatcher(const UnpackLimits& limits = {}) : m_limits(limits) {}

    // Registers `method`; a second Add of the same name replaces the handler.
    // The unknown-method error lists the methods in the order added.
    void Add(std::string method, Handler handler);
    // Called once for every body Handle() takes, before its handler, with
    // the method read ("" when none could be): for metrics.
    void OnRequest(std::function<void(std::string_view method)> observe) {
        m_observe = std::move(observe);
    }

    msgpack::sbuffer Handle(util::ByteView body) const;

  private:
    UnpackLimits m_limits;
    std::vector<std::pair<std::string, Handler>> m_handlers;
    std::function<void(std::string_view)> m_observe;
};

}  // namespace tc::net
