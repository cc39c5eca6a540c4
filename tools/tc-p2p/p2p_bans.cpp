#include "p2p_bans.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/bytes.h"
#include "util/file.h"

namespace tc::p2p {

using util::Errc;
using util::MakeError;

namespace {

constexpr int kVersion = 1;
constexpr uint64_t kMaxFileBytes = 8u << 20;

// Key -> (until, reason), as read.
using Parsed = std::map<crypto::PublicKey, std::pair<uint64_t, std::string>>;

// The bans of the file's text; kInvalid naming what is wrong.
util::Result<Parsed> Parse(const std::string& text) {
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return MakeError(Errc::kInvalid, "not JSON");
    if (!doc.contains("version") || doc["version"] != kVersion) {
        return MakeError(Errc::kInvalid, "not version " + std::to_string(kVersion));
    }
    if (!doc.contains("bans") || !doc["bans"].is_array()) {
        return MakeError(Errc::kInvalid, "no bans array");
    }
    Parsed out;
    for (size_t i = 0; i < doc["bans"].size(); ++i) {
        const auto& b = doc["bans"][i];
        const std::string at = "bans[" + std::to_string(i) + "]";
        if (!b.is_object() || !b.contains("key") || !b["key"].is_string() ||
            !b.contains("until_unix_ms") || !b["until_unix_ms"].is_number_unsigned() ||
            (b.contains("reason") && !b["reason"].is_string())) {
            return MakeError(Errc::kInvalid, at + ": expected key, until_unix_ms and reason");
        }
        auto key = util::FromHexFixed<32>(b["key"].get<std::string>());
        if (!key) return MakeError(Errc::kInvalid, at + ".key: " + key.error().message);
        out[*key] = {b["until_unix_ms"].get<uint64_t>(), b.value("reason", "")};
    }
    return out;
}

// The bans of the open file at path; kInvalid for one far larger than
// kMaxSavedBans entries could make, or one that does not parse.
util::Result<Parsed> Read(const std::string& path, std::ifstream& in) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return MakeError(Errc::kInvalid, "cannot tell its size: " + ec.message());
    if (size > kMaxFileBytes) {
        return MakeError(Errc::kInvalid, "larger than " + std::to_string(kMaxFileBytes) + " bytes");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return Parse(text.str());
}

}  // namespace

util::Status BanList::Load(uint64_t now_ms) {
    m_bans.clear();
    std::ifstream in(m_path);
    if (!in) {
        if (!std::filesystem::exists(m_path)) return {};
        return MakeError(Errc::kIo, m_path + ": cannot read it");
    }
    auto parsed = Read(m_path, in);
    if (!parsed) {
        const std::string aside = m_path + ".corrupt";
        if (std::rename(m_path.c_str(), aside.c_str()) != 0) {
            return MakeError(Errc::kIo, m_path + ": " + parsed.error().message +
                                            ", and it cannot be moved to " + aside);
        }
        return MakeError(Errc::kInvalid, m_path + ": " + parsed.error().message + "; moved to " +
                                             aside + ", starting with no bans");
    }
    for (auto& [key, ban] : *parsed) {
        if (ban.first > now_ms) m_bans[key] = Ban{ban.first, std::move(ban.second)};
    }
    EvictFor(0);
    return {};
}

util::Status BanList::Add(const crypto::PublicKey& key, uint64_t until_ms,
                          const std::string& reason) {
    if (!m_bans.count(key)) EvictFor(1);
    m_bans[key] = Ban{until_ms, reason};
    return Save();
}

util::Status BanList::Remove(const crypto::PublicKey& key) {
    if (m_bans.erase(key) == 0) return {};
    return Save();
}

uint64_t BanList::RemainingMs(const crypto::PublicKey& key, uint64_t now_ms) const {
    auto it = m_bans.find(key);
    if (it == m_bans.end() || it->second.until_ms <= now_ms) return 0;
    return it->second.until_ms - now_ms;
}

void BanList::EvictFor(size_t room) {
    while (!m_bans.empty() && m_bans.size() + room > m_max) {
        m_bans.erase(std::min_element(
            m_bans.begin(), m_bans.end(),
            [](const auto& a, const auto& b) { return a.second.until_ms < b.second.until_ms; }));
    }
}

util::Status BanList::Save() const {
    nlohmann::json bans = nlohmann::json::array();
    for (const auto& [key, ban] : m_bans) {
        bans.push_back(
            {{"key", util::ToHex(key)}, {"until_unix_ms", ban.until_ms}, {"reason", ban.reason}});
    }
    const nlohmann::json doc = {{"version", kVersion}, {"bans", bans}};
    std::error_code ec;
    const auto dir = std::filesystem::path(m_path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return MakeError(Errc::kIo, dir.string() + ": " + ec.message());
    return util::WriteFileAtomic(m_path, doc.dump(1) + "\n", 0600);
}

}  // namespace tc::p2p
