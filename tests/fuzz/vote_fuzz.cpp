// Fuzz target: DecodeVote (a PREPARE or COMMIT vote). The decoder accepts only canonical bytes, so
// whatever decodes must re-encode to exactly the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "wire/codec.h"
#include "wire/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto value = tc::wire::DecodeVote({data, size});
    if (!value) return 0;
    tc::util::Bytes again = tc::wire::Encode(*value);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
    return 0;
}
