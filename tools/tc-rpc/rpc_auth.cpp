#include "rpc_auth.h"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "util/bytes.h"

namespace tc::rpc {

using util::Errc;
using util::MakeError;

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
    const size_t at = kAlphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool IsLowerHex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

std::string CookiePath(const std::string& datadir) {
    return datadir + "/rpc.cookie";
}

std::string UrlPath(const std::string& datadir) {
    return datadir + "/run/rpc.url";
}

std::string NewCookieSecret() {
    std::array<uint8_t, 32> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::string hex = util::ToHex(bytes);
    sodium_memzero(bytes.data(), bytes.size());
    return hex;
}

std::string CookieText(std::string_view secret) {
    return std::string(kCookieUser) + ":" + std::string(secret);
}

util::Result<std::string> ParseCookie(std::string_view text) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    const std::string prefix = std::string(kCookieUser) + ":";
    if (text.substr(0, prefix.size()) != prefix) {
        return MakeError(Errc::kInvalid, "cookie: does not start with " + prefix);
    }
    std::string_view secret = text.substr(prefix.size());
    if (secret.size() != 64 || !IsLowerHex(secret)) {
        return MakeError(Errc::kInvalid,
                         "cookie: expected 64 lowercase hex digits after " + prefix);
    }
    return std::string(secret);
}

util::Result<std::string> ReadCookie(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return MakeError(Errc::kNotFound,
                         "cookie " + path + ": cannot read it (is tc-rpc run running?)");
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto secret = ParseCookie(text.str());
    if (!secret) return std::move(secret).error().In("cookie " + path);
    return secret;
}

std::string Base64Encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v =
            (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
    }
    const size_t rest = bytes.size() - i;
    if (rest == 1) {
        const uint32_t v = uint8_t(bytes[i]) << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

util::Result<std::string> Base64Decode(std::string_view text) {
    if (text.size() % 4 != 0)
        return MakeError(Errc::kInvalid, "base64: length not a multiple of 4");
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + k];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad > 0) return MakeError(Errc::kInvalid, "base64: data after padding");
            v[k] = Base64Value(c);
            if (v[k] < 0) return MakeError(Errc::kInvalid, "base64: bad character");
        }
        const uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

std::string BasicAuthHeader(std::string_view secret) {
    return "Basic " + Base64Encode(CookieText(secret));
}

bool CheckBasicAuth(std::string_view header, std::string_view secret) {
    constexpr std::string_view kScheme = "Basic ";
    if (header.substr(0, kScheme.size()) != kScheme) return false;
    auto decoded = Base64Decode(header.substr(kScheme.size()));
    if (!decoded) return false;
    const std::string expected = CookieText(secret);
    if (decoded->size() != expected.size()) return false;
    return sodium_memcmp(decoded->data(), expected.data(), expected.size()) == 0;
}

}  // namespace tc::rpc
