#include "ledger/rules.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "consensus/certificate.h"
#include "consensus/tx_check.h"
#include "wire/address.h"
#include "wire/codec.h"
#include "wire/tx_text.h"

namespace tc::ledger {

using schema::RegistryEntry;
using schema::RegistryKind;
using util::Amount;
using util::Errc;
using util::MakeError;

namespace {

util::Error Rule(uint64_t height, const std::string& field, const std::string& rule,
                 const std::string& detail, Errc code = Errc::kInvalid) {
    std::string msg = "block " + std::to_string(height) + ": " + field + ": " + rule;
    if (!detail.empty()) msg += " " + detail;
    return MakeError(code, std::move(msg));
}

bool EntryLess(const RegistryEntry& a, const RegistryEntry& b) {
    return a.height != b.height ? a.height < b.height : a.node.key < b.node.key;
}

std::string Hex(util::ByteView b) {
    return util::ToHex(b);
}

}  // namespace

Registry::Registry(std::vector<RegistryEntry> entries) : m_entries(std::move(entries)) {
    std::stable_sort(m_entries.begin(), m_entries.end(), EntryLess);
}

Registry Registry::FromGenesis(const wire::Genesis& genesis) {
    std::vector<RegistryEntry> entries;
    for (const auto& m : genesis.masternodes) {
        RegistryEntry e;
        e.height = 0;
        e.kind = RegistryKind::kAdd;
        e.node = Masternode{m.public_key, m.endpoint, m.payout, std::nullopt};
        entries.push_back(std::move(e));
    }
    return Registry(std::move(entries));
}

std::vector<Masternode> Registry::SetAt(uint64_t height) const {
    std::map<crypto::PublicKey, const Masternode*> set;
    for (const auto& e : m_entries) {
        if (e.height > height) break;
        if (e.kind == RegistryKind::kAdd) {
            set[e.node.key] = &e.node;
        } else {
            set.erase(e.node.key);
        }
    }
    std::vector<Masternode> out;
    out.reserve(set.size());
    for (const auto& [key, node] : set) out.push_back(*node);
    return out;
}

std::vector<Masternode> Registry::Final() const {
    return SetAt(UINT64_MAX);
}

void Registry::Add(const RegistryEntry& entry) {
    auto at = std::upper_bound(m_entries.begin(), m_entries.end(), entry, EntryLess);
    m_entries.insert(at, entry);
}

std::vector<crypto::PublicKey> Keys(const std::vector<Masternode>& set) {
    std::vector<crypto::PublicKey> keys;
    keys.reserve(set.size());
    for (const auto& m : set) keys.push_back(m.key);
    return keys;
}

util::Status VerifyBlocksWitnesses(std::span<const wire::Block* const> blocks,
                                   const wire::Hash& chain_id, unsigned threads,
                                   size_t* bad_block) {
    // Every (block, tx) pair in one list, so that the threads share the
    // whole batch's work; the lowest failing pair is the one reported.
    std::vector<std::pair<size_t, size_t>> work_list;
    for (size_t b = 0; b < blocks.size(); ++b) {
        for (size_t t = 0; t < blocks[b]->txs.size(); ++t) work_list.emplace_back(b, t);
    }
    const size_t n = work_list.size();
    if (n == 0) return {};
    size_t workers = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
    workers = std::min(workers, n);
    std::atomic<size_t> next{0};
    std::atomic<size_t> first_bad{SIZE_MAX};
    std::vector<std::optional<util::Error>> errors(n);
    auto work = [&] {
        for (;;) {
            size_t i = next.fetch_add(1);
            if (i >= n || i > first_bad.load()) return;
            const auto [b, t] = work_list[i];
            auto status = consensus::VerifyWitnesses(blocks[b]->txs[t], chain_id);
            if (!status.ok()) {
                errors[i] = status.error();
                size_t seen = first_bad.load();
                while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {
                }
            }
        }
    };
    std::vector<std::thread> pool;
    try {
        for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
    } catch (const std::system_error&) {
        // No more threads: the ones started and this one finish the work.
    }
    work();
    for (auto& t : pool) t.join();
    const size_t bad = first_bad.load();
    if (bad == SIZE_MAX) return {};
    const auto [b, t] = work_list[bad];
    if (bad_block) *bad_block = b;
    return Rule(blocks[b]->header.height, "tx[" + std::to_string(t) + "]", "bad-witness",
                errors[bad]->message, Errc::kCrypto);
}

util::Status VerifyBlockWitnesses(const wire::Block& block, const wire::Hash& chain_id,
                                  unsigned threads) {
    const wire::Block* one[] = {&block};
    return VerifyBlocksWitnesses(one, chain_id, threads, nullptr);
}

util::Result<TxOutcome> CheckTx(const RuleContext& ctx, uint64_t height, const UtxoLookup& lookup,
                                const wire::Transaction& tx, uint32_t position,
                                const std::string& f, TxRuleState& st) {
    const wire::Genesis& g = ctx.genesis;
    size_t tx_bytes = wire::Encode(tx).size();
    if (tx_bytes > g.max_tx_bytes) {
        return TxOutcome(TxRuleBreak{
            f, "tx-too-large",
            std::to_string(tx_bytes) + " bytes, the limit is " + std::to_string(g.max_tx_bytes)});
    }
    auto ok = consensus::CheckTransaction(tx);
    if (!ok.ok()) return TxOutcome(TxRuleBreak{f, "bad-tx", ok.error().message});
    if (tx.expiry != 0 && height > tx.expiry) {
        return TxOutcome(TxRuleBreak{
            f + ".expiry", "expired",
            "at height " + std::to_string(tx.expiry) + ", this is " + std::to_string(height)});
    }
    const size_t slots = tx.WitnessSlots();
    if (tx.witnesses.size() != slots) {
        return TxOutcome(TxRuleBreak{
            f + ".witnesses", "unsigned",
            std::to_string(tx.witnesses.size()) + " of " + std::to_string(slots) + " signatures"});
    }
    for (size_t j = 0; j < slots; ++j) {
        if (!tx.witnesses[j]) {
            return TxOutcome(TxRuleBreak{f + ".witnesses[" + std::to_string(j) + "]", "unsigned",
                                         "(input not signed)"});
        }
    }
    const wire::Hash txid = wire::TxId(tx);
    if (st.txids.count(txid)) {
        return TxOutcome(
            TxRuleBreak{f, "duplicate-txid", Hex(txid) + " appears twice in this block"});
    }

    Amount in;
    std::vector<Utxo> spent;  // into st.fx.spent once the tx passes
    for (size_t j = 0; j < tx.inputs.size(); ++j) {
        const wire::OutPoint& op = tx.inputs[j];
        const std::string fi = f + ".inputs[" + std::to_string(j) + "]";
        if (st.spent_here.count(op)) {
            return TxOutcome(
                TxRuleBreak{fi, "double-spend",
                            wire::OutPointText(op) + " is spent by an earlier tx of this block"});
        }
        Utxo utxo;
        bool from_block = false;
        if (auto it = st.block_outputs.find(op); it != st.block_outputs.end()) {
            utxo = it->second;
            from_block = true;
        } else {
            TC_TRY(found, lookup(op));
            if (!found) return TxOutcome(TxRuleBreak{fi, "missing-input", wire::OutPointText(op)});
            utxo = *found;
        }
        if (utxo.locked && !st.unlocked.count(op)) {
            return TxOutcome(
                TxRuleBreak{fi, "collateral-locked",
                            wire::OutPointText(op) + " is the collateral of a masternode"});
        }
        wire::PubKeyHash owner = wire::KeyHash(tx.witnesses[j]->public_key);
        if (owner != utxo.address) {
            return TxOutcome(TxRuleBreak{fi, "wrong-owner",
                                         "the witness key is " +
                                             wire::Address{g.network, owner}.ToString() +
                                             ", the output belongs to " +
                                             wire::Address{g.network, utxo.address}.ToString()});
        }
        auto sum = in.CheckedAdd(Amount::FromUnits(utxo.amount));
        if (!sum) return TxOutcome(TxRuleBreak{fi, "bad-tx", "the total of the inputs overflows"});
        in = *sum;
        if (!from_block) spent.push_back(utxo);
    }
    Amount out;
    for (const auto& o : tx.outputs) out = *out.CheckedAdd(Amount::FromUnits(o.amount));

    Amount fee;
    if (tx.kind != wire::TxKind::kRetire) {
        if (in < out) {
            return TxOutcome(
                TxRuleBreak{f, "outputs-exceed-inputs",
                            "outputs " + out.ToString() + " exceed inputs " + in.ToString()});
        }
        fee = *in.CheckedSub(out);
        const Amount min_rate = g.min_fee_rate;
        uint64_t required = 0;
        bool overflow = __builtin_mul_overflow(min_rate.units(), uint64_t{tx_bytes}, &required);
        if (overflow || fee.units() < required) {
            return TxOutcome(TxRuleBreak{f, "fee-too-low",
                                         "fee " + fee.ToString() + " is below " +
                                             (overflow ? std::string("the minimum")
                                                       : Amount::FromUnits(required).ToString()) +
                                             " (min_fee_rate " + min_rate.ToString() + " x " +
                                             std::to_string(tx_bytes) + " bytes)"});
        }
        if (!st.fx.fees.CheckedAdd(fee)) {
            return TxOutcome(TxRuleBreak{f, "bad-tx", "the fees of the block overflow"});
        }
    }

    const uint64_t effective = height + g.activation_delay;
    std::optional<RegistryEntry> change;
    if (const auto* reg = std::get_if<wire::RegisterPayload>(&tx.payload)) {
        const std::string fp = f + ".payload";
        if (!crypto::ToCurvePublic(reg->masternode_key).ok()) {
            return TxOutcome(TxRuleBreak{fp + ".masternode_key", "bad-masternode-key",
                                         "not a valid Ed25519 public key"});
        }
        if (tx.outputs[0].amount != g.collateral.units()) {
            return TxOutcome(TxRuleBreak{f + ".outputs[0].amount", "collateral-amount",
                                         Amount::FromUnits(tx.outputs[0].amount).ToString() +
                                             " where " + g.collateral.ToString() +
                                             " (the collateral) is expected"});
        }
        if (tx.outputs[0].address != reg->payout) {
            return TxOutcome(TxRuleBreak{f + ".outputs[0].address", "collateral-address",
                                         "the collateral must pay the payout address " +
                                             wire::Address{g.network, reg->payout}.ToString()});
        }
        if (st.changed.count(reg->masternode_key)) {
            return TxOutcome(TxRuleBreak{fp + ".masternode_key", "masternode-changed-twice",
                                         Hex(reg->masternode_key) +
                                             " is registered or retired by an earlier "
                                             "tx of this block"});
        }
        if (st.final_set.count(reg->masternode_key)) {
            return TxOutcome(TxRuleBreak{fp + ".masternode_key", "masternode-exists",
                                         Hex(reg->masternode_key) + " is in or entering the set"});
        }
        RegistryEntry e;
        e.height = effective;
        e.kind = RegistryKind::kAdd;
        e.node =
            Masternode{reg->masternode_key, reg->endpoint, reg->payout, wire::OutPoint{txid, 0}};
        change = std::move(e);
    } else if (const auto* ret = std::get_if<wire::RetirePayload>(&tx.payload)) {
        const std::string fp = f + ".payload.masternode_key";
        if (tx.witnesses[0]->public_key != ret->masternode_key) {
            return TxOutcome(TxRuleBreak{
                f + ".witnesses[0]", "retire-wrong-key",
                "a retire must be signed by the masternode key " + Hex(ret->masternode_key)});
        }
        if (st.changed.count(ret->masternode_key)) {
            return TxOutcome(TxRuleBreak{fp, "masternode-changed-twice",
                                         Hex(ret->masternode_key) +
                                             " is registered or retired by an earlier "
                                             "tx of this block"});
        }
        auto it = st.final_set.find(ret->masternode_key);
        if (it == st.final_set.end()) {
            return TxOutcome(
                TxRuleBreak{fp, "retire-not-masternode",
                            Hex(ret->masternode_key) + " is not in the set (or already leaving)"});
        }
        if (st.final_set.size() == 1) {
            return TxOutcome(
                TxRuleBreak{fp, "masternode-set-empty", "the last masternode cannot retire"});
        }
        RegistryEntry e;
        e.height = effective;
        e.kind = RegistryKind::kRemove;
        e.node = it->second;
        change = std::move(e);
    }

    // Every rule passed: apply the tx to the state. A tx that breaks a rule
    // leaves the state as it was.
    st.txids.insert(txid);
    for (const auto& op : tx.inputs) {
        st.spent_here.insert(op);
        st.block_outputs.erase(op);
    }
    for (auto& u : spent) st.fx.spent.push_back(std::move(u));
    st.fx.fees = *st.fx.fees.CheckedAdd(fee);
    if (change) {
        if (change->kind == RegistryKind::kAdd) {
            st.final_set[change->node.key] = change->node;
        } else {
            st.final_set.erase(change->node.key);
        }
        st.changed.insert(change->node.key);
        st.fx.registry.push_back(std::move(*change));
    }
    const bool is_register = tx.kind == wire::TxKind::kRegister;
    for (size_t v = 0; v < tx.outputs.size(); ++v) {
        Utxo u;
        u.outpoint = wire::OutPoint{txid, static_cast<uint32_t>(v)};
        u.amount = tx.outputs[v].amount;
        u.address = tx.outputs[v].address;
        u.height = height;
        u.locked = is_register && v == 0;
        st.block_outputs.emplace(u.outpoint, u);
    }
    st.fx.txs.emplace_back(txid, TxLocation{height, position});
    return TxOutcome(TxChecked{txid, tx_bytes, fee});
}

util::Result<BlockEffects> CheckBlock(const RuleContext& ctx, const Tip& tip,
                                      const Registry& registry, const UtxoLookup& lookup,
                                      const wire::Block& block, const wire::CommitCertificate& cert,
                                      const ApplyOptions& options) {
    const wire::Genesis& g = ctx.genesis;
    const wire::BlockHeader& h = block.header;
    const uint64_t height = tip.height + 1;
    const uint64_t hb = h.height;  // the height messages name: the block's own

    // Header.
    if (h.height != height) {
        return Rule(hb, "header.height", "bad-height",
                    std::to_string(h.height) + " where " + std::to_string(height) +
                        " (tip + 1) is expected");
    }
    if (h.prev_hash != tip.hash) {
        return Rule(hb, "header.prev_hash", "bad-prev-hash",
                    Hex(h.prev_hash) + " where " + Hex(tip.hash) + " (block " +
                        std::to_string(tip.height) + ") is expected");
    }
    if (h.version != wire::kBlockVersion) {
        return Rule(hb, "header.version", "bad-version",
                    std::to_string(h.version) + " where " + std::to_string(wire::kBlockVersion) +
                        " is expected");
    }
    if (h.timestamp_ms < tip.time_ms) {
        return Rule(hb, "header.timestamp", "time-too-old",
                    std::to_string(h.timestamp_ms) + " is before the previous block's " +
                        std::to_string(tip.time_ms));
    }
    const std::vector<Masternode> set = registry.SetAt(height);
    if (set.empty()) {
        return MakeError(Errc::kInternal, "block " + std::to_string(hb) +
                                              ": the masternode set at this height is empty");
    }
    const uint64_t n = set.size();
    const uint64_t primary = (height % n + h.view % n) % n;
    if (h.proposer != primary) {
        return Rule(hb, "header.proposer", "bad-proposer",
                    std::to_string(h.proposer) + " where " + std::to_string(primary) +
                        " is the primary of view " + std::to_string(h.view) + " among " +
                        std::to_string(n) + " masternodes");
    }
    const std::vector<crypto::PublicKey> keys = Keys(set);
    wire::Hash mnset = consensus::MasternodeSetHash(keys);
    if (h.mnset_hash != mnset) {
        return Rule(hb, "header.mnset_hash", "bad-mnset-hash",
                    Hex(h.mnset_hash) + " where " + Hex(mnset) + " (the set of " +
                        std::to_string(n) + " at this height) is expected");
    }
    wire::Hash root = wire::TxRoot(block.txs);
    if (h.tx_root != root) {
        return Rule(hb, "header.tx_root", "bad-tx-root",
                    Hex(h.tx_root) + " where the transactions give " + Hex(root));
    }
    BlockEffects fx;
    fx.height = height;
    fx.encoded_block = wire::Encode(block);
    if (fx.encoded_block.size() > g.max_block_bytes) {
        return Rule(hb, "block", "block-too-large",
                    std::to_string(fx.encoded_block.size()) + " bytes, the limit is " +
                        std::to_string(g.max_block_bytes));
    }
    if (block.txs.size() > g.max_block_txs) {
        return Rule(
            hb, "block.txs", "too-many-txs",
            std::to_string(block.txs.size()) + ", the limit is " + std::to_string(g.max_block_txs));
    }
    fx.block_hash = wire::BlockHash(h);
    auto cert_ok = consensus::VerifyCertificate(cert, keys, ctx.chain_id, height, fx.block_hash);
    if (!cert_ok.ok()) {
        return Rule(hb, "cert", "bad-certificate", cert_ok.error().message, cert_ok.error().code);
    }

    // Collateral of masternodes leaving at this height becomes spendable.
    TxRuleState st;
    st.fx = std::move(fx);
    for (const auto& e : registry.entries()) {
        if (e.height > height) break;
        if (e.height != height || e.kind != RegistryKind::kRemove || !e.node.collateral) continue;
        TC_TRY(found, lookup(*e.node.collateral));
        if (!found) {
            return MakeError(Errc::kInternal, "block " + std::to_string(hb) + ": collateral " +
                                                  wire::OutPointText(*e.node.collateral) +
                                                  " of masternode " + Hex(e.node.key) +
                                                  " is not in the UTXO set");
        }
        found->locked = false;
        st.unlocked.insert(found->outpoint);
        st.fx.unlocked.push_back(*found);
    }

    // Transactions.
    for (auto& m : registry.Final()) st.final_set.emplace(m.key, m);
    for (size_t i = 0; i < block.txs.size(); ++i) {
        TC_TRY(outcome, CheckTx(ctx, height, lookup, block.txs[i], static_cast<uint32_t>(i),
                                "tx[" + std::to_string(i) + "]", st));
        if (const auto* broken = std::get_if<TxRuleBreak>(&outcome)) {
            return Rule(hb, broken->field, broken->rule, broken->detail);
        }
    }

    if (options.verify_witnesses) {
        TC_CHECK(VerifyBlockWitnesses(block, ctx.chain_id, options.threads));
    }
    st.fx.created.reserve(st.block_outputs.size());
    for (auto& [op, u] : st.block_outputs) st.fx.created.push_back(std::move(u));
    return std::move(st.fx);
}

}  // namespace tc::ledger
