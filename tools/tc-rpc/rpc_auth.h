// Cookie authentication of tc-rpc (man/tc-rpc.1, AUTHENTICATION): at each
// start the daemon writes a fresh secret to DATADIR/rpc.cookie (mode 0600)
// as "__cookie__:" + 64 hex digits; a client sends it as HTTP Basic
// credentials, user "__cookie__", password the hex. Whoever can read the
// file can use the node: the file mode is the access control.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace tc::rpc {

inline constexpr std::string_view kCookieUser = "__cookie__";

// DATADIR/rpc.cookie and DATADIR/run/rpc.url.
std::string CookiePath(const std::string& datadir);
std::string UrlPath(const std::string& datadir);

// 32 random bytes (libsodium) as 64 lowercase hex digits. InitSodium first.
std::string NewCookieSecret();
// "__cookie__:SECRET".
std::string CookieText(std::string_view secret);
// The secret of a cookie file's text: "__cookie__:" and 64 hex digits, a
// trailing newline allowed. kInvalid otherwise.
util::Result<std::string> ParseCookie(std::string_view text);
// ParseCookie of the file at `path`; kNotFound "cookie PATH: cannot read it
// (is tc-rpc run running?)" when it cannot be read.
util::Result<std::string> ReadCookie(const std::string& path);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; kInvalid on anything else.
util::Result<std::string> Base64Decode(std::string_view text);

// "Basic " + base64("__cookie__:" + secret): the Authorization header.
std::string BasicAuthHeader(std::string_view secret);
// true when `header` (the Authorization header's value) carries the user
// __cookie__ and `secret`. The secret is compared in constant time.
bool CheckBasicAuth(std::string_view header, std::string_view secret);

}  // namespace tc::rpc
