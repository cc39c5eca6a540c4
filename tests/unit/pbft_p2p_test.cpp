// tc-pbft run's side of tc-p2p (driver.h): the PeerId map, the messages it
// pushes to p2p-send.sock and reads from p2p-events.sock (against a fake
// tc-p2p bound in a temporary datadir), the ban rule, the Decided messages
// read from a real ledger, the `unreachable` list of status, and the core's
// read-only VotesHeld that status reports missing votes from.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "chain_builder.h"
#include "crypto/domain.h"
#include "driver.h"
#include "ledger/ledger.h"
#include "net/envelope.h"
#include "pbft_harness.h"
#include "replica.h"
#include "temp_dir.h"
#include "test_chain.h"
#include "util/config.h"
#include "wire/codec.h"

namespace tc::pbft {
namespace {

using Type = msgpack::type::object_type;
using std::chrono::milliseconds;

crypto::PublicKey KeyOfByte(uint8_t b) {
    crypto::PublicKey k;
    k.fill(b);
    return k;
}

// tc-p2p's two local sockets, bound in DATADIR/run/.
class FakeP2p {
  public:
    explicit FakeP2p(zmq::context_t& context, const std::string& datadir)
        : m_pull(context, zmq::socket_type::pull), m_xpub(context, zmq::socket_type::xpub) {
        std::filesystem::create_directories(datadir + "/run");
        m_pull.set(zmq::sockopt::linger, 0);
        m_xpub.set(zmq::sockopt::linger, 0);
        m_pull.bind(util::RunEndpoint(datadir, "p2p-send"));
        m_xpub.bind(util::RunEndpoint(datadir, "p2p-events"));
    }

    // Waits (up to 5 s) for a subscription frame on the XPUB; its topic.
    std::optional<std::string> Subscription() {
        m_xpub.set(zmq::sockopt::rcvtimeo, 5000);
        zmq::message_t msg;
        if (!m_xpub.recv(msg) || msg.size() == 0 || msg.data<char>()[0] != 1) return std::nullopt;
        return std::string(msg.data<char>() + 1, msg.size() - 1);
    }

    void Publish(std::string_view topic, const msgpack::sbuffer& body) {
        m_xpub.send(zmq::buffer(topic), zmq::send_flags::sndmore);
        m_xpub.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
    }

    // The next message pushed to p2p-send (up to 5 s), unpacked.
    std::optional<msgpack::object_handle> Pulled() {
        m_pull.set(zmq::sockopt::rcvtimeo, 5000);
        zmq::message_t msg;
        if (!m_pull.recv(msg)) return std::nullopt;
        return msgpack::unpack(msg.data<char>(), msg.size());
    }

  private:
    zmq::socket_t m_pull;
    zmq::socket_t m_xpub;
};

msgpack::sbuffer InPbft(util::ByteView key, util::ByteView bytes) {
    msgpack::sbuffer buf;
    net::Packer p(buf);
    p.pack_array(2);
    net::PackBin(p, key);
    net::PackBin(p, bytes);
    return buf;
}

// Receives one multipart message from the link's SUB within 5 s.
std::vector<zmq::message_t> Receive(P2pLink& link) {
    link.events().set(zmq::sockopt::rcvtimeo, 5000);
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(link.events(), std::back_inserter(parts));
    return parts;
}

class P2pLinkTest : public ::testing::Test {
  protected:
    ::tc::test::TempDir m_dir{"tc-pbft-p2p"};
    zmq::context_t m_context;
};

TEST_F(P2pLinkTest, PeerIdsAreAssignedOnFirstSightAndStable) {
    auto link = P2pLink::Connect(m_context, m_dir.path(), 10, 1 << 20);
    ASSERT_TRUE(link.ok()) << link.error().message;
    const PeerId a = link->PeerOf(KeyOfByte(1));
    const PeerId b = link->PeerOf(KeyOfByte(2));
    EXPECT_NE(a, b);
    EXPECT_GE(a, P2pLink::kFirstPeerId);  // never a replica index
    EXPECT_GE(b, P2pLink::kFirstPeerId);
    EXPECT_EQ(link->PeerOf(KeyOfByte(1)), a);
    EXPECT_EQ(link->PeerOf(KeyOfByte(2)), b);
    ASSERT_NE(link->KeyOf(a), nullptr);
    EXPECT_EQ(*link->KeyOf(a), KeyOfByte(1));
    EXPECT_EQ(*link->KeyOf(b), KeyOfByte(2));
    EXPECT_EQ(link->KeyOf(0), nullptr);
    EXPECT_EQ(link->KeyOf(b + 1), nullptr);
}

TEST_F(P2pLinkTest, InPbftMessagesBecomeMessageReceivedNamingThePeer) {
    FakeP2p p2p(m_context, m_dir.path());
    auto link = P2pLink::Connect(m_context, m_dir.path(), 10, 1 << 20);
    ASSERT_TRUE(link.ok());
    ASSERT_EQ(p2p.Subscription(), "in.pbft");

    const crypto::PublicKey key = KeyOfByte(7);
    const util::Bytes bytes = {1, 2, 3};
    p2p.Publish("in.pbft", InPbft(key, bytes));
    auto in = link->Decode(Receive(*link));
    ASSERT_TRUE(in.has_value());
    EXPECT_EQ(in->peer, link->PeerOf(key));
    EXPECT_EQ(in->bytes, bytes);
    EXPECT_EQ(link->received(), 1u);

    // A key that is not 32 bytes, a body that is not [key, bytes]: dropped.
    const util::Bytes short_key(31, 7);
    p2p.Publish("in.pbft", InPbft(short_key, bytes));
    EXPECT_FALSE(link->Decode(Receive(*link)).has_value());
    msgpack::sbuffer junk;
    net::Packer(junk).pack_uint64(5);
    p2p.Publish("in.pbft", junk);
    EXPECT_FALSE(link->Decode(Receive(*link)).has_value());
    // Another topic is not ours.
    const msgpack::sbuffer body = InPbft(key, bytes);
    std::vector<zmq::message_t> other;
    other.emplace_back(std::string_view("p2p"));
    other.emplace_back(body.data(), body.size());
    EXPECT_FALSE(link->Decode(other).has_value());
    EXPECT_EQ(link->received(), 1u);
}

TEST_F(P2pLinkTest, BroadcastSendToAndMisbehavedGoToP2pSend) {
    FakeP2p p2p(m_context, m_dir.path());
    auto link = P2pLink::Connect(m_context, m_dir.path(), 10, 1 << 20);
    ASSERT_TRUE(link.ok());
    const util::Bytes bytes = {9, 8, 7};
    const crypto::PublicKey key = KeyOfByte(3);
    const PeerId peer = link->PeerOf(key);

    ASSERT_TRUE(link->Broadcast(bytes));
    auto m = p2p.Pulled();
    ASSERT_TRUE(m.has_value());
    {
        const msgpack::object& o = m->get();
        ASSERT_EQ(o.type, Type::ARRAY);
        ASSERT_EQ(o.via.array.size, 3u);
        EXPECT_EQ(net::StrView(o.via.array.ptr[0]), "pbft");
        EXPECT_EQ(o.via.array.ptr[1].type, Type::NIL);
        ASSERT_EQ(o.via.array.ptr[2].type, Type::BIN);
        util::ByteView got = net::BinView(o.via.array.ptr[2]);
        EXPECT_EQ(util::Bytes(got.begin(), got.end()), bytes);
    }

    ASSERT_TRUE(link->SendTo(peer, bytes));
    m = p2p.Pulled();
    ASSERT_TRUE(m.has_value());
    {
        const msgpack::object& o = m->get();
        ASSERT_EQ(o.via.array.size, 3u);
        EXPECT_EQ(net::StrView(o.via.array.ptr[0]), "pbft");
        ASSERT_EQ(o.via.array.ptr[1].type, Type::BIN);
        util::ByteView to = net::BinView(o.via.array.ptr[1]);
        EXPECT_EQ(util::Bytes(to.begin(), to.end()), util::Bytes(key.begin(), key.end()));
    }

    ASSERT_TRUE(link->Misbehaved(peer, "bad-signature"));
    m = p2p.Pulled();
    ASSERT_TRUE(m.has_value());
    {
        const msgpack::object& o = m->get();
        ASSERT_EQ(o.via.array.size, 3u);
        EXPECT_EQ(net::StrView(o.via.array.ptr[0]), "misbehaved");
        util::ByteView k = net::BinView(o.via.array.ptr[1]);
        EXPECT_EQ(util::Bytes(k.begin(), k.end()), util::Bytes(key.begin(), key.end()));
        EXPECT_EQ(net::StrView(o.via.array.ptr[2]), "bad-signature");
    }

    // A PeerId the link never gave: nothing is sent.
    EXPECT_FALSE(link->SendTo(peer + 1, bytes));
    EXPECT_FALSE(link->Misbehaved(peer + 1, "malformed"));
    EXPECT_EQ(link->sent(), 3u);
    EXPECT_EQ(link->dropped(), 0u);
}

TEST_F(P2pLinkTest, AFullQueueDropsAndCountsInsteadOfBlocking) {
    // No tc-p2p at all: the queue fills up to the high-water mark.
    auto link = P2pLink::Connect(m_context, m_dir.path(), 4, 1 << 20);
    ASSERT_TRUE(link.ok());
    const util::Bytes bytes(100, 1);
    for (int i = 0; i < 50; ++i) link->Broadcast(bytes);
    EXPECT_EQ(link->sent() + link->dropped(), 50u);
    EXPECT_GT(link->dropped(), 0u);
    EXPECT_LE(link->sent(), 8u);
}

TEST(PbftBanReason, OnlyMalformedAndBadSignaturesBan) {
    PeerStats before;
    PeerStats after = before;
    EXPECT_FALSE(BanReason(before, after).has_value());
    after.non_member++;
    after.invalid++;
    after.dropped++;
    after.stale++;
    EXPECT_FALSE(BanReason(before, after).has_value());
    PeerStats bad = after;
    bad.bad_signature++;
    EXPECT_EQ(BanReason(after, bad), "bad-signature");
    PeerStats malformed = after;
    malformed.malformed++;
    EXPECT_EQ(BanReason(after, malformed), "malformed");
}

// The core's counters that drive the ban: garbage counts as malformed, a
// vote signed by another key than its replica's as a bad signature, a vote
// of a replica outside the set as neither.
TEST(PbftBanReason, TheCoreCountsWhatTheDaemonBansFor) {
    test::Harness h(4);
    h.StartAll();
    const PeerId peer = P2pLink::kFirstPeerId;
    Replica& r = h.replica(0);
    auto stats = [&] {
        auto it = r.stats().peers.find(peer);
        return it == r.stats().peers.end() ? PeerStats{} : it->second;
    };
    PeerStats before = stats();
    h.Step(0, MessageReceived{peer, util::Bytes{0xc1, 0x00, 0x17}});
    EXPECT_EQ(BanReason(before, stats()), "malformed");

    wire::Hash digest{};
    digest.fill(5);
    wire::Vote v{wire::kVoteVersion, wire::VotePhase::kPrepare, 1, 0, digest, 1, {}};
    v.signature = h.key(2).Sign(crypto::VoteSigningMessage(
        test::ChainId(), static_cast<uint8_t>(wire::VotePhase::kPrepare), 1, 0, digest));
    before = stats();
    h.Step(0, MessageReceived{peer, wire::Encode(wire::PbftMessage{v})});
    EXPECT_EQ(BanReason(before, stats()), "bad-signature");

    v.replica = 9;  // outside the set of 4
    before = stats();
    h.Step(0, MessageReceived{peer, wire::Encode(wire::PbftMessage{v})});
    EXPECT_FALSE(BanReason(before, stats()).has_value());
    EXPECT_EQ(stats().non_member, before.non_member + 1);
}

TEST(PbftVotesHeld, ReportsWhoseVotesTheReplicaHolds) {
    test::Harness h(4);
    h.m_drop = [](const test::Envelope&) { return true; };  // nothing arrives by itself
    h.StartAll();
    h.Run();
    Replica& r = h.replica(0);
    HeldVotes held = r.VotesHeld(0);
    EXPECT_FALSE(held.have_pre_prepare);
    EXPECT_TRUE(held.prepares.empty());
    EXPECT_TRUE(held.commits.empty());

    wire::Hash digest{};
    digest.fill(6);
    for (uint32_t i : {3u, 1u}) {
        wire::Vote v{wire::kVoteVersion, wire::VotePhase::kPrepare, 1, 0, digest, i, {}};
        v.signature = h.key(i).Sign(crypto::VoteSigningMessage(
            test::ChainId(), static_cast<uint8_t>(wire::VotePhase::kPrepare), 1, 0, digest));
        h.Deliver(i, 0, wire::Encode(wire::PbftMessage{v}));
    }
    wire::Vote c{wire::kVoteVersion, wire::VotePhase::kCommit, 1, 0, digest, 2, {}};
    c.signature = h.key(2).Sign(crypto::VoteSigningMessage(
        test::ChainId(), static_cast<uint8_t>(wire::VotePhase::kCommit), 1, 0, digest));
    h.Deliver(2, 0, wire::Encode(wire::PbftMessage{c}));

    held = r.VotesHeld(0);
    EXPECT_FALSE(held.have_pre_prepare);
    EXPECT_EQ(held.prepares, (std::vector<uint32_t>{1, 3}));
    EXPECT_EQ(held.commits, (std::vector<uint32_t>{2}));
    EXPECT_TRUE(r.VotesHeld(5).prepares.empty());  // a view it holds nothing for
}

TEST(PbftVotesHeld, ThePrePrepareAndOurOwnPrepare) {
    test::Harness h(4);
    // Only the primary's PRE-PREPARE reaches replica 0.
    h.m_drop = [](const test::Envelope& e) {
        auto msg = wire::DecodePbftMessage(e.bytes);
        return !(e.to == 0 && msg.ok() && std::holds_alternative<wire::PrePrepare>(*msg));
    };
    h.StartAll();
    h.WorkAll();
    h.Run();
    const HeldVotes held = h.replica(0).VotesHeld(0);
    EXPECT_TRUE(held.have_pre_prepare);
    EXPECT_EQ(held.prepares, (std::vector<uint32_t>{0}));  // ours; the others never arrived
    EXPECT_TRUE(held.commits.empty());
    EXPECT_FALSE(h.replica(2).VotesHeld(0).have_pre_prepare);
}

TEST(PbftDecided, MessagesFromTheAskedHeightUpToTheTipAtMostMax) {
    ASSERT_TRUE(crypto::InitSodium().ok());
    ::tc::test::TempDir dir("tc-pbft-decided");
    wire::Genesis g = ::tc::test::MakeGenesis("pbft-p2p", 4);
    auto ledger = ledger::Ledger::Init(dir.path() + "/ledger", g);
    ASSERT_TRUE(ledger.ok()) << ledger.error().message;
    ::tc::test::ChainBuilder chain(g, ::tc::test::MasternodeKeys(4));
    std::vector<::tc::test::MadeBlock> made;
    for (int i = 0; i < 3; ++i) {
        made.push_back(chain.MakeBlock({}));
        ASSERT_TRUE((*ledger)->ApplyBlock(made.back().block, made.back().cert, {}).ok());
        chain.Advance(made.back().block);
    }

    auto all = DecidedMessages(**ledger, 2, 16);
    ASSERT_TRUE(all.ok()) << all.error().message;
    ASSERT_EQ(all->size(), 2u);
    for (size_t i = 0; i < all->size(); ++i) {
        auto msg = wire::DecodePbftMessage((*all)[i]);
        ASSERT_TRUE(msg.ok()) << msg.error().message;
        const auto* d = std::get_if<wire::Decided>(&*msg);
        ASSERT_NE(d, nullptr);
        EXPECT_EQ(d->block, made[i + 1].block);
        EXPECT_EQ(d->cert, made[i + 1].cert);
    }

    auto one = DecidedMessages(**ledger, 1, 1);
    ASSERT_TRUE(one.ok());
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ(std::get<wire::Decided>(*wire::DecodePbftMessage(one->front())).block.header.height,
              1u);
    auto none = DecidedMessages(**ledger, 4, 16);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    auto from_zero = DecidedMessages(**ledger, 0, 16);
    ASSERT_TRUE(from_zero.ok());
    EXPECT_EQ(from_zero->size(), 3u);
}

TEST(PbftStatus, UnreachableAreTheMasternodesWithoutALinkOrBanned) {
    msgpack::sbuffer buf;
    net::Packer p(buf);
    struct Peer {
        std::string key;
        bool masternode;
        bool connected;
        uint64_t banned_s;
    };
    const std::vector<Peer> peers = {{"aa", true, true, 0},
                                     {"bb", true, false, 0},
                                     {"cc", true, true, 60},
                                     {"dd", false, false, 0}};  // an observer
    p.pack_array(static_cast<uint32_t>(peers.size()));
    for (const auto& peer : peers) {
        p.pack_map(4);
        net::PackStr(p, "key");
        net::PackStr(p, peer.key);
        net::PackStr(p, "masternode");
        peer.masternode ? p.pack_true() : p.pack_false();
        net::PackStr(p, "connected");
        peer.connected ? p.pack_true() : p.pack_false();
        net::PackStr(p, "banned_s");
        p.pack_uint64(peer.banned_s);
    }
    auto handle = msgpack::unpack(buf.data(), buf.size());
    auto unreachable = UnreachablePeers(handle.get());
    ASSERT_TRUE(unreachable.ok());
    EXPECT_EQ(*unreachable, (std::vector<std::string>{"bb", "cc"}));

    msgpack::sbuffer not_array;
    net::Packer(not_array).pack_uint64(1);
    auto h2 = msgpack::unpack(not_array.data(), not_array.size());
    EXPECT_FALSE(UnreachablePeers(h2.get()).ok());
}

}  // namespace
}  // namespace tc::pbft
