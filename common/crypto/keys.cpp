#include "crypto/keys.h"

#include <sodium.h>

#include <new>
#include <stdexcept>
#include <utility>

namespace tc::crypto {

namespace {

// libsodium accepts a null pointer with length 0 since 1.0.18, but a span
// over nothing may hand us any pointer; give it a valid one regardless.
const uint8_t* NonNull(util::ByteView v) {
    static const uint8_t kEmpty = 0;
    return v.empty() ? &kEmpty : v.data();
}

}  // namespace

util::Status InitSodium() {
    // 0: initialised now; 1: already initialised; -1: failure (no entropy source).
    if (sodium_init() < 0) {
        return util::MakeError(util::Errc::kInternal, "libsodium failed to initialise");
    }
    return {};
}

SecureBuffer::SecureBuffer(size_t size) {
    if (size == 0) return;
    m_data = static_cast<uint8_t*>(sodium_malloc(size));
    if (m_data == nullptr) throw std::bad_alloc();
    m_size = size;
}

SecureBuffer::~SecureBuffer() {
    // sodium_free wipes the whole allocation before unmapping it.
    if (m_data != nullptr) sodium_free(m_data);
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
    if (this != &other) {
        if (m_data != nullptr) sodium_free(m_data);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

void SecureBuffer::Truncate(size_t size) {
    if (size > m_size) throw std::out_of_range("SecureBuffer::Truncate beyond its size");
    // The bytes past the new end may hold secret data that nobody will read.
    sodium_memzero(m_data + size, m_size - size);
    m_size = size;
}

SecretKey SecretKey::Generate() {
    SecretKey key;
    crypto_sign_keypair(key.m_public.data(), key.m_secret.data());
    return key;
}

util::Result<SecretKey> SecretKey::FromSeed(util::ByteView seed) {
    if (seed.size() != crypto_sign_SEEDBYTES) {
        return util::MakeError(util::Errc::kInvalid,
                               "Ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
    }
    SecretKey key;
    crypto_sign_seed_keypair(key.m_public.data(), key.m_secret.data(), seed.data());
    return key;
}

Signature SecretKey::Sign(util::ByteView msg) const {
    Signature sig;
    crypto_sign_detached(sig.data(), nullptr, NonNull(msg), msg.size(), m_secret.data());
    return sig;
}

SecureBuffer SecretKey::CurveSecret() const {
    SecureBuffer out(crypto_scalarmult_curve25519_BYTES);
    crypto_sign_ed25519_sk_to_curve25519(out.data(), m_secret.data());
    return out;
}

bool Verify(const PublicKey& pk, util::ByteView msg, const Signature& sig) {
    return crypto_sign_verify_detached(sig.data(), NonNull(msg), msg.size(), pk.data()) == 0;
}

util::Result<CurvePublicKey> ToCurvePublic(const PublicKey& pk) {
    // crypto_sign_ed25519_pk_to_curve25519 rejects small-order points, points
    // off the curve and points outside the prime-order subgroup, but it reads
    // y mod p without checking that the encoding is canonical. No encoding
    // with y >= p is of prime order, so this is belt and braces: is_valid_point
    // states the whole rule (canonical, on the curve, order L) in one call.
    CurvePublicKey out;
    if (crypto_core_ed25519_is_valid_point(pk.data()) != 1 ||
        crypto_sign_ed25519_pk_to_curve25519(out.data(), pk.data()) != 0) {
        return util::MakeError(util::Errc::kInvalid,
                               "public key " + util::ToHex(pk) +
                                   " is not a canonical point of prime order, so it has no "
                                   "X25519 (CURVE) form");
    }
    return out;
}

}  // namespace tc::crypto
