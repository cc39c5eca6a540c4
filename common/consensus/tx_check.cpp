#include "consensus/tx_check.h"

#include <set>
#include <string>

#include "crypto/domain.h"
#include "util/amount.h"
#include "wire/genesis.h"

namespace tc::consensus {

using util::Errc;
using util::MakeError;

util::Status CheckTransaction(const wire::Transaction& tx) {
    using wire::TxKind;
    if (tx.kind == TxKind::kRetire) {
        if (!tx.inputs.empty()) return MakeError(Errc::kInvalid, "tx.inputs: a retire has none");
        if (!tx.outputs.empty()) return MakeError(Errc::kInvalid, "tx.outputs: a retire has none");
    } else if (tx.inputs.empty()) {
        return MakeError(Errc::kInvalid, "tx.inputs: at least one input is needed");
    }
    std::set<wire::OutPoint> spent;
    for (size_t i = 0; i < tx.inputs.size(); ++i) {
        if (!spent.insert(tx.inputs[i]).second) {
            return MakeError(Errc::kInvalid, "tx.inputs[" + std::to_string(i) +
                                                 "]: spends the same output as an earlier input");
        }
    }
    util::Amount total;
    for (size_t i = 0; i < tx.outputs.size(); ++i) {
        std::string field = "tx.outputs[" + std::to_string(i) + "].amount";
        if (tx.outputs[i].amount == 0)
            return MakeError(Errc::kInvalid, field + ": must be above zero");
        auto sum = total.CheckedAdd(util::Amount::FromUnits(tx.outputs[i].amount));
        if (!sum) return MakeError(Errc::kInvalid, field + ": the total of the outputs overflows");
        total = *sum;
    }
    if (tx.kind == TxKind::kRegister) {
        if (tx.outputs.empty()) {
            return MakeError(Errc::kInvalid,
                             "tx.outputs: a register locks its collateral in output 0");
        }
        const auto* reg = std::get_if<wire::RegisterPayload>(&tx.payload);
        if (!reg) return MakeError(Errc::kInvalid, "tx.payload: a register needs its masternode");
        auto endpoint = wire::CheckEndpoint(reg->endpoint);
        if (!endpoint) return std::move(endpoint).error().In("tx.payload.endpoint");
    }
    return {};
}

util::Status VerifyWitnesses(const wire::Transaction& tx, const crypto::Hash256& chain_id) {
    size_t slots = tx.WitnessSlots();
    if (tx.witnesses.size() != slots) {
        return MakeError(Errc::kCrypto, "tx.witnesses: unsigned (" + std::to_string(slots) +
                                            " signatures needed)");
    }
    util::Bytes msg = crypto::TxSigningMessage(chain_id, wire::TxId(tx));
    for (size_t i = 0; i < slots; ++i) {
        std::string field = "tx.witnesses[" + std::to_string(i) + "]";
        const auto& w = tx.witnesses[i];
        if (!w) return MakeError(Errc::kCrypto, field + ": missing (input not signed)");
        if (const auto* retire = std::get_if<wire::RetirePayload>(&tx.payload)) {
            if (w->public_key != retire->masternode_key) {
                return MakeError(Errc::kCrypto,
                                 field + ": a retire must be signed by the masternode key");
            }
        }
        if (!crypto::Verify(w->public_key, msg, w->signature)) {
            return MakeError(Errc::kCrypto, field + ": bad signature for this chain");
        }
    }
    return {};
}

}  // namespace tc::consensus
