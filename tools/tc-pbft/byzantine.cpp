#include "byzantine.h"

#include <deque>
#include <map>
#include <set>
#include <string>

#include "crypto/domain.h"
#include "crypto/hash.h"
#include "wire/codec.h"

namespace tc::pbft::sim {

namespace {

// A digest no honest replica ever proposed, derived from d.
wire::Hash OtherDigest(const wire::Hash& d) {
    crypto::Hasher256 h;
    h.Update(util::AsBytes("tc-pbft-sim/other"));
    h.Update(d);
    return h.Final();
}

std::optional<wire::PbftMessage> Decode(const util::Bytes& bytes) {
    auto msg = wire::DecodePbftMessage(bytes);
    if (!msg) return std::nullopt;
    return std::move(msg).value();
}

}  // namespace

const char* BehaviourName(Behaviour b) {
    switch (b) {
        case Behaviour::kEquivocate:
            return "equivocate";
        case Behaviour::kDoubleVote:
            return "double-vote";
        case Behaviour::kSilent:
            return "silent";
        case Behaviour::kReplay:
            return "replay";
        case Behaviour::kGarbage:
            return "garbage";
        case Behaviour::kTwins:
            return "twins";
    }
    return "?";
}

std::optional<Behaviour> ParseBehaviour(std::string_view name) {
    for (Behaviour b : kAllBehaviours) {
        if (name == BehaviourName(b)) return b;
    }
    return std::nullopt;
}

bool Strategy::Outgoing(Net&, std::optional<uint32_t>, const util::Bytes&) {
    return false;
}
void Strategy::Incoming(Net&, uint32_t, const util::Bytes&) {}
void Strategy::Tick(Net&) {}

crypto::Signature Strategy::Sign(const Net& net, wire::SignedPhase phase, uint64_t height,
                                 uint64_t view, const wire::Hash& digest) const {
    return m_key.Sign(crypto::VoteSigningMessage(net.ChainId(), static_cast<uint8_t>(phase), height,
                                                 view, digest));
}

util::Bytes Strategy::VoteBytes(const Net& net, wire::VotePhase phase, uint64_t height,
                                uint64_t view, const wire::Hash& digest) const {
    return wire::Encode(wire::PbftMessage{
        wire::SignedVote(net.ChainId(), m_key, phase, height, view, digest, m_self)});
}

util::Bytes Strategy::PrePrepareBytes(const Net& net, uint64_t height, uint64_t view,
                                      const wire::Block& block) const {
    wire::PrePrepare pp;
    pp.height = height;
    pp.view = view;
    pp.replica = m_self;
    pp.block = block;
    pp.signature =
        Sign(net, wire::SignedPhase::kPrePrepare, height, view, wire::BlockHash(block.header));
    return wire::Encode(wire::PbftMessage{pp});
}

std::vector<uint32_t> Strategy::Half(const Net& net, int which) {
    const auto& peers = net.Peers();
    size_t mid = peers.size() / 2;
    if (which == 0) return {peers.begin(), peers.begin() + static_cast<ptrdiff_t>(mid)};
    return {peers.begin() + static_cast<ptrdiff_t>(mid), peers.end()};
}

namespace {

// ---- equivocate --------------------------------------------------------------

class Equivocate : public Strategy {
  public:
    using Strategy::Strategy;

    bool Outgoing(Net& net, std::optional<uint32_t>, const util::Bytes& bytes) override {
        auto msg = Decode(bytes);
        if (!msg) return false;
        if (auto* pp = std::get_if<wire::PrePrepare>(&*msg); pp && pp->replica == m_self) {
            Split& s = SplitFor(net, *pp);
            SendSide(net, s, 0, 0);
            SendSide(net, s, 1, 1);
            return true;
        }
        if (auto* nv = std::get_if<wire::NewView>(&*msg); nv && nv->replica == m_self) {
            SendForgedNewView(net, nv->height, nv->view, nv->view_changes, net.Peers());
            return true;
        }
        // In a view before one we lead, our votes reach only the first half:
        // the second half, short of them, is the one the early NEW-VIEW
        // (Incoming) tries to pull into the next view.
        const auto& set = net.Set();
        if (auto* vote = std::get_if<wire::Vote>(&*msg);
            vote && vote->replica == m_self && !set.empty() &&
            (vote->height + vote->view + 1) % set.size() == m_self) {
            for (uint32_t p : Half(net, 0)) net.Send(p, bytes);
            return true;
        }
        return false;
    }

    void Incoming(Net& net, uint32_t, const util::Bytes& bytes) override {
        auto msg = Decode(bytes);
        if (!msg) return;
        if (auto* vc = std::get_if<wire::ViewChange>(&*msg)) {
            const auto& set = net.Set();
            if (set.empty() || (vc->height + vc->new_view) % set.size() != m_self) return;
            auto& got = m_view_changes[{vc->height, vc->new_view}];
            wire::ViewChange copy = *vc;
            copy.block.reset();
            got[vc->replica] = copy;
            m_latest_height = std::max(m_latest_height, vc->height);
        } else if (auto* pp = std::get_if<wire::PrePrepare>(&*msg)) {
            m_prev[pp->height] = pp->block.header.prev_hash;
            m_latest_height = std::max(m_latest_height, pp->height);
        } else if (auto* vote = std::get_if<wire::Vote>(&*msg)) {
            // Someone committed to a block of view v and we are the primary of
            // v + 1: a NEW-VIEW with no view changes at all and a fresh block,
            // to half the network, while the other half may still commit.
            const auto& set = net.Set();
            uint64_t next = vote->view + 1;
            if (vote->phase == wire::VotePhase::kCommit && !set.empty() &&
                (vote->height + next) % set.size() == m_self &&
                !m_forged.count({vote->height, next})) {
                SendForgedNewView(net, vote->height, next, {}, Half(net, 1));
            }
        }
    }

    uint64_t TickMs() const override { return 25; }

    void Tick(Net& net) override {
        // The crossed halves: the block each half did not get first.
        for (auto& [slot, s] : m_splits) {
            if (slot.first + 1 < m_latest_height || s.crossed >= 20) continue;
            ++s.crossed;
            SendSide(net, s, 1, 0);
            SendSide(net, s, 0, 1);
        }
        // NEW-VIEWs from whatever view changes we have, before a quorum.
        for (auto it = m_view_changes.begin(); it != m_view_changes.end();) {
            const auto& [slot, vcs] = *it;
            if (slot.first + 1 < m_latest_height) {
                it = m_view_changes.erase(it);
                continue;
            }
            if (m_forged.insert(slot).second) {
                std::vector<wire::ViewChange> list;
                for (const auto& [replica, vc] : vcs) list.push_back(vc);
                SendForgedNewView(net, slot.first, slot.second, list, net.Peers());
            }
            ++it;
        }
        while (m_splits.size() > 16) m_splits.erase(m_splits.begin());
    }

  private:
    struct Split {
        util::Bytes first[2];  // PRE-PREPARE, PREPARE, COMMIT
        util::Bytes prepare[2];
        util::Bytes commit[2];
        int crossed = 0;
    };

    Split& SplitFor(Net& net, const wire::PrePrepare& pp) {
        auto key = std::make_pair(pp.height, pp.view);
        auto it = m_splits.find(key);
        if (it != m_splits.end()) return it->second;
        Split s;
        wire::Block other =
            net.MakeBlock(pp.height, pp.view, pp.block.header.prev_hash, 1 + net.Random() % 1000);
        const wire::Block* blocks[2] = {&pp.block, &other};
        for (int i = 0; i < 2; ++i) {
            wire::Hash d = wire::BlockHash(blocks[i]->header);
            s.first[i] = PrePrepareBytes(net, pp.height, pp.view, *blocks[i]);
            s.prepare[i] = VoteBytes(net, wire::VotePhase::kPrepare, pp.height, pp.view, d);
            s.commit[i] = VoteBytes(net, wire::VotePhase::kCommit, pp.height, pp.view, d);
        }
        m_latest_height = std::max(m_latest_height, pp.height);
        return m_splits.emplace(key, std::move(s)).first->second;
    }

    // Block `side` of s, with our votes for it, to half `half`.
    void SendSide(Net& net, const Split& s, int side, int half) {
        for (uint32_t to : Half(net, half)) {
            net.Send(to, s.first[side]);
            net.Send(to, s.prepare[side]);
            net.Send(to, s.commit[side]);
        }
    }

    // A NEW-VIEW for (height, view) carrying `vcs` whose proposal is a fresh
    // block, with our prepare and commit for it, to `to`: whatever the view
    // changes prepared is ignored.
    void SendForgedNewView(Net& net, uint64_t height, uint64_t view,
                           std::vector<wire::ViewChange> vcs, const std::vector<uint32_t>& to) {
        // The right parent, so that the block validates; one time in four a
        // wrong one, a proposal every correct replica must refuse.
        wire::Hash prev{};
        if (auto known = net.ChainHash(height - 1)) {
            prev = *known;
        } else if (auto it = m_prev.find(height); it != m_prev.end()) {
            prev = it->second;
        }
        if (net.Random() % 4 == 0) prev = OtherDigest(prev);
        for (auto& vc : vcs) vc.block.reset();
        wire::Block block = net.MakeBlock(height, view, prev, 1 + net.Random() % 1000);
        wire::NewView nv;
        nv.height = height;
        nv.view = view;
        nv.replica = m_self;
        nv.view_changes = std::move(vcs);
        nv.proposal.height = height;
        nv.proposal.view = view;
        nv.proposal.replica = m_self;
        nv.proposal.block = block;
        wire::Hash d = wire::BlockHash(block.header);
        nv.proposal.signature = Sign(net, wire::SignedPhase::kPrePrepare, height, view, d);
        nv.signature =
            Sign(net, wire::SignedPhase::kNewView, height, view, wire::NewViewDigest(nv));
        util::Bytes bytes = wire::Encode(wire::PbftMessage{nv});
        util::Bytes prepare = VoteBytes(net, wire::VotePhase::kPrepare, height, view, d);
        util::Bytes commit = VoteBytes(net, wire::VotePhase::kCommit, height, view, d);
        for (uint32_t peer : to) {
            net.Send(peer, bytes);
            net.Send(peer, prepare);
            net.Send(peer, commit);
        }
        m_forged.insert({height, view});
    }

    std::map<std::pair<uint64_t, uint64_t>, Split> m_splits;
    std::map<std::pair<uint64_t, uint64_t>, std::map<uint32_t, wire::ViewChange>> m_view_changes;
    std::set<std::pair<uint64_t, uint64_t>> m_forged;
    std::map<uint64_t, wire::Hash> m_prev;  // height -> prev_hash seen in proposals
    uint64_t m_latest_height = 0;
};

// ---- double-vote -------------------------------------------------------------

class DoubleVote : public Strategy {
  public:
    using Strategy::Strategy;

    bool Outgoing(Net& net, std::optional<uint32_t> to, const util::Bytes& bytes) override {
        auto msg = Decode(bytes);
        if (!msg) return false;
        auto* vote = std::get_if<wire::Vote>(&*msg);
        if (!vote || vote->replica != m_self) return false;
        // Another digest for the same slot: one proposed there, else made up.
        wire::Hash other = OtherDigest(vote->digest);
        for (const auto& d : m_digests[{vote->height, vote->view}]) {
            if (d != vote->digest) {
                other = d;
                break;
            }
        }
        util::Bytes second = VoteBytes(net, vote->phase, vote->height, vote->view, other);
        if (to) {
            net.Send(*to, net.Random() % 2 ? bytes : second);
            return true;
        }
        for (uint32_t p : Half(net, 0)) net.Send(p, bytes);
        for (uint32_t p : Half(net, 1)) net.Send(p, second);
        return true;
    }

    void Incoming(Net&, uint32_t, const util::Bytes& bytes) override {
        auto msg = Decode(bytes);
        if (!msg) return;
        if (auto* pp = std::get_if<wire::PrePrepare>(&*msg)) {
            Note(pp->height, pp->view, wire::BlockHash(pp->block.header));
        } else if (auto* nv = std::get_if<wire::NewView>(&*msg)) {
            Note(nv->height, nv->view, wire::BlockHash(nv->proposal.block.header));
        }
    }

  private:
    void Note(uint64_t height, uint64_t view, const wire::Hash& d) {
        m_digests[{height, view}].insert(d);
        while (m_digests.size() > 64) m_digests.erase(m_digests.begin());
    }

    std::map<std::pair<uint64_t, uint64_t>, std::set<wire::Hash>> m_digests;
};

// ---- silent ------------------------------------------------------------------

class Silent : public Strategy {
  public:
    using Strategy::Strategy;
    size_t Copies() const override { return 0; }
};

// ---- replay ------------------------------------------------------------------

class Replay : public Strategy {
  public:
    using Strategy::Strategy;

    void Incoming(Net&, uint32_t, const util::Bytes& bytes) override {
        m_seen.push_back(bytes);
        if (m_seen.size() > 512) m_seen.pop_front();
    }
    bool Outgoing(Net&, std::optional<uint32_t>, const util::Bytes& bytes) override {
        m_seen.push_back(bytes);
        if (m_seen.size() > 512) m_seen.pop_front();
        return false;
    }
    uint64_t TickMs() const override { return 20; }
    void Tick(Net& net) override {
        const auto& peers = net.Peers();
        if (m_seen.empty() || peers.empty()) return;
        for (int i = 0; i < 4; ++i) {
            // Older messages are the point: pick from the whole record.
            const util::Bytes& old = m_seen[net.Random() % m_seen.size()];
            net.Send(peers[net.Random() % peers.size()], old);
        }
    }

  private:
    std::deque<util::Bytes> m_seen;
};

// ---- garbage -----------------------------------------------------------------

class Garbage : public Strategy {
  public:
    using Strategy::Strategy;

    void Incoming(Net&, uint32_t, const util::Bytes& bytes) override {
        auto msg = Decode(bytes);
        if (!msg) return;
        m_height = std::max(m_height, wire::MessageHeight(*msg));
        m_view = wire::MessageView(*msg);
        if (m_sample.size() < 32) {
            m_sample.push_back(bytes);
        } else {
            m_sample[m_next++ % m_sample.size()] = bytes;
        }
    }

    uint64_t TickMs() const override { return 10; }

    void Tick(Net& net) override {
        const auto& peers = net.Peers();
        if (peers.empty()) return;
        util::Bytes bytes;
        wire::Hash digest{};
        for (auto& b : digest) b = static_cast<uint8_t>(net.Random());
        uint64_t h = m_height == 0 ? 1 : m_height;
        switch (net.Random() % 8) {
            case 0: {  // random bytes
                bytes.resize(net.Random() % 200);
                for (auto& b : bytes) b = static_cast<uint8_t>(net.Random());
                break;
            }
            case 1: {  // a real message with one byte flipped
                if (m_sample.empty()) return;
                bytes = m_sample[net.Random() % m_sample.size()];
                if (bytes.empty()) return;
                bytes[net.Random() % bytes.size()] ^= static_cast<uint8_t>(1 + net.Random() % 255);
                break;
            }
            case 2: {  // a real message cut short
                if (m_sample.empty()) return;
                bytes = m_sample[net.Random() % m_sample.size()];
                bytes.resize(bytes.size() / 2);
                break;
            }
            case 3: {  // our vote with a bad signature
                wire::Vote v = MakeVote(net, h, digest, m_self);
                v.signature[net.Random() % v.signature.size()] ^= 0x40;
                bytes = wire::Encode(wire::PbftMessage{v});
                break;
            }
            case 4: {  // signed by us, carrying another member's index
                uint32_t other = peers[net.Random() % peers.size()];
                bytes = wire::Encode(wire::PbftMessage{MakeVote(net, h, digest, other)});
                break;
            }
            case 5: {  // a non-member's index
                uint32_t outside = static_cast<uint32_t>(net.Set().size() + net.Random() % 4);
                bytes = wire::Encode(wire::PbftMessage{MakeVote(net, h, digest, outside)});
                break;
            }
            case 6: {  // a decided block whose certificate is a quorum in number only
                wire::Decided d;
                d.block = net.MakeBlock(h, m_view, digest, 1 + net.Random() % 1000);
                wire::Hash hash = wire::BlockHash(d.block.header);
                d.cert.height = h;
                d.cert.view = m_view;
                d.cert.block_hash = hash;
                crypto::Signature ours = Sign(net, wire::SignedPhase::kCommit, h, m_view, hash);
                for (uint32_t i = 0; i < net.Set().size(); ++i) d.cert.sigs.push_back({i, ours});
                bytes = wire::Encode(wire::PbftMessage{d});
                break;
            }
            default: {  // a proposal out of turn with a bad signature
                wire::Block block = net.MakeBlock(h, m_view, digest, 1 + net.Random() % 1000);
                bytes = PrePrepareBytes(net, h, m_view, block);
                bytes[bytes.size() - 1] ^= 0x01;
                break;
            }
        }
        if (net.Random() % 2) {
            net.Send(peers[net.Random() % peers.size()], bytes);
        } else {
            for (uint32_t p : peers) net.Send(p, bytes);
        }
    }

  private:
    wire::Vote MakeVote(Net& net, uint64_t h, const wire::Hash& digest, uint32_t replica) {
        wire::Vote v;
        v.phase = net.Random() % 2 ? wire::VotePhase::kPrepare : wire::VotePhase::kCommit;
        v.height = h;
        v.view = m_view;
        v.digest = digest;
        v.replica = replica;
        v.signature = Sign(net, static_cast<wire::SignedPhase>(v.phase), h, m_view, digest);
        return v;
    }

    uint64_t m_height = 0;
    uint64_t m_view = 0;
    std::vector<util::Bytes> m_sample;
    size_t m_next = 0;
};

// ---- twins -------------------------------------------------------------------

class Twins : public Strategy {
  public:
    using Strategy::Strategy;
    size_t Copies() const override { return 2; }
};

}  // namespace

std::unique_ptr<Strategy> MakeStrategy(Behaviour b, uint32_t self, const crypto::SecretKey& key) {
    switch (b) {
        case Behaviour::kEquivocate:
            return std::make_unique<Equivocate>(self, key);
        case Behaviour::kDoubleVote:
            return std::make_unique<DoubleVote>(self, key);
        case Behaviour::kSilent:
            return std::make_unique<Silent>(self, key);
        case Behaviour::kReplay:
            return std::make_unique<Replay>(self, key);
        case Behaviour::kGarbage:
            return std::make_unique<Garbage>(self, key);
        case Behaviour::kTwins:
            return std::make_unique<Twins>(self, key);
    }
    return std::make_unique<Silent>(self, key);
}

}  // namespace tc::pbft::sim
