// The log's two line formats, level filtering, escaping, and its behaviour
// before InitLogging.
#include "util/log.h"

#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using tc::util::Errc;

namespace {

// True for "2026-11-24T08:00:00.123Z": UTC, milliseconds. (No std::regex:
// GCC 12 warns inside it under -O2 with sanitizers, and warnings are errors.)
bool IsStamp(std::string_view s) {
    constexpr std::string_view kShape = "0000-00-00T00:00:00.000Z";
    if (s.size() != kShape.size()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        bool ok = kShape[i] == '0' ? (s[i] >= '0' && s[i] <= '9') : s[i] == kShape[i];
        if (!ok) return false;
    }
    return true;
}
constexpr size_t kStampSize = 24;

// The whole of stderr: one info line, no debug line, the program named after
// the executable.
constexpr const char* kPreInitLine =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z log_test info: shown 1\n$";

std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Seconds between a "2026-11-24T08:00:00.123Z" stamp, read as UTC, and now.
long SecondsFromNow(const std::string& stamp) {
    std::tm tm{};
    if (strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 1'000'000;
    auto then = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto diff = std::chrono::system_clock::now() - then;
    return std::labs(
        static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(diff).count()));
}

// Runs body with stderr captured; returns what it wrote.
template <typename F>
std::string Captured(F body) {
    testing::internal::CaptureStderr();
    body();
    return testing::internal::GetCapturedStderr();
}

TEST(Log, WorksBeforeInitWithInfoAndText) {
    // In a fresh process, so that no other test has called InitLogging.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            tc::log::Debug("hidden");
            tc::log::Info("shown {}", 1);
            std::exit(0);
        },
        testing::ExitedWithCode(0), kPreInitLine);
}

TEST(Log, TextLineIsUtcTimeProgramLevelMessage) {
    // Local time far from UTC, so that a local-time stamp would show.
    const char* tz = std::getenv("TZ");
    std::string saved = tz ? tz : "";
    setenv("TZ", "XYZ-14", 1);  // POSIX form, UTC+14, needs no tzdata
    tzset();

    ASSERT_TRUE(tc::util::InitLogging("tc-store", "info", "text").ok());
    std::string out = Captured([] {
        tc::log::Info("applied block {} ({} txs)", 5, 2);
        tc::log::Debug("not at info");
    });

    if (tz) {
        setenv("TZ", saved.c_str(), 1);
    } else {
        unsetenv("TZ");
    }
    tzset();

    ASSERT_GT(out.size(), kStampSize) << out;
    std::string stamp = out.substr(0, kStampSize);
    EXPECT_TRUE(IsStamp(stamp)) << out;
    EXPECT_EQ(out.substr(kStampSize), " tc-store info: applied block 5 (2 txs)\n");
    EXPECT_LT(SecondsFromNow(stamp), 60) << stamp;
}

TEST(Log, TextEscapesControlCharactersToStayOneLine) {
    ASSERT_TRUE(tc::util::InitLogging("tc-p2p", "info", "text").ok());
    std::string out = Captured([] { tc::log::Warn("peer said {}", "a\nb\tc\x01"); });
    ASSERT_EQ(Lines(out).size(), 1u) << out;
    ASSERT_GT(out.size(), kStampSize) << out;
    EXPECT_TRUE(IsStamp(out.substr(0, kStampSize))) << out;
    EXPECT_EQ(out.substr(kStampSize), " tc-p2p warn: peer said a\\nb\\tc\\x01\n");
}

TEST(Log, LevelFiltersLessSevereRecords) {
    ASSERT_TRUE(tc::util::InitLogging("tc-pool", "warn", "text").ok());
    EXPECT_FALSE(tc::log::Enabled(tc::log::Level::kInfo));
    EXPECT_TRUE(tc::log::Enabled(tc::log::Level::kWarn));
    std::string out = Captured([] {
        tc::log::Trace("t");
        tc::log::Debug("d");
        tc::log::Info("i");
        tc::log::Warn("w");
        tc::log::Error("e");
    });
    auto lines = Lines(out);
    ASSERT_EQ(lines.size(), 2u) << out;
    EXPECT_NE(lines[0].find(" tc-pool warn: w"), std::string::npos) << out;
    EXPECT_NE(lines[1].find(" tc-pool error: e"), std::string::npos) << out;

    ASSERT_TRUE(tc::util::InitLogging("tc-pool", "trace", "text").ok());
    out = Captured([] { tc::log::Trace("t"); });
    EXPECT_NE(out.find(" tc-pool trace: t\n"), std::string::npos) << out;
}

TEST(Log, JsonLinesParseAndCarryTheExactMessage) {
    ASSERT_TRUE(tc::util::InitLogging("tc-rpc", "trace", "json").ok());
    const std::vector<std::string> messages = {
        "plain",
        "quote \" backslash \\ slash /",
        "newline\nreturn\rtab\tbell\x07 nul-free \x01\x1f del\x7f",
        "utf-8: caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",
        "{} braces {0} are data",
    };
    std::string out = Captured([&] {
        tc::log::Trace("{}", messages[0]);
        tc::log::Debug("{}", messages[1]);
        tc::log::Info("{}", messages[2]);
        tc::log::Warn("{}", messages[3]);
        tc::log::Error("{}", messages[4]);
    });
    auto lines = Lines(out);
    ASSERT_EQ(lines.size(), messages.size()) << out;
    const char* levels[] = {"trace", "debug", "info", "warn", "error"};
    for (size_t i = 0; i < lines.size(); ++i) {
        SCOPED_TRACE(lines[i]);
        nlohmann::json j;
        ASSERT_NO_THROW(j = nlohmann::json::parse(lines[i]));
        ASSERT_TRUE(j.is_object());
        EXPECT_EQ(j.size(), 4u);
        EXPECT_EQ(j.at("level"), levels[i]);
        EXPECT_EQ(j.at("program"), "tc-rpc");
        EXPECT_EQ(j.at("msg"), messages[i]);
        std::string ts = j.at("ts");
        EXPECT_TRUE(IsStamp(ts)) << ts;
        EXPECT_LT(SecondsFromNow(ts), 60);
    }
    // Key order is part of the format: ts, level, program, msg.
    EXPECT_EQ(lines[0].rfind("{\"ts\":\"", 0), 0u);
    EXPECT_NE(lines[0].find("\",\"level\":\"trace\",\"program\":\"tc-rpc\",\"msg\":\"plain\"}"),
              std::string::npos);
}

TEST(Log, JsonReplacesBytesThatAreNotUtf8) {
    ASSERT_TRUE(tc::util::InitLogging("tc-p2p", "info", "json").ok());
    // A stray continuation byte, an overlong "/", a surrogate, a truncated
    // sequence at the end.
    std::string out = Captured([] { tc::log::Info("a\x80 b\xc0\xaf c\xed\xa0\x80 d\xe2\x82"); });
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(out)) << out;
    // One U+FFFD per maximal ill-formed subpart (Unicode's recommended
    // practice): C0 and AF are each invalid alone, as are ED, A0 and 80 (a
    // surrogate), while the truncated E2 82 is one subpart.
    const std::string r = "\xef\xbf\xbd";  // U+FFFD
    EXPECT_EQ(j.at("msg"), "a" + r + " b" + r + r + " c" + r + r + r + " d" + r);
}

TEST(Log, UnknownLevelOrFormatIsAUsageErrorAndChangesNothing) {
    ASSERT_TRUE(tc::util::InitLogging("tc-tx", "error", "text").ok());
    auto level = tc::util::InitLogging("tc-tx", "loud", "text");
    ASSERT_FALSE(level.ok());
    EXPECT_EQ(level.error().code, Errc::kUsage);
    EXPECT_NE(level.error().message.find("loud"), std::string::npos);
    auto format = tc::util::InitLogging("tc-tx", "info", "xml");
    ASSERT_FALSE(format.ok());
    EXPECT_EQ(format.error().code, Errc::kUsage);
    EXPECT_NE(format.error().message.find("xml"), std::string::npos);
    // Still error and text.
    EXPECT_FALSE(tc::log::Enabled(tc::log::Level::kWarn));
    std::string out = Captured([] { tc::log::Error("still text"); });
    EXPECT_NE(out.find(" tc-tx error: still text\n"), std::string::npos) << out;
}

}  // namespace
