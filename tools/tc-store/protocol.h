// The messages of tc-store run (their grammar is in daemon.h and in
// man/tc-store.1, DAEMON): what is tc-store's own on top of libtimecoin's
// request/reply envelope (net/envelope.h), which the names below re-export
// so that the daemon, its clients (ping, submit, watch, status --daemon) and
// the tests say protocol:: for all of it.
//
// An error reply's string is "METHOD: REASON: detail" (net/envelope.h);
// besides the generic REASON words tc-store has one of its own,
// gap-beyond-retention, for a `since` further back than it replays.
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string_view>

#include "net/envelope.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::store::protocol {

using net::kVersion;
inline constexpr std::string_view kWelcome = "welcome";
inline constexpr std::string_view kBlockTopic = "block";

// REASON words of error replies.
using net::kBadParams;
using net::kFailed;
using net::kNotFound;
using net::kRefused;
inline constexpr std::string_view kGapBeyondRetention = "gap-beyond-retention";  // since

using net::BinView;
using net::EncodeRequest;
using net::PackBin;
using net::Packer;
using net::PackStr;
using net::StrView;

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
// for gap-beyond-retention, kInvalid otherwise (net::Client's errc_of).
util::Errc ErrcOfReply(std::string_view error);

}  // namespace tc::store::protocol
