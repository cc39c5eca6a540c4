// Fuzz target: DecodePbftMessage (PRE-PREPARE, vote, VIEW-CHANGE, NEW-VIEW, decided block). The
// decoder accepts only canonical bytes, so whatever decodes must re-encode to exactly the input.
// The digests are computed too, since the consensus core computes them on every decoded message.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <variant>

#include "wire/codec.h"
#include "wire/pbft.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto value = tc::wire::DecodePbftMessage({data, size});
    if (!value) return 0;
    tc::util::Bytes again = tc::wire::Encode(*value);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
    if (const auto* vc = std::get_if<tc::wire::ViewChange>(&*value)) {
        (void)tc::wire::ViewChangeDigest(*vc);
    } else if (const auto* nv = std::get_if<tc::wire::NewView>(&*value)) {
        (void)tc::wire::NewViewDigest(*nv);
    }
    (void)tc::wire::MessageKindName(*value);
    return 0;
}
