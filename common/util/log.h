// The process's log: one line a record on stderr, over spdlog (which stays a
// private dependency of tc-util: this header only needs fmt).
//
//   text  2026-11-24T08:00:00.123Z tc-store info: applied block 5
//   json  {"ts":"2026-11-24T08:00:00.123Z","level":"info","program":"tc-store","msg":"applied block
//   5"}
//
// Times are UTC with milliseconds. Levels: trace, debug, info, warn, error.
// In JSON the message is a JSON string (quotes, backslashes and control
// characters escaped; bytes that are not UTF-8 become U+FFFD), so every line
// parses. In text, control characters are escaped (\n, \t, \xHH) so that a
// message, whatever it carries, stays one line.
//
// Logging works before InitLogging (level info, text, the program name from
// argv[0]) and from any thread. util::RunTool calls InitLogging with the
// parsed --log-level and --log-format; mains do not.
//
//   tc::log::Info("applied block {} ({} txs)", height, count);
//
// The arguments are formatted only when the level is enabled: a disabled
// Debug() costs one atomic load. Caveat: never log secret keys.
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

#include "util/result.h"

namespace tc::util {

// Sets the program name ("tc-store"), the least severe level written
// (trace|debug|info|warn|error) and the format (text|json). Errc::kUsage for
// an unknown level or format, leaving the log as it was. May be called again.
Status InitLogging(std::string_view program, std::string_view level, std::string_view format);

}  // namespace tc::util

namespace tc::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// True if a record at this level would be written.
bool Enabled(Level level);

// Writes one record; the functions below format and call it.
void Write(Level level, std::string_view message);

template <typename... Args>
void Trace(fmt::format_string<Args...> f, Args&&... args) {
    if (Enabled(Level::kTrace)) Write(Level::kTrace, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
    if (Enabled(Level::kDebug)) Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
    if (Enabled(Level::kInfo)) Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
    if (Enabled(Level::kWarn)) Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
    if (Enabled(Level::kError)) Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace tc::log
