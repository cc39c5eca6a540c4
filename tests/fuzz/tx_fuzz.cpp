// Fuzz target: DecodeTransaction (a transaction from a peer or tc-tx). The decoder accepts only
// canonical bytes, so whatever decodes must re-encode to exactly the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "wire/codec.h"
#include "wire/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto value = tc::wire::DecodeTransaction({data, size});
    if (!value) return 0;
    tc::util::Bytes again = tc::wire::Encode(*value);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
    // The wtxid hashes exactly these bytes; the txid does not depend on the witnesses.
    if (tc::wire::WitnessTxId(*value) != tc::crypto::Blake2b256(again)) std::abort();
    tc::wire::Hash txid = tc::wire::TxId(*value);
    value->witnesses.clear();
    if (tc::wire::TxId(*value) != txid) std::abort();
    return 0;
}
