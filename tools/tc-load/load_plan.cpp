#include "load_plan.h"

#include <algorithm>
#include <cmath>

#include "crypto/domain.h"
#include "wire/codec.h"

namespace tc::load {

using util::Errc;
using util::MakeError;

namespace {

// The amounts of the worst-case split: 9-byte msgpack integers.
constexpr uint64_t kWideAmount = uint64_t{1} << 40;

// Sets tx.outputs[index] to `available` minus the smallest fee f with
// RequiredFee(tx) <= f that the iteration finds; exact unless the size keeps
// jumping across a msgpack integer boundary, when it is the smallest valid
// fee seen. Returns the fee; kInvalid when available cannot pay it and leave
// one unit in the output.
util::Result<uint64_t> SolveFee(wire::Transaction& tx, size_t index, uint64_t available,
                                uint64_t fee_rate) {
    tx.outputs[index].amount = available;
    // The size is monotone in the amount, so the fee at the full amount is an
    // upper bound, and the first iteration is valid.
    TC_TRY(fee, RequiredFee(tx, fee_rate));
    std::optional<uint64_t> best;
    for (int i = 0; i < 8; ++i) {
        if (fee >= available) break;
        tx.outputs[index].amount = available - fee;
        TC_TRY(required, RequiredFee(tx, fee_rate));
        if (required <= fee && (!best || fee < *best)) best = fee;
        if (required == fee) break;
        fee = required;
    }
    if (!best) {
        return MakeError(Errc::kInvalid, std::to_string(available) + " units cannot pay a fee of " +
                                             std::to_string(fee) + " and keep an output");
    }
    tx.outputs[index].amount = available - *best;
    return *best;
}

wire::Transaction SplitShape(const wire::OutPoint& input, uint32_t count, uint64_t each,
                             const wire::PubKeyHash& to) {
    wire::Transaction tx;
    tx.inputs.push_back(input);
    tx.outputs.assign(count, wire::TxOut{each, to});
    return tx;
}

// The worst-case split of `count` outputs plus change.
wire::Transaction WorstSplit(uint32_t count, const wire::PubKeyHash& to) {
    wire::Transaction tx = SplitShape(wire::OutPoint{{}, UINT32_MAX}, count, kWideAmount, to);
    tx.outputs.push_back(wire::TxOut{kWideAmount, to});
    return tx;
}

// a * b, or nullopt on overflow.
std::optional<uint64_t> Mul(uint64_t a, uint64_t b) {
    uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
    return r;
}

}  // namespace

size_t SignedSize(const wire::Transaction& tx) {
    if (tx.FullySigned()) return wire::Encode(tx).size();
    wire::Transaction copy = tx;
    copy.witnesses.assign(copy.WitnessSlots(), wire::Witness{});
    return wire::Encode(copy).size();
}

util::Result<uint64_t> RequiredFee(const wire::Transaction& tx, uint64_t fee_rate) {
    const size_t size = SignedSize(tx);
    auto fee = Mul(fee_rate, size);
    if (!fee) {
        return MakeError(Errc::kInvalid, "fee rate " + std::to_string(fee_rate) + " x " +
                                             std::to_string(size) + " bytes overflows");
    }
    return *fee;
}

util::Result<wire::Transaction> BuildTransfer(const Source& source, const wire::PubKeyHash& to,
                                              uint64_t fee_rate) {
    wire::Transaction tx;
    tx.inputs.push_back(source.outpoint);
    tx.outputs.push_back(wire::TxOut{source.amount, to});
    auto fee = SolveFee(tx, 0, source.amount, fee_rate);
    if (!fee) return std::move(fee).error().In("transfer");
    return tx;
}

util::Result<wire::Transaction> BuildSplit(const Source& source, uint32_t count, uint64_t each,
                                           const wire::PubKeyHash& to,
                                           const wire::PubKeyHash& change_to, uint64_t fee_rate) {
    auto total = Mul(count, each);
    if (count == 0 || !total || *total >= source.amount) {
        return MakeError(Errc::kInvalid, "split: " + std::to_string(count) + " x " +
                                             std::to_string(each) + " units do not fit in " +
                                             std::to_string(source.amount));
    }
    wire::Transaction tx = SplitShape(source.outpoint, count, each, to);
    tx.outputs.push_back(wire::TxOut{0, change_to});
    if (SolveFee(tx, count, source.amount - *total, fee_rate).ok()) return tx;
    // Too little left for a change output: what is left is the fee.
    tx.outputs.pop_back();
    TC_TRY(required, RequiredFee(tx, fee_rate));
    if (source.amount - *total < required) {
        return MakeError(Errc::kInvalid, "split: " + std::to_string(source.amount) +
                                             " units cannot pay " + std::to_string(*total) +
                                             " and a fee of " + std::to_string(required));
    }
    return tx;
}

void SignAll(wire::Transaction& tx, const crypto::SecretKey& key, const crypto::Hash256& chain_id) {
    const crypto::Signature sig = key.Sign(crypto::TxSigningMessage(chain_id, wire::TxId(tx)));
    tx.witnesses.assign(tx.WitnessSlots(), wire::Witness{key.public_key(), sig});
}

uint32_t EffectiveFanout(const SplitParams& params) {
    // One output slot is the change's.
    uint32_t hi = static_cast<uint32_t>(std::min<uint64_t>(params.fanout, wire::kMaxTxOutputs - 1));
    auto fits = [&](uint32_t m) {
        return SignedSize(WorstSplit(m, params.address)) <= params.max_tx_bytes;
    };
    if (hi == 0 || !fits(1)) return 0;
    uint32_t lo = 1;  // fits
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo + 1) / 2;
        if (fits(mid)) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

util::Result<SplitRound> PlanSplitRound(std::vector<Source> sources, uint64_t need,
                                        const SplitParams& params) {
    if (need == 0) return MakeError(Errc::kInvalid, "split: nothing to split for");
    if (params.leaf_amount == 0) return MakeError(Errc::kInvalid, "split: leaf amount is 0");
    const uint32_t fanout = EffectiveFanout(params);
    if (fanout == 0) {
        return MakeError(Errc::kInvalid, "split: not even one output fits max_tx_bytes " +
                                             std::to_string(params.max_tx_bytes));
    }
    TC_TRY(fee_max, RequiredFee(WorstSplit(fanout, params.address), params.fee_rate));
    std::sort(sources.begin(), sources.end(),
              [](const Source& a, const Source& b) { return a.amount > b.amount; });
    uint64_t total = 0;
    for (const auto& s : sources) total = total + s.amount < total ? UINT64_MAX : total + s.amount;

    // How many depth-k outputs of value `value` one source can make.
    auto nodes_of = [&](const Source& s, uint64_t value) -> uint64_t {
        if (s.amount <= fee_max) return 0;
        return std::min<uint64_t>(fanout, (s.amount - fee_max) / value);
    };
    uint64_t value = params.leaf_amount;  // of one output at depth k
    uint64_t leaves = 1;                  // leaves one depth-k output becomes
    std::optional<uint32_t> depth;
    for (uint32_t k = 0; k < 16; ++k) {
        uint64_t capacity = 0;
        for (const auto& s : sources) {
            auto c = Mul(nodes_of(s, value), leaves);
            capacity = !c || capacity + *c < capacity ? UINT64_MAX : capacity + *c;
        }
        if (capacity >= need) {
            depth = k;
            break;
        }
        auto next_value = Mul(value, fanout);
        auto next_leaves = Mul(leaves, fanout);
        if (!next_value || *next_value + fee_max < *next_value || !next_leaves) break;
        value = *next_value + fee_max;
        leaves = *next_leaves;
    }
    if (!depth) {
        return MakeError(Errc::kInvalid, "the faucet holds " + std::to_string(total) +
                                             " units in " + std::to_string(sources.size()) +
                                             " spendable outputs, too little for " +
                                             std::to_string(need) + " transfers of " +
                                             std::to_string(params.leaf_amount) +
                                             " units plus split fees");
    }

    SplitRound round;
    round.depth = *depth;
    round.output_amount = value;
    uint64_t left = need / leaves + (need % leaves != 0);
    for (const auto& s : sources) {
        if (left == 0) break;
        const uint64_t c = std::min(nodes_of(s, value), left);
        if (c == 0) break;  // sorted: the rest are smaller
        TC_TRY(tx, BuildSplit(s, static_cast<uint32_t>(c), value, params.address, params.address,
                              params.fee_rate));
        round.txs.push_back(std::move(tx));
        round.outputs_per_tx.push_back(static_cast<uint32_t>(c));
        round.outputs += c;
        left -= c;
    }
    return round;
}

std::vector<Source> RoundOutputs(const SplitRound& round) {
    std::vector<Source> out;
    out.reserve(round.outputs);
    for (size_t i = 0; i < round.txs.size(); ++i) {
        const wire::Hash txid = wire::TxId(round.txs[i]);
        for (uint32_t v = 0; v < round.outputs_per_tx[i]; ++v) {
            out.push_back(Source{wire::OutPoint{txid, v}, round.output_amount});
        }
    }
    return out;
}

double NearestRank(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const double n = static_cast<double>(sorted.size());
    // p x n / 100 is an integer for the usual p and n; the epsilon keeps a
    // floating-point 99.00000000001 from moving up one rank.
    auto rank = static_cast<size_t>(std::ceil(p * n / 100.0 - 1e-9));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

std::optional<Percentiles> Summarize(std::vector<double> samples) {
    if (samples.empty()) return std::nullopt;
    std::sort(samples.begin(), samples.end());
    return Percentiles{NearestRank(samples, 50), NearestRank(samples, 90), NearestRank(samples, 99),
                       samples.back()};
}

}  // namespace tc::load
