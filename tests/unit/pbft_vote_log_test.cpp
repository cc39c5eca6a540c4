// The durable vote log of the tc-pbft daemon (vote_log.h): records survive a
// reopen, a torn last record is dropped (it was never synced, so never
// sent), corruption before the tail refuses to open, compaction keeps the
// undecided heights.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"
#include "vote_log.h"

namespace tc::pbft {
namespace {

VoteRecord Record(uint64_t height, uint64_t view, uint8_t fill, bool with_cert = false) {
    VoteRecord r;
    r.phase = with_cert ? wire::SignedPhase::kCommit : wire::SignedPhase::kPrepare;
    r.height = height;
    r.view = view;
    r.digest.fill(fill);
    if (with_cert) {
        wire::PreparedCert cert{view, r.digest, {}};
        for (uint32_t i = 0; i < 3; ++i) {
            crypto::Signature sig{};
            sig.fill(static_cast<uint8_t>(i + 1));
            cert.sigs.push_back({i, sig});
        }
        r.prepared = cert;
        wire::Block block;
        block.header.height = height;
        block.header.view = view;
        block.header.tx_root = wire::TxRoot(block.txs);
        r.block = block;
    }
    return r;
}

uintmax_t FileSize(const std::string& path) {
    return std::filesystem::file_size(path);
}

TEST(VoteLog, RecordsSurviveAReopen) {
    test::TempDir dir;
    std::string path = dir.path() + "/pbft/votes.log";
    {
        auto log = VoteLog::Open(path);
        ASSERT_TRUE(log.ok()) << log.error().message;
        EXPECT_TRUE(log->records().empty());
        ASSERT_TRUE(log->Append(Record(1, 0, 0xaa)).ok());
        ASSERT_TRUE(log->Append(Record(1, 0, 0xaa, true)).ok());
        EXPECT_TRUE(log->dirty());
        ASSERT_TRUE(log->Sync().ok());
        EXPECT_FALSE(log->dirty());
    }
    auto log = VoteLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.error().message;
    ASSERT_EQ(log->records().size(), 2u);
    EXPECT_EQ(log->records()[0], Record(1, 0, 0xaa));
    EXPECT_EQ(log->records()[1], Record(1, 0, 0xaa, true));
    // Appending after a reopen goes after the old records.
    ASSERT_TRUE(log->Append(Record(2, 1, 0xbb)).ok());
    ASSERT_TRUE(log->Sync().ok());
    auto again = VoteLog::Open(path);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->records().size(), 3u);
    EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(VoteLog, ATornLastRecordIsDroppedAtEveryCut) {
    test::TempDir dir;
    std::string path = dir.path() + "/votes.log";
    uintmax_t one = 0, two = 0;
    {
        auto log = VoteLog::Open(path);
        ASSERT_TRUE(log.ok());
        ASSERT_TRUE(log->Append(Record(5, 0, 1)).ok());
        ASSERT_TRUE(log->Sync().ok());
        one = FileSize(path);
        ASSERT_TRUE(log->Append(Record(5, 0, 1, true)).ok());
        ASSERT_TRUE(log->Sync().ok());
        two = FileSize(path);
    }
    std::ifstream in(path, std::ios::binary);
    std::string full((std::istreambuf_iterator<char>(in)), {});
    for (uintmax_t cut = one + 1; cut < two; ++cut) {
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out.write(full.data(), static_cast<std::streamsize>(cut));
        }
        size_t dropped = 0;
        auto log = VoteLog::Open(path, &dropped);
        ASSERT_TRUE(log.ok()) << "cut at " << cut << ": " << log.error().message;
        ASSERT_EQ(log->records().size(), 1u) << cut;
        EXPECT_EQ(dropped, cut - one) << cut;
        EXPECT_EQ(FileSize(path), one) << "the torn tail is cut off";
    }
}

TEST(VoteLog, CorruptionBeforeTheTailRefusesToOpen) {
    test::TempDir dir;
    std::string path = dir.path() + "/votes.log";
    uintmax_t first_end = 0;
    {
        auto log = VoteLog::Open(path);
        ASSERT_TRUE(log.ok());
        ASSERT_TRUE(log->Append(Record(1, 0, 1)).ok());
        first_end = log->size_bytes();
        ASSERT_TRUE(log->Append(Record(1, 0, 1, true)).ok());
        ASSERT_TRUE(log->Sync().ok());
    }
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(first_end - 3));
        f.put('\x5a');
    }
    auto log = VoteLog::Open(path);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.error().code, util::Errc::kInvalid);
    EXPECT_NE(log.error().message.find("record 0 at offset 8: checksum mismatch"),
              std::string::npos)
        << log.error().message;
}

TEST(VoteLog, AForeignFileIsRefused) {
    test::TempDir dir;
    std::string path = dir.path() + "/votes.log";
    std::ofstream(path) << "not a vote log at all";
    auto log = VoteLog::Open(path);
    ASSERT_FALSE(log.ok());
    EXPECT_NE(log.error().message.find("bad magic"), std::string::npos) << log.error().message;
}

TEST(VoteLog, CompactKeepsTheUndecidedHeights) {
    test::TempDir dir;
    std::string path = dir.path() + "/votes.log";
    auto log = VoteLog::Open(path);
    ASSERT_TRUE(log.ok());
    for (uint64_t h = 1; h <= 10; ++h)
        ASSERT_TRUE(log->Append(Record(h, 0, uint8_t(h), true)).ok());
    uintmax_t before = log->size_bytes();
    ASSERT_TRUE(log->Compact(9).ok());
    EXPECT_LT(log->size_bytes(), before);
    EXPECT_EQ(FileSize(path), log->size_bytes());
    ASSERT_EQ(log->records().size(), 2u);
    ASSERT_TRUE(log->Append(Record(11, 2, 11)).ok());
    ASSERT_TRUE(log->Sync().ok());
    auto again = VoteLog::Open(path);
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_EQ(again->records().size(), 3u);
    EXPECT_EQ(again->records()[0].height, 9u);
    EXPECT_EQ(again->records()[2], Record(11, 2, 11));
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(VoteRecordCodec, RejectsWhatItDidNotWrite) {
    util::Bytes good = EncodeVoteRecord(Record(3, 1, 7, true));
    auto round = DecodeVoteRecord(good);
    ASSERT_TRUE(round.ok()) << round.error().message;
    EXPECT_EQ(*round, Record(3, 1, 7, true));
    util::Bytes trailing = good;
    trailing.push_back(0);
    EXPECT_FALSE(DecodeVoteRecord(trailing).ok());
    util::Bytes version = good;
    version[1] = 2;  // [fixarray 7, version ...]
    auto bad = DecodeVoteRecord(version);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("unknown version"), std::string::npos);
    EXPECT_FALSE(DecodeVoteRecord(util::Bytes{0x93, 1, 2}).ok());
}

}  // namespace
}  // namespace tc::pbft
