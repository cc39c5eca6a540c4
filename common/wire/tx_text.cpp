#include "wire/tx_text.h"

#include <iterator>

#include "wire/codec.h"

namespace tc::wire {

util::Result<Transaction> ReadTransactionHex(std::istream& in, const std::string& what) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return util::MakeError(util::Errc::kIo, what + ": read failed");
    const char* space = " \t\r\n";
    size_t begin = text.find_first_not_of(space);
    if (begin == std::string::npos) {
        return util::MakeError(util::Errc::kInvalid,
                               what + ": empty (expected a transaction in hex)");
    }
    size_t end = text.find_last_not_of(space);
    auto bytes = util::FromHex(std::string_view(text).substr(begin, end - begin + 1));
    if (!bytes) return std::move(bytes).error().In(what);
    auto tx = DecodeTransaction(*bytes);
    if (!tx) return std::move(tx).error().In(what);
    return tx;
}

std::string TransactionHex(const Transaction& tx) {
    return util::ToHex(Encode(tx));
}

}  // namespace tc::wire
