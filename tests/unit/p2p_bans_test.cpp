// tc-p2p's ban list (tools/tc-p2p/p2p_bans.h): bans written whole, read back
// after a restart with what they have left, a bad file moved aside.
#include "p2p_bans.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"
#include "test_chain.h"

namespace tc::p2p {
namespace {

class BanListTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(crypto::InitSodium().ok());
        a = test::Key(1).public_key();
        b = test::Key(2).public_key();
        c = test::Key(3).public_key();
    }
    std::string Path() const { return m_dir.path() + "/p2p/bans.json"; }
    void Write(const std::string& text) {
        std::filesystem::create_directories(m_dir.path() + "/p2p");
        std::ofstream(Path()) << text;
    }
    test::TempDir m_dir{"p2p-bans"};
    crypto::PublicKey a{}, b{}, c{};  // after InitSodium
};

TEST_F(BanListTest, BansOutliveARestartWithTheTimeTheyHaveLeft) {
    BanList bans(Path(), 10);
    ASSERT_TRUE(bans.Load(1000).ok());  // no file yet: no bans
    EXPECT_EQ(bans.size(), 0u);
    ASSERT_TRUE(bans.Add(a, 61'000, "malformed frame").ok());
    ASSERT_TRUE(bans.Add(b, 5'000, "flood").ok());
    struct stat st {};
    ASSERT_EQ(::stat(Path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    BanList later(Path(), 10);
    ASSERT_TRUE(later.Load(6'000).ok());  // b's ban is over by then
    EXPECT_EQ(later.size(), 1u);
    EXPECT_EQ(later.RemainingMs(a, 6'000), 55'000u);
    EXPECT_EQ(later.RemainingMs(b, 6'000), 0u);
    EXPECT_EQ(later.RemainingMs(c, 6'000), 0u);
    ASSERT_TRUE(later.Remove(a).ok());  // lifted by hand
    ASSERT_TRUE(later.Remove(c).ok());  // none: nothing to do

    BanList again(Path(), 10);
    ASSERT_TRUE(again.Load(6'000).ok());
    EXPECT_EQ(again.size(), 0u);
}

TEST_F(BanListTest, TheBansThatEndFirstGoWhenFull) {
    BanList bans(Path(), 2);
    ASSERT_TRUE(bans.Load(0).ok());
    ASSERT_TRUE(bans.Add(a, 3'000, "").ok());
    ASSERT_TRUE(bans.Add(b, 1'000, "").ok());
    ASSERT_TRUE(bans.Add(c, 2'000, "").ok());  // b ends first: it goes
    EXPECT_EQ(bans.size(), 2u);
    EXPECT_EQ(bans.RemainingMs(b, 0), 0u);
    EXPECT_EQ(bans.RemainingMs(c, 0), 2'000u);
    ASSERT_TRUE(bans.Add(a, 9'000, "again").ok());  // a replaced, nothing evicted
    EXPECT_EQ(bans.RemainingMs(c, 0), 2'000u);
    EXPECT_EQ(bans.RemainingMs(a, 0), 9'000u);
}

TEST_F(BanListTest, AFileFarTooLargeIsNotRead) {
    Write(R"({"version":1,"bans":[]})" + std::string(9u << 20, ' '));
    BanList bans(Path(), 10);
    auto loaded = bans.Load(0);
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message.find("larger than 8388608 bytes"), std::string::npos)
        << loaded.error().message;
    EXPECT_TRUE(std::filesystem::exists(Path() + ".corrupt"));
}

TEST_F(BanListTest, AFileThatIsNotABanListIsMovedAsideNotLost) {
    for (const std::string text :
         {"{not json", "[]", R"({"version":2,"bans":[]})", R"({"version":1})",
          R"({"version":1,"bans":[{"key":"zz","until_unix_ms":5}]})",
          R"({"version":1,"bans":[{"key":"00","until_unix_ms":-5}]})"}) {
        Write(text);
        BanList bans(Path(), 10);
        auto loaded = bans.Load(0);
        ASSERT_FALSE(loaded.ok()) << text;
        EXPECT_EQ(loaded.error().code, util::Errc::kInvalid);
        EXPECT_NE(loaded.error().message.find("moved to " + Path() + ".corrupt"), std::string::npos)
            << loaded.error().message;
        EXPECT_EQ(bans.size(), 0u);
        EXPECT_FALSE(std::filesystem::exists(Path()));
        std::ifstream aside(Path() + ".corrupt");
        std::string kept((std::istreambuf_iterator<char>(aside)), {});
        EXPECT_EQ(kept, text);
    }
}

}  // namespace
}  // namespace tc::p2p
