// Key files: an Ed25519 secret key on disk, optionally encrypted with a
// passphrase. tc-keygen writes them; every program that signs reads them.
// A key file is created 0600 and never overwritten, and is refused on read
// when its group or others have any permission bit (as ssh does). Secret
// bytes only ever live in SecureBuffer memory.
//
// FORMAT (version 1; all offsets in bytes, integers big-endian)
//
//   offset size  field
//   0      5     magic "TCKEY"
//   5      1     format version = 1
//   6      1     flags: bit 0 = devnet key; every other bit must be 0
//   7      1     encryption: 0 = none, 1 = argon2id13 + xchacha20poly1305-ietf
//   8      32    Ed25519 public key
//   -- encryption 0: 72 bytes in all --
//   40     32    seed (RFC 8032 secret key)
//   -- encryption 1: 144 bytes in all --
//   40     8     opslimit (u64)
//   48     8     memlimit (u64, bytes)
//   56     16    salt (crypto_pwhash_SALTBYTES)
//   72     24    nonce (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
//   96     48    AEAD of the seed: ciphertext (32) || tag (16), with bytes
//                 0..71 (everything before the nonce) as associated data
//
// With encryption 1, the AEAD key is crypto_pwhash(32 bytes, passphrase,
// salt, opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13). Writers use
// crypto_pwhash_OPSLIMIT_INTERACTIVE and MEMLIMIT_INTERACTIVE; readers refuse
// opslimit outside [crypto_pwhash_argon2id_OPSLIMIT_MIN, _OPSLIMIT_SENSITIVE]
// and memlimit outside [_MEMLIMIT_MIN, _MEMLIMIT_SENSITIVE] before deriving
// anything, so a hostile file cannot make us spin or allocate without bound.
// A reader re-derives the key pair from the seed and requires it to match the
// stored public key. A file of any other length, magic, version, flags or
// encryption is rejected with a message naming the file and the reason.
//
// The AEAD authenticates the whole header as associated data, so a flipped
// devnet flag, public key, KDF parameter or salt in an encrypted file makes
// decryption fail like a wrong passphrase. An unencrypted file has no MAC:
// its public key is checked against the seed, and its flags are trusted
// like the seed itself (whoever can write the file owns the key).
#pragma once

#include <cstddef>
#include <string>

#include "crypto/keys.h"
#include "util/bytes.h"
#include "util/result.h"

namespace tc::crypto {

inline constexpr size_t kKeyFileHeaderSize = 40;
inline constexpr size_t kPlainKeyFileSize = 72;
inline constexpr size_t kEncryptedKeyFileSize = 144;

// What a key file says about itself, readable without a passphrase.
struct KeyFileInfo {
    PublicKey public_key{};
    bool devnet = false;
    bool encrypted = false;
};

// Creates path (0600, O_EXCL, never following a symlink) and writes key to it,
// encrypted when passphrase is non-null and non-empty, then fsyncs the file
// and, best effort, its directory. Errors: kConflict "PATH already exists"
// (the existing file is untouched); kIo for a failed open, write, fsync or
// close, after which the partial file has been removed; kInternal if the KDF
// cannot get its memory.
[[nodiscard]] util::Status WriteKeyFile(const std::string& path, const SecretKey& key, bool devnet,
                                        const SecureBuffer* passphrase);

// The public part of the key file at path (for `tc-keygen show`): checks the
// permissions and the whole structure, including the KDF limits of an
// encrypted file, and for an unencrypted file that the seed gives the stored
// public key. Never derives a key from a passphrase. Errors: kNotFound,
// kPermission (mode allows group/other access, or a symlink), kInvalid
// (malformed; the message names the path and the reason), kIo.
[[nodiscard]] util::Result<KeyFileInfo> ReadKeyFileInfo(const std::string& path);

// The secret key in the key file at path. passphrase is needed only for an
// encrypted file (it is ignored for an unencrypted one). Errors as
// ReadKeyFileInfo, plus: kUsage "PATH is encrypted: give --passphrase-file"
// when passphrase is null or empty for an encrypted file; kCrypto "PATH: wrong
// passphrase or corrupted key file" when the MAC does not check; kInvalid
// "PATH: public key does not match the secret key".
[[nodiscard]] util::Result<SecretKey> ReadKeyFile(const std::string& path,
                                                  const SecureBuffer* passphrase);

// ReadKeyFile with the passphrase read from passphrase_file (ReadPassphraseFile),
// or none when passphrase_file is empty: what a program's --key and
// --passphrase-file give.
[[nodiscard]] util::Result<SecretKey> ReadKeyFileWithPassphrase(const std::string& path,
                                                                const std::string& passphrase_file);

// The passphrase in the file at path: its first line without the "\n" (and a
// "\r" before it), in secure memory. The file must be a regular file that
// only its owner can access, as for key files. Errors: kNotFound,
// kPermission, kIo; kInvalid for an empty first line or one longer than
// kMaxPassphraseSize bytes.
inline constexpr size_t kMaxPassphraseSize = 4096;
[[nodiscard]] util::Result<SecureBuffer> ReadPassphraseFile(const std::string& path);

// The in-memory decoder behind ReadKeyFileInfo (also the fuzz target): the
// structure checks only, no permission or seed checks. name is used in
// messages in place of the path.
[[nodiscard]] util::Result<KeyFileInfo> DecodeKeyFileInfo(util::ByteView bytes,
                                                          const std::string& name);

}  // namespace tc::crypto
