// The export stream: a chain's blocks with their commit certificates, as
// `tc-store export` writes and `tc-store import` reads them. It is a plain
// byte stream (a file or a pipe), read and written in one pass, so that a
// chain of any length moves in bounded memory.
//
// FORMAT (version 1; integers big-endian)
//
//   offset size  field
//   0      8     magic "TCEXPORT"
//   8      1     format version = 1
//   9      32    chain id (wire::ChainId of the genesis)
//   41     ...   records, one per block, from height 1 upwards, no gaps:
//                  4  length L of the payload, 1 <= L <= kMaxExportRecordBytes
//                  L  payload: a msgpack array of two bin values,
//                     [encoded block, encoded certificate] (wire::Encode)
//   ...    4     end marker: a length of 0
//
// Nothing may follow the end marker. The payload uses the canonical msgpack
// forms of the codec (shortest bin header), and each bin must hold exactly
// one canonical block or certificate (wire::DecodeBlock, DecodeCertificate).
// The genesis block (height 0) is not in the stream: the importer has it
// from its own genesis file, and the chain id in the header must match it.
//
// ExportReader checks the framing and decodes; the rules of the chain
// (certificate, hash chain, transactions, witnesses) are the ledger's, which
// ImportChain applies block by block. Errors name the record and the byte
// offset in the stream ("stdin: record 7 at byte 1234: block.txs[0]...").
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "util/bytes.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::store {

inline constexpr std::string_view kExportMagic = "TCEXPORT";
inline constexpr uint8_t kExportVersion = 1;
inline constexpr size_t kExportHeaderBytes = 8 + 1 + 32;
// A record holds the largest block, the largest certificate and the array
// and bin headers around them.
inline constexpr size_t kMaxExportRecordBytes = wire::kMaxEncodedBlockBytes + (1u << 17);

using ExportRecord = ledger::CertifiedBlock;

// The payload of one record, and its strict decoder (kInvalid naming the
// part that is wrong; never throws).
util::Bytes EncodeExportRecord(const wire::Block& block, const wire::CommitCertificate& cert);
util::Result<ExportRecord> DecodeExportRecord(util::ByteView payload);

// Writes a stream: Begin once, Add per block in height order, End once.
// Errors are kIo ("NAME: write failed"); after one, stop writing.
class ExportWriter {
  public:
    ExportWriter(std::ostream& out, std::string name);
    util::Status Begin(const wire::Hash& chain_id);
    util::Status Add(const wire::Block& block, const wire::CommitCertificate& cert);
    util::Status End();

  private:
    util::Status Check();
    std::ostream& m_out;
    std::string m_name;
};

// Reads a stream. Call ReadHeader once, then Next until it returns
// std::nullopt (the end marker, followed by the end of the stream) or an
// error. A stream that ends early is kInvalid "NAME: truncated: ...", bytes
// after the end marker kInvalid "NAME: N trailing bytes after the end
// marker", a record longer than kMaxExportRecordBytes is refused before
// anything is allocated for it.
class ExportReader {
  public:
    ExportReader(std::istream& in, std::string name);
    // Checks magic and version; returns the chain id.
    util::Result<wire::Hash> ReadHeader();
    util::Result<std::optional<ExportRecord>> Next();
    // Records returned by Next so far.
    uint64_t records() const { return m_records; }

  private:
    // Reads exactly n bytes into buf; false at the end of the stream (then
    // m_got says how many came).
    bool ReadExactly(uint8_t* buf, size_t n);
    util::Error Truncated(const std::string& what) const;
    std::istream& m_in;
    std::string m_name;
    uint64_t m_offset = 0;
    uint64_t m_records = 0;
    size_t m_got = 0;
};

// What an import did.
struct ImportSummary {
    uint64_t applied = 0;  // blocks applied
    uint64_t skipped = 0;  // blocks already in the ledger (same hash)
    uint64_t height = 0;   // ledger height afterwards
    wire::Hash tip_hash{};
};

// Writes the chain in `ledger` (heights 1 to its height when called) to out.
util::Status ExportChain(const ledger::Ledger& ledger, std::ostream& out, const std::string& name);

// Applies the stream in `in` to `ledger`, every witness verified. A block at
// or below the ledger's height must be the stored block (same hash) and is
// skipped, so an interrupted import resumes by reading the stream again; any
// other block there is a fork, refused (kConflict) naming the height. The
// chain id must be the ledger's. Blocks are applied in batches of up to
// `batch` (at least 1), each one durable write transaction
// (Ledger::ApplyBlocks). On an error, every block before the faulty record
// is applied (a refused batch is applied up to the refused block) and the
// error names the record. progress(height) is called after each skipped
// block and each committed batch.
util::Result<ImportSummary> ImportChain(ledger::Ledger& ledger, std::istream& in,
                                        const std::string& name, size_t batch,
                                        const std::function<void(uint64_t)>& progress);

}  // namespace tc::store
