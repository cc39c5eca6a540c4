// The durable record of a replica's votes (replica.h, Persist): what makes
// "a restart never contradicts a vote sent before the crash" true for the
// tc-pbft daemon. An append-only file, DATADIR/pbft/votes.log:
//
//   header   "TCVOTES\x01"                              8 bytes
//   record   u32be length || checksum (4) || payload     length = payload bytes
//            checksum = first 4 bytes of blake2b-256(payload)
//            payload  = msgpack [1, phase, height, view, digest (bin 32),
//                                prepared (nil | [view, digest, [[index, sig], ...]]),
//                                block (nil | bin, the wire encoding)]
//
// Append() writes records; Sync() makes everything appended durable
// (fdatasync). The daemon appends the Persist records of a step and syncs
// once before it sends anything of that step.
//
// Crash safety: a record is only ever acted on after Sync(), so a torn or
// partial record can only be the last one, never synced, never sent. Open()
// drops such a tail (and says so); a bad record anywhere before the tail is
// corruption, and Open() refuses to go on (kInvalid naming the record and
// its offset): a replica that lost votes it may have sent must not vote.
//
// Compact(height) rewrites the file without the records below height
// (temporary file, fsync, rename, fsync of the directory), so the log stays
// the size of the undecided heights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "replica.h"
#include "util/bytes.h"
#include "util/result.h"

namespace tc::pbft {

inline constexpr size_t kMaxVoteRecordBytes = wire::kMaxEncodedBlockBytes + (1u << 20);

// The payload of one record, and back (kInvalid naming the field).
util::Bytes EncodeVoteRecord(const VoteRecord& record);
util::Result<VoteRecord> DecodeVoteRecord(util::ByteView bytes);

class VoteLog {
  public:
    // Opens (creating it and its directory if missing) the log at path and
    // reads every record. `dropped_tail` is set to the bytes of a torn last
    // record that was cut off.
    static util::Result<VoteLog> Open(const std::string& path, size_t* dropped_tail = nullptr);

    VoteLog(VoteLog&& other) noexcept;
    VoteLog& operator=(VoteLog&& other) noexcept;
    VoteLog(const VoteLog&) = delete;
    VoteLog& operator=(const VoteLog&) = delete;
    ~VoteLog();

    // The records read by Open() and appended since, in order.
    const std::vector<VoteRecord>& records() const { return m_records; }

    // Appends one record (buffered by the kernel until Sync). kIo on a failed
    // write, e.g. a full disk; the file is then cut back to its last record.
    util::Status Append(const VoteRecord& record);
    // Makes every appended record durable. kIo when fdatasync fails.
    util::Status Sync();
    bool dirty() const { return m_dirty; }

    // Drops the records below height (see above).
    util::Status Compact(uint64_t height);

    const std::string& path() const { return m_path; }
    uint64_t size_bytes() const { return m_size; }

  private:
    VoteLog(std::string path, int fd);
    util::Status ReadAll(size_t* dropped_tail);

    std::string m_path;
    int m_fd = -1;
    uint64_t m_size = 0;  // bytes of header and whole records
    bool m_dirty = false;
    std::vector<VoteRecord> m_records;
};

}  // namespace tc::pbft
