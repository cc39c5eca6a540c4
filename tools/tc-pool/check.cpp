#include "check.h"

#include <cstdint>
#include <utility>

#include "consensus/tx_check.h"
#include "wire/codec.h"

namespace tc::pool {

namespace {

// Ledger rules that are about who signed: one reason for the submitter.
bool IsSignatureRule(const std::string& rule) {
    return rule == "unsigned" || rule == "wrong-owner" || rule == "retire-wrong-key";
}

// FIELD: DETAIL, without repeating the field when the detail already starts
// with it (bad-tx details come from consensus::CheckTransaction, which names
// "tx.outputs[0].amount" itself).
std::string Named(const std::string& field, const std::string& detail) {
    if (detail.rfind(field + ".", 0) == 0 || detail.rfind(field + ":", 0) == 0) return detail;
    return detail.empty() ? field : field + ": " + detail;
}

}  // namespace

util::Result<ChainState> LoadChainState(const ledger::Ledger& view) {
    ChainState chain;
    TC_TRY(status, view.GetStatus());
    chain.genesis = view.genesis();
    chain.chain_id = status.chain_id;
    chain.next_height = status.height + 1;
    TC_TRY(final_set, view.GetMasternodes(UINT64_MAX));
    for (auto& m : final_set) chain.final_set.emplace(m.key, std::move(m));
    // A masternode in the set at the tip and out of it at the next height
    // leaves there: its collateral is spendable in the next block. (CheckBlock
    // reads the same from the registry's remove entries at that height; a key
    // cannot leave and enter at one height, as both would need to be in one
    // block, which masternode-changed-twice refuses.)
    TC_TRY(now, view.GetMasternodes(status.height));
    TC_TRY(next, view.GetMasternodes(chain.next_height));
    std::set<crypto::PublicKey> staying;
    for (const auto& m : next) staying.insert(m.key);
    for (const auto& m : now) {
        if (!staying.count(m.key) && m.collateral) chain.unlocked.insert(*m.collateral);
    }
    return chain;
}

ledger::UtxoLookup LookupIn(const ledger::Ledger& view) {
    return [&view](const wire::OutPoint& op) -> util::Result<std::optional<ledger::Utxo>> {
        auto utxo = view.GetUtxo(op);
        if (utxo) return std::optional<ledger::Utxo>(std::move(*utxo));
        if (utxo.error().code == util::Errc::kNotFound) {
            return std::optional<ledger::Utxo>();
        }
        return std::move(utxo).error();
    };
}

util::Result<Checked> CheckTx(const ChainState& chain, const ledger::UtxoLookup& lookup,
                              util::ByteView encoded) {
    Checked out;
    auto decoded = wire::DecodeTransaction(encoded);
    if (!decoded) {
        out.refusal = Refusal{std::string(kMalformed), decoded.error().message};
        return out;
    }
    Entry& e = out.entry;
    e.tx = std::move(*decoded);
    e.txid = wire::TxId(e.tx);
    e.wtxid = wire::WitnessTxId(e.tx);

    // The ledger's per-tx rules, as for the only tx of the next block.
    // CheckTx reads the masternode set only for a register or retire: a
    // transfer skips the copy.
    ledger::TxRuleState state;
    if (!std::holds_alternative<std::monostate>(e.tx.payload)) state.final_set = chain.final_set;
    state.unlocked = chain.unlocked;
    const ledger::RuleContext ctx{chain.genesis, chain.chain_id};
    TC_TRY(outcome, ledger::CheckTx(ctx, chain.next_height, lookup, e.tx, 0, "tx", state));
    if (const auto* broken = std::get_if<ledger::TxRuleBreak>(&outcome)) {
        if (IsSignatureRule(broken->rule)) {
            out.refusal = Refusal{std::string(kBadSignature),
                                  Named(broken->field, broken->rule + ": " + broken->detail)};
        } else {
            out.refusal = Refusal{broken->rule, Named(broken->field, broken->detail)};
        }
        return out;
    }
    const auto& passed = std::get<ledger::TxChecked>(outcome);
    e.bytes = passed.bytes;
    e.fee = passed.fee.units();
    e.spent = e.tx.inputs;
    e.expiry = e.tx.expiry;
    if (const auto* reg = std::get_if<wire::RegisterPayload>(&e.tx.payload)) {
        e.masternode = reg->masternode_key;
    } else if (const auto* ret = std::get_if<wire::RetirePayload>(&e.tx.payload)) {
        e.masternode = ret->masternode_key;
    }
    return out;
}

std::optional<Refusal> SpentInChain(const ledger::Ledger& view, const wire::Hash& chain_id,
                                    const wire::Transaction& tx) {
    for (size_t i = 0; i < tx.inputs.size(); ++i) {
        const wire::OutPoint& in = tx.inputs[i];
        if (view.GetUtxo(in)) continue;
        // A genesis allocation's outpoint has no transaction behind it.
        bool existed = in.vout < view.genesis().allocations.size() &&
                       ledger::GenesisOutPoint(chain_id, in.vout) == in;
        if (!existed) {
            auto where = view.GetTxLocation(in.txid);
            if (!where) continue;
            auto block = view.GetBlock(where->height);
            existed = block && where->position < block->txs.size() &&
                      in.vout < block->txs[where->position].outputs.size();
        }
        if (!existed) continue;
        return Refusal{"double-spend", "tx.inputs[" + std::to_string(i) +
                                           "]: " + util::ToHex(in.txid) + ":" +
                                           std::to_string(in.vout) + " was spent in the chain"};
    }
    return std::nullopt;
}

std::optional<Refusal> VerifyWitnesses(const wire::Transaction& tx, const wire::Hash& chain_id) {
    auto ok = consensus::VerifyWitnesses(tx, chain_id);
    if (ok) return std::nullopt;
    return Refusal{std::string(kBadSignature), ok.error().message};
}

util::Result<Checked> CheckForPool(const ChainState& chain, const ledger::UtxoLookup& lookup,
                                   util::ByteView encoded) {
    TC_TRY(checked, CheckTx(chain, lookup, encoded));
    if (!checked.refusal) checked.refusal = VerifyWitnesses(checked.entry.tx, chain.chain_id);
    return checked;
}

}  // namespace tc::pool
