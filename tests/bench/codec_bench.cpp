// codec_bench: single-core rates of the per-transaction work every node
// does: encode, decode, txid, sign, verify, for a signed one-input
// two-output transfer. Prints one JSON object (scripts/bench codec).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "crypto/domain.h"
#include "crypto/keys.h"
#include "wire/codec.h"

namespace {

using Clock = std::chrono::steady_clock;

// Runs fn in rounds until at least `seconds` have passed; returns calls/s.
template <typename Fn>
double Rate(double seconds, Fn&& fn) {
    size_t calls = 0;
    size_t round = 64;
    auto start = Clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
        for (size_t i = 0; i < round; ++i) fn();
        calls += round;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    return static_cast<double>(calls) / elapsed;
}

volatile uint8_t g_sink;

}  // namespace

int main(int argc, char** argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
    if (!tc::crypto::InitSodium().ok()) return 1;
    auto key = tc::crypto::SecretKey::Generate();
    tc::crypto::Hash256 chain_id{};
    chain_id[0] = 1;

    tc::wire::Transaction tx;
    tx.inputs.push_back({tc::crypto::Blake2b256(tc::util::AsBytes("prev")), 1});
    tx.outputs.push_back({1'250'000'000, tc::crypto::Blake2b160(key.public_key())});
    tx.outputs.push_back({8'749'990'000, tc::crypto::Blake2b160(tc::util::AsBytes("change"))});
    auto msg = tc::crypto::TxSigningMessage(chain_id, tc::wire::TxId(tx));
    auto sig = key.Sign(msg);
    tx.witnesses.push_back(tc::wire::Witness{key.public_key(), sig});
    auto bytes = tc::wire::Encode(tx);
    if (!tc::wire::DecodeTransaction(bytes).ok()) return 1;

    nlohmann::json out;
    out["tx_bytes"] = bytes.size();
    out["encode_per_s"] = Rate(seconds, [&] { g_sink = tc::wire::Encode(tx)[0]; });
    out["decode_per_s"] =
        Rate(seconds, [&] { g_sink = tc::wire::DecodeTransaction(bytes)->version; });
    out["txid_per_s"] = Rate(seconds, [&] { g_sink = tc::wire::TxId(tx)[0]; });
    out["sign_per_s"] = Rate(seconds, [&] { g_sink = key.Sign(msg)[0]; });
    out["verify_per_s"] =
        Rate(seconds, [&] { g_sink = tc::crypto::Verify(key.public_key(), msg, sig); });
    for (auto& [k, v] : out.items()) {
        if (v.is_number_float()) v = static_cast<uint64_t>(v.get<double>());
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
}
