// A small synchronous driver of n PBFT replicas for unit tests and the core
// benchmark: messages are delivered in order, instantly, unless a test holds
// or drops them; timers fire only when a test fires them; every block is
// valid unless listed in m_invalid. The seeded byzantine simulator
// (tools/tc-pbft/simulator.h) covers the schedules this cannot.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include "consensus/certificate.h"
#include "replica.h"
#include "wire/codec.h"

namespace tc::pbft::test {

using wire::SignedPhase;

inline crypto::Hash256 ChainId() {
    crypto::Hash256 id{};
    id.fill(0x42);
    return id;
}

struct Envelope {
    uint32_t from = 0;
    uint32_t to = 0;
    util::Bytes bytes;
};

class Harness {
  public:
    explicit Harness(size_t n, Config config = {}) : m_config(config) {
        if (!crypto::InitSodium().ok()) throw std::runtime_error("libsodium failed");
        m_config.chain_id = ChainId();
        for (size_t i = 0; i < n; ++i) {
            util::Bytes seed(32, static_cast<uint8_t>(i + 1));
            m_keys.push_back(std::move(crypto::SecretKey::FromSeed(seed).value()));
        }
        std::sort(m_keys.begin(), m_keys.end(),
                  [](const auto& a, const auto& b) { return a.public_key() < b.public_key(); });
        for (const auto& k : m_keys) m_set.push_back(k.public_key());
        m_records.resize(n);
        m_chains.resize(n);
        m_certs.resize(n);
        m_evidence.resize(n);
        m_timers.resize(n);
        for (size_t i = 0; i < n; ++i) m_replicas.emplace_back();
    }

    // Starts every replica; set the hooks first.
    void StartAll() {
        for (size_t i = 0; i < n(); ++i) Boot(i);
    }

    size_t n() const { return m_keys.size(); }
    Replica& replica(size_t i) { return *m_replicas[i]; }
    const std::vector<wire::CommitCertificate>& certs(size_t i) const { return m_certs[i]; }
    const std::vector<wire::Block>& chain(size_t i) const { return m_chains[i]; }
    const std::vector<VoteRecord>& records(size_t i) const { return m_records[i]; }
    size_t evidence(size_t i) const { return m_evidence[i]; }
    const std::vector<crypto::PublicKey>& set() const { return m_set; }
    const crypto::SecretKey& key(size_t i) const { return m_keys[i]; }
    bool timer_set(size_t i, uint64_t id) const { return m_timers[i].count(id) > 0; }

    HeightInfo Info(size_t i) const {
        HeightInfo info;
        info.height = m_chains[i].size() + 1;
        info.prev_hash =
            m_chains[i].empty() ? wire::Hash{} : wire::BlockHash(m_chains[i].back().header);
        info.set = m_set;
        info.self = static_cast<uint32_t>(i);
        return info;
    }

    // (Re)creates replica i from its durable records, as after a crash.
    void Boot(size_t i) {
        m_replicas[i] = std::make_unique<Replica>(m_config, m_keys[i]);
        m_replicas[i]->Restore(m_records[i]);
        m_timers[i].clear();
        Apply(i, m_replicas[i]->Start(Info(i)));
    }

    void Step(size_t i, const Input& input) {
        m_steps++;
        Apply(i, m_replicas[i]->Step(input));
    }
    void Fire(size_t i, uint64_t id) { Step(i, TimerFired{id}); }
    void Deliver(uint32_t from, uint32_t to, util::Bytes bytes) {
        Step(to, MessageReceived{from, std::move(bytes)});
    }
    void WorkAll() {
        for (size_t i = 0; i < n(); ++i) Step(i, WorkPending{});
    }

    // Delivers queued messages until none is left (or `limit` deliveries).
    void Run(size_t limit = 1'000'000) {
        while (!m_queue.empty() && limit-- > 0) {
            Envelope e = std::move(m_queue.front());
            m_queue.pop_front();
            if (m_drop && m_drop(e)) continue;
            Deliver(e.from, e.to, std::move(e.bytes));
        }
    }

    std::function<bool(const Envelope&)> m_drop;  // true: the network loses it
    std::function<wire::Block(wire::Block)> m_propose_hook;
    std::set<wire::Hash> m_invalid;  // blocks the ledger refuses
    std::deque<Envelope> m_queue;
    std::vector<std::vector<wire::CommitCertificate>> m_certs;
    uint64_t m_clock = 1000;
    uint64_t m_max_height = 3;
    size_t m_votes_sent = 0;
    size_t m_unpersisted = 0;
    size_t m_undecodable = 0;
    uint64_t m_steps = 0;

  private:
    void Apply(size_t i, std::vector<Action> actions) {
        for (auto& action : actions) {
            std::visit([&](auto& a) { Do(i, a); }, action);
        }
    }
    void Do(size_t i, Persist& a) { m_records[i].push_back(a.record); }
    // Every vote of ours that goes out must already have its durable record.
    void CheckPersisted(size_t i, const util::Bytes& bytes) {
        auto msg = wire::DecodePbftMessage(bytes);
        if (!msg) {
            m_undecodable++;
            return;
        }
        std::optional<VoteRecord> want;
        if (auto* v = std::get_if<wire::Vote>(&*msg); v && v->replica == i) {
            auto phase = v->phase == wire::VotePhase::kPrepare ? SignedPhase::kPrepare
                                                               : SignedPhase::kCommit;
            want = VoteRecord{phase, v->height, v->view, v->digest, {}, {}};
        } else if (auto* pp = std::get_if<wire::PrePrepare>(&*msg); pp && pp->replica == i) {
            want = VoteRecord{SignedPhase::kPrePrepare,          pp->height, pp->view,
                              wire::BlockHash(pp->block.header), {},         {}};
        } else if (auto* vc = std::get_if<wire::ViewChange>(&*msg); vc && vc->replica == i) {
            want = VoteRecord{SignedPhase::kViewChange,    vc->height, vc->new_view,
                              wire::ViewChangeDigest(*vc), {},         {}};
        }
        if (!want) return;
        m_votes_sent++;
        bool found = std::any_of(m_records[i].begin(), m_records[i].end(), [&](const auto& r) {
            return r.phase == want->phase && r.height == want->height && r.view == want->view &&
                   r.digest == want->digest;
        });
        if (!found) m_unpersisted++;
    }
    void Do(size_t i, Broadcast& a) {
        CheckPersisted(i, a.bytes);
        for (size_t j = 0; j < n(); ++j) {
            if (j != i)
                m_queue.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j), a.bytes});
        }
    }
    void Do(size_t i, SendTo& a) { m_queue.push_back({static_cast<uint32_t>(i), a.peer, a.bytes}); }
    void Do(size_t i, ProposeBlock& a) {
        if (a.height > m_max_height) return;  // the pool is empty from here on
        wire::Block block;
        block.header.height = a.height;
        block.header.view = a.view;
        block.header.proposer = a.proposer;
        block.header.prev_hash = Info(i).prev_hash;
        block.header.timestamp_ms = m_clock++;
        block.header.tx_root = wire::TxRoot(block.txs);
        block.header.mnset_hash = consensus::MasternodeSetHash(m_set);
        if (m_propose_hook) block = m_propose_hook(block);
        Step(i, ProposalReady{block});
    }
    void Do(size_t i, ValidateBlock& a) {
        Step(i, BlockValidated{a.height, a.digest, m_invalid.count(a.digest) == 0});
    }
    void Do(size_t i, Commit& a) {
        m_chains[i].push_back(a.block);
        m_certs[i].push_back(a.cert);
        Step(i, HeightCommitted{Info(i)});
    }
    void Do(size_t i, SetTimer& a) { m_timers[i].insert(a.id); }
    void Do(size_t i, CancelTimer& a) { m_timers[i].erase(a.id); }
    void Do(size_t i, SendDecided& a) {
        for (uint64_t h = a.height; h <= m_chains[i].size(); ++h) {
            wire::Decided d{m_chains[i][h - 1], m_certs[i][h - 1]};
            m_queue.push_back(
                {static_cast<uint32_t>(i), a.peer, wire::Encode(wire::PbftMessage{d})});
        }
    }
    void Do(size_t, CatchUp&) {}
    void Do(size_t i, Evidence&) { m_evidence[i]++; }

    Config m_config;
    std::vector<crypto::SecretKey> m_keys;
    std::vector<crypto::PublicKey> m_set;
    std::vector<std::unique_ptr<Replica>> m_replicas;
    std::vector<std::vector<VoteRecord>> m_records;
    std::vector<std::vector<wire::Block>> m_chains;
    std::vector<size_t> m_evidence;
    std::vector<std::set<uint64_t>> m_timers;
};

}  // namespace tc::pbft::test
