// Transactions as text: the hex form that tc-tx and tc-keygen read on stdin
// and write on stdout, one transaction per stream; and outpoints as
// TXID:VOUT, the form of tc-tx --in, tc-rpc listunspent and the ledger's
// errors.
#pragma once

#include <istream>
#include <string>
#include <string_view>

#include "util/result.h"
#include "wire/types.h"

namespace tc::wire {

// Reads all of `in` (surrounding whitespace allowed), hex-decodes and decodes
// one transaction. `what` names the source in errors ("stdin").
util::Result<Transaction> ReadTransactionHex(std::istream& in, const std::string& what);

// The hex of the full encoding, without a newline.
std::string TransactionHex(const Transaction& tx);

// "TXID:VOUT": the txid in lowercase hex, the vout in decimal.
std::string OutPointText(const OutPoint& outpoint);

// Reads "TXID:VOUT" (64 hex digits, a colon, a decimal below 2^32, nothing
// else); kInvalid naming what is wrong otherwise.
util::Result<OutPoint> ParseOutPointText(std::string_view text);

}  // namespace tc::wire
