// The request API of tc-store run (the methods are in daemon.h and
// man/tc-store.1, DAEMON): decodes one request body, runs its method on the
// ledger and encodes the reply. The envelope and the dispatch by method are
// net::Dispatcher's (net/envelope.h); the methods are here. No sockets: the
// daemon's loop hands it bodies and publishes the events of the blocks it
// committed, and the unit tests call it directly.
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string_view>
#include <vector>

#include "ledger/ledger.h"
#include "metrics.h"
#include "net/envelope.h"
#include "protocol.h"
#include "util/bytes.h"

namespace tc::store {

// Bounds of one request (flags of tc-store run).
struct RequestLimits {
    uint64_t max_batch = 256;               // blocks in one apply
    uint64_t max_utxos = 1000;              // outputs in one utxos reply, and its default limit
    uint64_t event_retention = 10000;       // events since replays; further back is a gap
    uint64_t max_evidence = 1000;           // entries in one evidence reply
    uint64_t max_evidence_entries = 10000;  // entries add-evidence fills the database to
};

class Requests {
  public:
    // ledger and metrics must outlive this.
    Requests(ledger::Ledger& ledger, const RequestLimits& limits, Metrics& metrics);

    // The reply body for one request body; never throws. The events of the
    // blocks an apply committed are appended to `committed`, in order.
    msgpack::sbuffer Handle(util::ByteView body, std::vector<protocol::Event>& committed);

    // Sets the height and map size gauges from the ledger (at start).
    void UpdateGauges();

  private:
    using Params = msgpack::object_array;
    msgpack::sbuffer Status(uint64_t id);
    msgpack::sbuffer Apply(uint64_t id, const Params& params);
    msgpack::sbuffer Block(uint64_t id, const Params& params);
    msgpack::sbuffer Tx(uint64_t id, const Params& params);
    msgpack::sbuffer Utxos(uint64_t id, const Params& params);
    msgpack::sbuffer Masternodes(uint64_t id, const Params& params);
    msgpack::sbuffer Evidence(uint64_t id, const Params& params);
    msgpack::sbuffer AddEvidence(uint64_t id, const Params& params);
    msgpack::sbuffer Since(uint64_t id, const Params& params);

    ledger::Ledger& m_ledger;
    RequestLimits m_limits;
    Metrics& m_metrics;
    net::Dispatcher m_dispatcher;
    // Handle's `committed`, for Apply, while Handle runs.
    std::vector<protocol::Event>* m_committed = nullptr;
};

}  // namespace tc::store
