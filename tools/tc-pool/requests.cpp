#include "requests.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>

#include "util/log.h"
#include "wire/codec.h"

namespace tc::pool {

using net::BinView;
using net::Packer;
using net::PackStr;

namespace {

using Type = msgpack::type::object_type;

msgpack::sbuffer Reply(uint64_t id, const std::function<void(Packer&)>& fill) {
    return net::EncodeResult(id, fill);
}

msgpack::sbuffer BadParams(uint64_t id, std::string_view method, const std::string& detail) {
    return net::EncodeFailure(id, method, net::kBadParams, detail);
}

msgpack::sbuffer Failed(uint64_t id, std::string_view method, const util::Error& error) {
    return net::EncodeFailure(id, method, net::kFailed, error.message);
}

std::optional<wire::Hash> HashOf(const msgpack::object& o) {
    if (o.type != Type::BIN || o.via.bin.size != 32) return std::nullopt;
    wire::Hash hash;
    util::ByteView b = BinView(o);
    std::copy(b.begin(), b.end(), hash.begin());
    return hash;
}

void PackRate(Packer& p, const std::optional<FeeRate>& rate) {
    if (rate) {
        PackStr(p, rate->ToString());
    } else {
        p.pack_nil();
    }
}

// Submit arrays as large as max_submit; bins as large as the socket lets
// through; no maps.
net::UnpackLimits UnpackLimitsOf(const RequestLimits& limits) {
    net::UnpackLimits unpack;
    unpack.array = std::max<uint64_t>(16, limits.max_submit);
    return unpack;
}

// Room kept in a proposal for the block header and the framing.
constexpr uint64_t kHeaderRoom = 1024;

}  // namespace

util::Result<std::unique_ptr<Requests>> Requests::Create(const ledger::Ledger& view,
                                                         const Limits& pool_limits,
                                                         const RequestLimits& limits) {
    TC_TRY(chain, LoadChainState(view));
    return std::unique_ptr<Requests>(new Requests(view, std::move(chain), pool_limits, limits));
}

Requests::Requests(const ledger::Ledger& view, ChainState chain, const Limits& pool_limits,
                   const RequestLimits& limits)
    : m_view(view),
      m_lookup(LookupIn(view)),
      m_chain(std::move(chain)),
      m_pool(pool_limits),
      m_limits(limits),
      m_dispatcher(UnpackLimitsOf(limits)),
      m_workers(limits.verify_threads) {
    m_dispatcher.OnRequest([this](std::string_view method) { m_metrics.requests.Add(method); });
    UpdateGauges();
    // In this order in the unknown-method error.
    m_dispatcher.Add("ping", [](uint64_t id, const Params&) {
        return Reply(id, [](Packer& p) { PackStr(p, "pong"); });
    });
    m_dispatcher.Add("status", [this](uint64_t id, const Params&) { return Status(id); });
    m_dispatcher.Add("submit", [this](uint64_t id, const Params& ps) { return Submit(id, ps); });
    m_dispatcher.Add("list", [this](uint64_t id, const Params& ps) { return List(id, ps); });
    m_dispatcher.Add("why", [this](uint64_t id, const Params& ps) { return Why(id, ps); });
    m_dispatcher.Add("propose", [this](uint64_t id, const Params& ps) { return Propose(id, ps); });
    m_dispatcher.Add("get", [this](uint64_t id, const Params& ps) { return Get(id, ps); });
    m_dispatcher.Add("validate",
                     [this](uint64_t id, const Params& ps) { return Validate(id, ps); });
}

msgpack::sbuffer Requests::Handle(util::ByteView body, std::vector<protocol::TxEvent>& events) {
    m_events = &events;
    msgpack::sbuffer reply = m_dispatcher.Handle(body);
    m_events = nullptr;
    UpdateGauges();
    return reply;
}

void Requests::UpdateGauges() {
    const Stats s = m_pool.GetStats();
    m_metrics.count.store(s.count, std::memory_order_relaxed);
    m_metrics.bytes.store(s.bytes, std::memory_order_relaxed);
    m_metrics.height.store(height(), std::memory_order_relaxed);
}

void Requests::Emit(std::string_view event, const wire::Hash& txid, std::string_view reason) {
    if (m_events == nullptr) return;
    m_events->push_back(
        protocol::TxEvent{m_next_seq++, std::string(event), txid, std::string(reason)});
}

void Requests::EmitRemoved(const std::vector<Removed>& removed) {
    for (const auto& r : removed) {
        std::string_view event = protocol::kDoubleSpendEvent;
        if (r.reason == kCommitted) {
            event = protocol::kCommittedEvent;
        } else if (r.reason == kExpired) {
            event = protocol::kExpiredEvent;
        } else if (r.reason == kPoolFull) {
            event = protocol::kEvicted;
        }
        Emit(event, r.entry.txid, r.reason);
        m_metrics.removed.Add(r.reason);
    }
}

util::Status Requests::BlockCommitted(uint64_t height, std::vector<protocol::TxEvent>& events) {
    m_events = &events;
    util::Status status = TakeBlocks(height);
    m_events = nullptr;
    UpdateGauges();
    return status;
}

util::Status Requests::TakeBlocks(uint64_t height) {
    while (this->height() < height) {
        const uint64_t next = this->height() + 1;
        auto block = m_view.GetBlock(next);
        if (!block) return std::move(block).error().In("block " + std::to_string(next));
        EmitRemoved(m_pool.BlockCommitted(*block));
        EmitRemoved(m_pool.Expire(next + 1));
        TC_TRY(chain, LoadChainState(m_view));
        // The ledger may be ahead of the event: follow the block just taken,
        // not the tip, so that each block is taken once.
        m_chain = std::move(chain);
        m_chain.next_height = next + 1;
    }
    return {};
}

void Requests::CatchUpWithLedger() {
    auto status = m_view.GetStatus();
    util::Status taken = status ? TakeBlocks(status->height) : util::Status(status.error());
    if (!taken) log::Warn("catching up with the ledger: {}", taken.error().message);
}

msgpack::sbuffer Requests::Status(uint64_t id) {
    const Stats s = m_pool.GetStats();
    return Reply(id, [&](Packer& p) {
        p.pack_map(8);
        PackStr(p, "count");
        p.pack_uint64(s.count);
        PackStr(p, "bytes");
        p.pack_uint64(s.bytes);
        PackStr(p, "lowest");
        PackRate(p, s.lowest);
        PackStr(p, "highest");
        PackRate(p, s.highest);
        PackStr(p, "height");
        p.pack_uint64(height());
        PackStr(p, "max_count");
        p.pack_uint64(m_pool.limits().max_count);
        PackStr(p, "max_bytes");
        p.pack_uint64(m_pool.limits().max_bytes);
        PackStr(p, "history");
        p.pack_uint64(m_pool.HistorySize());
    });
}

msgpack::sbuffer Requests::Submit(uint64_t id, const Params& params) {
    if (params.size > m_limits.max_submit) {
        return BadParams(id, "submit",
                         std::to_string(params.size) + " transactions exceed --max-submit " +
                             std::to_string(m_limits.max_submit));
    }
    for (uint32_t i = 0; i < params.size; ++i) {
        if (params.ptr[i].type != Type::BIN) {
            return BadParams(id, "submit", "params[" + std::to_string(i) + "] is not a bin tx");
        }
    }
    struct Outcome {
        std::optional<wire::Hash> txid;
        bool accepted = false;
        std::string reason;
        std::string detail;
    };
    // The ledger's rules first, one tx after the other; then the witness
    // signatures of what passed, on all cores; then into the pool in order.
    std::vector<Checked> checked;
    checked.reserve(params.size);
    std::vector<size_t> to_verify;
    for (uint32_t i = 0; i < params.size; ++i) {
        auto c = CheckTx(m_chain, m_lookup, BinView(params.ptr[i]));
        if (!c) return Failed(id, "submit", c.error());
        if (c->refusal && c->refusal->reason == "missing-input") {
            if (auto spent = SpentInChain(m_view, m_chain.chain_id, c->entry.tx)) {
                c->refusal = std::move(spent);
            }
        }
        // A pooled txid is already-known without checking its signatures
        // again (Add says so).
        if (!c->refusal && m_pool.Find(c->entry.txid) == nullptr) to_verify.push_back(i);
        checked.push_back(std::move(*c));
    }
    std::vector<std::optional<Refusal>> bad(to_verify.size());
    m_workers.ForEach(to_verify.size(), [&](size_t k) {
        bad[k] = VerifyWitnesses(checked[to_verify[k]].entry.tx, m_chain.chain_id);
    });
    for (size_t k = 0; k < to_verify.size(); ++k) {
        if (bad[k]) checked[to_verify[k]].refusal = std::move(bad[k]);
    }
    std::vector<Outcome> outcomes;
    outcomes.reserve(params.size);
    for (Checked& c : checked) {
        Outcome out;
        Entry& entry = c.entry;
        if (!c.refusal || c.refusal->reason != kMalformed) out.txid = entry.txid;
        if (c.refusal) {
            if (out.txid) m_pool.Refuse(*out.txid, c.refusal->reason, c.refusal->detail);
            out.reason = std::move(c.refusal->reason);
            out.detail = std::move(c.refusal->detail);
        } else {
            const wire::Hash txid = entry.txid;
            AddResult added = m_pool.Add(std::move(entry));
            out.accepted = added.accepted;
            out.reason = std::move(added.reason);
            out.detail = std::move(added.detail);
            if (added.accepted) {
                EmitRemoved(added.evicted);
                Emit(protocol::kAccepted, txid, "");
            }
        }
        m_metrics.submitted.Add(out.accepted ? std::string_view("accepted") : out.reason);
        outcomes.push_back(std::move(out));
    }
    return Reply(id, [&](Packer& p) {
        p.pack_array(static_cast<uint32_t>(outcomes.size()));
        for (const auto& o : outcomes) {
            p.pack_map(4);
            PackStr(p, "txid");
            if (o.txid) {
                net::PackBin(p, *o.txid);
            } else {
                p.pack_nil();
            }
            PackStr(p, "accepted");
            if (o.accepted) {
                p.pack_true();
            } else {
                p.pack_false();
            }
            PackStr(p, "reason");
            PackStr(p, o.reason);
            PackStr(p, "detail");
            PackStr(p, o.detail);
        }
    });
}

msgpack::sbuffer Requests::List(uint64_t id, const Params& params) {
    uint64_t limit = m_limits.max_list;
    if (params.size > 1 || (params.size == 1 && params.ptr[0].type != Type::POSITIVE_INTEGER)) {
        return BadParams(id, "list", "params must be [] or [limit]");
    }
    if (params.size == 1) limit = std::min<uint64_t>(limit, params.ptr[0].via.u64);
    // Without a byte bound Select skips nothing: the first `limit` in order.
    auto entries = m_pool.Select(static_cast<size_t>(limit), UINT64_MAX);
    return Reply(id, [&](Packer& p) {
        p.pack_array(static_cast<uint32_t>(entries.size()));
        for (const Entry* e : entries) {
            p.pack_array(3);
            net::PackBin(p, e->txid);
            p.pack_uint64(e->fee);
            p.pack_uint64(e->bytes);
        }
    });
}

// The encoded transactions of these txids (nil for one not in the pool):
// what tc-p2p gossips of the transactions the pool accepted.
msgpack::sbuffer Requests::Get(uint64_t id, const Params& params) {
    if (params.size > m_limits.max_submit) {
        return BadParams(id, "get",
                         std::to_string(params.size) + " txids exceed --max-submit " +
                             std::to_string(m_limits.max_submit));
    }
    std::vector<const Entry*> found;
    found.reserve(params.size);
    for (uint32_t i = 0; i < params.size; ++i) {
        auto txid = HashOf(params.ptr[i]);
        if (!txid) return BadParams(id, "get", "params[" + std::to_string(i) + "] is not a txid");
        found.push_back(m_pool.Find(*txid));
    }
    return Reply(id, [&](Packer& p) {
        p.pack_array(static_cast<uint32_t>(found.size()));
        for (const Entry* e : found) {
            if (e == nullptr) {
                p.pack_nil();
            } else {
                net::PackBin(p, wire::Encode(e->tx));
            }
        }
    });
}

msgpack::sbuffer Requests::Why(uint64_t id, const Params& params) {
    std::optional<wire::Hash> txid;
    if (params.size == 1) txid = HashOf(params.ptr[0]);
    if (!txid) return BadParams(id, "why", "params must be [txid (bin 32)]");
    const Whereabouts w = m_pool.Why(*txid);
    return Reply(id, [&](Packer& p) {
        p.pack_map(6);
        PackStr(p, "status");
        PackStr(p, TxStatusName(w.status));
        PackStr(p, "rank");
        p.pack_uint64(w.rank);
        PackStr(p, "rate");
        PackRate(p, w.status == TxStatus::kPending ? std::optional<FeeRate>(w.rate) : std::nullopt);
        PackStr(p, "reason");
        PackStr(p, w.reason);
        PackStr(p, "detail");
        PackStr(p, w.detail);
        PackStr(p, "height");
        p.pack_uint64(w.height);
    });
}

msgpack::sbuffer Requests::Propose(uint64_t id, const Params& params) {
    if (params.size != 2 || params.ptr[0].type != Type::POSITIVE_INTEGER ||
        params.ptr[1].type != Type::POSITIVE_INTEGER) {
        return BadParams(id, "propose", "params must be [max_txs, max_bytes]");
    }
    // A block the store committed and whose event has not arrived yet must
    // not be proposed again.
    CatchUpWithLedger();
    const wire::Genesis& g = m_chain.genesis;
    const uint64_t max_txs = std::min<uint64_t>(params.ptr[0].via.u64, g.max_block_txs);
    const uint64_t block_room =
        g.max_block_bytes > kHeaderRoom ? g.max_block_bytes - kHeaderRoom : 0;
    const uint64_t max_bytes = std::min<uint64_t>(params.ptr[1].via.u64, block_room);
    auto selected = m_pool.Select(static_cast<size_t>(max_txs), max_bytes);
    // The pool keeps out the conflicts it knows of; the ledger's rules on one
    // state also catch the rest (two retires that together empty the set).
    ledger::TxRuleState state;
    state.final_set = m_chain.final_set;
    state.unlocked = m_chain.unlocked;
    const ledger::RuleContext ctx{m_chain.genesis, m_chain.chain_id};
    std::vector<util::Bytes> txs;
    for (const Entry* e : selected) {
        const std::string field = "tx[" + std::to_string(txs.size()) + "]";
        auto outcome = ledger::CheckTx(ctx, m_chain.next_height, m_lookup, e->tx,
                                       static_cast<uint32_t>(txs.size()), field, state);
        if (!outcome) return Failed(id, "propose", outcome.error());
        if (const auto* broken = std::get_if<ledger::TxRuleBreak>(&*outcome)) {
            log::Debug("propose: leaving out {}: {}", util::ToHex(e->txid), broken->rule);
            continue;
        }
        txs.push_back(wire::Encode(e->tx));
    }
    return Reply(id, [&](Packer& p) {
        p.pack_array(static_cast<uint32_t>(txs.size()));
        for (const auto& tx : txs) net::PackBin(p, tx);
    });
}

msgpack::sbuffer Requests::Validate(uint64_t id, const Params& params) {
    if (params.size != 1 || params.ptr[0].type != Type::BIN) {
        return BadParams(id, "validate", "params must be [bin block]");
    }
    // The replica validates on top of the store's tip, which may be ahead of
    // the last event the pool took.
    CatchUpWithLedger();
    const util::ByteView encoded = BinView(params.ptr[0]);
    uint64_t reused = 0;
    uint64_t verified = 0;
    auto refuse = [](std::string reason, std::string detail) {
        return std::optional<Refusal>(Refusal{std::move(reason), std::move(detail)});
    };
    auto verdict = [&]() -> util::Result<std::optional<Refusal>> {
        auto block = wire::DecodeBlock(encoded);
        if (!block) return refuse(std::string(kMalformed), block.error().message);
        const wire::Genesis& g = m_chain.genesis;
        const uint64_t h = block->header.height;
        if (h != m_chain.next_height) {
            return refuse("bad-height", "block " + std::to_string(h) + ": the pool is at " +
                                            std::to_string(m_chain.next_height) + " (tip " +
                                            std::to_string(height()) + ")");
        }
        if (encoded.size() > g.max_block_bytes) {
            return refuse("block-too-large", std::to_string(encoded.size()) + " bytes exceed " +
                                                 std::to_string(g.max_block_bytes));
        }
        if (block->txs.size() > g.max_block_txs) {
            return refuse("too-many-txs", std::to_string(block->txs.size()) + " exceed " +
                                              std::to_string(g.max_block_txs));
        }
        if (wire::TxRoot(block->txs) != block->header.tx_root) {
            return refuse("bad-tx-root", "header.tx_root does not match the transactions");
        }
        ledger::TxRuleState state;
        state.final_set = m_chain.final_set;
        state.unlocked = m_chain.unlocked;
        const ledger::RuleContext ctx{m_chain.genesis, m_chain.chain_id};
        std::vector<size_t> to_verify;
        for (size_t i = 0; i < block->txs.size(); ++i) {
            const wire::Transaction& tx = block->txs[i];
            const std::string field = "tx[" + std::to_string(i) + "]";
            TC_TRY(outcome,
                   ledger::CheckTx(ctx, h, m_lookup, tx, static_cast<uint32_t>(i), field, state));
            if (const auto* broken = std::get_if<ledger::TxRuleBreak>(&outcome)) {
                return refuse(broken->rule, broken->field + ": " + broken->detail);
            }
            // A signature the pool verified is not verified again: the
            // wtxid covers the witnesses.
            const Entry* pooled = m_pool.Find(std::get<ledger::TxChecked>(outcome).txid);
            if (pooled != nullptr && pooled->wtxid == wire::WitnessTxId(tx)) {
                ++reused;
                continue;
            }
            to_verify.push_back(i);
        }
        // The rest on all cores; the lowest failing tx is the one named.
        verified = to_verify.size();
        std::vector<std::optional<Refusal>> bad(to_verify.size());
        m_workers.ForEach(to_verify.size(), [&](size_t k) {
            bad[k] = VerifyWitnesses(block->txs[to_verify[k]], m_chain.chain_id);
        });
        for (size_t k = 0; k < to_verify.size(); ++k) {
            if (bad[k]) {
                return refuse(bad[k]->reason,
                              "tx[" + std::to_string(to_verify[k]) + "]: " + bad[k]->detail);
            }
        }
        return std::optional<Refusal>();
    }();
    if (!verdict) return Failed(id, "validate", verdict.error());
    return Reply(id, [&](Packer& p) {
        p.pack_map(5);
        PackStr(p, "valid");
        if (*verdict) {
            p.pack_false();
        } else {
            p.pack_true();
        }
        PackStr(p, "reason");
        PackStr(p, *verdict ? (*verdict)->reason : "");
        PackStr(p, "detail");
        PackStr(p, *verdict ? (*verdict)->detail : "");
        PackStr(p, "reused");
        p.pack_uint64(reused);
        PackStr(p, "verified");
        p.pack_uint64(verified);
    });
}

}  // namespace tc::pool
