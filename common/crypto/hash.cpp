#include "crypto/hash.h"

#include <sodium.h>

#include <cstring>

namespace tc::crypto {

static_assert(sizeof(crypto_generichash_state) <= 384, "Hasher256 state buffer too small");

Hash256 Blake2b256(util::ByteView data) {
    Hash256 out;
    crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
    return out;
}

Hash160 Blake2b160(util::ByteView data) {
    Hash160 out;
    crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
    return out;
}

Hasher256::Hasher256() {
    crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(m_state), nullptr, 0, 32);
}

Hasher256& Hasher256::Update(util::ByteView data) {
    crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(m_state), data.data(),
                              data.size());
    return *this;
}

Hash256 Hasher256::Final() {
    Hash256 out;
    crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(m_state), out.data(),
                             out.size());
    return out;
}

}  // namespace tc::crypto
