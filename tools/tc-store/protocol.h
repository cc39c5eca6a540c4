// The messages of tc-store run (their grammar is in daemon.h and in
// man/tc-store.1, DAEMON): the msgpack pieces that the daemon, its clients
// (ping, submit, watch, status --daemon) and the tests share.
//
// An error reply's string is "METHOD: REASON: detail", REASON one of the
// words below, so that a client can tell a missing block from a bad request
// without parsing the detail ("block: not-found: block 9: not in the
// ledger"). A request that names no method ("malformed request: ...",
// "unknown method ...") has no REASON.
#pragma once

#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::store::protocol {

inline constexpr uint64_t kVersion = 1;
inline constexpr std::string_view kWelcome = "welcome";
inline constexpr std::string_view kBlockTopic = "block";

// REASON words of error replies.
inline constexpr std::string_view kBadParams = "bad-params";  // params the method cannot take
inline constexpr std::string_view kNotFound = "not-found";    // no such block, tx, ...
inline constexpr std::string_view kRefused = "refused";       // a block broke an apply rule
inline constexpr std::string_view kGapBeyondRetention = "gap-beyond-retention";  // since
inline constexpr std::string_view kFailed = "failed";  // the ledger could not answer (I/O)

using Packer = msgpack::packer<msgpack::sbuffer>;

void PackStr(Packer& p, std::string_view s);
void PackBin(Packer& p, util::ByteView b);
// The bytes of a BIN object and the text of a STR object (check the type
// first).
util::ByteView BinView(const msgpack::object& o);
std::string_view StrView(const msgpack::object& o);

// A request body [1, id, method, params]; `params` packs the params array.
msgpack::sbuffer EncodeRequest(uint64_t id, std::string_view method,
                               const std::function<void(Packer&)>& params);

// A block event. seq is the block's height, so it is the same across daemon
// restarts and a subscriber can ask `since` for what it missed.
struct Event {
    uint64_t seq = 0;
    uint64_t height = 0;
    wire::Hash hash{};
    bool operator==(const Event&) const = default;
};

// [seq, height, hash (bin 32)].
void PackEvent(Packer& p, const Event& e);
msgpack::sbuffer EncodeEvent(const Event& e);
// kInvalid unless o is exactly [uint, uint, bin 32].
util::Result<Event> DecodeEvent(const msgpack::object& o);

// The Errc for an error reply's string: kNotFound for not-found, kConflict
// for gap-beyond-retention, kInvalid otherwise.
util::Errc ErrcOfReply(std::string_view error);

}  // namespace tc::store::protocol
