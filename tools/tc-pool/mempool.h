// The transaction pool's state: the transactions waiting for a block,
// ordered by fee rate and bounded by count and bytes, and a bounded history
// of the txids that left it or were refused, so that Why can say where a
// transaction is. A pure in-memory structure: no I/O, clock, randomness or
// threads; the same calls give the same results. The daemon (to come) drives
// it from its one event loop; check.h decides what may be offered to Add.
//
// Only transactions whose inputs are all confirmed enter: the checker refuses
// an input that is not in the UTXO set (missing-input), pooled outputs
// included. So there are no in-pool chains: no pooled transaction depends on
// another, and any subset of the pool is a valid sequence of transactions
// except for the conflicts the pool keeps out itself: two transactions
// spending one outpoint (double-spend) or changing one masternode
// (masternode-changed-twice). There is no replacement: the first one stays.
//
// Every operation is O(log n) per transaction it adds, removes or looks at
// (Why's rank too: the order is an order-statistic tree).
//
// Caveats: the pool does not know the chain. Entries are checked against it
// before Add (check.h), and the caller must report every committed block
// (BlockCommitted) and the next height (Expire) for the pool to stay valid.
// Two retires that each leave a masternode but together would empty the set
// both stay pooled: a proposer re-checks its batch against the ledger
// (ledger::CheckTx on one TxRuleState) before proposing it.
#pragma once

#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "crypto/keys.h"
#include "wire/types.h"

namespace tc::pool {

// Reason words, as events, refusals and Why give them. The checker's
// refusals (check.h) add their own: malformed, bad-signature, missing-input,
// fee-too-low, expired, and the ledger's other rule names.
inline constexpr std::string_view kAlreadyKnown = "already-known";
inline constexpr std::string_view kDoubleSpend = "double-spend";
inline constexpr std::string_view kMasternodeChangedTwice = "masternode-changed-twice";
inline constexpr std::string_view kPoolFull = "pool-full";
inline constexpr std::string_view kCommitted = "committed";
inline constexpr std::string_view kExpired = "expired";

// A fee rate, fee / bytes, kept as the exact fraction: rates compare by
// cross-multiplication in 128 bits, never as floating point, so 1/3 < 333/998
// is decided right however close the rates are. Equal rates compare equal
// (2/4 == 1/2).
struct FeeRate {
    uint64_t fee = 0;    // base units
    uint64_t bytes = 1;  // > 0
    friend std::strong_ordering operator<=>(const FeeRate& a, const FeeRate& b);
    friend bool operator==(const FeeRate& a, const FeeRate& b) { return (a <=> b) == 0; }
    // "FEE/BYTES", e.g. "10000/251" (base units per byte).
    std::string ToString() const;
};

// A checked transaction, as pooled. check.h makes these.
struct Entry {
    wire::Hash txid{};
    wire::Hash wtxid{};
    wire::Transaction tx;
    uint64_t bytes = 0;                 // encoded size, witnesses included; 0 is a bug (Add throws)
    uint64_t fee = 0;                   // inputs - outputs, base units (0: a retire)
    std::vector<wire::OutPoint> spent;  // its inputs
    std::optional<crypto::PublicKey> masternode;  // the key a register or retire changes;
                                                  // Add reads it from tx when unset
    uint64_t expiry = 0;    // last height it may be included at; 0 = never expires
    uint64_t sequence = 0;  // arrival order; Add sets it

    FeeRate rate() const { return FeeRate{fee, bytes}; }
};

// An entry that left the pool, and why: committed, double-spend,
// masternode-changed-twice, expired or pool-full (evicted). The detail names
// the field or the block ("tx.inputs[0]: 9f2c...:1 was spent by block 7").
struct Removed {
    Entry entry;
    std::string reason;
    std::string detail;
};

struct AddResult {
    bool accepted = false;
    // When refused: already-known, double-spend, masternode-changed-twice or
    // pool-full, and a detail naming the field.
    std::string reason;
    std::string detail;
    // When accepted: the entries evicted to make room (reason pool-full),
    // lowest fee rate first, newest first among equal rates.
    std::vector<Removed> evicted;
};

struct Limits {
    size_t max_count = 100'000;      // transactions
    uint64_t max_bytes = 64u << 20;  // sum of their encoded sizes
    size_t max_history = 100'000;    // txids Why remembers after they left or were refused
};

// Where a transaction is, as Why says it.
enum class TxStatus {
    kUnknown,     // never seen, or forgotten (the history is bounded)
    kPending,     // pooled: rank and rate
    kRefused,     // reason: a checker reason or an Add refusal
    kEvicted,     // reason pool-full: a better transaction took its room
    kExpired,     // reason expired
    kConflicted,  // a committed block spent its input (double-spend) or changed its
                  // masternode (masternode-changed-twice)
    kCommitted,   // in the block at `height`
};
// "unknown", "pending", "refused", "evicted", "expired", "conflicted", "committed".
const char* TxStatusName(TxStatus status);

struct Whereabouts {
    TxStatus status = TxStatus::kUnknown;
    uint64_t rank = 0;   // pending: 1 = the next to be proposed
    FeeRate rate;        // pending
    std::string reason;  // every state but pending, committed and unknown
    std::string detail;
    uint64_t height = 0;  // committed: the block; conflicted: the block that spent its input
};

struct Stats {
    size_t count = 0;
    uint64_t bytes = 0;
    std::optional<FeeRate> lowest;  // none when empty
    std::optional<FeeRate> highest;
};

class Mempool {
  public:
    explicit Mempool(Limits limits);
    ~Mempool();
    Mempool(Mempool&&) noexcept;
    Mempool& operator=(Mempool&&) noexcept;

    // Offers a checked transaction. Refused when its txid is pooled
    // (already-known), when a pooled transaction spends one of its outpoints
    // (double-spend) or changes its masternode (masternode-changed-twice),
    // or when the pool is full and cannot make room for it (pool-full): room
    // is made only by evicting entries of a strictly lower fee rate, lowest
    // first. A transaction larger than max_bytes is always pool-full.
    // Refusals other than already-known are remembered for Why.
    AddResult Add(Entry entry);

    // Remembers a refusal by the checker (check.h) for Why: reason and detail
    // as the checker gave them. Does nothing for a pooled txid.
    void Refuse(const wire::Hash& txid, std::string reason, std::string detail);

    // A batch for a block: entries in fee-rate order (equal rates: arrival
    // order), at most max_txs, their bytes summing to at most max_bytes (the
    // caller keeps room for the header and framing). An entry that does not
    // fit in what is left is skipped and the next ones are tried; the walk
    // stops after kSelectMaxSkips such skips in a row. The pointers are valid
    // until the next call that changes the pool.
    static constexpr size_t kSelectMaxSkips = 64;
    std::vector<const Entry*> Select(size_t max_txs, uint64_t max_bytes) const;

    // A block was committed at `height`: removes the pooled transactions it
    // included (committed), then the pooled ones spending an outpoint it
    // spent (double-spend) or changing a masternode it changed
    // (masternode-changed-twice). Returns them in that order. Why answers
    // committed for every txid of the block that was pooled or remembered.
    std::vector<Removed> BlockCommitted(uint64_t height, std::span<const wire::Hash> txids,
                                        std::span<const wire::OutPoint> spent,
                                        std::span<const crypto::PublicKey> masternodes = {});
    // The same, reading the txids, spent outpoints and changed masternodes
    // from the block itself.
    std::vector<Removed> BlockCommitted(const wire::Block& block);

    // Removes the transactions that cannot be included at next_height any
    // more (expiry below it; expired), earliest expiry first, then arrival.
    std::vector<Removed> Expire(uint64_t next_height);

    Whereabouts Why(const wire::Hash& txid) const;
    // The pooled entry, or nullptr.
    const Entry* Find(const wire::Hash& txid) const;
    Stats GetStats() const;
    size_t HistorySize() const { return m_history.size(); }
    const Limits& limits() const { return m_limits; }

  private:
    // Order of the pool: higher fee rate first, then earlier arrival.
    struct Key {
        FeeRate rate;
        uint64_t sequence = 0;
        wire::Hash txid{};
    };
    struct Better {
        bool operator()(const Key& a, const Key& b) const;
    };
    struct Order;  // the order-statistic tree of Keys (mempool.cpp)
    struct Record {
        wire::Hash txid{};
        TxStatus status = TxStatus::kUnknown;
        std::string reason;
        std::string detail;
        uint64_t height = 0;
    };

    static Key KeyOf(const Entry& e) { return Key{e.rate(), e.sequence, e.txid}; }
    Removed Remove(const wire::Hash& txid, std::string_view reason, std::string detail);
    void Remember(Record record);

    Limits m_limits;
    std::map<wire::Hash, Entry> m_entries;
    std::unique_ptr<Order> m_order;
    std::map<wire::OutPoint, wire::Hash> m_by_outpoint;
    std::map<crypto::PublicKey, wire::Hash> m_by_masternode;
    std::set<std::tuple<uint64_t, uint64_t, wire::Hash>> m_by_expiry;  // expiry, sequence, txid
    uint64_t m_bytes = 0;
    uint64_t m_next_sequence = 1;
    // History, oldest first; a txid remembered again moves to the back.
    std::list<Record> m_history;
    std::map<wire::Hash, std::list<Record>::iterator> m_history_index;
};

}  // namespace tc::pool
