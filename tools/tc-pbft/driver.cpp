#include "driver.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <iostream>
#include <map>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "consensus/certificate.h"
#include "crypto/keyfile.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "net/daemon.h"
#include "net/envelope.h"
#include "net/metrics.h"
#include "net/rpc.h"
#include "net/signals.h"
#include "net/watch.h"
#include "replica.h"
#include "util/bytes.h"
#include "util/config.h"
#include "util/log.h"
#include "vote_log.h"
#include "wire/codec.h"

namespace tc::pbft {

using net::Packer;
using util::Errc;
using util::MakeError;

namespace {

using Type = msgpack::type::object_type;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kTopic = "pbft";
// Room left in a block for its header and framing when asking the pool.
constexpr uint64_t kHeaderRoom = 1024;
// tc-p2p's topic of PBFT messages for us, and how many of them one turn of
// the loop takes.
constexpr std::string_view kInPbft = "in.pbft";
constexpr uint64_t kP2pBatch = 256;

uint64_t WallMs() {
    return static_cast<uint64_t>(std::chrono::duration_cast<milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

// What the metrics server reads (atomics only: it runs on its own thread).
struct Metrics {
    std::atomic<uint64_t> height{0};
    std::atomic<uint64_t> view{0};
    std::atomic<uint64_t> commits{0};
    std::atomic<uint64_t> view_changes{0};
    std::atomic<uint64_t> evidence{0};
    std::atomic<uint64_t> stage_errors{0};
    std::atomic<uint64_t> p2p_in{0};
    std::atomic<uint64_t> p2p_out{0};
    std::atomic<uint64_t> p2p_dropped{0};
    std::atomic<uint64_t> bans{0};
};

std::string RenderMetrics(const Metrics& m) {
    auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    net::Exposition out;
    out.Gauge("tc_pbft_height", "The height being decided.", load(m.height))
        .Gauge("tc_pbft_view", "The view of the height being decided.", load(m.view))
        .Counter("tc_pbft_commits_total", "Blocks committed through this replica.", load(m.commits))
        .Counter("tc_pbft_view_changes_total", "Views entered beyond view 0.", load(m.view_changes))
        .Counter("tc_pbft_evidence_total", "Equivocation evidence pairs seen.", load(m.evidence))
        .Counter("tc_pbft_stage_errors_total",
                 "Requests to the pool or the store that failed or went unanswered.",
                 load(m.stage_errors))
        .Counter("tc_pbft_p2p_in_total", "PBFT messages received from tc-p2p.", load(m.p2p_in))
        .Counter("tc_pbft_p2p_out_total", "Messages handed to tc-p2p.", load(m.p2p_out))
        .Counter("tc_pbft_p2p_dropped_total", "Messages dropped because tc-p2p's queue was full.",
                 load(m.p2p_dropped))
        .Counter("tc_pbft_bans_total",
                 "Peers reported to tc-p2p for a malformed or badly signed message.", load(m.bans));
    return out.str();
}

struct PbftEvent {
    uint64_t seq = 0;
    std::string event;
    uint64_t height = 0;
    uint64_t view = 0;
    wire::Hash hash{};
};

msgpack::sbuffer EncodeEvent(const PbftEvent& e) {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(5);
    p.pack_uint64(e.seq);
    net::PackStr(p, e.event);
    p.pack_uint64(e.height);
    p.pack_uint64(e.view);
    net::PackBin(p, e.hash);
    return buf;
}

// The core plus everything around it that is not a socket of the loop.
class Driver {
  public:
    Driver(const Options& opts, zmq::context_t& context, const ledger::Ledger& view, VoteLog& log,
           const crypto::SecretKey& key, Metrics& metrics, P2pLink& p2p)
        : m_opts(opts),
          m_view(view),
          m_log(log),
          m_key(key),
          m_metrics(metrics),
          m_p2p(p2p),
          m_pool(context, util::RunEndpoint(opts.common.datadir, "pool"),
                 milliseconds(opts.stage_timeout_ms)),
          m_store(context, util::RunEndpoint(opts.common.datadir, "store"),
                  milliseconds(opts.stage_timeout_ms)),
          m_replica(MakeConfig(opts, view), key) {
        m_dispatcher.Add("ping", [](uint64_t id, const msgpack::object_array&) {
            return net::EncodeResult(id, [](Packer& p) { net::PackStr(p, "pong"); });
        });
        m_dispatcher.Add("status",
                         [this](uint64_t id, const msgpack::object_array&) { return Status(id); });
        m_dispatcher.Add("evidence", [this](uint64_t id, const msgpack::object_array&) {
            return net::EncodeResult(id, [this](Packer& p) {
                p.pack_array(static_cast<uint32_t>(m_evidence.size()));
                for (const auto& e : m_evidence) {
                    p.pack_array(2);
                    net::PackBin(p, e.first);
                    net::PackBin(p, e.second);
                }
            });
        });
    }

    // Restores the votes of an earlier run and starts deciding the height
    // after the ledger's tip.
    util::Status Start() {
        TC_TRY(tip, ReadTip());
        const HeightInfo& info = Enter(tip);
        m_replica.Restore(m_log.records());
        log::Info("deciding height {} as {} of {} (vote log: {} records)", info.height,
                  info.self ? "masternode " + std::to_string(*info.self) : "an observer",
                  info.set.size(), m_log.records().size());
        return Execute(m_replica.Start(info));
    }

    msgpack::sbuffer Handle(util::ByteView body) { return m_dispatcher.Handle(body); }

    // The events to publish, taken.
    std::vector<PbftEvent> TakeEvents() { return std::exchange(m_events, {}); }

    // A message of the pool's event stream: an accepted transaction is work.
    util::Status PoolEvent(const std::vector<zmq::message_t>& parts) {
        if (parts.size() != 2 || parts[0].to_string_view() != "tx") return {};
        try {
            auto handle =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            const msgpack::object& o = handle.get();
            if (o.type != Type::ARRAY || o.via.array.size != 4 ||
                o.via.array.ptr[1].type != Type::STR ||
                net::StrView(o.via.array.ptr[1]) != "accepted") {
                return {};
            }
        } catch (const std::exception&) {
            return {};
        }
        m_ask_pool_at = Clock::now();  // a waiting proposal asks again at once
        return Step(WorkPending{});
    }

    // A message of the store's event stream: a block we did not commit
    // ourselves moves us on.
    util::Status StoreEvent(const std::vector<zmq::message_t>& parts) {
        if (parts.size() != 2 || parts[0].to_string_view() != "block") return {};
        uint64_t height = 0;
        try {
            auto handle =
                msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
            const msgpack::object& o = handle.get();
            if (o.type != Type::ARRAY || o.via.array.size != 3 ||
                o.via.array.ptr[1].type != Type::POSITIVE_INTEGER) {
                return {};
            }
            height = o.via.array.ptr[1].via.u64;
        } catch (const std::exception&) {
            return {};
        }
        if (height < m_replica.height()) return {};
        return CatchUpWithLedger();
    }

    // A message of tc-p2p's event stream: a peer's PBFT message for the
    // core. A peer the step counts a malformed or badly signed message for
    // is reported to tc-p2p, which bans it.
    util::Status P2pEvent(const std::vector<zmq::message_t>& parts) {
        std::optional<MessageReceived> in = m_p2p.Decode(parts);
        if (!in) return {};
        const PeerId peer = in->peer;
        const PeerStats before = PeerStatsOf(peer);
        TC_CHECK(Step(std::move(*in)));
        if (auto reason = BanReason(before, PeerStatsOf(peer))) {
            const crypto::PublicKey* key = m_p2p.KeyOf(peer);
            log::Warn("peer {} sent a {} message: reported to tc-p2p",
                      key ? util::ToHex(*key) : "?", *reason);
            m_metrics.bans.fetch_add(1, std::memory_order_relaxed);
            m_p2p.Misbehaved(peer, *reason);
        }
        CountP2p();
        return {};
    }

    // Fires due timers and retries what a stage did not answer.
    util::Status Tick() {
        const auto now = Clock::now();
        for (auto it = m_timers.begin(); it != m_timers.end();) {
            if (it->second > now) {
                ++it;
                continue;
            }
            const uint64_t id = it->first;
            it = m_timers.erase(it);
            TC_CHECK(Step(TimerFired{id}));
            it = m_timers.begin();  // the step may have changed the timers
        }
        return Progress();
    }

    // How long the loop may sleep.
    milliseconds Timeout() const {
        std::optional<Clock::time_point> next;
        auto consider = [&](Clock::time_point t) {
            if (!next || t < *next) next = t;
        };
        for (const auto& [id, at] : m_timers) consider(at);
        if (!m_commits.empty() || !m_validations.empty() || !m_evidence.empty()) {
            consider(m_retry_at);
        }
        if (m_proposal) consider(m_ask_pool_at);
        return next ? net::TimeLeft(*next) : milliseconds(-1);
    }

  private:
    PeerStats PeerStatsOf(PeerId peer) const {
        const auto& peers = m_replica.stats().peers;
        auto it = peers.find(peer);
        return it == peers.end() ? PeerStats{} : it->second;
    }

    void CountP2p() {
        m_metrics.p2p_in.store(m_p2p.received(), std::memory_order_relaxed);
        m_metrics.p2p_out.store(m_p2p.sent(), std::memory_order_relaxed);
        m_metrics.p2p_dropped.store(m_p2p.dropped(), std::memory_order_relaxed);
    }

    // Our blocks from d.height on, for a peer still voting below our tip.
    util::Status SendDecidedTo(const SendDecided& d) {
        TC_TRY(messages, DecidedMessages(m_view, d.height, m_opts.decided_batch));
        for (const auto& bytes : messages) m_p2p.SendTo(d.peer, bytes);
        if (!messages.empty()) {
            log::Debug("sent {} decided blocks from {} to peer {}", messages.size(), d.height,
                       d.peer);
        }
        return {};
    }

    static Config MakeConfig(const Options& opts, const ledger::Ledger& view) {
        Config c;
        c.chain_id = wire::ChainId(view.genesis());
        c.base_timeout_ms = view.genesis().timeout_base_ms;
        c.max_timeout_ms = view.genesis().timeout_max_ms;
        c.resend_ms = opts.run_resend_ms;
        return c;
    }

    // The ledger's tip: what the core needs for the height after it, and
    // the tip's time (a proposal's time is never before it).
    struct Tip {
        HeightInfo next;
        uint64_t time_ms = 0;
    };
    util::Result<Tip> ReadTip() const {
        TC_TRY(status, m_view.GetStatus());
        Tip tip;
        HeightInfo& info = tip.next;
        info.height = status.height + 1;
        info.prev_hash = status.tip_hash;
        TC_TRY(set, m_view.GetMasternodes(info.height));
        info.set = ledger::Keys(set);
        for (uint32_t i = 0; i < info.set.size(); ++i) {
            if (info.set[i] == m_key.public_key()) info.self = i;
        }
        tip.time_ms = status.tip_time_ms;
        return tip;
    }

    // Remembers the height the core is about to decide (proposals and status
    // read it from here), and drops what was pending below it.
    const HeightInfo& Enter(Tip tip) {
        m_info = std::move(tip.next);
        m_tip_time_ms = tip.time_ms;
        Forget(m_info.height);
        return m_info;
    }

    // Moves the core to the ledger's tip when the ledger is ahead of it.
    util::Status CatchUpWithLedger() {
        TC_TRY(tip, ReadTip());
        if (tip.next.height <= m_replica.height()) return {};
        log::Info("the ledger is at {}: deciding {}", tip.next.height - 1, tip.next.height);
        return Step(HeightCommitted{Enter(std::move(tip))});
    }

    // Drops what was pending for heights below `height`.
    void Forget(uint64_t height) {
        if (m_proposal && m_proposal->height < height) m_proposal.reset();
        std::erase_if(m_validations, [&](const ValidateBlock& v) { return v.height < height; });
        std::erase_if(m_commits, [&](const Commit& c) { return c.block.header.height < height; });
    }

    util::Status Step(const Input& input) { return Execute(m_replica.Step(input)); }

    // Carries out the core's actions in order, then whatever they made
    // possible (Progress).
    util::Status Execute(const std::vector<Action>& actions) {
        for (const Action& action : actions) {
            if (const auto* p = std::get_if<Persist>(&action)) {
                TC_CHECK(m_log.Append(p->record));
                continue;
            }
            if (m_log.dirty()) TC_CHECK(m_log.Sync());  // durable before anything leaves
            TC_CHECK(Carry(action));
        }
        if (m_log.dirty()) TC_CHECK(m_log.Sync());
        UpdateGauges();
        CountP2p();
        return {};
    }

    util::Status Carry(const Action& action) {
        if (const auto* t = std::get_if<SetTimer>(&action)) {
            m_timers[t->id] = Clock::now() + milliseconds(t->delay_ms);
        } else if (const auto* c = std::get_if<CancelTimer>(&action)) {
            m_timers.erase(c->id);
        } else if (const auto* pb = std::get_if<ProposeBlock>(&action)) {
            m_proposal = *pb;
            m_ask_pool_at = Clock::now();
        } else if (const auto* vb = std::get_if<ValidateBlock>(&action)) {
            m_validations.push_back(*vb);
        } else if (const auto* c = std::get_if<Commit>(&action)) {
            m_commits.push_back(*c);
        } else if (const auto* e = std::get_if<Evidence>(&action)) {
            m_metrics.evidence.fetch_add(1, std::memory_order_relaxed);
            if (m_evidence.size() >= m_opts.max_evidence && !m_evidence.empty()) {
                m_evidence.pop_front();
            }
            if (m_opts.max_evidence > 0) m_evidence.emplace_back(e->first, e->second);
            log::Warn("equivocation evidence at height {} ({} pairs for the store)",
                      m_replica.height(), m_evidence.size());
            Emit("evidence", m_replica.height(), m_replica.view(), {});
        } else if (const auto* b = std::get_if<Broadcast>(&action)) {
            m_p2p.Broadcast(b->bytes);
        } else if (const auto* st = std::get_if<SendTo>(&action)) {
            m_p2p.SendTo(st->peer, st->bytes);
        } else if (const auto* sd = std::get_if<SendDecided>(&action)) {
            TC_CHECK(SendDecidedTo(*sd));
        } else if (const auto* cu = std::get_if<CatchUp>(&action)) {
            // tc-p2p syncs by itself from its peers' tips; the store's
            // events then move us on (StoreEvent).
            log::Debug("peer {} is at height {} or above: tc-p2p syncs", cu->peer, cu->height);
        }
        return {};
    }

    // Commits, validations and the proposal, as far as the stages answer.
    util::Status Progress() {
        const auto now = Clock::now();
        if (now >= m_retry_at) {
            while (!m_commits.empty()) {
                auto done = ApplyFront();
                if (!done) return std::move(done).error();
                if (!*done) break;
            }
            while (m_commits.empty() && !m_evidence.empty()) {
                auto done = StoreEvidenceFront();
                if (!done) return std::move(done).error();
                if (!*done) break;
            }
            while (m_commits.empty() && !m_validations.empty()) {
                auto done = ValidateFront();
                if (!done) return std::move(done).error();
                if (!*done) break;
            }
        }
        if (m_commits.empty() && m_proposal && Clock::now() >= m_ask_pool_at) {
            TC_CHECK(AskPool());
        }
        return {};
    }

    void StageFailed(std::string_view what, const util::Error& error) {
        m_metrics.stage_errors.fetch_add(1, std::memory_order_relaxed);
        log::Warn("{}: {} (again in {} ms)", what, error.message, m_opts.retry_ms);
        m_retry_at = Clock::now() + milliseconds(m_opts.retry_ms);
    }

    // The store's apply of the first pending commit. false: not yet (asked
    // again after --retry-ms).
    util::Result<bool> ApplyFront() {
        const Commit& c = m_commits.front();
        const uint64_t height = c.block.header.height;
        const wire::Hash hash = wire::BlockHash(c.block.header);
        auto reply = m_store.Call("apply", [&](Packer& p) {
            p.pack_array(2);
            net::PackBin(p, wire::Encode(c.block));
            net::PackBin(p, wire::Encode(c.cert));
        });
        if (!reply) {
            // Committed meanwhile by someone else (an import), or refused?
            TC_TRY(status, m_view.GetStatus());
            if (status.height < height) {
                StageFailed("store: apply of block " + std::to_string(height), reply.error());
                return false;
            }
            TC_TRY(stored, m_view.GetBlock(height));
            if (wire::BlockHash(stored.header) != hash) {
                log::Error("block {}: the ledger holds another block than the one we committed",
                           height);
            }
        }
        log::Info("committed block {} ({} txs, view {}) {}", height, c.block.txs.size(),
                  c.cert.view, util::ToHex(hash));
        m_metrics.commits.fetch_add(1, std::memory_order_relaxed);
        Emit("committed", height, c.cert.view, hash);
        m_commits.pop_front();
        TC_TRY(tip, ReadTip());
        const HeightInfo& info = Enter(std::move(tip));
        if (m_opts.compact_every > 0 && info.height % m_opts.compact_every == 0) {
            TC_CHECK(m_log.Compact(info.height));
        }
        TC_CHECK(Step(HeightCommitted{info}));
        return true;
    }

    // The store's add-evidence of the oldest pair held: it checks the pair
    // and writes it to the ledger (durable from then on). false: not yet.
    util::Result<bool> StoreEvidenceFront() {
        const auto& [first, second] = m_evidence.front();
        auto reply = m_store.Call("add-evidence", [&](Packer& p) {
            p.pack_array(2);
            net::PackBin(p, first);
            net::PackBin(p, second);
        });
        if (!reply && net::ReasonOf(reply.error().message) != net::kRefused) {
            StageFailed("store: add-evidence", reply.error());
            return false;
        }
        if (!reply) {
            // The core saw two valid signatures; a store that disagrees
            // reads another chain or has another rule. Say so, drop it.
            log::Error("store refused our evidence: {}", reply.error().message);
        }
        m_evidence.pop_front();
        return true;
    }

    util::Result<bool> ValidateFront() {
        const ValidateBlock v = m_validations.front();
        const wire::BlockHeader& h = v.block.header;
        bool valid = true;
        if (h.timestamp_ms < m_tip_time_ms) {
            log::Warn("block {} refused: its time {} is before the tip's {}", v.height,
                      h.timestamp_ms, m_tip_time_ms);
            valid = false;
        } else if (h.timestamp_ms > WallMs() + m_opts.max_clock_skew_ms) {
            log::Warn("block {} refused: its time {} is more than {} ms ahead of ours", v.height,
                      h.timestamp_ms, m_opts.max_clock_skew_ms);
            valid = false;
        } else {
            auto reply = m_pool.Call("validate", [&](Packer& p) {
                p.pack_array(1);
                net::PackBin(p, wire::Encode(v.block));
            });
            if (!reply) {
                StageFailed("pool: validate of block " + std::to_string(v.height), reply.error());
                return false;
            }
            valid = false;
            if (reply->type == Type::MAP) {
                for (const auto& kv : reply->via.map) {
                    if (kv.key.type == Type::STR && net::StrView(kv.key) == "valid" &&
                        kv.val.type == Type::BOOLEAN) {
                        valid = kv.val.via.boolean;
                    }
                }
            }
            if (!valid) log::Warn("block {} refused by the pool", v.height);
        }
        m_validations.pop_front();
        TC_CHECK(Step(BlockValidated{v.height, v.digest, valid}));
        return true;
    }

    // Asks the pool for the proposal's transactions; an empty answer at
    // view 0 waits for an accepted transaction (PoolEvent) or a second.
    util::Status AskPool() {
        const ProposeBlock pb = *m_proposal;
        const wire::Genesis& g = m_view.genesis();
        const uint64_t max_bytes =
            g.max_block_bytes > kHeaderRoom ? g.max_block_bytes - kHeaderRoom : g.max_block_bytes;
        auto reply = m_pool.Call("propose", [&](Packer& p) {
            p.pack_array(2);
            p.pack_uint64(g.max_block_txs);
            p.pack_uint64(max_bytes);
        });
        if (!reply || reply->type != Type::ARRAY) {
            m_metrics.stage_errors.fetch_add(1, std::memory_order_relaxed);
            log::Warn("pool: propose: {} (again in {} ms)",
                      reply ? "reply is not an array" : reply.error().message, m_opts.retry_ms);
            m_ask_pool_at = Clock::now() + milliseconds(m_opts.retry_ms);
            return {};
        }
        wire::Block block;
        for (const auto& o : reply->via.array) {
            if (o.type != Type::BIN) continue;
            auto tx = wire::DecodeTransaction(net::BinView(o));
            if (!tx) {
                log::Warn("pool: propose: {}", tx.error().message);
                continue;
            }
            block.txs.push_back(std::move(*tx));
        }
        if (block.txs.empty() && pb.view == 0) {
            m_ask_pool_at = Clock::now() + std::chrono::seconds(1);
            return {};
        }
        if (m_info.height != pb.height) {  // a proposal for a height we left
            m_proposal.reset();
            return {};
        }
        block.header.height = pb.height;
        block.header.prev_hash = m_info.prev_hash;
        block.header.view = pb.view;
        block.header.timestamp_ms = std::max(WallMs(), m_tip_time_ms);
        block.header.proposer = pb.proposer;
        block.header.tx_root = wire::TxRoot(block.txs);
        block.header.mnset_hash = consensus::MasternodeSetHash(m_info.set);
        m_proposal.reset();
        log::Debug("proposing block {} view {} with {} txs", pb.height, pb.view, block.txs.size());
        return Step(ProposalReady{std::move(block)});
    }

    void Emit(std::string event, uint64_t height, uint64_t view, const wire::Hash& hash) {
        m_events.push_back({m_next_seq++, std::move(event), height, view, hash});
    }

    void UpdateGauges() {
        const Stats& s = m_replica.stats();
        if (s.view_changes > m_last_view_changes) {
            m_last_view_changes = s.view_changes;
            Emit("view-change", m_replica.height(), m_replica.view(), {});
        }
        m_metrics.height.store(m_replica.height(), std::memory_order_relaxed);
        m_metrics.view.store(m_replica.view(), std::memory_order_relaxed);
        m_metrics.view_changes.store(s.view_changes, std::memory_order_relaxed);
    }

    std::string_view Waiting() const {
        if (!m_commits.empty()) return "store";
        if (!m_validations.empty()) return "validation";
        if (m_proposal) return "transactions";
        return "votes";
    }

    msgpack::sbuffer Status(uint64_t id) {
        return net::EncodeResult(id, [this](Packer& p) {
            const consensus::Quorum q = m_replica.quorum();
            const Stats& s = m_replica.stats();
            const std::optional<uint32_t> self = m_info.self;
            const uint64_t n = m_info.set.size();
            const HeldVotes held = m_replica.VotesHeld(m_replica.view());
            p.pack_map(21);
            net::PackStr(p, "height");
            p.pack_uint64(m_replica.height());
            net::PackStr(p, "view");
            p.pack_uint64(m_replica.view());
            net::PackStr(p, "primary");
            p.pack_uint64(q.n == 0 ? 0 : (m_replica.height() + m_replica.view()) % q.n);
            net::PackStr(p, "self");
            if (self) {
                p.pack_uint64(*self);
            } else {
                p.pack_nil();
            }
            net::PackStr(p, "n");
            p.pack_uint64(q.n);
            net::PackStr(p, "f");
            p.pack_uint64(q.f);
            net::PackStr(p, "quorum");
            p.pack_uint64(q.q);
            net::PackStr(p, "committed");
            p.pack_uint64(m_replica.height() - 1);
            net::PackStr(p, "view_changes");
            p.pack_uint64(s.view_changes);
            net::PackStr(p, "commits");
            p.pack_uint64(m_metrics.commits.load(std::memory_order_relaxed));
            net::PackStr(p, "evidence");
            p.pack_uint64(s.evidence);
            net::PackStr(p, "waiting");
            net::PackStr(p, Waiting());
            net::PackStr(p, "vote_log_bytes");
            p.pack_uint64(m_log.size_bytes());
            net::PackStr(p, "have_pre_prepare");
            held.have_pre_prepare ? p.pack_true() : p.pack_false();
            PackMissing(p, "missing_prepares", "missing_prepare_keys", held.prepares, n);
            PackMissing(p, "missing_commits", "missing_commit_keys", held.commits, n);
            net::PackStr(p, "p2p_in");
            p.pack_uint64(m_p2p.received());
            net::PackStr(p, "p2p_out");
            p.pack_uint64(m_p2p.sent());
            net::PackStr(p, "p2p_dropped");
            p.pack_uint64(m_p2p.dropped());
        });
    }

    // Two entries: the set indices not in `held` (ascending), then their keys.
    void PackMissing(Packer& p, std::string_view indices_key, std::string_view keys_key,
                     const std::vector<uint32_t>& held, uint64_t n) const {
        std::vector<uint32_t> missing;
        for (uint32_t i = 0; i < n; ++i) {
            if (!std::binary_search(held.begin(), held.end(), i)) missing.push_back(i);
        }
        net::PackStr(p, indices_key);
        p.pack_array(static_cast<uint32_t>(missing.size()));
        for (uint32_t i : missing) p.pack_uint64(i);
        net::PackStr(p, keys_key);
        p.pack_array(static_cast<uint32_t>(missing.size()));
        for (uint32_t i : missing) net::PackStr(p, util::ToHex(m_info.set[i]));
    }

    const Options& m_opts;
    const ledger::Ledger& m_view;
    VoteLog& m_log;
    const crypto::SecretKey& m_key;
    Metrics& m_metrics;
    P2pLink& m_p2p;
    net::Client m_pool;
    net::Client m_store;
    Replica m_replica;
    net::Dispatcher m_dispatcher;

    std::map<uint64_t, Clock::time_point> m_timers;
    std::optional<ProposeBlock> m_proposal;
    Clock::time_point m_ask_pool_at = Clock::now();
    std::deque<ValidateBlock> m_validations;
    std::deque<Commit> m_commits;
    Clock::time_point m_retry_at = Clock::now();
    HeightInfo m_info;           // the height the core decides (Enter)
    uint64_t m_tip_time_ms = 0;  // the time of the block below it
    std::deque<std::pair<util::Bytes, util::Bytes>> m_evidence;
    std::vector<PbftEvent> m_events;
    uint64_t m_next_seq = 1;
    uint64_t m_last_view_changes = 0;
};

void Publish(zmq::socket_t& events, const std::vector<PbftEvent>& batch) {
    for (const auto& e : batch) {
        events.send(zmq::buffer(kTopic), zmq::send_flags::sndmore);
        events.send(net::ToMessage(EncodeEvent(e)), zmq::send_flags::none);
    }
}

std::string KeyPath(const Options& opts) {
    return opts.key_file.empty() ? opts.common.datadir + "/masternode.key" : opts.key_file;
}

// A client of this datadir's tc-pbft run.
class Client : public net::Client {
  public:
    explicit Client(const Options& opts)
        : net::Client(util::RunEndpoint(opts.common.datadir, "pbft"),
                      milliseconds(opts.timeout_ms)) {}
};

}  // namespace

// --- the link to tc-p2p ------------------------------------------------------

util::Result<P2pLink> P2pLink::Connect(zmq::context_t& context, const std::string& datadir,
                                       uint64_t send_hwm, uint64_t max_message_bytes) {
    try {
        zmq::socket_t send(context, zmq::socket_type::push);
        send.set(zmq::sockopt::linger, 0);
        send.set(zmq::sockopt::sndhwm, static_cast<int>(std::min<uint64_t>(send_hwm, INT32_MAX)));
        send.connect(util::RunEndpoint(datadir, "p2p-send"));
        zmq::socket_t events(context, zmq::socket_type::sub);
        events.set(zmq::sockopt::linger, 0);
        events.set(zmq::sockopt::maxmsgsize,
                   static_cast<int64_t>(std::min<uint64_t>(max_message_bytes, INT64_MAX)));
        events.set(zmq::sockopt::subscribe, kInPbft);
        events.connect(util::RunEndpoint(datadir, "p2p-events"));
        return P2pLink(std::move(send), std::move(events));
    } catch (const zmq::error_t& e) {
        return MakeError(Errc::kIo, "p2p-send, p2p-events: " + std::string(e.what()));
    }
}

PeerId P2pLink::PeerOf(const crypto::PublicKey& key) {
    auto [it, fresh] = m_ids.try_emplace(key, kFirstPeerId + static_cast<PeerId>(m_keys.size()));
    if (fresh) m_keys.push_back(key);
    return it->second;
}

const crypto::PublicKey* P2pLink::KeyOf(PeerId peer) const {
    if (peer < kFirstPeerId || peer - kFirstPeerId >= m_keys.size()) return nullptr;
    return &m_keys[peer - kFirstPeerId];
}

std::optional<MessageReceived> P2pLink::Decode(const std::vector<zmq::message_t>& parts) {
    if (parts.size() != 2 || parts[0].to_string_view() != kInPbft) return std::nullopt;
    try {
        auto handle = msgpack::unpack(static_cast<const char*>(parts[1].data()), parts[1].size());
        const msgpack::object& o = handle.get();
        const auto* a = o.type == Type::ARRAY ? o.via.array.ptr : nullptr;
        if (a == nullptr || o.via.array.size != 2 || a[0].type != Type::BIN ||
            a[0].via.bin.size != crypto::PublicKey{}.size() || a[1].type != Type::BIN) {
            log::Debug("p2p-events: not [key, bytes]: dropped");
            return std::nullopt;
        }
        crypto::PublicKey key;
        util::ByteView k = net::BinView(a[0]);
        std::copy(k.begin(), k.end(), key.begin());
        util::ByteView bytes = net::BinView(a[1]);
        m_received++;
        return MessageReceived{PeerOf(key), util::Bytes(bytes.begin(), bytes.end())};
    } catch (const std::exception& e) {
        log::Debug("p2p-events: not msgpack: {}", e.what());
        return std::nullopt;
    }
}

bool P2pLink::Push(const msgpack::sbuffer& buf) {
    try {
        if (m_send.send(zmq::buffer(buf.data(), buf.size()), zmq::send_flags::dontwait)) {
            m_sent++;
            return true;
        }
    } catch (const zmq::error_t& e) {
        log::Debug("p2p-send: {}", e.what());
    }
    m_dropped++;
    return false;
}

bool P2pLink::Broadcast(util::ByteView bytes) {
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(3);
    net::PackStr(p, "pbft");
    p.pack_nil();
    net::PackBin(p, bytes);
    return Push(buf);
}

bool P2pLink::SendTo(PeerId peer, util::ByteView bytes) {
    const crypto::PublicKey* key = KeyOf(peer);
    if (key == nullptr) return false;
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(3);
    net::PackStr(p, "pbft");
    net::PackBin(p, *key);
    net::PackBin(p, bytes);
    return Push(buf);
}

bool P2pLink::Misbehaved(PeerId peer, std::string_view reason) {
    const crypto::PublicKey* key = KeyOf(peer);
    if (key == nullptr) return false;
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_array(3);
    net::PackStr(p, "misbehaved");
    net::PackBin(p, *key);
    net::PackStr(p, reason);
    return Push(buf);
}

std::optional<std::string_view> BanReason(const PeerStats& before, const PeerStats& after) {
    if (after.bad_signature > before.bad_signature) return "bad-signature";
    if (after.malformed > before.malformed) return "malformed";
    return std::nullopt;
}

util::Result<std::vector<util::Bytes>> DecidedMessages(const ledger::Ledger& view, uint64_t from,
                                                       uint64_t max) {
    TC_TRY(status, view.GetStatus());
    std::vector<util::Bytes> out;
    for (uint64_t h = std::max<uint64_t>(from, 1); h <= status.height && out.size() < max; ++h) {
        TC_TRY(block, view.GetBlock(h));
        TC_TRY(cert, view.GetCertificate(h));
        out.push_back(
            wire::Encode(wire::PbftMessage{wire::Decided{std::move(block), std::move(cert)}}));
    }
    return out;
}

util::Result<std::vector<std::string>> UnreachablePeers(const msgpack::object& peers) {
    if (peers.type != Type::ARRAY) return MakeError(Errc::kInvalid, "peers: reply is not an array");
    std::vector<std::string> out;
    for (const auto& entry : peers.via.array) {
        if (entry.type != Type::MAP) continue;
        std::string key;
        bool masternode = false, connected = false;
        uint64_t banned_s = 0;
        for (const auto& kv : entry.via.map) {
            if (kv.key.type != Type::STR) continue;
            const std::string_view name = net::StrView(kv.key);
            if (name == "key" && kv.val.type == Type::STR) {
                key = std::string(net::StrView(kv.val));
            } else if (name == "masternode" && kv.val.type == Type::BOOLEAN) {
                masternode = kv.val.via.boolean;
            } else if (name == "connected" && kv.val.type == Type::BOOLEAN) {
                connected = kv.val.via.boolean;
            } else if (name == "banned_s" && kv.val.type == Type::POSITIVE_INTEGER) {
                banned_s = kv.val.via.u64;
            }
        }
        if (masternode && !key.empty() && (!connected || banned_s > 0)) out.push_back(key);
    }
    return out;
}

util::Status RunDaemon(const Options& opts) {
    const std::string& datadir = opts.common.datadir;
    net::SignalFd signals;
    if (!signals.ok()) return MakeError(Errc::kIo, "signalfd failed");
    TC_TRY(key, crypto::ReadKeyFileWithPassphrase(KeyPath(opts), opts.passphrase_file));
    TC_TRY(view, ledger::Ledger::OpenReadOnly(util::LedgerDir(datadir)));
    size_t dropped = 0;
    TC_TRY(log, VoteLog::Open(datadir + "/pbft/votes.log", &dropped));
    if (dropped > 0) log::Warn("{}: dropped a torn last record ({} bytes)", log.path(), dropped);
    TC_CHECK(net::MakeRunDir(datadir));
    Metrics metrics;
    TC_TRY(metrics_server, net::MetricsServer::StartIfAsked(
                               opts.metrics_listen, [&metrics] { return RenderMetrics(metrics); }));
    util::Status outcome;
    {
        zmq::context_t context;
        TC_TRY(sockets, net::BindDaemonSockets(context, datadir, "pbft", opts.max_message_bytes));
        auto& [router, events, requests_ep, events_ep] = sockets;
        zmq::socket_t pool_events(context, zmq::socket_type::sub);
        zmq::socket_t store_events(context, zmq::socket_type::sub);
        try {
            for (auto* sub : {&pool_events, &store_events}) {
                sub->set(zmq::sockopt::linger, 0);
                sub->set(zmq::sockopt::subscribe, "");
            }
            pool_events.connect(util::RunEndpoint(datadir, "pool-events"));
            store_events.connect(util::RunEndpoint(datadir, "store-events"));
        } catch (const zmq::error_t& e) {
            return MakeError(Errc::kIo, "pool-events, store-events: " + std::string(e.what()));
        }
        TC_TRY(p2p, P2pLink::Connect(context, datadir, opts.p2p_send_hwm, opts.max_message_bytes));
        Driver driver(opts, context, *view, log, key, metrics, p2p);
        outcome = driver.Start();
        if (outcome) {
            log::Info("serving {} (events {})", requests_ep, events_ep);
            net::Notify(net::Lifecycle::kReady);
        }
        Publish(events, driver.TakeEvents());
        std::vector<zmq::message_t> parts;
        // Each socket's messages in turn, every one through the driver.
        auto drain = [&](zmq::socket_t& socket, uint64_t budget, auto&& handle) {
            util::Status status;
            for (uint64_t i = 0;
                 status && i < budget &&
                 zmq::recv_multipart(socket, std::back_inserter(parts), zmq::recv_flags::dontwait);
                 ++i) {
                status = handle(parts);
                parts.clear();
            }
            return status;
        };
        net::DaemonLoop loop(signals);
        loop.Serve(router, [&](util::ByteView body) { return driver.Handle(body); });
        loop.Drain(events);
        loop.WatchChecked(pool_events, [&] {
            return drain(pool_events, UINT64_MAX, [&](auto& m) { return driver.PoolEvent(m); });
        });
        loop.WatchChecked(store_events, [&] {
            return drain(store_events, UINT64_MAX, [&](auto& m) { return driver.StoreEvent(m); });
        });
        // A bounded batch: the loop serves requests and timers too.
        loop.WatchChecked(p2p.events(), [&] {
            return drain(p2p.events(), kP2pBatch, [&](auto& m) { return driver.P2pEvent(m); });
        });
        if (outcome) {
            outcome = loop.Run([&] { return driver.Timeout(); },
                               [&] {
                                   util::Status ticked = driver.Tick();
                                   Publish(events, driver.TakeEvents());
                                   return ticked;
                               });
        }
        net::Notify(net::Lifecycle::kStopping);
    }
    metrics_server.reset();
    return net::Stopped(std::move(outcome));
}

// --- the clients -----------------------------------------------------------

util::Status PingDaemon(const Options& opts, std::ostream& out) {
    Client client(opts);
    return net::PrintPing(client, out);
}

util::Status PrintStatus(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(reply, client.Call("status"));
    if (reply.type != Type::MAP) return MakeError(Errc::kInvalid, "status: reply is not a map");
    // What tc-p2p says of the links, asked briefly: a stalled node is often
    // one whose tc-p2p is down too.
    net::Client p2p(util::RunEndpoint(opts.common.datadir, "p2p"),
                    milliseconds(opts.p2p_timeout_ms));
    auto peers = p2p.Call("peers");
    std::optional<std::vector<std::string>> unreachable;
    if (peers) {
        auto u = UnreachablePeers(*peers);
        if (u) unreachable = std::move(*u);
    }
    msgpack::sbuffer buf;
    Packer p(buf);
    p.pack_map(reply.via.map.size + 2);
    for (const auto& kv : reply.via.map) {
        p.pack(kv.key);
        p.pack(kv.val);
    }
    net::PackStr(p, "p2p");
    net::PackStr(p, unreachable ? "ok" : "no answer");
    net::PackStr(p, "unreachable");
    if (unreachable) {
        p.pack_array(static_cast<uint32_t>(unreachable->size()));
        for (const auto& key : *unreachable) net::PackStr(p, key);
    } else {
        p.pack_nil();
    }
    auto merged = msgpack::unpack(buf.data(), buf.size());
    return net::PrintStatusMap(merged.get(), opts.common.json, {}, out);
}

util::Status PrintEvidence(const Options& opts, std::ostream& out) {
    Client client(opts);
    TC_TRY(reply, client.Call("evidence"));
    if (reply.type != Type::ARRAY) {
        return MakeError(Errc::kInvalid, "evidence: reply is not an array");
    }
    nlohmann::json all = nlohmann::json::array();
    for (const auto& e : reply.via.array) {
        if (e.type != Type::ARRAY || e.via.array.size != 2 ||
            e.via.array.ptr[0].type != Type::BIN || e.via.array.ptr[1].type != Type::BIN) {
            return MakeError(Errc::kInvalid, "evidence: unreadable entry");
        }
        all.push_back({{"first", util::ToHex(net::BinView(e.via.array.ptr[0]))},
                       {"second", util::ToHex(net::BinView(e.via.array.ptr[1]))}});
    }
    if (opts.common.json) {
        out << all.dump() << "\n";
    } else {
        for (const auto& e : all) out << e.dump() << "\n";
    }
    return {};
}

util::Status WatchEvents(const Options& opts, std::ostream& out, std::ostream& err) {
    net::WatchSpec spec;
    spec.program = "tc-pbft";
    spec.endpoint = util::RunEndpoint(opts.common.datadir, "pbft-events");
    spec.topic = std::string(kTopic);
    spec.decode = [](const msgpack::object& o) -> util::Result<net::WatchedEvent> {
        const auto* a = o.type == Type::ARRAY ? o.via.array.ptr : nullptr;
        if (a == nullptr || o.via.array.size != 5 || a[0].type != Type::POSITIVE_INTEGER ||
            a[1].type != Type::STR || a[2].type != Type::POSITIVE_INTEGER ||
            a[3].type != Type::POSITIVE_INTEGER || a[4].type != Type::BIN) {
            return MakeError(Errc::kInvalid, "expected [seq, event, height, view, hash]");
        }
        const uint64_t seq = a[0].via.u64;
        return net::WatchedEvent{seq,
                                 {{"seq", seq},
                                  {"event", std::string(net::StrView(a[1]))},
                                  {"height", a[2].via.u64},
                                  {"view", a[3].via.u64},
                                  {"hash", util::ToHex(net::BinView(a[4]))}}};
    };
    return net::WatchEvents(spec, out, err);
}

}  // namespace tc::pbft
