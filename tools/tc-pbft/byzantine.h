// Byzantine replicas for the simulator (simulator.h). Each behaviour is a
// small strategy that sits between the node's real Replica copies (none for
// a silent node, two for twins) and the simulated network: it sees what the
// node receives, may rewrite or replace what its replicas send, and may send
// messages of its own on a periodic tick. A byzantine node holds its secret
// key, so it can sign anything with crypto::VoteSigningMessage; what it
// cannot do is forge the signature of another member.
//
//   equivocate   as primary, two different blocks to two halves of the
//                network (with its prepares and commits for each), later the
//                crossed ones; as new-view primary, a NEW-VIEW whose proposal
//                is a fresh block (prepared certificates ignored), and
//                NEW-VIEWs forged from fewer than q view changes (none at
//                all as soon as it sees a commit in the view before one it
//                leads, while it keeps its own votes of that view from half
//                the network)
//   double-vote  every prepare and commit of its replica goes to one half;
//                the other half gets a vote for another digest
//   silent       no replica: never sends anything
//   replay       records what it receives and re-sends it later, when the
//                others are at other heights and views
//   garbage      random bytes, corrupted messages, bad signatures, votes
//                carrying another member's or a non-member's index, decided
//                blocks whose certificate is its own signature under every index
//   twins        two Replica copies with one key, each talking to half the
//                network (the simulator routes their links)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "util/bytes.h"
#include "wire/pbft.h"
#include "wire/types.h"

namespace tc::pbft::sim {

enum class Behaviour : uint8_t { kEquivocate, kDoubleVote, kSilent, kReplay, kGarbage, kTwins };

inline constexpr Behaviour kAllBehaviours[] = {Behaviour::kEquivocate, Behaviour::kDoubleVote,
                                               Behaviour::kSilent,     Behaviour::kReplay,
                                               Behaviour::kGarbage,    Behaviour::kTwins};

// "equivocate", "double-vote", "silent", "replay", "garbage", "twins".
const char* BehaviourName(Behaviour b);
std::optional<Behaviour> ParseBehaviour(std::string_view name);

// What a strategy may do to the world; the simulator implements it, one per
// byzantine node.
class Net {
  public:
    virtual ~Net() = default;
    virtual uint64_t Now() const = 0;
    virtual uint64_t Random() = 0;  // raw output of the run's seeded PRNG
    // Sends bytes from this node to member `to` through the simulated network.
    virtual void Send(uint32_t to, util::Bytes bytes) = 0;
    // Every other member, in index order.
    virtual const std::vector<uint32_t>& Peers() const = 0;
    // A well-formed block proposed by this node at (height, view), which the
    // simulator records as a valid proposal; `salt` makes it differ from
    // other blocks of the same slot (it moves the timestamp).
    virtual wire::Block MakeBlock(uint64_t height, uint64_t view, const wire::Hash& prev_hash,
                                  uint64_t salt) = 0;
    // The hash of the block at `height` as the correct members committed it
    // (height 0: genesis); none while none has.
    virtual std::optional<wire::Hash> ChainHash(uint64_t height) const = 0;
    virtual const crypto::Hash256& ChainId() const = 0;
    virtual const std::vector<crypto::PublicKey>& Set() const = 0;
};

class Strategy {
  public:
    Strategy(uint32_t self, const crypto::SecretKey& key) : m_self(self), m_key(key) {}
    virtual ~Strategy() = default;
    Strategy(const Strategy&) = delete;
    Strategy& operator=(const Strategy&) = delete;

    // How many Replica copies the node runs: 1, 0 (silent) or 2 (twins).
    virtual size_t Copies() const { return 1; }
    // A message one of our replicas sends (to: one member; none: a
    // broadcast). Returns true when the strategy took care of it (the
    // simulator then sends nothing itself).
    virtual bool Outgoing(Net& net, std::optional<uint32_t> to, const util::Bytes& bytes);
    // A message delivered to this node (before its replica sees it).
    virtual void Incoming(Net& net, uint32_t from, const util::Bytes& bytes);
    // Period of Tick() in virtual ms; 0: no tick.
    virtual uint64_t TickMs() const { return 0; }
    virtual void Tick(Net& net);

  protected:
    crypto::Signature Sign(const Net& net, wire::SignedPhase phase, uint64_t height, uint64_t view,
                           const wire::Hash& digest) const;
    util::Bytes VoteBytes(const Net& net, wire::VotePhase phase, uint64_t height, uint64_t view,
                          const wire::Hash& digest) const;
    util::Bytes PrePrepareBytes(const Net& net, uint64_t height, uint64_t view,
                                const wire::Block& block) const;
    // The peers in the first (0) or second (1) half of net.Peers().
    static std::vector<uint32_t> Half(const Net& net, int which);

    uint32_t m_self;
    const crypto::SecretKey& m_key;
};

// The strategy for behaviour b of member `self`; `key` must outlive it.
std::unique_ptr<Strategy> MakeStrategy(Behaviour b, uint32_t self, const crypto::SecretKey& key);

}  // namespace tc::pbft::sim
