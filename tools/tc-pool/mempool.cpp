#include "mempool.h"

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <stdexcept>
#include <utility>

#include "util/bytes.h"
#include "wire/codec.h"
#include "wire/tx_text.h"

namespace tc::pool {

namespace {

std::string Hex(const wire::Hash& h) {
    return util::ToHex(h);
}

std::string KeyText(const crypto::PublicKey& key) {
    return util::ToHex(key);
}

std::optional<crypto::PublicKey> MasternodeOf(const wire::Transaction& tx) {
    if (const auto* reg = std::get_if<wire::RegisterPayload>(&tx.payload)) {
        return reg->masternode_key;
    }
    if (const auto* ret = std::get_if<wire::RetirePayload>(&tx.payload)) {
        return ret->masternode_key;
    }
    return std::nullopt;
}

}  // namespace

std::strong_ordering operator<=>(const FeeRate& a, const FeeRate& b) {
    // a.fee / a.bytes <=> b.fee / b.bytes, both denominators positive; each
    // product is below 2^128.
    unsigned __int128 left = static_cast<unsigned __int128>(a.fee) * b.bytes;
    unsigned __int128 right = static_cast<unsigned __int128>(b.fee) * a.bytes;
    return left <=> right;
}

std::string FeeRate::ToString() const {
    return std::to_string(fee) + "/" + std::to_string(bytes);
}

const char* TxStatusName(TxStatus status) {
    switch (status) {
        case TxStatus::kUnknown:
            return "unknown";
        case TxStatus::kPending:
            return "pending";
        case TxStatus::kRefused:
            return "refused";
        case TxStatus::kEvicted:
            return "evicted";
        case TxStatus::kExpired:
            return "expired";
        case TxStatus::kConflicted:
            return "conflicted";
        case TxStatus::kCommitted:
            return "committed";
    }
    return "unknown";
}

bool Mempool::Better::operator()(const Key& a, const Key& b) const {
    auto order = a.rate <=> b.rate;
    if (order != 0) return order > 0;
    return a.sequence < b.sequence;  // unique per entry
}

// libstdc++'s policy-based red-black tree with subtree sizes: insert, erase
// and the rank of a key (order_of_key) in O(log n).
struct Mempool::Order {
    __gnu_pbds::tree<Key, __gnu_pbds::null_type, Better, __gnu_pbds::rb_tree_tag,
                     __gnu_pbds::tree_order_statistics_node_update>
        tree;
};

Mempool::Mempool(Limits limits) : m_limits(limits), m_order(std::make_unique<Order>()) {}
Mempool::~Mempool() = default;
Mempool::Mempool(Mempool&&) noexcept = default;
Mempool& Mempool::operator=(Mempool&&) noexcept = default;

AddResult Mempool::Add(Entry entry) {
    if (entry.bytes == 0) throw std::invalid_argument("Mempool::Add: an entry of 0 bytes");
    if (!entry.masternode) entry.masternode = MasternodeOf(entry.tx);
    AddResult result;
    auto refuse = [&](std::string_view reason, std::string detail) {
        result.reason = reason;
        result.detail = std::move(detail);
        Remember(Record{entry.txid, TxStatus::kRefused, result.reason, result.detail, 0});
        return result;
    };
    if (m_entries.count(entry.txid)) {
        result.reason = kAlreadyKnown;
        result.detail = "txid " + Hex(entry.txid) + " is pending";
        return result;
    }
    for (size_t i = 0; i < entry.spent.size(); ++i) {
        if (auto it = m_by_outpoint.find(entry.spent[i]); it != m_by_outpoint.end()) {
            return refuse(kDoubleSpend, "tx.inputs[" + std::to_string(i) +
                                            "]: " + wire::OutPointText(entry.spent[i]) +
                                            " is spent by pending tx " + Hex(it->second));
        }
    }
    if (entry.masternode) {
        if (auto it = m_by_masternode.find(*entry.masternode); it != m_by_masternode.end()) {
            return refuse(kMasternodeChangedTwice,
                          "tx.payload.masternode_key: " + KeyText(*entry.masternode) +
                              " is registered or retired by pending tx " + Hex(it->second));
        }
    }

    // Room: evict from the lowest rate up, only entries of a lower rate.
    if (m_limits.max_count == 0 || entry.bytes > m_limits.max_bytes) {
        return refuse(kPoolFull, std::to_string(entry.bytes) + " bytes, the pool holds " +
                                     std::to_string(m_limits.max_count) + " txs of at most " +
                                     std::to_string(m_limits.max_bytes) + " bytes in all");
    }
    std::vector<wire::Hash> victims;
    size_t count = m_entries.size();
    uint64_t bytes = m_bytes;
    auto worst = m_order->tree.end();
    const FeeRate rate = entry.rate();
    while (count + 1 > m_limits.max_count || bytes + entry.bytes > m_limits.max_bytes) {
        // Terminates: with the pool emptied the entry fits (checked above).
        --worst;
        if (!(rate > worst->rate)) {
            return refuse(kPoolFull, "fee rate " + rate.ToString() + " is not above the fee rate " +
                                         worst->rate.ToString() +
                                         " of the pending tx it would evict, " + Hex(worst->txid));
        }
        victims.push_back(worst->txid);
        --count;
        bytes -= m_entries.at(worst->txid).bytes;
    }
    for (const auto& txid : victims) {
        Removed r = Remove(txid, kPoolFull,
                           "evicted by " + Hex(entry.txid) + " of fee rate " + rate.ToString());
        Remember(Record{txid, TxStatus::kEvicted, r.reason, r.detail, 0});
        result.evicted.push_back(std::move(r));
    }

    entry.sequence = m_next_sequence++;
    for (const auto& op : entry.spent) m_by_outpoint.emplace(op, entry.txid);
    if (entry.masternode) m_by_masternode.emplace(*entry.masternode, entry.txid);
    if (entry.expiry != 0) m_by_expiry.emplace(entry.expiry, entry.sequence, entry.txid);
    m_order->tree.insert(KeyOf(entry));
    m_bytes += entry.bytes;
    const wire::Hash txid = entry.txid;
    m_entries.emplace(txid, std::move(entry));
    result.accepted = true;
    return result;
}

void Mempool::Refuse(const wire::Hash& txid, std::string reason, std::string detail) {
    if (m_entries.count(txid)) return;
    Remember(Record{txid, TxStatus::kRefused, std::move(reason), std::move(detail), 0});
}

std::vector<const Entry*> Mempool::Select(size_t max_txs, uint64_t max_bytes) const {
    std::vector<const Entry*> batch;
    uint64_t left = max_bytes;
    size_t skips = 0;
    for (auto it = m_order->tree.begin();
         it != m_order->tree.end() && batch.size() < max_txs && skips < kSelectMaxSkips; ++it) {
        const Entry& e = m_entries.at(it->txid);
        if (e.bytes > left) {
            ++skips;
            continue;
        }
        skips = 0;
        left -= e.bytes;
        batch.push_back(&e);
    }
    return batch;
}

std::vector<Removed> Mempool::BlockCommitted(uint64_t height, std::span<const wire::Hash> txids,
                                             std::span<const wire::OutPoint> spent,
                                             std::span<const crypto::PublicKey> masternodes) {
    std::vector<Removed> removed;
    const std::string where = "block " + std::to_string(height);
    for (const auto& txid : txids) {
        const bool known = m_entries.count(txid) || m_history_index.count(txid);
        if (m_entries.count(txid)) removed.push_back(Remove(txid, kCommitted, "in " + where));
        if (known) {
            Remember(
                Record{txid, TxStatus::kCommitted, std::string(kCommitted), "in " + where, height});
        }
    }
    for (const auto& op : spent) {
        auto it = m_by_outpoint.find(op);
        if (it == m_by_outpoint.end()) continue;
        const wire::Hash txid = it->second;
        const Entry& e = m_entries.at(txid);
        size_t i = 0;
        while (i < e.spent.size() && !(e.spent[i] == op)) ++i;
        Removed r = Remove(txid, kDoubleSpend,
                           "tx.inputs[" + std::to_string(i) + "]: " + wire::OutPointText(op) +
                               " was spent by " + where);
        Remember(Record{txid, TxStatus::kConflicted, r.reason, r.detail, height});
        removed.push_back(std::move(r));
    }
    for (const auto& key : masternodes) {
        auto it = m_by_masternode.find(key);
        if (it == m_by_masternode.end()) continue;
        const wire::Hash txid = it->second;
        Removed r = Remove(txid, kMasternodeChangedTwice,
                           "tx.payload.masternode_key: " + KeyText(key) +
                               " was registered or retired by " + where);
        Remember(Record{txid, TxStatus::kConflicted, r.reason, r.detail, height});
        removed.push_back(std::move(r));
    }
    return removed;
}

std::vector<Removed> Mempool::BlockCommitted(const wire::Block& block) {
    std::vector<wire::Hash> txids;
    std::vector<wire::OutPoint> spent;
    std::vector<crypto::PublicKey> masternodes;
    txids.reserve(block.txs.size());
    for (const auto& tx : block.txs) {
        txids.push_back(wire::TxId(tx));
        spent.insert(spent.end(), tx.inputs.begin(), tx.inputs.end());
        if (auto key = MasternodeOf(tx)) masternodes.push_back(*key);
    }
    return BlockCommitted(block.header.height, txids, spent, masternodes);
}

std::vector<Removed> Mempool::Expire(uint64_t next_height) {
    std::vector<Removed> removed;
    while (!m_by_expiry.empty() && std::get<0>(*m_by_expiry.begin()) < next_height) {
        const auto [expiry, sequence, txid] = *m_by_expiry.begin();
        Removed r = Remove(txid, kExpired,
                           "tx.expiry: at height " + std::to_string(expiry) +
                               ", the next block is " + std::to_string(next_height));
        Remember(Record{txid, TxStatus::kExpired, r.reason, r.detail, 0});
        removed.push_back(std::move(r));
    }
    return removed;
}

Whereabouts Mempool::Why(const wire::Hash& txid) const {
    Whereabouts w;
    if (auto it = m_entries.find(txid); it != m_entries.end()) {
        w.status = TxStatus::kPending;
        w.rank = m_order->tree.order_of_key(KeyOf(it->second)) + 1;
        w.rate = it->second.rate();
        return w;
    }
    if (auto it = m_history_index.find(txid); it != m_history_index.end()) {
        const Record& r = *it->second;
        w.status = r.status;
        w.reason = r.reason;
        w.detail = r.detail;
        w.height = r.height;
    }
    return w;
}

const Entry* Mempool::Find(const wire::Hash& txid) const {
    auto it = m_entries.find(txid);
    return it == m_entries.end() ? nullptr : &it->second;
}

Stats Mempool::GetStats() const {
    Stats s;
    s.count = m_entries.size();
    s.bytes = m_bytes;
    if (!m_order->tree.empty()) {
        s.highest = m_order->tree.begin()->rate;
        s.lowest = std::prev(m_order->tree.end())->rate;
    }
    return s;
}

Removed Mempool::Remove(const wire::Hash& txid, std::string_view reason, std::string detail) {
    auto node = m_entries.extract(txid);
    Entry& e = node.mapped();
    m_order->tree.erase(KeyOf(e));
    for (const auto& op : e.spent) m_by_outpoint.erase(op);
    if (e.masternode) m_by_masternode.erase(*e.masternode);
    if (e.expiry != 0) m_by_expiry.erase({e.expiry, e.sequence, e.txid});
    m_bytes -= e.bytes;
    return Removed{std::move(e), std::string(reason), std::move(detail)};
}

void Mempool::Remember(Record record) {
    if (auto it = m_history_index.find(record.txid); it != m_history_index.end()) {
        m_history.erase(it->second);
        m_history_index.erase(it);
    }
    if (m_limits.max_history == 0) return;
    while (m_history.size() >= m_limits.max_history) {
        m_history_index.erase(m_history.front().txid);
        m_history.pop_front();
    }
    const wire::Hash txid = record.txid;
    m_history.push_back(std::move(record));
    m_history_index.emplace(txid, std::prev(m_history.end()));
}

}  // namespace tc::pool
