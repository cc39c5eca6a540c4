#include "export.h"

#include <istream>
#include <limits>
#include <msgpack.hpp>
#include <ostream>
#include <span>
#include <utility>
#include <vector>

#include "wire/codec.h"

namespace tc::store {

using util::Errc;
using util::MakeError;

namespace {

uint32_t LoadBe32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Reads one canonical msgpack bin (shortest header) at bytes[pos], advancing
// pos past it.
util::Result<util::ByteView> ReadBin(util::ByteView bytes, size_t& pos, const char* what) {
    auto bad = [&](const std::string& why) {
        return MakeError(Errc::kInvalid, std::string(what) + ": " + why);
    };
    if (pos >= bytes.size()) return bad("missing");
    uint8_t tag = bytes[pos];
    size_t header = 0;
    uint64_t len = 0;
    auto need = [&](size_t n) { return bytes.size() - pos >= n; };
    if (tag == 0xc4) {
        header = 2;
        if (!need(header)) return bad("truncated bin header");
        len = bytes[pos + 1];
    } else if (tag == 0xc5) {
        header = 3;
        if (!need(header)) return bad("truncated bin header");
        len = (uint64_t{bytes[pos + 1]} << 8) | bytes[pos + 2];
        if (len <= 0xff) return bad("non-canonical bin header (bin16 for a short value)");
    } else if (tag == 0xc6) {
        header = 5;
        if (!need(header)) return bad("truncated bin header");
        len = LoadBe32(&bytes[pos + 1]);
        if (len <= 0xffff) return bad("non-canonical bin header (bin32 for a short value)");
    } else {
        return bad("must be a msgpack bin");
    }
    if (bytes.size() - pos - header < len) {
        return bad(std::to_string(len) + " bytes announced, " +
                   std::to_string(bytes.size() - pos - header) + " present");
    }
    util::ByteView out = bytes.subspan(pos + header, len);
    pos += header + len;
    return out;
}

}  // namespace

util::Bytes EncodeExportRecord(const wire::Block& block, const wire::CommitCertificate& cert) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    auto bin = [&](const util::Bytes& b) {
        pk.pack_bin(static_cast<uint32_t>(b.size()));
        pk.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
    };
    pk.pack_array(2);
    bin(wire::Encode(block));
    bin(wire::Encode(cert));
    const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
    return util::Bytes(p, p + buf.size());
}

util::Result<ExportRecord> DecodeExportRecord(util::ByteView payload) {
    if (payload.empty() || payload[0] != 0x92) {
        return MakeError(Errc::kInvalid,
                         "record: must be a msgpack array of 2 (block, certificate)");
    }
    size_t pos = 1;
    TC_TRY(block_bytes, ReadBin(payload, pos, "record.block"));
    TC_TRY(cert_bytes, ReadBin(payload, pos, "record.certificate"));
    if (pos != payload.size()) {
        return MakeError(Errc::kInvalid, "record: " + std::to_string(payload.size() - pos) +
                                             " trailing bytes after the certificate");
    }
    auto block = wire::DecodeBlock(block_bytes);
    if (!block) return std::move(block).error().In("record");
    auto cert = wire::DecodeCertificate(cert_bytes);
    if (!cert) return std::move(cert).error().In("record");
    return ExportRecord{std::move(block).value(), std::move(cert).value()};
}

// --- writer ----------------------------------------------------------------

ExportWriter::ExportWriter(std::ostream& out, std::string name)
    : m_out(out), m_name(std::move(name)) {}

util::Status ExportWriter::Check() {
    if (!m_out) return MakeError(Errc::kIo, m_name + ": write failed");
    return {};
}

util::Status ExportWriter::Begin(const wire::Hash& chain_id) {
    m_out.write(kExportMagic.data(), static_cast<std::streamsize>(kExportMagic.size()));
    m_out.put(static_cast<char>(kExportVersion));
    m_out.write(reinterpret_cast<const char*>(chain_id.data()), chain_id.size());
    return Check();
}

util::Status ExportWriter::Add(const wire::Block& block, const wire::CommitCertificate& cert) {
    util::Bytes payload = EncodeExportRecord(block, cert);
    util::Bytes length;
    util::AppendBe32(length, static_cast<uint32_t>(payload.size()));
    m_out.write(reinterpret_cast<const char*>(length.data()), 4);
    m_out.write(reinterpret_cast<const char*>(payload.data()),
                static_cast<std::streamsize>(payload.size()));
    return Check();
}

util::Status ExportWriter::End() {
    const char zero[4] = {0, 0, 0, 0};
    m_out.write(zero, 4);
    m_out.flush();
    return Check();
}

// --- reader ----------------------------------------------------------------

ExportReader::ExportReader(std::istream& in, std::string name)
    : m_in(in), m_name(std::move(name)) {}

bool ExportReader::ReadExactly(uint8_t* buf, size_t n) {
    m_in.read(reinterpret_cast<char*>(buf), static_cast<std::streamsize>(n));
    m_got = static_cast<size_t>(m_in.gcount());
    m_offset += m_got;
    return m_got == n;
}

util::Error ExportReader::Truncated(const std::string& what) const {
    return MakeError(Errc::kInvalid, m_name + ": truncated: " + what);
}

util::Result<wire::Hash> ExportReader::ReadHeader() {
    uint8_t header[kExportHeaderBytes];
    if (!ReadExactly(header, sizeof header)) {
        if (m_in.bad()) return MakeError(Errc::kIo, m_name + ": read failed");
        if (m_got == 0) return MakeError(Errc::kInvalid, m_name + ": empty, not an export stream");
        if (m_got < kExportMagic.size() || std::string_view(reinterpret_cast<char*>(header),
                                                            kExportMagic.size()) != kExportMagic) {
            return MakeError(Errc::kInvalid, m_name + ": not a tc-store export stream (no " +
                                                 std::string(kExportMagic) + " magic)");
        }
        return Truncated("the header is " + std::to_string(m_got) + " of " +
                         std::to_string(kExportHeaderBytes) + " bytes");
    }
    if (std::string_view(reinterpret_cast<char*>(header), kExportMagic.size()) != kExportMagic) {
        return MakeError(Errc::kInvalid, m_name + ": not a tc-store export stream (no " +
                                             std::string(kExportMagic) + " magic)");
    }
    if (header[8] != kExportVersion) {
        return MakeError(Errc::kInvalid, m_name + ": unknown export version " +
                                             std::to_string(header[8]) + " (this reads " +
                                             std::to_string(kExportVersion) + ")");
    }
    wire::Hash chain_id;
    std::copy(header + 9, header + kExportHeaderBytes, chain_id.begin());
    return chain_id;
}

util::Result<std::optional<ExportRecord>> ExportReader::Next() {
    const uint64_t number = m_records + 1;
    const std::string record = "record " + std::to_string(number);
    const uint64_t at = m_offset;
    uint8_t length_be[4];
    if (!ReadExactly(length_be, 4)) {
        if (m_in.bad()) return MakeError(Errc::kIo, m_name + ": read failed");
        if (m_got == 0) {
            return Truncated("the stream ends after " + std::to_string(m_records) +
                             " records without the end marker");
        }
        return Truncated(record + " at byte " + std::to_string(at) + ": " + std::to_string(m_got) +
                         " of 4 length bytes");
    }
    const uint32_t length = LoadBe32(length_be);
    if (length == 0) {
        m_in.ignore(std::numeric_limits<std::streamsize>::max());
        if (auto trailing = m_in.gcount(); trailing > 0) {
            return MakeError(Errc::kInvalid, m_name + ": " + std::to_string(trailing) +
                                                 " trailing bytes after the end marker at byte " +
                                                 std::to_string(at));
        }
        if (m_in.bad()) return MakeError(Errc::kIo, m_name + ": read failed");
        return std::optional<ExportRecord>();
    }
    if (length > kMaxExportRecordBytes) {
        return MakeError(Errc::kInvalid, m_name + ": " + record + " at byte " + std::to_string(at) +
                                             ": length " + std::to_string(length) + " exceeds " +
                                             std::to_string(kMaxExportRecordBytes));
    }
    util::Bytes payload(length);
    if (!ReadExactly(payload.data(), length)) {
        if (m_in.bad()) return MakeError(Errc::kIo, m_name + ": read failed");
        return Truncated(record + " at byte " + std::to_string(at) + ": " + std::to_string(m_got) +
                         " of " + std::to_string(length) + " bytes");
    }
    auto decoded = DecodeExportRecord(payload);
    if (!decoded) {
        return std::move(decoded).error().In(m_name + ": " + record + " at byte " +
                                             std::to_string(at));
    }
    m_records = number;
    return std::optional<ExportRecord>(std::move(decoded).value());
}

// --- export and import ------------------------------------------------------

util::Status ExportChain(const ledger::Ledger& ledger, std::ostream& out, const std::string& name) {
    TC_TRY(status, ledger.GetStatus());
    ExportWriter writer(out, name);
    TC_CHECK(writer.Begin(status.chain_id));
    // Blocks are never rewritten once stored, so reading heights 1..tip one
    // read transaction at a time gives a consistent chain even while the
    // daemon appends more.
    for (uint64_t h = 1; h <= status.height; ++h) {
        TC_TRY(block, ledger.GetBlock(h));
        TC_TRY(cert, ledger.GetCertificate(h));
        TC_CHECK(writer.Add(block, cert));
    }
    return writer.End();
}

namespace {

// The records read but not yet applied, and where they go.
class ImportBatch {
  public:
    ImportBatch(ledger::Ledger& ledger, const std::string& name, ImportSummary& summary,
                const std::function<void(uint64_t)>& progress)
        : m_ledger(ledger), m_name(name), m_summary(summary), m_progress(progress) {
        m_apply.verify_witnesses = true;
    }

    size_t size() const { return m_blocks.size(); }
    void Add(ExportRecord record) { m_blocks.push_back(std::move(record)); }

    // Applies the pending blocks in one write transaction. When one is
    // refused, the blocks before it are applied, and the error names its
    // record (= its height: records start at height 1).
    util::Status Flush() {
        if (m_blocks.empty()) return {};
        size_t refused = m_blocks.size();
        auto applied = m_ledger.ApplyBlocks(m_blocks, m_apply, &refused);
        if (applied) {
            Applied(m_blocks.size());
            return {};
        }
        const std::string where =
            refused < m_blocks.size()
                ? m_name + ": record " + std::to_string(m_blocks[refused].block.header.height)
                : m_name + ": records " + std::to_string(m_blocks.front().block.header.height) +
                      ".." + std::to_string(m_blocks.back().block.header.height);
        if (refused > 0 && refused < m_blocks.size()) {
            std::span<const ExportRecord> good(m_blocks.data(), refused);
            TC_CHECK(m_ledger.ApplyBlocks(good, m_apply));
            Applied(refused);
        }
        return std::move(applied).error().In(where);
    }

  private:
    void Applied(size_t count) {
        const auto& last = m_blocks[count - 1].block;
        m_summary.applied += count;
        m_summary.height = last.header.height;
        m_summary.tip_hash = wire::BlockHash(last.header);
        m_blocks.clear();
        if (m_progress) m_progress(m_summary.height);
    }

    ledger::Ledger& m_ledger;
    const std::string& m_name;
    ImportSummary& m_summary;
    const std::function<void(uint64_t)>& m_progress;
    ledger::ApplyOptions m_apply;
    std::vector<ExportRecord> m_blocks;
};

// A record at or below the ledger's height (an earlier, interrupted import
// of this stream): it must be the very block stored there.
util::Status CheckStored(const ledger::Ledger& ledger, const ExportRecord& record,
                         const std::string& where) {
    const uint64_t height = record.block.header.height;
    const wire::Hash hash = wire::BlockHash(record.block.header);
    TC_TRY(stored, ledger.GetBlock(height));
    const wire::Hash stored_hash = wire::BlockHash(stored.header);
    if (stored_hash != hash) {
        return MakeError(Errc::kConflict, where + ": block " + std::to_string(height) +
                                              " differs from the stored one (a fork): stored " +
                                              util::ToHex(stored_hash) + ", stream " +
                                              util::ToHex(hash));
    }
    if (!(stored == record.block)) {
        return MakeError(Errc::kInvalid, where + ": block " + std::to_string(height) +
                                             " has the stored header but other "
                                             "transactions (a corrupted stream)");
    }
    return {};
}

}  // namespace

util::Result<ImportSummary> ImportChain(ledger::Ledger& ledger, std::istream& in,
                                        const std::string& name, size_t batch_size,
                                        const std::function<void(uint64_t)>& progress) {
    TC_TRY(status, ledger.GetStatus());
    ExportReader reader(in, name);
    TC_TRY(chain_id, reader.ReadHeader());
    if (chain_id != status.chain_id) {
        return MakeError(Errc::kConflict, name + ": a stream of chain id " + util::ToHex(chain_id) +
                                              ", but the ledger holds chain " + status.chain +
                                              " (" + util::ToHex(status.chain_id) + ")");
    }
    ImportSummary summary;
    summary.height = status.height;
    summary.tip_hash = status.tip_hash;
    ImportBatch batch(ledger, name, summary, progress);
    for (;;) {
        auto record = reader.Next();
        if (!record) {
            // The blocks before a bad record go in; then the record's fault.
            TC_CHECK(batch.Flush());
            return std::move(record).error();
        }
        if (!*record) break;
        const uint64_t height = reader.records();
        const std::string where = name + ": record " + std::to_string(height);
        if ((*record)->block.header.height != height) {
            TC_CHECK(batch.Flush());
            return MakeError(Errc::kInvalid, where + ": holds block " +
                                                 std::to_string((*record)->block.header.height) +
                                                 ", expected block " + std::to_string(height) +
                                                 " (records run from height 1, without gaps)");
        }
        if (height <= status.height) {
            TC_CHECK(CheckStored(ledger, **record, where));
            ++summary.skipped;
            if (progress) progress(height);
            continue;
        }
        batch.Add(std::move(**record));
        if (batch.size() >= std::max<size_t>(batch_size, 1)) TC_CHECK(batch.Flush());
    }
    TC_CHECK(batch.Flush());
    return summary;
}

}  // namespace tc::store
