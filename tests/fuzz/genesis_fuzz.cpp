// Fuzz target: the genesis JSON parser. Whatever it accepts must survive a
// round trip through its own JSON form with the same chain id.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "crypto/keys.h"
#include "wire/genesis.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool init = tc::crypto::InitSodium().ok();
    if (!init) std::abort();
    auto g = tc::wire::ParseGenesis(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!g) return 0;
    auto again = tc::wire::ParseGenesis(tc::wire::GenesisToJson(*g).dump());
    if (!again || !(*again == *g) || tc::wire::ChainId(*again) != tc::wire::ChainId(*g)) {
        std::abort();
    }
    return 0;
}
