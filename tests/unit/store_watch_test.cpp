// tc-store watch's event logic (store::EventFollower, tools/tc-store/
// daemon.h) without sockets: each seq printed once and in order, gaps and
// reconnects filled from since, and what happens when since cannot help.
#include <gtest/gtest.h>

#include <vector>

#include "daemon.h"

using namespace tc;
using store::EventFollower;
using store::protocol::Event;

namespace {

Event E(uint64_t seq) {
    Event e{seq, seq, {}};
    e.hash[0] = static_cast<uint8_t>(seq);
    return e;
}

// A daemon whose ledger holds events 1..tip, replaying at most `retention`.
struct FakeDaemon {
    uint64_t tip = 0;
    uint64_t retention = 100;
    std::vector<uint64_t> asked;

    util::Result<std::vector<Event>> Since(uint64_t seq) {
        asked.push_back(seq);
        if (seq > tip) {
            return util::MakeError(
                util::Errc::kInvalid,
                "since: bad-params: seq " + std::to_string(seq) + " is ahead of the tip");
        }
        if (tip - seq > retention) {
            return util::MakeError(util::Errc::kConflict, "since: gap-beyond-retention: ...");
        }
        std::vector<Event> out;
        for (uint64_t s = seq + 1; s <= tip; ++s) out.push_back(E(s));
        return out;
    }
};

class FollowerTest : public ::testing::Test {
  protected:
    EventFollower Make(std::optional<uint64_t> last) {
        return EventFollower([this](uint64_t seq) { return m_daemon.Since(seq); },
                             [this](const Event& e) { m_printed.push_back(e.seq); }, last);
    }
    FakeDaemon m_daemon;
    std::vector<uint64_t> m_printed;
};

}  // namespace

TEST_F(FollowerTest, PrintsLiveEventsAndAsksNothingWithoutAGap) {
    auto f = Make(std::nullopt);
    EXPECT_TRUE(f.Connected().ok());
    for (uint64_t s : {4, 5, 6}) EXPECT_TRUE(f.Received(E(s)).ok());
    EXPECT_EQ(m_printed, (std::vector<uint64_t>{4, 5, 6}));
    EXPECT_TRUE(m_daemon.asked.empty());
}

TEST_F(FollowerTest, AGapIsFilledFromSinceInOrder) {
    auto f = Make(std::nullopt);
    m_daemon.tip = 9;
    EXPECT_TRUE(f.Received(E(2)).ok());
    // 3..8 were dropped; 9 arrives.
    EXPECT_TRUE(f.Received(E(9)).ok());
    EXPECT_EQ(m_daemon.asked, (std::vector<uint64_t>{2}));
    EXPECT_EQ(m_printed, (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9}));
    // A late duplicate is not printed again.
    EXPECT_TRUE(f.Received(E(9)).ok());
    EXPECT_TRUE(f.Received(E(5)).ok());
    EXPECT_EQ(m_printed.size(), 8u);
}

TEST_F(FollowerTest, SinceGivenReplaysOnConnectThenSkipsWhatItPrinted) {
    m_daemon.tip = 5;
    auto f = Make(2);
    EXPECT_TRUE(f.Connected().ok());
    EXPECT_EQ(m_printed, (std::vector<uint64_t>{3, 4, 5}));
    // Events queued while since ran.
    EXPECT_TRUE(f.Received(E(4)).ok());
    EXPECT_TRUE(f.Received(E(5)).ok());
    EXPECT_TRUE(f.Received(E(6)).ok());
    EXPECT_EQ(m_printed, (std::vector<uint64_t>{3, 4, 5, 6}));
    // A reconnect after more blocks came: only those.
    m_daemon.tip = 8;
    EXPECT_TRUE(f.Connected().ok());
    EXPECT_EQ(m_printed, (std::vector<uint64_t>{3, 4, 5, 6, 7, 8}));
}

TEST_F(FollowerTest, AGapBeyondRetentionIsReportedAndFollowingGoesOn) {
    auto f = Make(std::nullopt);
    EXPECT_TRUE(f.Received(E(1)).ok());
    m_daemon.tip = 500;
    auto gap = f.Received(E(500));
    ASSERT_FALSE(gap.ok());
    EXPECT_EQ(gap.error().code, util::Errc::kConflict);
    EXPECT_EQ(m_printed, (std::vector<uint64_t>{1, 500}));
    EXPECT_TRUE(f.Received(E(501)).ok());
    EXPECT_EQ(f.last(), 501u);
}

TEST_F(FollowerTest, ADaemonBehindTheLastSeqIsFollowedAfresh) {
    m_daemon.tip = 3;
    auto f = Make(10);
    ASSERT_FALSE(f.Connected().ok());
    EXPECT_FALSE(f.last().has_value());
    EXPECT_TRUE(f.Received(E(4)).ok());
    EXPECT_EQ(m_printed, (std::vector<uint64_t>{4}));
}
