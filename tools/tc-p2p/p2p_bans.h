// Bans that outlive a restart (DESIGN §5: a timed ban). tc-p2p keeps each
// ban in memory for the peer it names and here as well, written whole to
// DATADIR/p2p/bans.json on every change, so a byzantine masternode banned
// for ten minutes is still banned when tc-p2p restarts a minute later.
// Times are Unix milliseconds (the wall clock survives a restart; a steady
// clock does not). The format is in man/tc-p2p.1, FILES.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "crypto/keys.h"
#include "util/result.h"

namespace tc::p2p {

class BanList {
  public:
    // At most max_entries bans are kept: when full, the one that ends first
    // goes.
    BanList(std::string path, size_t max_entries) : m_path(std::move(path)), m_max(max_entries) {}

    // Reads the file: a missing one is no bans; bans over by now_ms are
    // dropped. A file that is not a version-1 ban list is moved aside to
    // PATH.corrupt (nothing is lost), the list starts empty, and the error
    // (kInvalid) says so; kIo when it cannot be read or moved.
    util::Status Load(uint64_t now_ms);

    // Records that key is banned until until_ms for `reason`, replacing an
    // earlier ban of it, and writes the file (kIo when that fails; the ban
    // holds in memory anyway).
    util::Status Add(const crypto::PublicKey& key, uint64_t until_ms, const std::string& reason);
    // Forgets key's ban and writes the file; nothing when it had none.
    util::Status Remove(const crypto::PublicKey& key);

    // How long key's ban has left at now_ms; 0 when none.
    uint64_t RemainingMs(const crypto::PublicKey& key, uint64_t now_ms) const;
    size_t size() const { return m_bans.size(); }
    const std::string& path() const { return m_path; }

  private:
    struct Ban {
        uint64_t until_ms = 0;
        std::string reason;
    };
    util::Status Save() const;
    // Drops the bans that end first until `room` more fit.
    void EvictFor(size_t room);

    std::string m_path;
    size_t m_max;
    std::map<crypto::PublicKey, Ban> m_bans;
};

}  // namespace tc::p2p
