// Transaction rules that need no ledger state: structure, amounts and
// witnesses. The ledger (tc-store) and the pool (tc-pool) add the rules that
// need the UTXO set: ownership, double spends, fees, expiry.
#pragma once

#include "crypto/hash.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::consensus {

// Context-free rules: a transfer or register has at least one input; no
// outpoint is spent twice within the transaction; every output amount is
// above zero and the total does not overflow; a register has at least one
// output (output 0 is the collateral) and a valid endpoint; a retire has no
// inputs and no outputs. Errors name the field.
util::Status CheckTransaction(const wire::Transaction& tx);

// Witness check for a transaction bound to chain_id: every slot must hold a
// witness whose signature verifies for TxSigningMessage(chain_id, txid).
// It does not check that the key owns the input; that needs the UTXO set.
// For a retire, the single witness must be by the masternode key.
util::Status VerifyWitnesses(const wire::Transaction& tx, const crypto::Hash256& chain_id);

}  // namespace tc::consensus
