// tc-load's pure parts: exact fees on the encoded size, the plan that
// splits faucet outputs into one small output per transfer (in rounds, each
// split transaction under the chain's max_tx_bytes), and the latency
// percentiles of the report. No I/O here: load_run.cpp drives these against
// a node, and tests/unit/load_plan_test.cpp checks them alone.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "crypto/keys.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::load {

// An output the faucet key can spend.
struct Source {
    wire::OutPoint outpoint;
    uint64_t amount = 0;  // base units
};

// The encoded size of tx once every input is signed: absent witnesses are
// counted as present (a signature and a key have fixed sizes), so the size
// of an unsigned transaction is the size it will have on the wire.
size_t SignedSize(const wire::Transaction& tx);

// fee_rate (units per byte) times SignedSize(tx); kInvalid on overflow.
util::Result<uint64_t> RequiredFee(const wire::Transaction& tx, uint64_t fee_rate);

// A one-input, one-output transfer of source to `to` whose fee is exactly
// SignedSize x fee_rate (the output is source.amount minus that fee).
// kInvalid when the source cannot pay the fee and leave at least one unit.
util::Result<wire::Transaction> BuildTransfer(const Source& source, const wire::PubKeyHash& to,
                                              uint64_t fee_rate);

// A split: one input, `count` outputs of `each` units to `to`, and a change
// output to change_to with what is left after the exact fee, if anything is
// left (else the few units short of a change output are paid as fee, so the
// fee is at least the required one). kInvalid when the source is too small.
util::Result<wire::Transaction> BuildSplit(const Source& source, uint32_t count, uint64_t each,
                                           const wire::PubKeyHash& to,
                                           const wire::PubKeyHash& change_to, uint64_t fee_rate);

// Adds the witness of key to every input of tx (one signature: the message
// is the same for every input, see DESIGN §8).
void SignAll(wire::Transaction& tx, const crypto::SecretKey& key, const crypto::Hash256& chain_id);

struct SplitParams {
    uint64_t leaf_amount = 0;    // the value of each final output (one per transfer)
    uint32_t fanout = 1000;      // most outputs of one split tx (before the size limit)
    uint64_t fee_rate = 1;       // units per byte
    uint64_t max_tx_bytes = 0;   // the chain's limit on an encoded transaction
    wire::PubKeyHash address{};  // the faucet's: split outputs and change go back to it
};

// The most outputs (besides change) a split may have: at most
// params.fanout and wire::kMaxTxOutputs, and few enough that the signed
// split, change and 9-byte amounts included, fits max_tx_bytes. 0 when not
// even one fits.
uint32_t EffectiveFanout(const SplitParams& params);

// One round of splitting: transactions that can all be sent at once (each
// spends one source). Their outputs [0, outputs_per_tx[i]) are worth
// output_amount each and become the next round's sources once committed.
// depth 0 means those outputs are the leaves; depth k means k more rounds
// follow.
struct SplitRound {
    uint32_t depth = 0;
    uint64_t output_amount = 0;
    std::vector<wire::Transaction> txs;    // unsigned
    std::vector<uint32_t> outputs_per_tx;  // how many of each tx's first outputs are for us
    uint64_t outputs = 0;                  // their sum
};

// Plans the next round towards `need` leaves of params.leaf_amount: the
// fewest rounds (depth) whose fan-out from these sources reaches `need`,
// then as many depth-level outputs as that needs, taken from the largest
// sources first. Each split pays its exact fee. Errors: kInvalid when the
// sources cannot fund `need` leaves ("faucet holds ... needs ..."), when no
// output fits max_tx_bytes, or when `need` is 0.
util::Result<SplitRound> PlanSplitRound(std::vector<Source> sources, uint64_t need,
                                        const SplitParams& params);

// The outputs of a round's transactions that are ours (for the next round
// or the transfers), given each transaction's txid.
std::vector<Source> RoundOutputs(const SplitRound& round);

// Latency percentiles, nearest rank: the p-th percentile of n sorted
// samples is the one at rank ceil(p/100 x n) (1-based).
struct Percentiles {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
double NearestRank(const std::vector<double>& sorted, double p);
// nullopt for no samples.
std::optional<Percentiles> Summarize(std::vector<double> samples);

}  // namespace tc::load
