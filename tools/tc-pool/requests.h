// The request API of tc-pool run (the methods are listed below and in
// man/tc-pool.1, DAEMON), and the pool's side of following the chain: one
// object that owns the Mempool, reads the ledger read-only, decodes a
// request body, runs its method and encodes the reply. No sockets: the
// daemon's loop (daemon.h) hands it bodies and block heights and publishes
// the events it returns; the unit tests call it directly.
//
//   ping      []                      -> "pong"
//   status    []                      -> map: count, bytes, lowest, highest
//                                        (fee rates "FEE/BYTES" or nil),
//                                        height (the block it follows),
//                                        max_count, max_bytes, history
//   submit    [bin tx, ...]           -> [map: txid (bin 32 | nil when
//                                        malformed), accepted (bool), reason,
//                                        detail] in the order given
//   list      [] | [limit]            -> [[bin txid, fee, bytes], ...] in
//                                        proposal order (highest rate first)
//   why       [bin txid]              -> map: status, rank, rate, reason,
//                                        detail, height (Mempool::Why)
//   propose   [max_txs, max_bytes]    -> [bin tx, ...]: Select(), re-checked
//                                        in order on one TxRuleState
//   validate  [bin block]             -> map: valid (bool), reason, detail,
//                                        reused (signatures the pool had
//                                        verified), verified (checked now)
//
// propose and validate first take the blocks the ledger has beyond the
// pool's height (their events may not have arrived yet): the proposer and
// the replica work on top of the store's tip.
//
// Errors are "METHOD: REASON: detail" (net/envelope.h): bad-params, or
// failed when the ledger cannot be read.
//
// The witness signatures of submit and validate are verified on all cores
// (util::Workers, --verify-threads): a request's transactions are checked
// against the ledger's rules one after the other on the loop's thread, then
// the signatures of those that passed all at once, then they enter the pool
// in the order given.
#pragma once

#include <cstdint>
#include <memory>
#include <msgpack.hpp>
#include <vector>

#include "check.h"
#include "ledger/ledger.h"
#include "mempool.h"
#include "metrics.h"
#include "net/envelope.h"
#include "protocol.h"
#include "util/bytes.h"
#include "util/result.h"
#include "util/workers.h"

namespace tc::pool {

// Bounds of one request (flags of tc-pool run).
struct RequestLimits {
    uint64_t max_submit = 4096;   // transactions in one submit
    uint64_t max_list = 10000;    // entries in one list reply, and its default limit
    unsigned verify_threads = 0;  // threads checking witness signatures; 0: one per core
};

class Requests {
  public:
    // Reads the chain state at the ledger's tip; the pool follows from there.
    // `view` (opened read-only) must outlive the object. Errors are the
    // ledger's.
    static util::Result<std::unique_ptr<Requests>> Create(const ledger::Ledger& view,
                                                          const Limits& pool_limits,
                                                          const RequestLimits& limits);

    // The reply body for one request body; never throws. The pool events the
    // request caused (accepted, evicted) are appended to `events`, numbered.
    msgpack::sbuffer Handle(util::ByteView body, std::vector<protocol::TxEvent>& events);

    // The block at `height` was committed: reads it from the ledger, removes
    // what it included or conflicts with (BlockCommitted), expires what can
    // no longer be included after it (Expire) and reloads the chain state.
    // Heights at or below height() are ignored; a height past height() + 1
    // first takes the blocks in between, from the ledger. Events as Handle.
    // Errors are the ledger's (the block is not there yet, say).
    util::Status BlockCommitted(uint64_t height, std::vector<protocol::TxEvent>& events);

    // The last block the pool has taken into account.
    uint64_t height() const { return m_chain.next_height - 1; }
    const Mempool& pool() const { return m_pool; }
    // Written by this object's calls, readable from any thread.
    const Metrics& metrics() const { return m_metrics; }

  private:
    Requests(const ledger::Ledger& view, ChainState chain, const Limits& pool_limits,
             const RequestLimits& limits);
    using Params = msgpack::object_array;
    msgpack::sbuffer Status(uint64_t id);
    msgpack::sbuffer Submit(uint64_t id, const Params& params);
    msgpack::sbuffer List(uint64_t id, const Params& params);
    msgpack::sbuffer Why(uint64_t id, const Params& params);
    msgpack::sbuffer Propose(uint64_t id, const Params& params);
    msgpack::sbuffer Validate(uint64_t id, const Params& params);
    msgpack::sbuffer Get(uint64_t id, const Params& params);
    void Emit(std::string_view event, const wire::Hash& txid, std::string_view reason);
    void EmitRemoved(const std::vector<Removed>& removed);
    void UpdateGauges();
    // BlockCommitted without setting m_events (Handle's are used).
    util::Status TakeBlocks(uint64_t height);
    // TakeBlocks up to the ledger's tip; a failure is logged and ignored
    // (the pool answers at the height it has).
    void CatchUpWithLedger();

    const ledger::Ledger& m_view;
    ledger::UtxoLookup m_lookup;
    ChainState m_chain;
    Mempool m_pool;
    RequestLimits m_limits;
    Metrics m_metrics;
    net::Dispatcher m_dispatcher;
    util::Workers m_workers;
    uint64_t m_next_seq = 1;
    // Handle's or BlockCommitted's `events` while they run.
    std::vector<protocol::TxEvent>* m_events = nullptr;
};

}  // namespace tc::pool
