// Ed25519 keys (libsodium). Secret keys live in sodium_malloc memory
// (guard pages, mlock, wiped on free), are move-only and are never
// formatted or logged. Every signature check in TimeCoin goes through
// Verify() below: its rules are consensus rules, so there is exactly one.
#pragma once

#include <cstddef>

#include "crypto/hash.h"
#include "util/bytes.h"
#include "util/result.h"

namespace tc::crypto {

using PublicKey = util::ByteArray<32>;
using Signature = util::ByteArray<64>;
using CurvePublicKey = util::ByteArray<32>;

// Initialises libsodium once per process. Call first thing in every main
// and in test setup; safe to call more than once.
util::Status InitSodium();

// A fixed-size buffer in sodium_malloc memory, wiped and freed on
// destruction. Move-only.
class SecureBuffer {
  public:
    SecureBuffer() = default;
    explicit SecureBuffer(size_t size);  // throws std::bad_alloc when sodium_malloc fails
    ~SecureBuffer();
    SecureBuffer(SecureBuffer&& other) noexcept;
    SecureBuffer& operator=(SecureBuffer&& other) noexcept;
    SecureBuffer(const SecureBuffer&) = delete;
    SecureBuffer& operator=(const SecureBuffer&) = delete;

    uint8_t* data() { return m_data; }
    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    util::ByteView view() const { return {m_data, m_size}; }
    // Shrinks the logical size (e.g. a passphrase shorter than its buffer).
    void Truncate(size_t size);

  private:
    uint8_t* m_data = nullptr;
    size_t m_size = 0;
};

// An Ed25519 secret key: the 32-byte seed and the derived 64-byte libsodium
// secret key, both in secure memory, plus the public key.
class SecretKey {
  public:
    static SecretKey Generate();
    // seed must be 32 bytes.
    static util::Result<SecretKey> FromSeed(util::ByteView seed);

    const PublicKey& public_key() const { return m_public; }
    util::ByteView seed() const { return {m_secret.data(), 32}; }

    // Signs msg (which must already carry its domain tag; see domain.h).
    Signature Sign(util::ByteView msg) const;

    // The X25519 (CURVE) secret key derived from this key, for ZeroMQ CURVE.
    SecureBuffer CurveSecret() const;

  private:
    SecretKey() : m_secret(64) {}
    SecureBuffer m_secret;  // libsodium layout: seed || public key
    PublicKey m_public{};
};

// The one signature check. Returns true iff sig is a valid Ed25519 signature
// of msg by pk under libsodium's strict rules: S must be canonical (< L),
// the public key must be a canonical encoding and not of small order, R must
// not be of small order, and the check is cofactorless against the encoded
// R. These match the "Taming the many EdDSAs" strict column; changing them
// is a consensus change.
[[nodiscard]] bool Verify(const PublicKey& pk, util::ByteView msg, const Signature& sig);

// The X25519 (CURVE) public key of an Ed25519 public key; fails for keys
// that have no such point (small order, non-canonical).
util::Result<CurvePublicKey> ToCurvePublic(const PublicKey& pk);

}  // namespace tc::crypto
