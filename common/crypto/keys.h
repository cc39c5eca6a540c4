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
    // size bytes (uninitialised; none for 0). Throws std::bad_alloc when
    // sodium_malloc fails. Call InitSodium() first.
    explicit SecureBuffer(size_t size);
    ~SecureBuffer();
    SecureBuffer(SecureBuffer&& other) noexcept;
    SecureBuffer& operator=(SecureBuffer&& other) noexcept;
    SecureBuffer(const SecureBuffer&) = delete;
    SecureBuffer& operator=(const SecureBuffer&) = delete;

    uint8_t* data() { return m_data; }
    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    util::ByteView view() const { return {m_data, m_size}; }
    // Shrinks the logical size (e.g. a passphrase shorter than its buffer) and
    // wipes the bytes past it. size > size() is a programmer error and throws
    // std::out_of_range.
    void Truncate(size_t size);

  private:
    uint8_t* m_data = nullptr;
    size_t m_size = 0;
};

// An Ed25519 secret key: libsodium's 64-byte secret key (the 32-byte seed
// followed by the public key) in secure memory, plus the public key. Move-only;
// a moved-from key must not be used.
class SecretKey {
  public:
    // A fresh key from libsodium's CSPRNG.
    static SecretKey Generate();
    // The key of a 32-byte seed (RFC 8032's "secret key"); kInvalid naming the
    // length for any other size.
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
// of msg by pk under the rules of libsodium's crypto_sign_verify_detached as
// built by Debian (1.0.18, without ED25519_COMPAT; the rules are in
// src/libsodium/crypto_sign/ed25519/ref10/open.c):
//   - S must be canonical (S < L), so S + L is not a second valid signature;
//   - A must be a canonical encoding (y < p) and not of small order;
//   - R must not be of small order; a non-canonical R never verifies either,
//     because R is compared byte for byte with the canonical encoding of
//     [S]B - [h]A;
//   - "small order" means y is that of one of the eight torsion points, or
//     the non-canonical y = p or p + 1, whatever the sign bit, so "negative
//     zero" encodings of those points are rejected as well;
//   - the equation is cofactorless: R == [S]B - [h]A, not 8R == 8([S]B - [h]A).
//     Points with a torsion component that are not of small order ("mixed
//     order") are accepted when that equation holds.
// On the twelve vectors of "Taming the many EdDSAs" (Chalkias, Garillot,
// Nikolaenko 2020) it accepts only case 3, like ed25519-dalek's
// verify_strict; tests/unit/crypto_test.cpp pins every case. Changing any of
// this is a consensus change.
// Caveats: batch verification is cofactored and would accept signatures this
// rejects, so never use it for consensus. Another libsodium build (one with
// ED25519_COMPAT, or a future version) could change the rules; the pinned
// vectors in crypto_test fail if it does.
[[nodiscard]] bool Verify(const PublicKey& pk, util::ByteView msg, const Signature& sig);

// The X25519 (CURVE) public key of an Ed25519 public key. Fails (kInvalid)
// unless pk is the canonical encoding of a point of prime order L: small-order
// and mixed-order points, points off the curve and non-canonical encodings
// have no CURVE key we are willing to use. Keys made by SecretKey always
// convert.
util::Result<CurvePublicKey> ToCurvePublic(const PublicKey& pk);

}  // namespace tc::crypto
