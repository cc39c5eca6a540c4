// Checking a transaction for the pool against the ledger: the bytes decode,
// and the transaction passes the ledger's own per-transaction rules
// (ledger::CheckTx, the code ApplyBlock runs) as if it were alone in the next
// block, and its witness signatures verify. What passes becomes a
// mempool::Entry for Mempool::Add, which adds the rules between pooled
// transactions (double-spend, masternode-changed-twice, pool-full).
//
// A refusal is a reason word and a detail naming the field:
//   malformed          the bytes do not decode (the decoder's message)
//   bad-signature      a witness is missing (ledger: unsigned), its key does
//                      not own the input (wrong-owner), a retire is not
//                      signed by its masternode (retire-wrong-key), or a
//                      signature does not verify for this chain
//   double-spend       an input was spent in the chain (SpentInChain: the
//                      ledger's missing-input, refined)
//   missing-input      an input is not in the UTXO set; pooled outputs are not
//                      in it either, so a child of a pooled tx waits outside
//   fee-too-low        below the genesis min_fee_rate x encoded size
//   expired            its expiry is below the next height
//   and the ledger's other rule names as they are (man/tc-store.1, APPLY
//   RULES): tx-too-large, bad-tx (context-free rules), collateral-locked,
//   outputs-exceed-inputs, bad-masternode-key, collateral-amount,
//   collateral-address, masternode-exists, retire-not-masternode,
//   masternode-set-empty.
//
// The witness check is a function of its own (VerifyWitnesses): pure and
// thread-safe, so the daemon runs it on worker threads on all cores, and
// remembers the wtxids that passed so that a proposed block's transactions
// need not be verified again.
//
// Caveats: LoadChainState and the UTXO lookups read the ledger in separate
// read transactions, so a block committed between them can make a check see
// two tips. That is harmless for the pool: the block's BlockCommitted event
// comes after its commit and removes what it spent or included.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "mempool.h"
#include "util/bytes.h"
#include "util/result.h"
#include "wire/genesis.h"

namespace tc::pool {

inline constexpr std::string_view kMalformed = "malformed";
inline constexpr std::string_view kBadSignature = "bad-signature";

struct Refusal {
    std::string reason;
    std::string detail;  // names the field: "tx.inputs[0]: 9f2c...:1"
};

// What the checks need from the ledger at one tip. Load it again when the
// tip moves (after each committed block).
struct ChainState {
    wire::Genesis genesis;
    wire::Hash chain_id{};
    uint64_t next_height = 1;  // the tip's + 1: the height transactions are checked for
    // Every masternode once every known change has taken effect.
    std::map<crypto::PublicKey, ledger::Masternode> final_set;
    // Collateral released at next_height: spendable in the next block.
    std::set<wire::OutPoint> unlocked;
};

// Reads the chain state from a ledger (opened read-only by the caller).
// Errors are the ledger's.
util::Result<ChainState> LoadChainState(const ledger::Ledger& view);

// A UTXO lookup on the ledger: GetUtxo, with kNotFound as "not there".
ledger::UtxoLookup LookupIn(const ledger::Ledger& view);

struct Checked {
    std::optional<Refusal> refusal;
    // The entry for Mempool::Add when not refused. When refused after
    // decoding, txid and wtxid are set (to remember the refusal with
    // Mempool::Refuse); when malformed, nothing is.
    Entry entry;
};

// Decodes `encoded` and checks it against the ledger's rules at
// chain.next_height, without the witness signatures (VerifyWitnesses). An
// Error only when the lookup fails (the ledger cannot be read).
util::Result<Checked> CheckTx(const ChainState& chain, const ledger::UtxoLookup& lookup,
                              util::ByteView encoded);

// For a transaction refused as missing-input: the first input that the
// chain created and spent already, as a double-spend refusal ("tx.inputs[1]:
// TXID:VOUT was spent in the chain"); nothing when every missing input never
// existed. Reads the ledger (a tx lookup and its block per missing input).
std::optional<Refusal> SpentInChain(const ledger::Ledger& view, const wire::Hash& chain_id,
                                    const wire::Transaction& tx);

// The witness signatures of a decoded transaction for chain_id
// (consensus::VerifyWitnesses): bad-signature naming the witness, or nothing.
std::optional<Refusal> VerifyWitnesses(const wire::Transaction& tx, const wire::Hash& chain_id);

// CheckTx, then VerifyWitnesses: everything, on this thread.
util::Result<Checked> CheckForPool(const ChainState& chain, const ledger::UtxoLookup& lookup,
                                   util::ByteView encoded);

}  // namespace tc::pool
