// Transactions as text: the hex form that tc-tx and tc-keygen read on stdin
// and write on stdout, one transaction per stream.
#pragma once

#include <istream>
#include <string>

#include "util/result.h"
#include "wire/types.h"

namespace tc::wire {

// Reads all of `in` (surrounding whitespace allowed), hex-decodes and decodes
// one transaction. `what` names the source in errors ("stdin").
util::Result<Transaction> ReadTransactionHex(std::istream& in, const std::string& what);

// The hex of the full encoding, without a newline.
std::string TransactionHex(const Transaction& tx);

}  // namespace tc::wire
