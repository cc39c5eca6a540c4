// Fuzz target: the text decoders users type into: bech32m addresses and
// decimal amounts. Whatever parses must print back to the same value.
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/amount.h"
#include "wire/address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto a = tc::wire::Address::Parse(text)) {
        auto back = tc::wire::Address::Parse(a->ToString());
        if (!back || !(*back == *a)) std::abort();
    }
    if (auto amount = tc::util::Amount::Parse(text)) {
        auto back = tc::util::Amount::Parse(amount->ToString());
        if (!back || back->units() != amount->units()) std::abort();
    }
    return 0;
}
