#include "wire/tx_text.h"

#include <charconv>
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

std::string OutPointText(const OutPoint& outpoint) {
    return util::ToHex(outpoint.txid) + ":" + std::to_string(outpoint.vout);
}

util::Result<OutPoint> ParseOutPointText(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return util::MakeError(util::Errc::kInvalid, "expected TXID:VOUT");
    }
    auto txid = util::FromHexFixed<32>(text.substr(0, colon));
    if (!txid) return util::MakeError(util::Errc::kInvalid, "txid: " + txid.error().message);
    const std::string_view vout_text = text.substr(colon + 1);
    uint32_t vout = 0;
    auto [end, ec] = std::from_chars(vout_text.data(), vout_text.data() + vout_text.size(), vout);
    if (vout_text.empty() || ec != std::errc() || end != vout_text.data() + vout_text.size()) {
        return util::MakeError(util::Errc::kInvalid, "vout \"" + std::string(vout_text) +
                                                         "\" is not a number below 2^32");
    }
    return OutPoint{*txid, vout};
}

}  // namespace tc::wire
