#include "vote_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <msgpack.hpp>

#include "crypto/hash.h"
#include "util/log.h"
#include "wire/codec.h"

namespace tc::pbft {

using util::Errc;
using util::MakeError;

namespace {

constexpr char kMagic[8] = {'T', 'C', 'V', 'O', 'T', 'E', 'S', '\x01'};
constexpr size_t kRecordHeader = 8;  // length (4) + checksum (4)

std::string ErrnoText(int err) {
    return std::strerror(err);
}

void PutU32(uint8_t* out, uint32_t v) {
    out[0] = static_cast<uint8_t>(v >> 24);
    out[1] = static_cast<uint8_t>(v >> 16);
    out[2] = static_cast<uint8_t>(v >> 8);
    out[3] = static_cast<uint8_t>(v);
}

uint32_t GetU32(const uint8_t* in) {
    return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | in[3];
}

std::array<uint8_t, 4> Checksum(util::ByteView payload) {
    auto h = crypto::Blake2b256(payload);
    return {h[0], h[1], h[2], h[3]};
}

// Writes all of data at the end of fd; kIo with errno's text.
util::Status WriteAll(int fd, const std::string& path, const uint8_t* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return MakeError(Errc::kIo, path + ": write: " + ErrnoText(errno));
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return {};
}

util::Status SyncFd(int fd, const std::string& path) {
    if (::fdatasync(fd) != 0)
        return MakeError(Errc::kIo, path + ": fdatasync: " + ErrnoText(errno));
    return {};
}

util::Status SyncDir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return MakeError(Errc::kIo, dir + ": " + ErrnoText(errno));
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return MakeError(Errc::kIo, dir + ": fsync: " + ErrnoText(err));
    return {};
}

util::Bytes Frame(const VoteRecord& record) {
    util::Bytes payload = EncodeVoteRecord(record);
    util::Bytes out(kRecordHeader + payload.size());
    PutU32(out.data(), static_cast<uint32_t>(payload.size()));
    auto sum = Checksum(payload);
    std::memcpy(out.data() + 4, sum.data(), 4);
    std::memcpy(out.data() + kRecordHeader, payload.data(), payload.size());
    return out;
}

util::Error Bad(const std::string& field, const std::string& why) {
    return MakeError(Errc::kInvalid, "vote record: " + field + ": " + why);
}

template <size_t N>
util::Result<util::ByteArray<N>> BinField(const msgpack::object& o, const char* field) {
    if (o.type != msgpack::type::BIN || o.via.bin.size != N) {
        return Bad(field, "not " + std::to_string(N) + " bytes");
    }
    util::ByteArray<N> out;
    std::memcpy(out.data(), o.via.bin.ptr, N);
    return out;
}

util::Result<uint64_t> UintField(const msgpack::object& o, const char* field) {
    if (o.type != msgpack::type::POSITIVE_INTEGER) return Bad(field, "not an unsigned integer");
    return o.via.u64;
}

}  // namespace

util::Bytes EncodeVoteRecord(const VoteRecord& r) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> p(buf);
    auto bin = [&](util::ByteView b) {
        p.pack_bin(static_cast<uint32_t>(b.size()));
        p.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
    };
    p.pack_array(7);
    p.pack(uint64_t{1});
    p.pack(static_cast<uint64_t>(r.phase));
    p.pack(r.height);
    p.pack(r.view);
    bin(r.digest);
    if (r.prepared) {
        p.pack_array(3);
        p.pack(r.prepared->view);
        bin(r.prepared->digest);
        p.pack_array(static_cast<uint32_t>(r.prepared->sigs.size()));
        for (const auto& s : r.prepared->sigs) {
            p.pack_array(2);
            p.pack(uint64_t{s.index});
            bin(s.signature);
        }
    } else {
        p.pack_nil();
    }
    if (r.block) {
        bin(wire::Encode(*r.block));
    } else {
        p.pack_nil();
    }
    return util::Bytes(reinterpret_cast<const uint8_t*>(buf.data()),
                       reinterpret_cast<const uint8_t*>(buf.data()) + buf.size());
}

util::Result<VoteRecord> DecodeVoteRecord(util::ByteView bytes) {
    try {
        size_t offset = 0;
        msgpack::object_handle oh =
            msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset);
        if (offset != bytes.size()) return Bad("record", "trailing bytes");
        const msgpack::object& o = oh.get();
        if (o.type != msgpack::type::ARRAY || o.via.array.size != 7) {
            return Bad("record", "not an array of 7");
        }
        const msgpack::object* f = o.via.array.ptr;
        TC_TRY(version, UintField(f[0], "version"));
        if (version != 1) return Bad("version", "unknown version " + std::to_string(version));
        TC_TRY(phase, UintField(f[1], "phase"));
        if (phase < 1 || phase > 5) return Bad("phase", "unknown phase " + std::to_string(phase));
        VoteRecord r;
        r.phase = static_cast<wire::SignedPhase>(phase);
        TC_TRY(height, UintField(f[2], "height"));
        TC_TRY(view, UintField(f[3], "view"));
        TC_TRY(digest, BinField<32>(f[4], "digest"));
        r.height = height;
        r.view = view;
        r.digest = digest;
        if (f[5].type != msgpack::type::NIL) {
            const msgpack::object& pc = f[5];
            if (pc.type != msgpack::type::ARRAY || pc.via.array.size != 3) {
                return Bad("prepared", "not an array of 3");
            }
            wire::PreparedCert cert;
            TC_TRY(pview, UintField(pc.via.array.ptr[0], "prepared.view"));
            TC_TRY(pdigest, BinField<32>(pc.via.array.ptr[1], "prepared.digest"));
            cert.view = pview;
            cert.digest = pdigest;
            const msgpack::object& sigs = pc.via.array.ptr[2];
            if (sigs.type != msgpack::type::ARRAY) return Bad("prepared.sigs", "not an array");
            for (uint32_t i = 0; i < sigs.via.array.size; ++i) {
                const msgpack::object& s = sigs.via.array.ptr[i];
                if (s.type != msgpack::type::ARRAY || s.via.array.size != 2) {
                    return Bad("prepared.sigs", "entry not an array of 2");
                }
                TC_TRY(index, UintField(s.via.array.ptr[0], "prepared.sigs.index"));
                TC_TRY(sig, BinField<64>(s.via.array.ptr[1], "prepared.sigs.signature"));
                if (index > UINT32_MAX) return Bad("prepared.sigs.index", "above 2^32");
                cert.sigs.push_back({static_cast<uint32_t>(index), sig});
            }
            r.prepared = std::move(cert);
        }
        if (f[6].type != msgpack::type::NIL) {
            if (f[6].type != msgpack::type::BIN) return Bad("block", "not bin");
            auto block = wire::DecodeBlock(
                {reinterpret_cast<const uint8_t*>(f[6].via.bin.ptr), f[6].via.bin.size});
            if (!block) return Bad("block", block.error().message);
            r.block = std::move(block).value();
        }
        return r;
    } catch (const std::exception& e) {
        return Bad("record", e.what());
    }
}

VoteLog::VoteLog(std::string path, int fd) : m_path(std::move(path)), m_fd(fd) {}

VoteLog::VoteLog(VoteLog&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_fd(std::exchange(other.m_fd, -1)),
      m_size(other.m_size),
      m_dirty(other.m_dirty),
      m_records(std::move(other.m_records)) {}

VoteLog& VoteLog::operator=(VoteLog&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_path = std::move(other.m_path);
        m_fd = std::exchange(other.m_fd, -1);
        m_size = other.m_size;
        m_dirty = other.m_dirty;
        m_records = std::move(other.m_records);
    }
    return *this;
}

VoteLog::~VoteLog() {
    if (m_fd >= 0) ::close(m_fd);
}

util::Result<VoteLog> VoteLog::Open(const std::string& path, size_t* dropped_tail) {
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) {
        std::filesystem::create_directories(dir, ec);
        if (ec) return MakeError(Errc::kIo, dir.string() + ": " + ec.message());
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return MakeError(Errc::kIo, path + ": " + ErrnoText(errno));
    VoteLog log(path, fd);
    TC_CHECK(log.ReadAll(dropped_tail));
    return log;
}

util::Status VoteLog::ReadAll(size_t* dropped_tail) {
    if (dropped_tail) *dropped_tail = 0;
    struct stat st {};
    if (::fstat(m_fd, &st) != 0) return MakeError(Errc::kIo, m_path + ": " + ErrnoText(errno));
    const uint64_t file_size = static_cast<uint64_t>(st.st_size);
    if (file_size == 0) {
        TC_CHECK(WriteAll(m_fd, m_path, reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic));
        TC_CHECK(SyncFd(m_fd, m_path));
        m_size = sizeof kMagic;
        return {};
    }
    util::Bytes data(file_size);
    size_t got = 0;
    while (got < data.size()) {
        ssize_t n = ::pread(m_fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return MakeError(Errc::kIo, m_path + ": read: " + ErrnoText(errno));
        got += static_cast<size_t>(n);
    }
    if (data.size() < sizeof kMagic || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) {
        return MakeError(Errc::kInvalid, m_path + ": not a TimeCoin vote log (bad magic)");
    }
    size_t offset = sizeof kMagic;
    size_t index = 0;
    while (offset < data.size()) {
        const size_t left = data.size() - offset;
        const std::string where =
            m_path + ": record " + std::to_string(index) + " at offset " + std::to_string(offset);
        uint32_t length = left >= 4 ? GetU32(data.data() + offset) : 0;
        bool whole = left >= kRecordHeader && length <= kMaxVoteRecordBytes &&
                     left - kRecordHeader >= length;
        if (!whole) {
            // Torn while being appended: it was never synced, so never sent.
            if (dropped_tail) *dropped_tail = left;
            log::Warn("{}: dropping a torn last record of {} bytes", where, left);
            break;
        }
        util::ByteView payload(data.data() + offset + kRecordHeader, length);
        auto sum = Checksum(payload);
        bool last = offset + kRecordHeader + length == data.size();
        if (std::memcmp(sum.data(), data.data() + offset + 4, 4) != 0) {
            if (last) {
                if (dropped_tail) *dropped_tail = left;
                log::Warn("{}: dropping a torn last record (checksum)", where);
                break;
            }
            return MakeError(Errc::kInvalid, where +
                                                 ": checksum mismatch (the log is corrupt; "
                                                 "refusing to vote without it)");
        }
        auto record = DecodeVoteRecord(payload);
        if (!record) return MakeError(Errc::kInvalid, where + ": " + record.error().message);
        m_records.push_back(std::move(record).value());
        offset += kRecordHeader + length;
        ++index;
    }
    m_size = offset;
    if (m_size != file_size) {
        if (::ftruncate(m_fd, static_cast<off_t>(m_size)) != 0) {
            return MakeError(Errc::kIo, m_path + ": truncate: " + ErrnoText(errno));
        }
        TC_CHECK(SyncFd(m_fd, m_path));
    }
    if (::lseek(m_fd, static_cast<off_t>(m_size), SEEK_SET) < 0) {
        return MakeError(Errc::kIo, m_path + ": seek: " + ErrnoText(errno));
    }
    return {};
}

util::Status VoteLog::Append(const VoteRecord& record) {
    util::Bytes framed = Frame(record);
    if (auto written = WriteAll(m_fd, m_path, framed.data(), framed.size()); !written) {
        // Cut a partial record back off so the next append starts clean.
        (void)::ftruncate(m_fd, static_cast<off_t>(m_size));
        (void)::lseek(m_fd, static_cast<off_t>(m_size), SEEK_SET);
        return written;
    }
    m_size += framed.size();
    m_dirty = true;
    m_records.push_back(record);
    return {};
}

util::Status VoteLog::Sync() {
    if (!m_dirty) return {};
    TC_CHECK(SyncFd(m_fd, m_path));
    m_dirty = false;
    return {};
}

util::Status VoteLog::Compact(uint64_t height) {
    TC_CHECK(Sync());
    std::vector<VoteRecord> keep;
    for (const auto& r : m_records) {
        if (r.height >= height) keep.push_back(r);
    }
    if (keep.size() == m_records.size()) return {};
    const std::string tmp = m_path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return MakeError(Errc::kIo, tmp + ": " + ErrnoText(errno));
    uint64_t size = sizeof kMagic;
    util::Status status =
        WriteAll(fd, tmp, reinterpret_cast<const uint8_t*>(kMagic), sizeof kMagic);
    for (const auto& r : keep) {
        if (!status) break;
        util::Bytes framed = Frame(r);
        status = WriteAll(fd, tmp, framed.data(), framed.size());
        size += framed.size();
    }
    if (status && ::fsync(fd) != 0)
        status = MakeError(Errc::kIo, tmp + ": fsync: " + ErrnoText(errno));
    ::close(fd);
    if (status && ::rename(tmp.c_str(), m_path.c_str()) != 0) {
        status = MakeError(Errc::kIo, m_path + ": rename: " + ErrnoText(errno));
    }
    if (!status) {
        ::unlink(tmp.c_str());
        return status;  // the old log is intact
    }
    auto dir = std::filesystem::path(m_path).parent_path().string();
    TC_CHECK(SyncDir(dir.empty() ? "." : dir));
    int new_fd = ::open(m_path.c_str(), O_RDWR | O_CLOEXEC);
    if (new_fd < 0) return MakeError(Errc::kIo, m_path + ": " + ErrnoText(errno));
    ::close(m_fd);
    m_fd = new_fd;
    if (::lseek(m_fd, 0, SEEK_END) < 0) return MakeError(Errc::kIo, m_path + ": seek");
    m_size = size;
    m_records = std::move(keep);
    return {};
}

}  // namespace tc::pbft
