#include "simulator.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "consensus/certificate.h"
#include "consensus/quorum.h"
#include "crypto/domain.h"
#include "crypto/hash.h"
#include "wire/codec.h"

namespace tc::pbft::sim {

using util::Errc;
using util::MakeError;

namespace {

// xoshiro256** (Blackman, Vigna), seeded from a blake2b of its purpose and
// the run's seed. Only raw outputs are used: std::*_distribution results
// differ between standard libraries.
class Rng {
  public:
    explicit Rng(const wire::Hash& seed) {
        for (int i = 0; i < 4; ++i) {
            uint64_t w = 0;
            for (int b = 0; b < 8; ++b) w = (w << 8) | seed[static_cast<size_t>(i * 8 + b)];
            m_s[i] = w;
        }
        if ((m_s[0] | m_s[1] | m_s[2] | m_s[3]) == 0) m_s[0] = 1;
    }
    uint64_t Next() {
        uint64_t result = Rotl(m_s[1] * 5, 7) * 9;
        uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = Rotl(m_s[3], 45);
        return result;
    }
    // Uniform in [0, n) (Lemire's multiply-shift; its tiny bias is irrelevant here).
    uint64_t Below(uint64_t n) {
        return n == 0 ? 0
                      : static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
    }
    bool Chance(double p) {
        if (p <= 0) return false;
        return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
    }

  private:
    static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t m_s[4];
};

wire::Hash SeedHash(std::string_view purpose, uint64_t seed) {
    util::Bytes b;
    util::Append(b, util::AsBytes("tc-pbft-sim/"));
    util::Append(b, util::AsBytes(purpose));
    util::AppendBe64(b, seed);
    return crypto::Blake2b256(b);
}

std::string FormatDouble(double d) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

// ---- events ------------------------------------------------------------------

struct DeliverEv {
    uint32_t from = 0;
    uint32_t to = 0;
    util::Bytes bytes;
};
struct TimerEv {
    uint32_t node = 0;
    uint8_t copy = 0;
    uint64_t epoch = 0;
    uint64_t id = 0;
    uint64_t gen = 0;
};
struct ProposalEv {
    uint32_t node = 0;
    uint8_t copy = 0;
    uint64_t epoch = 0;
    wire::Block block;
};
struct ValidateEv {
    uint32_t node = 0;
    uint8_t copy = 0;
    uint64_t epoch = 0;
    uint64_t height = 0;
    wire::Hash digest{};
    wire::Block block;
};
struct CommittedEv {
    uint32_t node = 0;
    uint8_t copy = 0;
    uint64_t epoch = 0;
};
struct CatchUpEv {
    uint32_t asker = 0;
    uint32_t peer = 0;
    uint64_t have = 0;  // the asker's chain height when it asked
};
struct CrashStartEv {
    size_t crash = 0;
};
struct CrashEndEv {
    size_t crash = 0;
};
struct CrashNowEv {
    uint32_t node = 0;
    uint64_t token = 0;
};
struct TickEv {
    uint32_t node = 0;
};

using Payload = std::variant<DeliverEv, TimerEv, ProposalEv, ValidateEv, CommittedEv, CatchUpEv,
                             CrashStartEv, CrashEndEv, CrashNowEv, TickEv>;

struct Event {
    uint64_t time = 0;
    uint64_t seq = 0;
    Payload payload;
};

// For the heap: the earliest (time, seq) on top.
bool Later(const Event& a, const Event& b) {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
}

// The signed fields of a message, for evidence checks.
struct Signed {
    uint32_t replica = 0;
    wire::SignedPhase phase = wire::SignedPhase::kPrepare;
    uint64_t height = 0;
    uint64_t view = 0;
    wire::Hash digest{};
    crypto::Signature signature{};
};

std::optional<Signed> SignedFields(const wire::PbftMessage& msg) {
    if (const auto* pp = std::get_if<wire::PrePrepare>(&msg)) {
        return Signed{pp->replica, wire::SignedPhase::kPrePrepare,    pp->height,
                      pp->view,    wire::BlockHash(pp->block.header), pp->signature};
    }
    if (const auto* v = std::get_if<wire::Vote>(&msg)) {
        return Signed{v->replica, static_cast<wire::SignedPhase>(v->phase),
                      v->height,  v->view,
                      v->digest,  v->signature};
    }
    if (const auto* vc = std::get_if<wire::ViewChange>(&msg)) {
        return Signed{vc->replica,  wire::SignedPhase::kViewChange, vc->height,
                      vc->new_view, wire::ViewChangeDigest(*vc),    vc->signature};
    }
    if (const auto* nv = std::get_if<wire::NewView>(&msg)) {
        return Signed{nv->replica, wire::SignedPhase::kNewView, nv->height,
                      nv->view,    wire::NewViewDigest(*nv),    nv->signature};
    }
    return std::nullopt;
}

// ---- the simulation ----------------------------------------------------------

class Simulation;

// One Replica object and what survives its crashes: the durable vote
// records and the chain (the store).
struct Copy {
    std::unique_ptr<Replica> replica;
    std::vector<VoteRecord> records;
    std::vector<wire::Decided> chain;     // chain[i] is height i + 1
    std::vector<uint32_t> reach;          // the members it talks to
    uint64_t epoch = 0;                   // bumped on a crash: stale timers and answers are dropped
    std::map<uint64_t, uint64_t> timers;  // id -> generation of the armed one
    uint64_t timer_gen = 0;
    uint64_t past_view_changes = 0;  // of incarnations destroyed by crashes
    PeerStats past_rejected;         // likewise
};

void AddRejected(PeerStats& sum, const Stats& stats) {
    for (const auto& [peer, p] : stats.peers) {
        sum.malformed += p.malformed;
        sum.bad_signature += p.bad_signature;
        sum.non_member += p.non_member;
        sum.invalid += p.invalid;
        sum.dropped += p.dropped;
        sum.stale += p.stale;
    }
}

class NodeNet;

struct Node {
    uint32_t index = 0;
    std::unique_ptr<crypto::SecretKey> key;
    bool byzantine = false;
    Behaviour behaviour = Behaviour::kSilent;
    std::unique_ptr<Strategy> strategy;
    std::unique_ptr<NodeNet> net;
    std::vector<Copy> copies;
    bool up = true;
    bool crash_armed = false;  // crash right after the next Persist
    uint64_t crash_token = 0;
    bool permanently_down = false;  // a crash without an end
    // What it said (correct nodes): (height, view, phase) -> digest, the
    // votes it sent, and the highest view it asked to move to per height.
    std::map<std::tuple<uint64_t, uint64_t, uint8_t>, wire::Hash> said;
    std::set<std::tuple<uint64_t, uint64_t, uint8_t, wire::Hash>> votes;
    std::map<uint64_t, uint64_t> view_change_max;
};

class NodeNet : public Net {
  public:
    NodeNet(Simulation& sim, uint32_t self) : m_sim(sim), m_self(self) {}
    uint64_t Now() const override;
    uint64_t Random() override;
    void Send(uint32_t to, util::Bytes bytes) override;
    const std::vector<uint32_t>& Peers() const override;
    wire::Block MakeBlock(uint64_t height, uint64_t view, const wire::Hash& prev_hash,
                          uint64_t salt) override;
    std::optional<wire::Hash> ChainHash(uint64_t height) const override;
    const crypto::Hash256& ChainId() const override;
    const std::vector<crypto::PublicKey>& Set() const override;

  private:
    Simulation& m_sim;
    uint32_t m_self;
};

class Simulation {
  public:
    explicit Simulation(const Scenario& s) : m_s(s), m_rng(SeedHash("run", s.seed)) {
        if (const char* t = std::getenv("TC_SIM_TRACE")) m_trace_node = std::atoi(t);
    }

    util::Result<RunResult> Run();

    // for NodeNet
    uint64_t now() const { return m_now; }
    Rng& rng() { return m_rng; }
    void NetSend(uint32_t from, uint32_t to, util::Bytes bytes);
    const std::vector<uint32_t>& Others(uint32_t node) const { return m_others[node]; }
    wire::Block BuildBlock(uint64_t height, uint64_t view, uint32_t proposer,
                           const wire::Hash& prev, uint64_t timestamp);
    const crypto::Hash256& chain_id() const { return m_config.chain_id; }
    std::optional<wire::Hash> DecidedHash(uint64_t height) const {
        if (height == 0) return m_genesis_hash;
        auto it = m_decided.find(height);
        if (it == m_decided.end()) return std::nullopt;
        return it->second.first;
    }
    const std::vector<crypto::PublicKey>& set() const { return m_set; }

  private:
    util::Status Setup();
    void Schedule(uint64_t at, Payload payload);
    void Dispatch(Payload& payload);

    void StartCopy(Node& node, uint8_t c);
    void Step(Node& node, uint8_t c, const Input& input);
    void Carry(Node& node, uint8_t c, std::vector<Action> actions);
    void Send(Node& node, uint8_t c, std::optional<uint32_t> to, const util::Bytes& bytes);
    void OnCommit(Node& node, uint8_t c, const Commit& commit);
    void Observe(Node& node, const util::Bytes& bytes);
    void CheckEvidence(Node& node, const Evidence& e);
    void CheckMemory(Node& node, uint8_t c);
    void CrashNode(Node& node);
    void RestartNode(Node& node);

    HeightInfo InfoFor(const Node& node, const Copy& copy) const;
    wire::Hash TipHash(const Copy& copy) const;
    bool Connected(uint32_t a, uint32_t b, uint64_t t) const;
    uint64_t Delay(uint32_t from, uint32_t to);
    uint8_t Route(const Node& node, uint32_t from) const;
    bool Live(const Node& node, uint8_t c, uint64_t epoch) const;
    bool Done() const;
    void Trace(uint8_t kind, const Node& node, uint8_t c, uint64_t a, util::ByteView bytes);
    void Violate(std::string kind, uint64_t height, std::vector<uint32_t> replicas,
                 std::string detail);

    Scenario m_s;
    Rng m_rng;
    Config m_config;
    consensus::Quorum m_quorum;
    std::vector<crypto::PublicKey> m_set;
    wire::Hash m_mnset_hash{};
    wire::Hash m_genesis_hash{};
    std::vector<std::unique_ptr<Node>> m_nodes;
    std::vector<std::vector<uint32_t>> m_others;
    std::vector<Event> m_queue;  // a heap under Later
    uint64_t m_seq = 0;
    uint64_t m_now = 0;
    std::vector<uint64_t> m_link_last;  // FIFO links: last delivery time, from * n + to
    std::set<wire::Hash> m_valid;       // recorded valid proposals
    std::map<uint64_t, std::pair<wire::Hash, uint32_t>> m_decided;  // height -> (hash, first)
    std::set<wire::Hash> m_good_certs;  // blake2b of (encoded cert) that verified
    std::set<std::string> m_violation_keys;
    crypto::Hasher256 m_trace;
    RunResult m_r;
    std::optional<uint32_t> m_trace_node;
};

uint64_t NodeNet::Now() const {
    return m_sim.now();
}
uint64_t NodeNet::Random() {
    return m_sim.rng().Next();
}
void NodeNet::Send(uint32_t to, util::Bytes bytes) {
    if (to == m_self || to >= m_sim.set().size()) return;
    m_sim.NetSend(m_self, to, std::move(bytes));
}
const std::vector<uint32_t>& NodeNet::Peers() const {
    return m_sim.Others(m_self);
}
wire::Block NodeNet::MakeBlock(uint64_t height, uint64_t view, const wire::Hash& prev_hash,
                               uint64_t salt) {
    return m_sim.BuildBlock(height, view, m_self, prev_hash, m_sim.now() + salt);
}
std::optional<wire::Hash> NodeNet::ChainHash(uint64_t height) const {
    return m_sim.DecidedHash(height);
}
const crypto::Hash256& NodeNet::ChainId() const {
    return m_sim.chain_id();
}
const std::vector<crypto::PublicKey>& NodeNet::Set() const {
    return m_sim.set();
}

util::Status Simulation::Setup() {
    const uint32_t n = m_s.nodes;
    if (n == 0) return MakeError(Errc::kUsage, "--nodes: at least 1");
    if (n > 1000) return MakeError(Errc::kUsage, "--nodes: at most 1000");
    if (m_s.byzantine > n) return MakeError(Errc::kUsage, "--byzantine: more than --nodes");
    if (m_s.heights == 0) return MakeError(Errc::kUsage, "--heights: at least 1");
    if (m_s.loss < 0 || m_s.loss >= 1) return MakeError(Errc::kUsage, "--loss: must be in [0, 1)");
    if (m_s.duplicate < 0 || m_s.duplicate > 1) {
        return MakeError(Errc::kUsage, "--duplicate: must be in [0, 1]");
    }
    if (m_s.base_timeout_ms == 0 || m_s.resend_ms == 0) {
        return MakeError(Errc::kUsage, "--base-timeout-ms and --resend-ms: at least 1");
    }
    for (const auto& p : m_s.partitions) {
        if (p.end_ms <= p.start_ms) {
            return MakeError(Errc::kUsage,
                             "--partition " + FormatPartition(p) + ": ends before it starts");
        }
        for (const auto& g : p.groups) {
            for (uint32_t i : g) {
                if (i >= n) {
                    return MakeError(Errc::kUsage, "--partition " + FormatPartition(p) + ": node " +
                                                       std::to_string(i) + " does not exist");
                }
            }
        }
    }
    for (const auto& c : m_s.crashes) {
        if (c.node >= n) {
            return MakeError(Errc::kUsage, "--crash " + FormatCrash(c) + ": node " +
                                               std::to_string(c.node) + " does not exist");
        }
        if (c.end_ms && *c.end_ms <= c.start_ms) {
            return MakeError(Errc::kUsage, "--crash " + FormatCrash(c) + ": ends before it starts");
        }
    }

    m_quorum = consensus::QuorumFor(n);
    m_config.chain_id = SeedHash("chain", m_s.seed);
    m_config.base_timeout_ms = m_s.base_timeout_ms;
    m_config.resend_ms = m_s.resend_ms;
    m_config.max_timeout_ms = m_s.max_timeout_ms;
    m_config.planted = m_s.planted;

    // Keys from blake2b(seed string || index), the set sorted by public key.
    std::vector<std::unique_ptr<crypto::SecretKey>> keys;
    for (uint32_t i = 0; i < n; ++i) {
        util::Bytes b;
        util::Append(b, util::AsBytes(std::to_string(m_s.seed)));
        util::AppendBe32(b, i);
        auto key = crypto::SecretKey::FromSeed(crypto::Blake2b256(b));
        if (!key) return std::move(key).error();
        keys.push_back(std::make_unique<crypto::SecretKey>(std::move(key).value()));
    }
    std::sort(keys.begin(), keys.end(),
              [](const auto& a, const auto& b) { return a->public_key() < b->public_key(); });
    for (const auto& k : keys) m_set.push_back(k->public_key());
    m_mnset_hash = consensus::MasternodeSetHash(m_set);
    wire::BlockHeader genesis;
    genesis.height = 0;
    genesis.tx_root = wire::TxRoot({});
    genesis.mnset_hash = m_mnset_hash;
    m_genesis_hash = wire::BlockHash(genesis);

    m_others.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t j = 0; j < n; ++j) {
            if (j != i) m_others[i].push_back(j);
        }
    }
    m_link_last.assign(static_cast<size_t>(n) * n, 0);

    std::vector<uint32_t> byz = ByzantineIndices(m_s.seed, n, m_s.byzantine);
    Rng pick(SeedHash("behaviour", m_s.seed));
    for (uint32_t i = 0; i < n; ++i) {
        auto node = std::make_unique<Node>();
        node->index = i;
        node->key = std::move(keys[i]);
        m_nodes.push_back(std::move(node));
    }
    for (size_t k = 0; k < byz.size(); ++k) {
        Node& node = *m_nodes[byz[k]];
        node.byzantine = true;
        node.behaviour = m_s.behaviours.empty()
                             ? kAllBehaviours[pick.Below(std::size(kAllBehaviours))]
                             : m_s.behaviours[k % m_s.behaviours.size()];
        node.strategy = MakeStrategy(node.behaviour, node.index, *node.key);
        node.net = std::make_unique<NodeNet>(*this, node.index);
        m_r.byzantine_members.push_back({node.index, node.behaviour});
    }
    for (auto& node : m_nodes) {
        size_t copies = node->strategy ? node->strategy->Copies() : 1;
        node->copies.resize(copies);
        const auto& others = m_others[node->index];
        if (copies == 2) {
            // Twins: each copy talks to half of the others.
            size_t mid = others.size() / 2;
            node->copies[0].reach.assign(others.begin(),
                                         others.begin() + static_cast<ptrdiff_t>(mid));
            node->copies[1].reach.assign(others.begin() + static_cast<ptrdiff_t>(mid),
                                         others.end());
        } else {
            for (auto& c : node->copies) c.reach = others;
        }
    }
    for (const auto& c : m_s.crashes) {
        if (!c.end_ms) m_nodes[c.node]->permanently_down = true;
    }
    return {};
}

std::vector<uint32_t> ByzantineIndicesImpl(uint64_t seed, uint32_t n, uint32_t byzantine) {
    std::vector<uint32_t> idx(n);
    for (uint32_t i = 0; i < n; ++i) idx[i] = i;
    Rng r(SeedHash("byzantine", seed));
    uint32_t k = std::min(byzantine, n);
    for (uint32_t i = 0; i < k; ++i) {
        uint32_t j = i + static_cast<uint32_t>(r.Below(n - i));
        std::swap(idx[i], idx[j]);
    }
    idx.resize(k);
    std::sort(idx.begin(), idx.end());
    return idx;
}

void Simulation::Schedule(uint64_t at, Payload payload) {
    m_queue.push_back(Event{at, m_seq++, std::move(payload)});
    std::push_heap(m_queue.begin(), m_queue.end(), Later);
}

wire::Hash Simulation::TipHash(const Copy& copy) const {
    return copy.chain.empty() ? m_genesis_hash : wire::BlockHash(copy.chain.back().block.header);
}

HeightInfo Simulation::InfoFor(const Node& node, const Copy& copy) const {
    HeightInfo info;
    info.height = copy.chain.size() + 1;
    info.prev_hash = TipHash(copy);
    info.set = m_set;
    info.self = node.index;
    return info;
}

wire::Block Simulation::BuildBlock(uint64_t height, uint64_t view, uint32_t proposer,
                                   const wire::Hash& prev, uint64_t timestamp) {
    wire::Block b;
    b.header.height = height;
    b.header.prev_hash = prev;
    b.header.view = view;
    b.header.timestamp_ms = timestamp;
    b.header.proposer = proposer;
    b.header.tx_root = wire::TxRoot(b.txs);
    b.header.mnset_hash = m_mnset_hash;
    m_valid.insert(wire::BlockHash(b.header));
    return b;
}

bool Simulation::Connected(uint32_t a, uint32_t b, uint64_t t) const {
    for (const auto& p : m_s.partitions) {
        if (t < p.start_ms || t >= p.end_ms) continue;
        int ga = -1, gb = -1;
        for (size_t g = 0; g < p.groups.size(); ++g) {
            for (uint32_t i : p.groups[g]) {
                if (i == a) ga = static_cast<int>(g);
                if (i == b) gb = static_cast<int>(g);
            }
        }
        if (ga < 0 || gb < 0 || ga != gb) return false;
    }
    return true;
}

uint64_t Simulation::Delay(uint32_t from, uint32_t to) {
    if (m_s.reorder) return m_now + 1 + m_rng.Below(100);
    uint64_t& last = m_link_last[static_cast<size_t>(from) * m_s.nodes + to];
    uint64_t at = std::max(m_now + 1 + m_rng.Below(10), last);
    last = at;
    return at;
}

void Simulation::NetSend(uint32_t from, uint32_t to, util::Bytes bytes) {
    m_r.sent++;
    if (!Connected(from, to, m_now) || m_rng.Chance(m_s.loss)) {
        m_r.lost++;
        return;
    }
    if (m_rng.Chance(m_s.duplicate)) {
        m_r.sent++;
        Schedule(Delay(from, to), DeliverEv{from, to, bytes});
    }
    Schedule(Delay(from, to), DeliverEv{from, to, std::move(bytes)});
}

uint8_t Simulation::Route(const Node& node, uint32_t from) const {
    for (size_t c = 0; c < node.copies.size(); ++c) {
        const auto& reach = node.copies[c].reach;
        if (std::find(reach.begin(), reach.end(), from) != reach.end())
            return static_cast<uint8_t>(c);
    }
    return 0;
}

bool Simulation::Live(const Node& node, uint8_t c, uint64_t epoch) const {
    return node.up && c < node.copies.size() && node.copies[c].replica &&
           node.copies[c].epoch == epoch;
}

// One delivered input into the trace hash: time, kind (0 start, 1 message,
// 2 timer, 3 proposal, 4 validation, 5 commit done, 6 restart), member, copy,
// a number (sender, timer id, height, validity) and the bytes it carried.
void Simulation::Trace(uint8_t kind, const Node& node, uint8_t c, uint64_t a,
                       util::ByteView bytes) {
    util::Bytes head;
    util::AppendBe64(head, m_now);
    head.push_back(kind);
    util::AppendBe32(head, node.index);
    head.push_back(c);
    util::AppendBe64(head, a);
    util::AppendBe64(head, bytes.size());
    m_trace.Update(head);
    m_trace.Update(bytes);
}

void Simulation::Violate(std::string kind, uint64_t height, std::vector<uint32_t> replicas,
                         std::string detail) {
    std::sort(replicas.begin(), replicas.end());
    std::string key = kind + "/" + std::to_string(height);
    for (uint32_t r : replicas) key += "/" + std::to_string(r);
    if (!m_violation_keys.insert(key).second) return;
    m_r.violation_count++;
    if (m_r.violations.size() < kMaxListed) {
        m_r.violations.push_back({std::move(kind), height, std::move(replicas), std::move(detail)});
    }
}

void Simulation::StartCopy(Node& node, uint8_t c) {
    Copy& copy = node.copies[c];
    copy.replica = std::make_unique<Replica>(m_config, *node.key);
    copy.replica->Restore(copy.records);
    HeightInfo info = InfoFor(node, copy);
    Trace(0, node, c, info.height, {});
    auto actions = copy.replica->Start(info);
    CheckMemory(node, c);
    uint64_t epoch = copy.epoch;
    Carry(node, c, std::move(actions));
    if (Live(node, c, epoch) && copy.chain.size() < m_s.heights) Step(node, c, WorkPending{});
}

// TC_SIM_TRACE=NODE prints that member's inputs and actions to stderr (a
// debugging aid; it changes nothing in the run).
std::string InputName(const Input& input) {
    if (const auto* m = std::get_if<MessageReceived>(&input)) {
        auto msg = wire::DecodePbftMessage(m->bytes);
        if (!msg) return "message(garbage) from " + std::to_string(m->peer);
        return std::string("message ") + wire::MessageKindName(*msg) + " h" +
               std::to_string(wire::MessageHeight(*msg)) + " v" +
               std::to_string(wire::MessageView(*msg)) + " from " + std::to_string(m->peer);
    }
    if (const auto* t = std::get_if<TimerFired>(&input)) return "timer " + std::to_string(t->id);
    if (const auto* v = std::get_if<BlockValidated>(&input)) {
        return std::string("validated ") + (v->valid ? "valid" : "INVALID");
    }
    if (std::holds_alternative<ProposalReady>(input)) return "proposal ready";
    if (std::holds_alternative<WorkPending>(input)) return "work pending";
    return "height committed";
}

std::string ActionName(const Action& action) {
    auto kind = [](const util::Bytes& b) -> std::string {
        auto msg = wire::DecodePbftMessage(b);
        if (!msg) return "?";
        return std::string(wire::MessageKindName(*msg)) + " h" +
               std::to_string(wire::MessageHeight(*msg)) + " v" +
               std::to_string(wire::MessageView(*msg));
    };
    return std::visit(
        [&](const auto& a) -> std::string {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, Persist>) {
                return "persist phase " + std::to_string(static_cast<int>(a.record.phase)) + " v" +
                       std::to_string(a.record.view);
            } else if constexpr (std::is_same_v<T, Broadcast>) {
                return "broadcast " + kind(a.bytes);
            } else if constexpr (std::is_same_v<T, SendTo>) {
                return "send " + kind(a.bytes) + " to " + std::to_string(a.peer);
            } else if constexpr (std::is_same_v<T, ProposeBlock>) {
                return "propose v" + std::to_string(a.view);
            } else if constexpr (std::is_same_v<T, ValidateBlock>) {
                return "validate";
            } else if constexpr (std::is_same_v<T, Commit>) {
                return "commit h" + std::to_string(a.block.header.height);
            } else if constexpr (std::is_same_v<T, SetTimer>) {
                return "set timer " + std::to_string(a.id) + " +" + std::to_string(a.delay_ms);
            } else if constexpr (std::is_same_v<T, CancelTimer>) {
                return "cancel timer " + std::to_string(a.id);
            } else if constexpr (std::is_same_v<T, SendDecided>) {
                return "send decided h" + std::to_string(a.height) + " to " +
                       std::to_string(a.peer);
            } else if constexpr (std::is_same_v<T, CatchUp>) {
                return "catch up from " + std::to_string(a.peer);
            } else {
                return "evidence";
            }
        },
        action);
}

void Simulation::Step(Node& node, uint8_t c, const Input& input) {
    if (!node.up || c >= node.copies.size() || !node.copies[c].replica) return;
    auto actions = node.copies[c].replica->Step(input);
    if (m_trace_node && *m_trace_node == node.index) {
        std::string line =
            std::to_string(m_now) + " [" + std::to_string(node.index) + "." + std::to_string(c) +
            " h" + std::to_string(node.copies[c].replica->height()) + " v" +
            std::to_string(node.copies[c].replica->view()) + "] " + InputName(input) + " ->";
        for (const auto& a : actions) line += " | " + ActionName(a);
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    CheckMemory(node, c);
    Carry(node, c, std::move(actions));
}

void Simulation::CheckMemory(Node& node, uint8_t c) {
    const Stats& s = node.copies[c].replica->stats();
    if (s.buffered > s.max_buffered) {
        Violate("memory", s.height, {node.index},
                "buffered " + std::to_string(s.buffered) + " > " + std::to_string(s.max_buffered));
    }
    if (s.votes_held > s.max_votes_held) {
        Violate("memory", s.height, {node.index},
                "votes_held " + std::to_string(s.votes_held) + " > " +
                    std::to_string(s.max_votes_held));
    }
}

void Simulation::Carry(Node& node, uint8_t c, std::vector<Action> actions) {
    const uint64_t epoch = node.copies[c].epoch;
    for (auto& action : actions) {
        if (!Live(node, c, epoch)) return;  // crashed mid-list
        Copy& copy = node.copies[c];
        if (auto* p = std::get_if<Persist>(&action)) {
            copy.records.push_back(p->record);
            // The vote is durable but not sent: the durability contract
            // allows a crash here.
            if (node.crash_armed) {
                CrashNode(node);
                return;
            }
        } else if (auto* b = std::get_if<Broadcast>(&action)) {
            Send(node, c, std::nullopt, b->bytes);
        } else if (auto* s = std::get_if<SendTo>(&action)) {
            Send(node, c, s->peer, s->bytes);
        } else if (auto* pb = std::get_if<ProposeBlock>(&action)) {
            wire::Block block =
                BuildBlock(pb->height, pb->view, pb->proposer, TipHash(copy), m_now + c);
            Schedule(m_now + 2 + m_rng.Below(4),
                     ProposalEv{node.index, c, epoch, std::move(block)});
        } else if (auto* vb = std::get_if<ValidateBlock>(&action)) {
            Schedule(m_now + 1 + m_rng.Below(4),
                     ValidateEv{node.index, c, epoch, vb->height, vb->digest, vb->block});
        } else if (auto* cm = std::get_if<Commit>(&action)) {
            OnCommit(node, c, *cm);
            Schedule(m_now + 1, CommittedEv{node.index, c, epoch});
        } else if (auto* st = std::get_if<SetTimer>(&action)) {
            uint64_t gen = ++copy.timer_gen;
            copy.timers[st->id] = gen;
            Schedule(m_now + st->delay_ms, TimerEv{node.index, c, epoch, st->id, gen});
        } else if (auto* ct = std::get_if<CancelTimer>(&action)) {
            copy.timers.erase(ct->id);
        } else if (auto* sd = std::get_if<SendDecided>(&action)) {
            if (sd->height >= 1 && sd->height <= copy.chain.size() && sd->peer < m_s.nodes &&
                sd->peer != node.index) {
                NetSend(node.index, sd->peer,
                        wire::Encode(wire::PbftMessage{copy.chain[sd->height - 1]}));
            } else if (!node.byzantine) {
                Violate("driver", sd->height, {node.index},
                        "SendDecided for a height it has not committed, or to peer " +
                            std::to_string(sd->peer));
            }
        } else if (auto* cu = std::get_if<CatchUp>(&action)) {
            if (cu->peer < m_s.nodes && cu->peer != node.index) {
                m_r.sent++;
                if (!Connected(node.index, cu->peer, m_now) || m_rng.Chance(m_s.loss)) {
                    m_r.lost++;
                } else {
                    Schedule(Delay(node.index, cu->peer),
                             CatchUpEv{node.index, cu->peer, copy.chain.size()});
                }
            }
        } else if (auto* ev = std::get_if<Evidence>(&action)) {
            if (!node.byzantine) {
                m_r.evidence++;
                CheckEvidence(node, *ev);
            }
        }
    }
}

void Simulation::Send(Node& node, uint8_t c, std::optional<uint32_t> to, const util::Bytes& bytes) {
    if (node.strategy && node.strategy->Outgoing(*node.net, to, bytes)) return;
    if (!node.byzantine) Observe(node, bytes);
    if (to) {
        if (*to < m_s.nodes && *to != node.index) {
            NetSend(node.index, *to, bytes);
        } else if (!node.byzantine) {
            Violate("driver", 0, {node.index}, "SendTo peer " + std::to_string(*to));
        }
        return;
    }
    for (uint32_t peer : node.copies[c].reach) NetSend(node.index, peer, bytes);
}

// A correct replica's messages, as sent: never two digests for one (height,
// view, phase), never a new vote in a view below one it asked to move to.
void Simulation::Observe(Node& node, const util::Bytes& bytes) {
    auto decoded = wire::DecodePbftMessage(bytes);
    if (!decoded) {
        Violate("malformed", 0, {node.index},
                "a correct replica sent bytes that do not decode: " + decoded.error().message);
        return;
    }
    const wire::PbftMessage& msg = *decoded;
    auto said = [&](uint64_t h, uint64_t v, wire::SignedPhase phase, const wire::Hash& d) {
        auto key = std::make_tuple(h, v, static_cast<uint8_t>(phase));
        auto [it, fresh] = node.said.emplace(key, d);
        if (!fresh && it->second != d) {
            Violate("contradiction", h, {node.index},
                    std::string("two digests for (height ") + std::to_string(h) + ", view " +
                        std::to_string(v) + ", phase " + std::to_string(static_cast<int>(phase)) +
                        "): " + util::ToHex(it->second).substr(0, 16) + " and " +
                        util::ToHex(d).substr(0, 16));
        }
    };
    if (const auto* pp = std::get_if<wire::PrePrepare>(&msg)) {
        if (pp->replica == node.index) {
            said(pp->height, pp->view, wire::SignedPhase::kPrePrepare,
                 wire::BlockHash(pp->block.header));
        }
    } else if (const auto* v = std::get_if<wire::Vote>(&msg)) {
        if (v->replica != node.index) return;
        auto phase = static_cast<wire::SignedPhase>(v->phase);
        auto key = std::make_tuple(v->height, v->view, static_cast<uint8_t>(phase), v->digest);
        if (node.votes.insert(key).second) {
            auto vc = node.view_change_max.find(v->height);
            if (vc != node.view_change_max.end() && v->view < vc->second) {
                Violate("contradiction", v->height, {node.index},
                        std::string(phase == wire::SignedPhase::kPrepare ? "prepare" : "commit") +
                            " in view " + std::to_string(v->view) +
                            " after a view change to view " + std::to_string(vc->second));
            }
        }
        said(v->height, v->view, phase, v->digest);
    } else if (const auto* vc = std::get_if<wire::ViewChange>(&msg)) {
        if (vc->replica != node.index) return;
        said(vc->height, vc->new_view, wire::SignedPhase::kViewChange, wire::ViewChangeDigest(*vc));
        uint64_t& max = node.view_change_max[vc->height];
        max = std::max(max, vc->new_view);
    } else if (const auto* nv = std::get_if<wire::NewView>(&msg)) {
        if (nv->replica != node.index) return;
        said(nv->height, nv->view, wire::SignedPhase::kNewView, wire::NewViewDigest(*nv));
        if (nv->proposal.replica == node.index) {
            said(nv->height, nv->view, wire::SignedPhase::kPrePrepare,
                 wire::BlockHash(nv->proposal.block.header));
        }
    }
}

void Simulation::CheckEvidence(Node& node, const Evidence& e) {
    auto a = wire::DecodePbftMessage(e.first);
    auto b = wire::DecodePbftMessage(e.second);
    if (!a || !b) {
        Violate("evidence", 0, {node.index}, "evidence that does not decode");
        return;
    }
    auto fa = SignedFields(*a);
    auto fb = SignedFields(*b);
    if (!fa || !fb || fa->replica != fb->replica || fa->phase != fb->phase ||
        fa->height != fb->height || fa->view != fb->view || fa->digest == fb->digest ||
        fa->replica >= m_set.size()) {
        Violate("evidence", fa ? fa->height : 0, {node.index},
                "evidence that is not two digests of one replica for one (height, view, phase)");
        return;
    }
    for (const auto* f : {&*fa, &*fb}) {
        auto msg = crypto::VoteSigningMessage(m_config.chain_id, static_cast<uint8_t>(f->phase),
                                              f->height, f->view, f->digest);
        if (!crypto::Verify(m_set[f->replica], msg, f->signature)) {
            Violate("evidence", f->height, {node.index}, "evidence with a bad signature");
            return;
        }
    }
    if (!m_nodes[fa->replica]->byzantine) {
        Violate("contradiction", fa->height, {fa->replica},
                "evidence against a correct replica, reported by " + std::to_string(node.index));
    }
}

void Simulation::OnCommit(Node& node, uint8_t c, const Commit& commit) {
    Copy& copy = node.copies[c];
    const auto& header = commit.block.header;
    uint64_t h = header.height;
    wire::Hash hash = wire::BlockHash(header);
    if (h >= 1 && h <= copy.chain.size()) {
        if (wire::BlockHash(copy.chain[h - 1].block.header) != hash && !node.byzantine) {
            Violate("agreement", h, {node.index}, "committed a second, different block");
        }
        return;
    }
    if (h != copy.chain.size() + 1) {
        if (!node.byzantine) {
            Violate("driver", h, {node.index},
                    "Commit of height " + std::to_string(h) + " on a chain of height " +
                        std::to_string(copy.chain.size()));
        }
        return;
    }
    if (!node.byzantine) {
        if (!m_valid.count(hash) || header.prev_hash != TipHash(copy)) {
            Violate("validity", h, {node.index},
                    m_valid.count(hash) ? "the block does not extend the replica's chain"
                                        : "the block was never a valid proposal");
        }
        crypto::Hasher256 ch;
        ch.Update(wire::Encode(commit.cert));
        ch.Update(hash);
        wire::Hash cert_key = ch.Final();
        if (!m_good_certs.count(cert_key)) {
            auto ok = consensus::VerifyCertificate(commit.cert, m_set, m_config.chain_id, h, hash);
            if (ok) {
                m_good_certs.insert(cert_key);
            } else {
                Violate("certificate", h, {node.index}, ok.error().message);
            }
        }
        auto [it, fresh] = m_decided.emplace(h, std::make_pair(hash, node.index));
        if (!fresh && it->second.first != hash) {
            Violate("agreement", h, {it->second.second, node.index},
                    "blocks " + util::ToHex(it->second.first).substr(0, 16) + " and " +
                        util::ToHex(hash).substr(0, 16));
        }
    }
    copy.chain.push_back(wire::Decided{commit.block, commit.cert});
}

void Simulation::CrashNode(Node& node) {
    node.up = false;
    node.crash_armed = false;
    for (auto& copy : node.copies) {
        if (copy.replica) {
            copy.past_view_changes += copy.replica->stats().view_changes;
            AddRejected(copy.past_rejected, copy.replica->stats());
        }
        copy.replica.reset();
        copy.epoch++;
        copy.timers.clear();
    }
}

void Simulation::RestartNode(Node& node) {
    node.up = true;
    for (size_t c = 0; c < node.copies.size(); ++c) {
        if (!node.up) return;
        StartCopy(node, static_cast<uint8_t>(c));
    }
}

bool Simulation::Done() const {
    for (const auto& node : m_nodes) {
        if (node->byzantine || node->permanently_down) continue;
        if (node->copies[0].chain.size() < m_s.heights) return false;
    }
    return true;
}

void Simulation::Dispatch(Payload& payload) {
    if (auto* d = std::get_if<DeliverEv>(&payload)) {
        Node& node = *m_nodes[d->to];
        if (!node.up || !Connected(d->from, d->to, m_now)) {
            m_r.lost++;
            return;
        }
        if (node.strategy) node.strategy->Incoming(*node.net, d->from, d->bytes);
        if (node.copies.empty()) return;
        uint8_t c = Route(node, d->from);
        m_r.messages++;
        Trace(1, node, c, d->from, d->bytes);
        Step(node, c, MessageReceived{d->from, std::move(d->bytes)});
    } else if (auto* t = std::get_if<TimerEv>(&payload)) {
        Node& node = *m_nodes[t->node];
        if (!Live(node, t->copy, t->epoch)) return;
        auto it = node.copies[t->copy].timers.find(t->id);
        if (it == node.copies[t->copy].timers.end() || it->second != t->gen) return;
        node.copies[t->copy].timers.erase(it);
        Trace(2, node, t->copy, t->id, {});
        Step(node, t->copy, TimerFired{t->id});
    } else if (auto* p = std::get_if<ProposalEv>(&payload)) {
        Node& node = *m_nodes[p->node];
        if (!Live(node, p->copy, p->epoch)) return;
        Trace(3, node, p->copy, 0, wire::BlockHash(p->block.header));
        Step(node, p->copy, ProposalReady{std::move(p->block)});
    } else if (auto* v = std::get_if<ValidateEv>(&payload)) {
        Node& node = *m_nodes[v->node];
        if (!Live(node, v->copy, v->epoch)) return;
        const Copy& copy = node.copies[v->copy];
        const auto& h = v->block.header;
        bool valid = m_valid.count(v->digest) && wire::BlockHash(h) == v->digest &&
                     h.height == v->height && v->height == copy.chain.size() + 1 &&
                     h.prev_hash == TipHash(copy) && h.mnset_hash == m_mnset_hash &&
                     h.tx_root == wire::TxRoot(v->block.txs);
        Trace(4, node, v->copy, valid, v->digest);
        Step(node, v->copy, BlockValidated{v->height, v->digest, valid});
    } else if (auto* cm = std::get_if<CommittedEv>(&payload)) {
        Node& node = *m_nodes[cm->node];
        if (!Live(node, cm->copy, cm->epoch)) return;
        HeightInfo info = InfoFor(node, node.copies[cm->copy]);
        Trace(5, node, cm->copy, info.height, {});
        Step(node, cm->copy, HeightCommitted{info});
        if (info.height <= m_s.heights && Live(node, cm->copy, cm->epoch)) {
            Step(node, cm->copy, WorkPending{});
        }
    } else if (auto* cu = std::get_if<CatchUpEv>(&payload)) {
        Node& peer = *m_nodes[cu->peer];
        if (!peer.up || peer.copies.empty() || !Connected(cu->asker, cu->peer, m_now)) {
            m_r.lost++;
            return;
        }
        const Copy& copy = peer.copies[Route(peer, cu->asker)];
        uint64_t last = std::min<uint64_t>(copy.chain.size(), cu->have + 16);
        for (uint64_t h = cu->have + 1; h <= last; ++h) {
            NetSend(cu->peer, cu->asker, wire::Encode(wire::PbftMessage{copy.chain[h - 1]}));
        }
    } else if (auto* cs = std::get_if<CrashStartEv>(&payload)) {
        Node& node = *m_nodes[m_s.crashes[cs->crash].node];
        if (!node.up || node.crash_armed) return;
        if (m_rng.Chance(0.5) && !node.copies.empty()) {
            node.crash_armed = true;
            Schedule(m_now + 200, CrashNowEv{node.index, ++node.crash_token});
        } else {
            CrashNode(node);
        }
    } else if (auto* ce = std::get_if<CrashEndEv>(&payload)) {
        Node& node = *m_nodes[m_s.crashes[ce->crash].node];
        if (node.crash_armed) CrashNode(node);
        if (!node.up) {
            Trace(6, node, 0, 0, {});
            RestartNode(node);
        }
    } else if (auto* cn = std::get_if<CrashNowEv>(&payload)) {
        Node& node = *m_nodes[cn->node];
        if (node.crash_armed && cn->token == node.crash_token) CrashNode(node);
    } else if (auto* tk = std::get_if<TickEv>(&payload)) {
        Node& node = *m_nodes[tk->node];
        if (node.up) node.strategy->Tick(*node.net);
        Schedule(m_now + node.strategy->TickMs(), TickEv{tk->node});
    }
}

util::Result<RunResult> Simulation::Run() {
    TC_CHECK(Setup());
    m_r.scenario = m_s;
    m_r.command = CommandLine(m_s);

    const uint64_t f = m_quorum.f;
    uint64_t gst = 0;
    uint64_t down_for_good = 0;
    for (const auto& p : m_s.partitions) gst = std::max(gst, p.end_ms);
    for (const auto& c : m_s.crashes) gst = std::max(gst, c.end_ms.value_or(c.start_ms));
    for (const auto& node : m_nodes) {
        if (node->permanently_down && !node->byzantine) down_for_good++;
    }
    uint64_t t_max = std::max(m_s.base_timeout_ms, m_s.max_timeout_ms);
    uint64_t max_delay = m_s.reorder ? 100 : 10;
    uint64_t per_height = (f + 2) * (t_max + m_s.resend_ms + 2 * max_delay);
    m_r.liveness_bound_ms = gst + m_s.heights * per_height;
    m_r.liveness_checked = m_s.byzantine + down_for_good <= f;

    for (size_t i = 0; i < m_s.crashes.size(); ++i) {
        Schedule(m_s.crashes[i].start_ms, CrashStartEv{i});
        if (m_s.crashes[i].end_ms) Schedule(*m_s.crashes[i].end_ms, CrashEndEv{i});
    }
    for (const auto& node : m_nodes) {
        if (node->strategy && node->strategy->TickMs() > 0) {
            Schedule(node->strategy->TickMs(), TickEv{node->index});
        }
    }
    for (auto& node : m_nodes) {
        for (size_t c = 0; c < node->copies.size(); ++c) {
            StartCopy(*node, static_cast<uint8_t>(c));
        }
    }

    while (!m_queue.empty() && !Done()) {
        std::pop_heap(m_queue.begin(), m_queue.end(), Later);
        Event ev = std::move(m_queue.back());
        m_queue.pop_back();
        if (ev.time > m_r.liveness_bound_ms) break;
        if (++m_r.events > m_s.max_events) {
            m_r.stopped = true;
            break;
        }
        m_now = ev.time;
        Dispatch(ev.payload);
    }
    m_r.virtual_ms = m_now;

    uint64_t lowest = UINT64_MAX;
    std::vector<uint32_t> behind;
    std::string heights;
    for (const auto& node : m_nodes) {
        if (node->byzantine) continue;
        for (const auto& copy : node->copies) {
            m_r.view_changes +=
                copy.past_view_changes + (copy.replica ? copy.replica->stats().view_changes : 0);
            PeerStats& sum = m_r.rejected;
            sum.malformed += copy.past_rejected.malformed;
            sum.bad_signature += copy.past_rejected.bad_signature;
            sum.non_member += copy.past_rejected.non_member;
            sum.invalid += copy.past_rejected.invalid;
            sum.dropped += copy.past_rejected.dropped;
            sum.stale += copy.past_rejected.stale;
            if (copy.replica) AddRejected(sum, copy.replica->stats());
        }
        if (node->permanently_down) continue;
        uint64_t h = node->copies[0].chain.size();
        lowest = std::min(lowest, h);
        if (h < m_s.heights) {
            behind.push_back(node->index);
            heights += (heights.empty() ? "" : ", ") + std::to_string(node->index) + " at " +
                       std::to_string(h);
        }
    }
    m_r.committed_height = lowest == UINT64_MAX ? 0 : lowest;
    for (const auto& node : m_nodes) {
        for (size_t c = 0; c < node->copies.size(); ++c) {
            const Copy& copy = node->copies[c];
            ReplicaEnd e;
            e.index = node->index;
            e.copy = static_cast<uint32_t>(c);
            e.byzantine = node->byzantine;
            e.up = node->up && copy.replica;
            e.chain_height = copy.chain.size();
            e.view = copy.replica ? copy.replica->view() : 0;
            e.view_changes =
                copy.past_view_changes + (copy.replica ? copy.replica->stats().view_changes : 0);
            m_r.replicas.push_back(e);
        }
    }
    if (m_r.liveness_checked && !behind.empty()) {
        std::string why =
            m_r.stopped ? "the event budget ran out"
            : m_queue.empty()
                ? "nothing left to happen"
                : "the bound of " + std::to_string(m_r.liveness_bound_ms) + " virtual ms passed";
        Violate("liveness", m_r.committed_height + 1, behind,
                "replicas " + heights + " of " + std::to_string(m_s.heights) + ": " + why);
    }
    m_r.trace_hash = util::ToHex(m_trace.Final());
    return std::move(m_r);
}

// ---- the fault grammar -------------------------------------------------------

util::Result<uint64_t> ParseNumber(std::string_view text, std::string_view what) {
    uint64_t v = 0;
    if (text.empty()) return MakeError(Errc::kUsage, std::string(what) + ": empty number");
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
        return MakeError(Errc::kUsage,
                         std::string(what) + ": \"" + std::string(text) + "\" is not a number");
    }
    return v;
}

util::Result<std::pair<uint64_t, std::optional<uint64_t>>> ParseRange(std::string_view text,
                                                                      std::string_view what,
                                                                      bool end_required) {
    size_t dash = text.find('-');
    if (dash == std::string_view::npos) {
        if (end_required)
            return MakeError(Errc::kUsage, std::string(what) + ": expected START-END");
        TC_TRY(start, ParseNumber(text, what));
        return std::make_pair(start, std::optional<uint64_t>{});
    }
    TC_TRY(start, ParseNumber(text.substr(0, dash), what));
    TC_TRY(end, ParseNumber(text.substr(dash + 1), what));
    if (end <= start) return MakeError(Errc::kUsage, std::string(what) + ": END must exceed START");
    return std::make_pair(start, std::optional<uint64_t>{end});
}

}  // namespace

std::vector<uint32_t> ByzantineIndices(uint64_t seed, uint32_t nodes, uint32_t byzantine) {
    return ByzantineIndicesImpl(seed, nodes, byzantine);
}

util::Result<RunResult> Simulate(const Scenario& scenario) {
    Simulation sim(scenario);
    return sim.Run();
}

util::Result<Partition> ParsePartition(std::string_view text) {
    std::string what = "--partition " + std::string(text);
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return MakeError(Errc::kUsage, what + ": expected START-END:GROUP|GROUP");
    }
    TC_TRY(range, ParseRange(text.substr(0, colon), what, true));
    Partition p;
    p.start_ms = range.first;
    p.end_ms = *range.second;
    std::set<uint32_t> seen;
    std::string_view rest = text.substr(colon + 1);
    while (true) {
        size_t bar = rest.find('|');
        std::string_view group = rest.substr(0, bar);
        std::vector<uint32_t> nodes;
        while (true) {
            size_t comma = group.find(',');
            TC_TRY(node, ParseNumber(group.substr(0, comma), what));
            if (node > UINT32_MAX || !seen.insert(static_cast<uint32_t>(node)).second) {
                return MakeError(Errc::kUsage, what + ": node " + std::to_string(node) +
                                                   " named twice or too large");
            }
            nodes.push_back(static_cast<uint32_t>(node));
            if (comma == std::string_view::npos) break;
            group = group.substr(comma + 1);
        }
        p.groups.push_back(std::move(nodes));
        if (bar == std::string_view::npos) break;
        rest = rest.substr(bar + 1);
    }
    return p;
}

util::Result<Crash> ParseCrash(std::string_view text) {
    std::string what = "--crash " + std::string(text);
    size_t at = text.find('@');
    if (at == std::string_view::npos)
        return MakeError(Errc::kUsage, what + ": expected NODE@START-END");
    TC_TRY(node, ParseNumber(text.substr(0, at), what));
    if (node > UINT32_MAX) return MakeError(Errc::kUsage, what + ": node too large");
    TC_TRY(range, ParseRange(text.substr(at + 1), what, false));
    return Crash{static_cast<uint32_t>(node), range.first, range.second};
}

std::string FormatPartition(const Partition& p) {
    std::string s = std::to_string(p.start_ms) + "-" + std::to_string(p.end_ms) + ":";
    for (size_t g = 0; g < p.groups.size(); ++g) {
        if (g) s += "|";
        for (size_t i = 0; i < p.groups[g].size(); ++i) {
            if (i) s += ",";
            s += std::to_string(p.groups[g][i]);
        }
    }
    return s;
}

std::string FormatCrash(const Crash& c) {
    std::string s = std::to_string(c.node) + "@" + std::to_string(c.start_ms);
    if (c.end_ms) s += "-" + std::to_string(*c.end_ms);
    return s;
}

std::string CommandLine(const Scenario& s) {
    std::string cmd = "tc-pbft simulate --nodes " + std::to_string(s.nodes) + " --byzantine " +
                      std::to_string(s.byzantine) + " --seed " + std::to_string(s.seed) +
                      " --heights " + std::to_string(s.heights);
    if (s.loss > 0) cmd += " --loss " + FormatDouble(s.loss);
    if (s.duplicate > 0) cmd += " --duplicate " + FormatDouble(s.duplicate);
    if (s.reorder) cmd += " --reorder";
    for (const auto& p : s.partitions) cmd += " --partition '" + FormatPartition(p) + "'";
    for (const auto& c : s.crashes) cmd += " --crash " + FormatCrash(c);
    if (!s.behaviours.empty()) {
        cmd += " --behaviour ";
        for (size_t i = 0; i < s.behaviours.size(); ++i) {
            if (i) cmd += ",";
            cmd += BehaviourName(s.behaviours[i]);
        }
    }
    Scenario defaults;
    if (s.base_timeout_ms != defaults.base_timeout_ms) {
        cmd += " --base-timeout-ms " + std::to_string(s.base_timeout_ms);
    }
    if (s.max_timeout_ms != defaults.max_timeout_ms) {
        cmd += " --max-timeout-ms " + std::to_string(s.max_timeout_ms);
    }
    if (s.resend_ms != defaults.resend_ms) cmd += " --resend-ms " + std::to_string(s.resend_ms);
    if (s.max_events != defaults.max_events) {
        cmd += " --max-events " + std::to_string(s.max_events);
    }
    return cmd + " --json";
}

Scenario Mix(uint64_t seed, const MixBase& base) {
    static constexpr uint32_t kSizes[] = {1, 4, 7, 10};
    Rng r(SeedHash("mix", seed));
    Scenario s;
    s.seed = seed;
    s.heights = base.heights;
    s.planted = base.planted;
    s.nodes = base.nodes ? *base.nodes : kSizes[r.Below(4)];
    uint32_t f = static_cast<uint32_t>(consensus::QuorumFor(s.nodes).f);
    s.byzantine =
        base.byzantine ? std::min(*base.byzantine, s.nodes) : static_cast<uint32_t>(r.Below(f + 1));
    if (r.Chance(0.5)) s.loss = static_cast<double>(1 + r.Below(100)) / 1000.0;
    if (r.Chance(0.4)) s.duplicate = static_cast<double>(1 + r.Below(200)) / 1000.0;
    s.reorder = r.Chance(0.4);
    if (s.nodes > 1 && r.Chance(0.35)) {
        Partition p;
        p.start_ms = r.Below(3000);
        p.end_ms = p.start_ms + 200 + r.Below(4000);
        p.groups.resize(2);
        for (uint32_t i = 0; i < s.nodes; ++i) p.groups[r.Below(2)].push_back(i);
        if (p.groups[0].empty()) std::swap(p.groups[0], p.groups[1]);
        if (p.groups[1].empty()) {
            p.groups[1].push_back(p.groups[0].back());
            p.groups[0].pop_back();
        }
        s.partitions.push_back(std::move(p));
    }
    // Crashes of correct members; they all restart, so even past the budget
    // they only delay liveness (which is checked after the last restart).
    std::vector<uint32_t> byz = ByzantineIndices(seed, s.nodes, s.byzantine);
    std::vector<uint32_t> correct;
    for (uint32_t i = 0; i < s.nodes; ++i) {
        if (!std::binary_search(byz.begin(), byz.end(), i)) correct.push_back(i);
    }
    uint64_t budget = std::max<uint64_t>(f > s.byzantine ? f - s.byzantine : 0, 1);
    uint64_t crashes = r.Chance(0.4) ? 1 + r.Below(std::min<uint64_t>(budget, correct.size())) : 0;
    for (uint64_t k = 0; k < crashes && !correct.empty(); ++k) {
        size_t at = r.Below(correct.size());
        Crash c;
        c.node = correct[at];
        correct.erase(correct.begin() + static_cast<ptrdiff_t>(at));
        c.start_ms = r.Below(4000);
        c.end_ms = c.start_ms + 100 + r.Below(3000);
        s.crashes.push_back(c);
    }
    for (uint32_t k = 0; k < s.byzantine; ++k) {
        s.behaviours.push_back(kAllBehaviours[r.Below(std::size(kAllBehaviours))]);
    }
    return s;
}

}  // namespace tc::pbft::sim
