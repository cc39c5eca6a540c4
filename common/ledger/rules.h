// The apply rules: everything a block must satisfy against the chain state
// before the ledger stores it (DESIGN §3, §4; the rule names below are what
// error messages and man/tc-store.1 use). Pure functions of the state they
// are given: ApplyBlock feeds them from an LMDB write transaction and Verify
// from a scratch state replayed from genesis, so both apply exactly the same
// rules; the pool (tools/tc-pool/check.h) runs the per-tx ones (CheckTx) on
// each transaction it is offered.
//
// Every rejection is Errc::kInvalid (kCrypto for a bad signature) with a
// message "block H: FIELD: RULE detail", e.g.
// "block 7: tx[3].inputs[0]: missing-input 9f2c...:1". Rules, in the order
// they are checked:
//   header:  bad-height, bad-prev-hash, bad-version, time-too-old,
//            bad-proposer, bad-mnset-hash, bad-tx-root, block-too-large,
//            too-many-txs, tx-too-large, bad-certificate
//   per tx:  bad-tx (context-free rules, consensus::CheckTransaction),
//            expired, unsigned, missing-input, double-spend,
//            collateral-locked, wrong-owner, outputs-exceed-inputs,
//            fee-too-low, retire-wrong-key, retire-not-masternode,
//            masternode-set-empty, bad-masternode-key, collateral-amount,
//            collateral-address, masternode-exists, masternode-changed-twice
//   with ApplyOptions::verify_witnesses: bad-witness (per tx, the lowest
//            failing index is reported)
//   when stored: duplicate-txid
// Retires carry no inputs, so they pay no fee and are exempt from fee-too-low.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/schema.h"
#include "util/amount.h"
#include "util/result.h"
#include "wire/genesis.h"
#include "wire/types.h"

namespace tc::ledger {

// The masternode registry: every change of the set, ordered by (effective
// height, key) like the masternodes database.
class Registry {
  public:
    Registry() = default;
    explicit Registry(std::vector<schema::RegistryEntry> entries);
    // The genesis masternodes, added at height 0.
    static Registry FromGenesis(const wire::Genesis& genesis);

    // The set effective at `height`, sorted by key.
    std::vector<Masternode> SetAt(uint64_t height) const;
    // The set once every known change has taken effect.
    std::vector<Masternode> Final() const;
    const std::vector<schema::RegistryEntry>& entries() const { return m_entries; }
    void Add(const schema::RegistryEntry& entry);

  private:
    std::vector<schema::RegistryEntry> m_entries;
};

std::vector<crypto::PublicKey> Keys(const std::vector<Masternode>& set);

// What the ledger knows about its tip.
struct Tip {
    uint64_t height = 0;
    wire::Hash hash{};
    uint64_t time_ms = 0;
};

// Looks an outpoint up in the UTXO set as of the tip (nullopt: not there).
using UtxoLookup = std::function<util::Result<std::optional<Utxo>>(const wire::OutPoint&)>;

// What applying a valid block changes.
struct BlockEffects {
    uint64_t height = 0;
    wire::Hash block_hash{};
    util::Bytes encoded_block;
    std::vector<Utxo> spent;     // from the UTXO set, as they were there
    std::vector<Utxo> created;   // outputs of this block not spent within it
    std::vector<Utxo> unlocked;  // collateral released at this height (now unlocked)
    std::vector<std::pair<wire::Hash, TxLocation>> txs;
    std::vector<schema::RegistryEntry> registry;  // changes taking effect later
    util::Amount fees;
};

struct RuleContext {
    const wire::Genesis& genesis;
    const wire::Hash& chain_id;
};

// Checks block + cert on top of `tip` (rules above) and returns its effects.
util::Result<BlockEffects> CheckBlock(const RuleContext& ctx, const Tip& tip,
                                      const Registry& registry, const UtxoLookup& lookup,
                                      const wire::Block& block, const wire::CommitCertificate& cert,
                                      const ApplyOptions& options);

// The state the per-tx rules read and update while a block's transactions
// are checked in order: what the chain holds, and what the earlier
// transactions of the block changed. CheckBlock keeps one for a whole block;
// the pool (tools/tc-pool) checks one transaction at a time on a fresh one
// holding only final_set and unlocked.
struct TxRuleState {
    // Every masternode once every known change has taken effect
    // (Registry::Final), with the changes of this block's earlier txs.
    std::map<crypto::PublicKey, Masternode> final_set;
    std::set<wire::OutPoint> unlocked;             // collateral released at this height
    std::set<crypto::PublicKey> changed;           // registered or retired by an earlier tx
    std::map<wire::OutPoint, Utxo> block_outputs;  // created by an earlier tx, not spent yet
    std::set<wire::OutPoint> spent_here;           // spent by an earlier tx
    std::set<wire::Hash> txids;                    // of the earlier txs
    BlockEffects fx;  // spent, registry, txs and fees so far (created: block_outputs)
};

// A per-tx rule a transaction breaks: the field at fault ("tx[3].inputs[0]"),
// the rule's name (the list above) and a detail, without the "block H: "
// prefix CheckBlock adds. Always Errc::kInvalid in CheckBlock's error.
struct TxRuleBreak {
    std::string field;
    std::string rule;
    std::string detail;
};

// A transaction that passed the per-tx rules.
struct TxChecked {
    wire::Hash txid{};
    size_t bytes = 0;  // encoded size, witnesses included
    util::Amount fee;  // zero for a retire
};

// The per-tx rules above (from tx-too-large to masternode-changed-twice, in
// that order; not bad-witness) for `tx`, the transaction at `position` of a
// block at `height`; `field` names it in messages ("tx[3]"). When it passes,
// `state` is updated as applying it changes it. An Error (not a rule) only
// when `lookup` fails.
using TxOutcome = std::variant<TxChecked, TxRuleBreak>;
util::Result<TxOutcome> CheckTx(const RuleContext& ctx, uint64_t height, const UtxoLookup& lookup,
                                const wire::Transaction& tx, uint32_t position,
                                const std::string& field, TxRuleState& state);

// consensus::VerifyWitnesses for every tx of the block on `threads` threads
// (0: std::thread::hardware_concurrency()). Reports the lowest failing tx.
util::Status VerifyBlockWitnesses(const wire::Block& block, const wire::Hash& chain_id,
                                  unsigned threads);
// The same for every tx of several blocks at once (a batch: the threads
// share all of its work). Reports the lowest failing tx of the lowest
// failing block, whose index goes to *bad_block when given.
util::Status VerifyBlocksWitnesses(std::span<const wire::Block* const> blocks,
                                   const wire::Hash& chain_id, unsigned threads, size_t* bad_block);

}  // namespace tc::ledger
