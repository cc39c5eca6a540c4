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
//   length prefix; a block holds at most one transaction's parse state at a time, also when
//   it is nested in a PBFT message.
// - A NEW-VIEW's view changes are encoded without their blocks, whatever they hold, so
//   Decode(Encode(nv)) has no blocks there. A view change's block is encoded even without a
//   prepared certificate, and then does not decode. Neither side checks that a block hashes
//   to the digest of its certificate or proposal: that is the consensus core's rule.
// - Encode(vote) is the bare Vote, as certificates and records use it; a vote on the `pbft`
//   topic is Encode(PbftMessage(vote)), which DecodePbftMessage reads (DecodeVote does not).
#pragma once

#include "util/bytes.h"
#include "util/result.h"
#include "wire/pbft.h"
#include "wire/types.h"

namespace tc::wire {

util::Bytes Encode(const Transaction& tx);
// The witness-free encoding that the txid hashes.
util::Bytes EncodeUnsigned(const Transaction& tx);
util::Bytes Encode(const BlockHeader& header);
util::Bytes Encode(const Block& block);
util::Bytes Encode(const CommitCertificate& cert);
util::Bytes Encode(const Vote& vote);
// A PBFT message in its envelope [version, kind, body] (man/timecoin-protocol.7, PBFT MESSAGES).
util::Bytes Encode(const PbftMessage& msg);
// The signature-free encodings that ViewChangeDigest and NewViewDigest (pbft.h) hash:
// [version, height, new_view, replica, prepared] and
// [version, height, view, replica, view_changes (without blocks), proposal].
util::Bytes EncodeUnsigned(const ViewChange& vc);
util::Bytes EncodeUnsigned(const NewView& nv);

util::Result<Transaction> DecodeTransaction(util::ByteView bytes);
util::Result<BlockHeader> DecodeBlockHeader(util::ByteView bytes);
util::Result<Block> DecodeBlock(util::ByteView bytes);
util::Result<CommitCertificate> DecodeCertificate(util::ByteView bytes);
util::Result<Vote> DecodeVote(util::ByteView bytes);
// Errors are rooted at "pbft", the body named by its kind: "pbft.new_view.view_changes[2].block".
util::Result<PbftMessage> DecodePbftMessage(util::ByteView bytes);

}  // namespace tc::wire
