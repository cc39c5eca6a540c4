// Fuzz target: tc-p2p's DecodeFrame (every message a peer sends). Whatever
// decodes must encode and decode again to the same message.
#include <cstdint>
#include <cstdlib>

#include "p2p_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr size_t kMax = 1 << 20;
    auto msg = tc::p2p::DecodeFrame({data, size}, kMax);
    if (!msg) return 0;
    for (size_t above : {size_t{0}, SIZE_MAX}) {
        auto again = tc::p2p::DecodeFrame(tc::p2p::EncodeFrame(*msg, above), kMax);
        if (!again || !(*again == *msg)) std::abort();
    }
    return 0;
}
