// Fuzz target: an evidence database value (consensus/evidence.h) as tc-store
// verify and `tc-store evidence` read it: split into two messages, then
// checked as an equivocation against a fixed set of four masternodes. Nothing
// may crash; a value that checks must be exactly the value EvidenceValue
// makes of its two messages, and its key must name the signer.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "consensus/evidence.h"
#include "crypto/hash.h"

namespace {

std::vector<tc::crypto::PublicKey> Set() {
    std::vector<tc::crypto::PublicKey> set;
    for (uint8_t i = 0; i < 4; ++i) {
        tc::util::Bytes seed(32, static_cast<uint8_t>(100 + i));
        set.push_back(tc::crypto::SecretKey::FromSeed(seed)->public_key());
    }
    return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool init = tc::crypto::InitSodium().ok();
    static const std::vector<tc::crypto::PublicKey> set = Set();
    static const tc::crypto::Hash256 chain_id =
        tc::crypto::Blake2b256(tc::util::AsBytes("evidence-fuzz"));
    if (!init) std::abort();
    auto pair = tc::consensus::SplitEvidenceValue({data, size});
    if (!pair) return 0;
    const tc::consensus::SetAt set_at =
        [](uint64_t) -> tc::util::Result<std::vector<tc::crypto::PublicKey>> { return set; };
    auto who = tc::consensus::CheckEquivocation(chain_id, set_at, pair->first, pair->second);
    if (!who) return 0;
    const tc::util::Bytes again = tc::consensus::EvidenceValue(pair->first, pair->second);
    if (again != tc::util::Bytes(data, data + size)) std::abort();
    if (who->replica >= set.size() || who->key != set[who->replica]) std::abort();
    return 0;
}
