// Fuzz target: the key file decoder (structure only; the permission and
// seed checks need a real file). It must never crash, and whatever it
// accepts must be one of the two documented sizes.
#include <cstdlib>

#include "crypto/keyfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool init = tc::crypto::InitSodium().ok();
    if (!init) std::abort();
    auto info = tc::crypto::DecodeKeyFileInfo({data, size}, "fuzz");
    if (info && size != tc::crypto::kPlainKeyFileSize &&
        size != tc::crypto::kEncryptedKeyFileSize) {
        std::abort();
    }
    return 0;
}
