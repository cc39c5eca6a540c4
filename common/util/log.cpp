#include "util/log.h"

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace tc::log {
namespace {

constexpr std::string_view kLevelNames[] = {"trace", "debug", "info", "warn", "error"};

spdlog::level::level_enum ToSpdlog(Level level) {
    switch (level) {
        case Level::kTrace:
            return spdlog::level::trace;
        case Level::kDebug:
            return spdlog::level::debug;
        case Level::kInfo:
            return spdlog::level::info;
        case Level::kWarn:
            return spdlog::level::warn;
        case Level::kError:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

std::string_view NameOf(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
            return "trace";
        case spdlog::level::debug:
            return "debug";
        case spdlog::level::info:
            return "info";
        case spdlog::level::warn:
            return "warn";
        default:
            return "error";  // err, critical: we only write err
    }
}

void Append(spdlog::memory_buf_t& dest, std::string_view s) {
    dest.append(s.data(), s.data() + s.size());
}

// s as a JSON string literal, quotes included; bytes that are not UTF-8
// become U+FFFD rather than invalid JSON.
void AppendJsonString(spdlog::memory_buf_t& dest, std::string_view s) {
    Append(dest, nlohmann::json(std::string(s))
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// s with control characters escaped, so that a record stays one line.
void AppendText(spdlog::memory_buf_t& dest, std::string_view s) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '\n':
                Append(dest, "\\n");
                break;
            case '\r':
                Append(dest, "\\r");
                break;
            case '\t':
                Append(dest, "\\t");
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    fmt::format_to(std::back_inserter(dest), "\\x{:02x}", c);
                } else {
                    dest.push_back(ch);
                }
        }
    }
}

// "2026-11-24T08:00:00.123Z"
void AppendTime(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point t) {
    using namespace std::chrono;
    auto since = t.time_since_epoch();
    auto secs = floor<seconds>(since);
    auto ms = duration_cast<milliseconds>(since - secs).count();
    std::time_t tt = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    gmtime_r(&tt, &tm);
    fmt::format_to(std::back_inserter(dest), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ms);
}

// Formats a record as one text or JSON line. spdlog's pattern formatter
// cannot escape the message, hence a formatter of our own.
class LineFormatter final : public spdlog::formatter {
  public:
    LineFormatter(std::string program, bool json) : m_program(std::move(program)), m_json(json) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string_view text(msg.payload.data(), msg.payload.size());
        if (m_json) {
            Append(dest, "{\"ts\":\"");
            AppendTime(dest, msg.time);
            Append(dest, "\",\"level\":\"");
            Append(dest, NameOf(msg.level));
            Append(dest, "\",\"program\":");
            AppendJsonString(dest, m_program);
            Append(dest, ",\"msg\":");
            AppendJsonString(dest, text);
            Append(dest, "}\n");
        } else {
            AppendTime(dest, msg.time);
            dest.push_back(' ');
            AppendText(dest, m_program);
            dest.push_back(' ');
            Append(dest, NameOf(msg.level));
            Append(dest, ": ");
            AppendText(dest, text);
            dest.push_back('\n');
        }
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<LineFormatter>(m_program, m_json);
    }

  private:
    std::string m_program;
    bool m_json;
};

// The one logger: not registered with spdlog (so that it cannot clash with a
// library's), and never destroyed, so that static destructors may log.
spdlog::logger& Logger() {
    static spdlog::logger* const logger = [] {
        auto* l = new spdlog::logger("timecoin", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        l->set_formatter(std::make_unique<LineFormatter>(program_invocation_short_name, false));
        l->set_level(spdlog::level::info);
        return l;
    }();
    return *logger;
}

}  // namespace

bool Enabled(Level level) {
    return Logger().should_log(ToSpdlog(level));
}

void Write(Level level, std::string_view message) {
    // Already formatted: the string_view overload does not format again.
    Logger().log(ToSpdlog(level), spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace tc::log

namespace tc::util {

Status InitLogging(std::string_view program, std::string_view level, std::string_view format) {
    size_t index = 0;
    while (index < std::size(log::kLevelNames) && log::kLevelNames[index] != level) ++index;
    if (index == std::size(log::kLevelNames)) {
        return MakeError(
            Errc::kUsage,
            fmt::format("--log-level {}: not trace, debug, info, warn or error", level));
    }
    if (format != "text" && format != "json") {
        return MakeError(Errc::kUsage, fmt::format("--log-format {}: not text or json", format));
    }
    auto& logger = log::Logger();
    logger.set_formatter(
        std::make_unique<log::LineFormatter>(std::string(program), format == "json"));
    logger.set_level(log::ToSpdlog(static_cast<log::Level>(index)));
    return {};
}

}  // namespace tc::util
