// Canonical msgpack encoding (msgpack-c) of the wire types. Every object is
// an array in fixed field order whose first element is its version; no maps;
// integers in their shortest form; byte strings as bin. Encoding is a pure
// function of the value, so equal values have equal bytes and hashes.
//
// Decoders accept exactly the canonical encoding: they reject trailing bytes,
// unknown versions, fields beyond their bounds (types.h), wrong types and
// lengths, and any non-canonical form (e.g. 1 encoded as uint16), with an
// error naming the field ("tx.inputs[2].vout: ..."). They never throw.
//
// Caveats:
// - Encode does not check what the decoders check (payload matching kind, witness count,
//   bounds, printable endpoint, increasing certificate indices): such a value encodes, but
//   its bytes do not decode. Witnesses that are all absent encode as [] (the unsigned form),
//   so Decode(Encode(tx)) has empty witnesses then.
// - Memory while decoding is bounded by the input size (kMaxEncoded*Bytes) and never by a
//   length prefix; a block holds at most one transaction's parse state at a time.
#pragma once

#include "util/bytes.h"
#include "util/result.h"
#include "wire/types.h"

namespace tc::wire {

util::Bytes Encode(const Transaction& tx);
// The witness-free encoding that the txid hashes.
util::Bytes EncodeUnsigned(const Transaction& tx);
util::Bytes Encode(const BlockHeader& header);
util::Bytes Encode(const Block& block);
util::Bytes Encode(const CommitCertificate& cert);
util::Bytes Encode(const Vote& vote);

util::Result<Transaction> DecodeTransaction(util::ByteView bytes);
util::Result<BlockHeader> DecodeBlockHeader(util::ByteView bytes);
util::Result<Block> DecodeBlock(util::ByteView bytes);
util::Result<CommitCertificate> DecodeCertificate(util::ByteView bytes);
util::Result<Vote> DecodeVote(util::ByteView bytes);

}  // namespace tc::wire
