// The messages of tc-pool run that are the pool's own, on top of
// libtimecoin's request/reply envelope (net/envelope.h): the event it
// publishes for every transaction entering or leaving the pool. The methods
// are in requests.h; man/tc-pool.1 (DAEMON) is the contract.
//
//   EVENT  ["tx", msgpack [seq, event (str), txid (bin 32), reason (str)]]
//          event: accepted | evicted | expired | committed | double-spend
//          reason: "" (accepted), pool-full, expired, committed, double-spend
//          or masternode-changed-twice
//
// seq counts the events of one run from 1: a subscriber that sees a gap
// knows it missed events (the pool does not replay them; `list` and `why`
// tell the present). A new subscriber first receives the frame "welcome".
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "net/envelope.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::pool::protocol {

inline constexpr std::string_view kWelcome = "welcome";
inline constexpr std::string_view kTxTopic = "tx";

// Event words.
inline constexpr std::string_view kAccepted = "accepted";
inline constexpr std::string_view kEvicted = "evicted";
inline constexpr std::string_view kExpiredEvent = "expired";
inline constexpr std::string_view kCommittedEvent = "committed";
inline constexpr std::string_view kDoubleSpendEvent = "double-spend";

struct TxEvent {
    uint64_t seq = 0;
    std::string event;
    wire::Hash txid{};
    std::string reason;
    bool operator==(const TxEvent&) const = default;
};

msgpack::sbuffer EncodeEvent(const TxEvent& e);
// kInvalid unless o is exactly [uint, str, bin 32, str].
util::Result<TxEvent> DecodeEvent(const msgpack::object& o);

}  // namespace tc::pool::protocol
