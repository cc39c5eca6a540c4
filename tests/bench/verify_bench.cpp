// verify_bench: the Ed25519 witness-verification rate of this machine on all
// cores, the way tc-pool verifies (consensus::VerifyWitnesses over
// util::Workers, one thread per core). Prints one JSON object:
// {"verify_per_s": N, "threads": T} (scripts/bench node reads it).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "consensus/tx_check.h"
#include "crypto/domain.h"
#include "crypto/keys.h"
#include "util/workers.h"
#include "wire/codec.h"

int main(int argc, char** argv) {
    using Clock = std::chrono::steady_clock;
    const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    if (!tc::crypto::InitSodium().ok()) return 1;
    tc::crypto::Hash256 chain_id{};
    chain_id[0] = 1;
    // Distinct signed transfers, so that no cache helps.
    std::vector<tc::wire::Transaction> txs;
    for (uint32_t i = 0; i < 1024; ++i) {
        auto key = tc::crypto::SecretKey::Generate();
        tc::wire::Transaction tx;
        tx.inputs.push_back({tc::crypto::Blake2b256(tc::util::AsBytes("prev")), i});
        tx.outputs.push_back({1'000'000 + i, tc::crypto::Blake2b160(key.public_key())});
        auto sig = key.Sign(tc::crypto::TxSigningMessage(chain_id, tc::wire::TxId(tx)));
        tx.witnesses.push_back(tc::wire::Witness{key.public_key(), sig});
        txs.push_back(std::move(tx));
    }
    tc::util::Workers workers(0);
    std::vector<char> ok(txs.size());
    size_t verified = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
        workers.ForEach(txs.size(), [&](size_t i) {
            ok[i] = tc::consensus::VerifyWitnesses(txs[i], chain_id).ok();
        });
        for (char c : ok) {
            if (!c) return 1;
        }
        verified += txs.size();
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    nlohmann::json out = {{"verify_per_s", static_cast<uint64_t>(verified / elapsed)},
                          {"threads", workers.size()}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
}
