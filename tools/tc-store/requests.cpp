#include "requests.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "consensus/evidence.h"
#include "util/log.h"
#include "wire/address.h"
#include "wire/codec.h"
#include "wire/pbft.h"

namespace tc::store {

using protocol::BinView;
using protocol::Event;
using protocol::PackBin;
using protocol::Packer;
using protocol::PackStr;
using protocol::StrView;

namespace {

using Type = msgpack::type::object_type;

// A reply body: [1, id, true, result], result written by fill.
msgpack::sbuffer Reply(uint64_t id, const std::function<void(Packer&)>& fill) {
    return net::EncodeResult(id, fill);
}

// "METHOD: REASON: detail" (net/envelope.h).
msgpack::sbuffer Fail(uint64_t id, std::string_view method, std::string_view reason,
                      const std::string& detail) {
    return net::EncodeFailure(id, method, reason, detail);
}

msgpack::sbuffer BadParams(uint64_t id, std::string_view method, const std::string& detail) {
    return Fail(id, method, protocol::kBadParams, detail);
}

// A read that failed: not-found, or the ledger could not answer.
msgpack::sbuffer ReadFailed(uint64_t id, std::string_view method, const util::Error& error) {
    return Fail(id, method,
                error.code == util::Errc::kNotFound ? protocol::kNotFound : protocol::kFailed,
                error.message);
}

bool IsUint(const msgpack::object& o) {
    return o.type == Type::POSITIVE_INTEGER;
}

std::optional<wire::Hash> HashOf(const msgpack::object& o) {
    if (o.type != Type::BIN || o.via.bin.size != 32) return std::nullopt;
    wire::Hash hash;
    util::ByteView b = BinView(o);
    std::copy(b.begin(), b.end(), hash.begin());
    return hash;
}

// [txid (bin 32), vout (uint32)]
std::optional<wire::OutPoint> OutPointOf(const msgpack::object& o) {
    if (o.type != Type::ARRAY || o.via.array.size != 2) return std::nullopt;
    auto txid = HashOf(o.via.array.ptr[0]);
    const msgpack::object& vout = o.via.array.ptr[1];
    if (!txid || !IsUint(vout) || vout.via.u64 > UINT32_MAX) return std::nullopt;
    return wire::OutPoint{*txid, static_cast<uint32_t>(vout.via.u64)};
}

void PackOutPoint(Packer& p, const wire::OutPoint& op) {
    p.pack_array(2);
    PackBin(p, op.txid);
    p.pack_uint32(op.vout);
}

void PackEncoded(Packer& p, const util::Bytes& bytes) {
    PackBin(p, bytes);
}

// The apply params as blocks: [bin block, bin cert] or an array of such
// pairs. The error names the part.
util::Result<std::vector<ledger::CertifiedBlock>> DecodeBatch(const msgpack::object_array& params,
                                                              uint64_t max_batch) {
    using util::Errc;
    using util::MakeError;
    auto pair = [](const msgpack::object* two,
                   const std::string& at) -> util::Result<ledger::CertifiedBlock> {
        if (two[0].type != Type::BIN || two[1].type != Type::BIN) {
            return MakeError(Errc::kInvalid, at + "must be [bin block, bin certificate]");
        }
        auto block = wire::DecodeBlock(BinView(two[0]));
        if (!block) return std::move(block).error().In(at + "block");
        auto cert = wire::DecodeCertificate(BinView(two[1]));
        if (!cert) return std::move(cert).error().In(at + "certificate");
        return ledger::CertifiedBlock{std::move(*block), std::move(*cert)};
    };
    std::vector<ledger::CertifiedBlock> blocks;
    if (params.size == 2 && params.ptr[0].type == Type::BIN) {
        TC_TRY(one, pair(params.ptr, ""));
        blocks.push_back(std::move(one));
        return blocks;
    }
    if (params.size == 0) {
        return MakeError(Errc::kInvalid,
                         "params must be [bin block, bin certificate] or an array of such pairs");
    }
    if (params.size > max_batch) {
        return MakeError(Errc::kInvalid, "a batch of " + std::to_string(params.size) +
                                             " blocks exceeds --max-batch " +
                                             std::to_string(max_batch));
    }
    for (uint32_t i = 0; i < params.size; ++i) {
        const std::string at = "batch[" + std::to_string(i) + "]";
        const msgpack::object& o = params.ptr[i];
        if (o.type != Type::ARRAY || o.via.array.size != 2) {
            return MakeError(Errc::kInvalid, at + ": must be [bin block, bin certificate]");
        }
        TC_TRY(one, pair(o.via.array.ptr, at + "."));
        blocks.push_back(std::move(one));
    }
    return blocks;
}

}  // namespace

namespace {

// No maps or extensions in a request; bins as large as the socket lets
// through; arrays of up to max_batch pairs.
net::UnpackLimits UnpackLimitsOf(const RequestLimits& limits) {
    net::UnpackLimits unpack;
    unpack.array = std::max<uint64_t>(16, limits.max_batch);
    unpack.map = 0;
    unpack.str = 256;
    unpack.ext = 0;
    unpack.depth = 4;
    return unpack;
}

}  // namespace

Requests::Requests(ledger::Ledger& ledger, const RequestLimits& limits, Metrics& metrics)
    : m_ledger(ledger), m_limits(limits), m_metrics(metrics), m_dispatcher(UnpackLimitsOf(limits)) {
    m_dispatcher.OnRequest([this](std::string_view method) { m_metrics.CountRequest(method); });
    // In this order in the unknown-method error.
    m_dispatcher.Add("ping", [](uint64_t id, const Params&) {
        return Reply(id, [](Packer& p) { PackStr(p, "pong"); });
    });
    m_dispatcher.Add("status", [this](uint64_t id, const Params&) { return Status(id); });
    m_dispatcher.Add("apply",
                     [this](uint64_t id, const Params& params) { return Apply(id, params); });
    m_dispatcher.Add("block",
                     [this](uint64_t id, const Params& params) { return Block(id, params); });
    m_dispatcher.Add("tx", [this](uint64_t id, const Params& params) { return Tx(id, params); });
    m_dispatcher.Add("utxos",
                     [this](uint64_t id, const Params& params) { return Utxos(id, params); });
    m_dispatcher.Add("masternodes",
                     [this](uint64_t id, const Params& params) { return Masternodes(id, params); });
    m_dispatcher.Add("evidence",
                     [this](uint64_t id, const Params& params) { return Evidence(id, params); });
    m_dispatcher.Add("add-evidence",
                     [this](uint64_t id, const Params& params) { return AddEvidence(id, params); });
    m_dispatcher.Add("since",
                     [this](uint64_t id, const Params& params) { return Since(id, params); });
}

void Requests::UpdateGauges() {
    if (auto s = m_ledger.GetStatus()) {
        m_metrics.height.store(s->height, std::memory_order_relaxed);
        m_metrics.map_size.store(s->map_size, std::memory_order_relaxed);
    }
}

msgpack::sbuffer Requests::Handle(util::ByteView body, std::vector<Event>& committed) {
    m_committed = &committed;
    msgpack::sbuffer reply = m_dispatcher.Handle(body);
    m_committed = nullptr;
    return reply;
}

msgpack::sbuffer Requests::Status(uint64_t id) {
    auto s = m_ledger.GetStatus();
    if (!s) return ReadFailed(id, "status", s.error());
    return Reply(id, [&](Packer& p) {
        auto field = [&](std::string_view key) { PackStr(p, key); };
        p.pack_map(13);
        field("chain");
        PackStr(p, s->chain);
        field("chain_id");
        PackStr(p, util::ToHex(s->chain_id));
        field("network");
        PackStr(p, s->network == wire::Network::kMain ? "main" : "devnet");
        field("height");
        p.pack_uint64(s->height);
        field("tip_hash");
        PackStr(p, util::ToHex(s->tip_hash));
        field("tip_time_ms");
        p.pack_uint64(s->tip_time_ms);
        field("genesis_supply");
        PackStr(p, s->genesis_supply.ToString());
        field("supply");
        PackStr(p, s->supply.ToString());
        field("fees_burned");
        PackStr(p, s->fees_burned.ToString());
        field("tx_count");
        p.pack_uint64(s->tx_count);
        field("utxo_count");
        p.pack_uint64(s->utxo_count);
        field("masternodes");
        p.pack_uint64(s->masternodes);
        field("map_size");
        p.pack_uint64(s->map_size);
    });
}

msgpack::sbuffer Requests::Apply(uint64_t id, const Params& params) {
    const auto start = std::chrono::steady_clock::now();
    auto blocks = DecodeBatch(params, m_limits.max_batch);
    if (!blocks) {
        m_metrics.apply_errors.fetch_add(1, std::memory_order_relaxed);
        return BadParams(id, "apply", blocks.error().message);
    }
    ledger::ApplyOptions options;
    options.verify_witnesses = false;  // the consensus stage checked them
    size_t refused = blocks->size();
    if (auto applied = m_ledger.ApplyBlocks(*blocks, options, &refused); !applied) {
        m_metrics.apply_errors.fetch_add(1, std::memory_order_relaxed);
        log::Warn("apply: refused: {}", applied.error().message);
        if (refused >= blocks->size())
            return Fail(id, "apply", protocol::kFailed, applied.error().message);
        // The single form keeps its old message; a batch names the index.
        std::string at =
            params.ptr[0].type == Type::BIN ? "" : "batch[" + std::to_string(refused) + "]: ";
        return Fail(id, "apply", protocol::kRefused, at + applied.error().message);
    }
    for (const auto& b : *blocks) {
        const uint64_t height = b.block.header.height;
        const wire::Hash hash = wire::BlockHash(b.block.header);
        log::Info("applied block {} {}", height, util::ToHex(hash));
        if (m_committed) m_committed->push_back(Event{height, height, hash});
    }
    const uint64_t tip = blocks->back().block.header.height;
    m_metrics.ObserveApply(std::chrono::steady_clock::now() - start);
    m_metrics.blocks_applied.fetch_add(blocks->size(), std::memory_order_relaxed);
    m_metrics.height.store(tip, std::memory_order_relaxed);
    UpdateGauges();
    return Reply(id, [&](Packer& p) { p.pack_uint64(tip); });
}

msgpack::sbuffer Requests::Block(uint64_t id, const Params& params) {
    constexpr std::string_view m = "block";
    if (params.size != 1) return BadParams(id, m, "params must be [height] or [hash (bin 32)]");
    uint64_t height = 0;
    if (IsUint(params.ptr[0])) {
        height = params.ptr[0].via.u64;
    } else if (auto hash = HashOf(params.ptr[0])) {
        auto found = m_ledger.GetHeightOfHash(*hash);
        if (!found) return ReadFailed(id, m, found.error());
        height = *found;
    } else {
        return BadParams(id, m, "params[0] must be a height (uint) or a block hash (bin 32)");
    }
    auto block = m_ledger.GetBlock(height);
    if (!block) return ReadFailed(id, m, block.error());
    std::optional<util::Bytes> cert;
    if (height > 0) {
        auto c = m_ledger.GetCertificate(height);
        if (!c) return ReadFailed(id, m, c.error());
        cert = wire::Encode(*c);
    }
    return Reply(id, [&](Packer& p) {
        p.pack_map(4);
        PackStr(p, "height");
        p.pack_uint64(height);
        PackStr(p, "hash");
        PackBin(p, wire::BlockHash(block->header));
        PackStr(p, "block");
        PackEncoded(p, wire::Encode(*block));
        PackStr(p, "certificate");
        if (cert) {
            PackEncoded(p, *cert);
        } else {
            p.pack_nil();
        }
    });
}

msgpack::sbuffer Requests::Tx(uint64_t id, const Params& params) {
    constexpr std::string_view m = "tx";
    std::optional<wire::Hash> txid;
    if (params.size == 1) txid = HashOf(params.ptr[0]);
    if (!txid) return BadParams(id, m, "params must be [txid (bin 32)]");
    auto location = m_ledger.GetTxLocation(*txid);
    if (!location) return ReadFailed(id, m, location.error());
    auto block = m_ledger.GetBlock(location->height);
    if (!block) return ReadFailed(id, m, block.error());
    if (location->position >= block->txs.size()) {
        return Fail(id, m, protocol::kFailed,
                    "tx " + util::ToHex(*txid) + ": indexed at block " +
                        std::to_string(location->height) + " position " +
                        std::to_string(location->position) + ", which has no such transaction");
    }
    return Reply(id, [&](Packer& p) {
        p.pack_map(5);
        PackStr(p, "txid");
        PackBin(p, *txid);
        PackStr(p, "height");
        p.pack_uint64(location->height);
        PackStr(p, "position");
        p.pack_uint32(location->position);
        PackStr(p, "block_hash");
        PackBin(p, wire::BlockHash(block->header));
        PackStr(p, "tx");
        PackEncoded(p, wire::Encode(block->txs[location->position]));
    });
}

msgpack::sbuffer Requests::Utxos(uint64_t id, const Params& params) {
    constexpr std::string_view m = "utxos";
    if (params.size < 1 || params.size > 3 || params.ptr[0].type != Type::STR) {
        return BadParams(id, m,
                         "params must be [address (str), start after ([txid, vout] or nil), "
                         "limit (uint)], the last two optional");
    }
    auto address = wire::Address::Parse(StrView(params.ptr[0]), m_ledger.genesis().network);
    if (!address) return BadParams(id, m, "address: " + address.error().message);
    std::optional<wire::OutPoint> after;
    if (params.size >= 2 && params.ptr[1].type != Type::NIL) {
        after = OutPointOf(params.ptr[1]);
        if (!after) return BadParams(id, m, "start after: must be [txid (bin 32), vout] or nil");
    }
    uint64_t limit = m_limits.max_utxos;
    if (params.size == 3) {
        if (!IsUint(params.ptr[2])) return BadParams(id, m, "limit: must be an unsigned integer");
        if (params.ptr[2].via.u64 != 0) limit = std::min(params.ptr[2].via.u64, limit);
    }
    // One more than the page tells a last page from a full one.
    auto page = m_ledger.GetUtxos(address->hash, static_cast<size_t>(limit) + 1, after);
    if (!page) return ReadFailed(id, m, page.error());
    const bool more = page->size() > limit;
    if (more) page->resize(static_cast<size_t>(limit));
    return Reply(id, [&](Packer& p) {
        p.pack_map(2);
        PackStr(p, "utxos");
        p.pack_array(static_cast<uint32_t>(page->size()));
        for (const auto& u : *page) {
            p.pack_array(5);
            PackBin(p, u.outpoint.txid);
            p.pack_uint32(u.outpoint.vout);
            p.pack_uint64(u.amount);
            p.pack_uint64(u.height);
            if (u.locked) {
                p.pack_true();
            } else {
                p.pack_false();
            }
        }
        PackStr(p, "next");
        if (more) {
            PackOutPoint(p, page->back().outpoint);
        } else {
            p.pack_nil();
        }
    });
}

msgpack::sbuffer Requests::Masternodes(uint64_t id, const Params& params) {
    constexpr std::string_view m = "masternodes";
    if (params.size > 1 || (params.size == 1 && !IsUint(params.ptr[0]))) {
        return BadParams(id, m, "params must be [] or [height (uint)]");
    }
    uint64_t height = 0;
    if (params.size == 1) {
        height = params.ptr[0].via.u64;
    } else {
        auto s = m_ledger.GetStatus();
        if (!s) return ReadFailed(id, m, s.error());
        height = s->height + 1;  // the set that certifies the next block
    }
    auto set = m_ledger.GetMasternodes(height);
    if (!set) return ReadFailed(id, m, set.error());
    const wire::Network network = m_ledger.genesis().network;
    return Reply(id, [&](Packer& p) {
        p.pack_map(2);
        PackStr(p, "height");
        p.pack_uint64(height);
        PackStr(p, "masternodes");
        p.pack_array(static_cast<uint32_t>(set->size()));
        for (const auto& node : *set) {
            p.pack_map(4);
            PackStr(p, "key");
            PackBin(p, node.key);
            PackStr(p, "endpoint");
            PackStr(p, node.endpoint);
            PackStr(p, "payout");
            PackStr(p, wire::Address{network, node.payout}.ToString());
            PackStr(p, "collateral");
            if (node.collateral) {
                PackOutPoint(p, *node.collateral);
            } else {
                p.pack_nil();
            }
        }
    });
}

msgpack::sbuffer Requests::Evidence(uint64_t id, const Params& params) {
    constexpr std::string_view m = "evidence";
    if (params.size != 0) return BadParams(id, m, "params must be []");
    auto entries = m_ledger.GetEvidence(static_cast<size_t>(m_limits.max_evidence) + 1);
    if (!entries) return ReadFailed(id, m, entries.error());
    const bool truncated = entries->size() > m_limits.max_evidence;
    if (truncated) entries->resize(static_cast<size_t>(m_limits.max_evidence));
    return Reply(id, [&](Packer& p) {
        p.pack_map(2);
        PackStr(p, "evidence");
        p.pack_array(static_cast<uint32_t>(entries->size()));
        for (const auto& e : *entries) {
            p.pack_array(2);
            PackBin(p, e.key);
            PackBin(p, e.value);
        }
        PackStr(p, "truncated");
        if (truncated) {
            p.pack_true();
        } else {
            p.pack_false();
        }
    });
}

msgpack::sbuffer Requests::AddEvidence(uint64_t id, const Params& params) {
    constexpr std::string_view m = "add-evidence";
    if (params.size != 2 || params.ptr[0].type != Type::BIN || params.ptr[1].type != Type::BIN) {
        return BadParams(id, m, "params must be [first (bin), second (bin)], two PBFT messages");
    }
    auto added = m_ledger.AddEvidence(BinView(params.ptr[0]), BinView(params.ptr[1]),
                                      m_limits.max_evidence_entries);
    if (!added) {
        const auto code = added.error().code;
        // Not evidence is the sender's fault; a full database, a height
        // ahead of the tip or a failed write may pass.
        const bool refused = code == util::Errc::kInvalid || code == util::Errc::kCrypto;
        log::Warn("add-evidence: {}", added.error().message);
        return Fail(id, m, refused ? protocol::kRefused : protocol::kFailed, added.error().message);
    }
    if (added->added) {
        log::Warn("equivocation evidence stored: {}", consensus::EquivocationText(added->who));
        m_metrics.evidence_stored.fetch_add(1, std::memory_order_relaxed);
    }
    return Reply(id, [&](Packer& p) {
        p.pack_map(5);
        PackStr(p, "added");
        if (added->added) {
            p.pack_true();
        } else {
            p.pack_false();
        }
        PackStr(p, "phase");
        PackStr(p, wire::SignedPhaseName(added->who.phase));
        PackStr(p, "height");
        p.pack_uint64(added->who.height);
        PackStr(p, "view");
        p.pack_uint64(added->who.view);
        PackStr(p, "key");
        PackBin(p, added->who.key);
    });
}

msgpack::sbuffer Requests::Since(uint64_t id, const Params& params) {
    constexpr std::string_view m = "since";
    if (params.size != 1 || !IsUint(params.ptr[0])) return BadParams(id, m, "params must be [seq]");
    const uint64_t seq = params.ptr[0].via.u64;
    auto s = m_ledger.GetStatus();
    if (!s) return ReadFailed(id, m, s.error());
    const uint64_t tip = s->height;
    if (seq > tip) {
        return BadParams(id, m,
                         "seq " + std::to_string(seq) + " is ahead of the tip " +
                             std::to_string(tip) + " (events of another ledger?)");
    }
    if (tip - seq > m_limits.event_retention) {
        return Fail(id, m, protocol::kGapBeyondRetention,
                    "seq " + std::to_string(seq) + " is " + std::to_string(tip - seq) +
                        " events behind the tip " + std::to_string(tip) + ", more than the " +
                        std::to_string(m_limits.event_retention) +
                        " this daemon replays (--event-retention): read the ledger instead");
    }
    std::vector<Event> events;
    for (uint64_t h = seq + 1; h <= tip; ++h) {
        // Every stored certificate names its block's hash (an apply rule),
        // and it is far smaller to read than the block.
        auto cert = m_ledger.GetCertificate(h);
        if (!cert) return ReadFailed(id, m, cert.error());
        events.push_back(Event{h, h, cert->block_hash});
    }
    return Reply(id, [&](Packer& p) {
        p.pack_array(static_cast<uint32_t>(events.size()));
        for (const auto& e : events) protocol::PackEvent(p, e);
    });
}

}  // namespace tc::store
