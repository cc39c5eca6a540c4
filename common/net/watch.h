// The loop behind `tc-X watch` (DESIGN §2: an operator can tap any stage):
// subscribes to a daemon's event socket, prints one JSON line per event and
// says on stderr what a subscriber should know (connected, a gap in seq, an
// event it cannot read), until SIGTERM or SIGINT. Each stage gives the
// decoder of its own event payload (man/timecoin-protocol.7, LOCAL SOCKETS).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "util/result.h"

namespace tc::net {

// An event payload as the line to print; `seq` is the event's sequence
// number. kInvalid (with a reason) when the payload is not the stage's
// event.
struct WatchedEvent {
    uint64_t seq = 0;
    nlohmann::json line;
};
using EventDecoder = std::function<util::Result<WatchedEvent>(const msgpack::object& payload)>;

struct WatchSpec {
    std::string program;   // "tc-pool": the prefix of its stderr lines
    std::string endpoint;  // ipc://DATADIR/run/pool-events.sock
    std::string topic;     // the first frame of its events: "tx"
    EventDecoder decode;
};

// Runs until a signal (success). Frames other than "welcome" and
// [topic, payload] are warned about and skipped, as are payloads that do
// not decode. kIo when the signals cannot be watched.
util::Status WatchEvents(const WatchSpec& spec, std::ostream& out, std::ostream& err);

}  // namespace tc::net
