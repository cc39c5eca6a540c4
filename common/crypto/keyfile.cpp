#include "crypto/keyfile.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace tc::crypto {

using util::Errc;
using util::MakeError;

namespace {

constexpr uint8_t kMagic[5] = {'T', 'C', 'K', 'E', 'Y'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFlagDevnet = 0x01;
constexpr uint8_t kEncryptionNone = 0;
constexpr uint8_t kEncryptionArgon2idAead = 1;

constexpr size_t kVersionOffset = 5;
constexpr size_t kFlagsOffset = 6;
constexpr size_t kEncryptionOffset = 7;
constexpr size_t kPublicKeyOffset = 8;
constexpr size_t kSeedOffset = 40;
constexpr size_t kOpslimitOffset = 40;
constexpr size_t kMemlimitOffset = 48;
constexpr size_t kSaltOffset = 56;
constexpr size_t kNonceOffset = kSaltOffset + crypto_pwhash_SALTBYTES;
constexpr size_t kBoxOffset = kNonceOffset + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kSeedSize = crypto_sign_SEEDBYTES;
constexpr size_t kBoxSize = kSeedSize + crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kBoxKeySize = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
// The AEAD's associated data: every byte before the nonce (header, KDF
// parameters, salt), so that no field of an encrypted file can be changed
// without the passphrase.
constexpr size_t kAssociatedSize = kNonceOffset;

static_assert(kPublicKeyOffset + crypto_sign_PUBLICKEYBYTES == kKeyFileHeaderSize);
static_assert(kSeedOffset + kSeedSize == kPlainKeyFileSize);
static_assert(kBoxOffset + kBoxSize == kEncryptedKeyFileSize, "format is 144 bytes encrypted");
static_assert(kNonceOffset == 72 && kBoxOffset == 96, "offsets documented in keyfile.h");

// The decoded structure of a key file; the views point into the file bytes.
struct Layout {
    KeyFileInfo info;
    util::ByteView seed;  // encryption 0
    uint64_t opslimit = 0;
    uint64_t memlimit = 0;
    util::ByteView salt;
    util::ByteView nonce;
    util::ByteView box;
    util::ByteView associated;  // bytes the AEAD authenticates besides the seed
};

uint64_t LoadBe64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

void StoreBe64(uint8_t* p, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
}

std::string ErrnoText(int e) {
    return std::error_code(e, std::generic_category()).message();
}

std::string Hex2(uint8_t b) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", b);
    return text;
}

// bytes holds the first bytes of the file; file_size is its full size (a
// reader caps what it reads, so bytes may be shorter than the file).
util::Result<Layout> Decode(util::ByteView bytes, const std::string& name, uint64_t file_size) {
    const size_t n = bytes.size();
    // Judge what is there before complaining about what is missing, so that
    // a file of another kind says so rather than "truncated".
    if (n > 0 && std::memcmp(bytes.data(), kMagic, std::min(n, sizeof kMagic)) != 0) {
        return MakeError(Errc::kInvalid, name + ": not a TimeCoin key file (bad magic)");
    }
    if (n > kVersionOffset && bytes[kVersionOffset] != kVersion) {
        return MakeError(Errc::kInvalid, name + ": unsupported key file version " +
                                             std::to_string(bytes[kVersionOffset]) +
                                             " (this program reads version 1)");
    }
    if (n > kFlagsOffset && (bytes[kFlagsOffset] & ~kFlagDevnet) != 0) {
        return MakeError(Errc::kInvalid, name + ": unknown flags " + Hex2(bytes[kFlagsOffset]) +
                                             " in key file (only bit 0, devnet, is defined)");
    }
    if (n > kEncryptionOffset && bytes[kEncryptionOffset] != kEncryptionNone &&
        bytes[kEncryptionOffset] != kEncryptionArgon2idAead) {
        return MakeError(Errc::kInvalid,
                         name + ": unknown encryption method " +
                             std::to_string(bytes[kEncryptionOffset]) +
                             " in key file (0 = none, 1 = argon2id13+xsalsa20poly1305)");
    }
    if (n <= kEncryptionOffset) {
        return MakeError(Errc::kInvalid, name + ": truncated key file (" +
                                             std::to_string(file_size) + " bytes, expected " +
                                             std::to_string(kPlainKeyFileSize) + " or " +
                                             std::to_string(kEncryptedKeyFileSize) + ")");
    }
    const bool encrypted = bytes[kEncryptionOffset] == kEncryptionArgon2idAead;
    const size_t expected = encrypted ? kEncryptedKeyFileSize : kPlainKeyFileSize;
    if (file_size < expected || n < expected) {
        return MakeError(Errc::kInvalid, name + ": truncated key file (" +
                                             std::to_string(file_size) + " bytes, expected " +
                                             std::to_string(expected) + ")");
    }
    if (file_size > expected) {
        return MakeError(Errc::kInvalid, name + ": " + std::to_string(file_size - expected) +
                                             " trailing bytes after the key (file is " +
                                             std::to_string(file_size) + " bytes, expected " +
                                             std::to_string(expected) + ")");
    }

    Layout out;
    out.info.devnet = (bytes[kFlagsOffset] & kFlagDevnet) != 0;
    out.info.encrypted = encrypted;
    std::memcpy(out.info.public_key.data(), bytes.data() + kPublicKeyOffset,
                out.info.public_key.size());
    if (!encrypted) {
        out.seed = bytes.subspan(kSeedOffset, kSeedSize);
        return out;
    }
    out.opslimit = LoadBe64(bytes.data() + kOpslimitOffset);
    out.memlimit = LoadBe64(bytes.data() + kMemlimitOffset);
    // Bounds first: argon2id runs opslimit passes over memlimit bytes, and a
    // hostile file must not be able to ask for 2^60 of either.
    const uint64_t ops_min = crypto_pwhash_argon2id_OPSLIMIT_MIN;
    const uint64_t ops_max = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
    const uint64_t mem_min = crypto_pwhash_argon2id_MEMLIMIT_MIN;
    const uint64_t mem_max = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
    if (out.opslimit < ops_min || out.opslimit > ops_max) {
        return MakeError(Errc::kInvalid, name + ": KDF opslimit " + std::to_string(out.opslimit) +
                                             " outside the accepted range [" +
                                             std::to_string(ops_min) + ", " +
                                             std::to_string(ops_max) + "]");
    }
    if (out.memlimit < mem_min || out.memlimit > mem_max) {
        return MakeError(Errc::kInvalid, name + ": KDF memlimit " + std::to_string(out.memlimit) +
                                             " bytes outside the accepted range [" +
                                             std::to_string(mem_min) + ", " +
                                             std::to_string(mem_max) + "]");
    }
    out.salt = bytes.subspan(kSaltOffset, crypto_pwhash_SALTBYTES);
    out.nonce = bytes.subspan(kNonceOffset, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    out.associated = bytes.subspan(0, kAssociatedSize);
    out.box = bytes.subspan(kBoxOffset, kBoxSize);
    return out;
}

// Derives the AEAD key of an encrypted key file.
util::Result<SecureBuffer> DeriveBoxKey(const SecureBuffer& passphrase, util::ByteView salt,
                                        uint64_t opslimit, uint64_t memlimit,
                                        const std::string& name) {
    SecureBuffer key(kBoxKeySize);
    if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()),
                      passphrase.size(), salt.data(), opslimit, static_cast<size_t>(memlimit),
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return MakeError(Errc::kInternal,
                         name + ": passphrase key derivation failed (out of memory? it needs " +
                             std::to_string(memlimit) + " bytes)");
    }
    return key;
}

util::Result<SecretKey> KeyFromSeed(util::ByteView seed, const PublicKey& stored,
                                    const std::string& name) {
    TC_TRY(key, SecretKey::FromSeed(seed));
    if (key.public_key() != stored) {
        return MakeError(Errc::kInvalid, name + ": public key does not match the secret key");
    }
    return key;
}

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : m_fd(fd) {}
    ~FileDescriptor() {
        if (m_fd >= 0) ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return m_fd; }

  private:
    int m_fd;
};

struct PrivateFile {
    SecureBuffer bytes;      // at most the cap given to ReadPrivateFile
    uint64_t file_size = 0;  // the size fstat reported
};

// Reads up to cap bytes of a file that holds a secret. The file must be a
// regular file (not reached through a symlink) with no group or other
// permission bits. what names the kind of file in messages.
util::Result<PrivateFile> ReadPrivateFile(const std::string& path, const char* what, size_t cap) {
    // O_NONBLOCK: opening a FIFO must not hang waiting for a writer; the type
    // check below then refuses it. It changes nothing for regular files.
    int raw = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (raw < 0) {
        const int e = errno;
        if (e == ENOENT) return MakeError(Errc::kNotFound, path + ": no such file");
        if (e == ELOOP) {
            return MakeError(Errc::kPermission, path + ": is a symbolic link; a " +
                                                    std::string(what) +
                                                    " must be opened by its real path");
        }
        if (e == EACCES) return MakeError(Errc::kPermission, path + ": " + ErrnoText(e));
        return MakeError(Errc::kIo, path + ": " + ErrnoText(e));
    }
    FileDescriptor fd(raw);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return MakeError(Errc::kIo, path + ": " + ErrnoText(errno));
    if (!S_ISREG(st.st_mode)) {
        return MakeError(Errc::kInvalid,
                         path + ": not a regular file; a " + std::string(what) + " must be one");
    }
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return MakeError(Errc::kPermission, std::string("permissions ") + mode + " for '" + path +
                                                "' are too open; the " + what +
                                                " must be readable by its owner only (chmod 600 " +
                                                path + ")");
    }

    PrivateFile out;
    out.file_size = static_cast<uint64_t>(st.st_size);
    out.bytes = SecureBuffer(cap);
    size_t got = 0;
    while (got < cap) {
        ssize_t r = ::read(fd.get(), out.bytes.data() + got, cap - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return MakeError(Errc::kIo, path + ": read: " + ErrnoText(errno));
        if (r == 0) break;
        got += static_cast<size_t>(r);
    }
    out.bytes.Truncate(got);
    // The file may have changed size between fstat and read; trust the read
    // unless it stopped at the cap.
    if (got < cap) out.file_size = got;
    return out;
}

util::Result<void> WriteAll(int fd, util::ByteView bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return MakeError(Errc::kIo, "write: " + ErrnoText(errno));
        done += static_cast<size_t>(w);
    }
    return {};
}

// Best effort: makes the new directory entry durable. A directory we may
// create files in but not open for reading is not an error.
void SyncParentDirectory(const std::string& path) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

// Creates path exclusively and writes bytes to it durably; removes the file
// again on any failure after creating it.
util::Status CreateFileDurably(const std::string& path, util::ByteView bytes) {
    int raw = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) {
        const int e = errno;
        if (e == EEXIST) return MakeError(Errc::kConflict, path + " already exists");
        if (e == ENOENT) return MakeError(Errc::kNotFound, path + ": " + ErrnoText(e));
        if (e == EACCES) return MakeError(Errc::kPermission, path + ": " + ErrnoText(e));
        return MakeError(Errc::kIo, path + ": " + ErrnoText(e));
    }
    auto fail = [&](int fd, const std::string& what) {
        if (fd >= 0) ::close(fd);
        ::unlink(path.c_str());
        return MakeError(Errc::kIo, path + ": " + what);
    };
    // The umask can only clear bits of 0600, but it could clear the owner's
    // read bit; make the mode exactly what readers expect.
    if (::fchmod(raw, 0600) != 0) return fail(raw, "chmod: " + ErrnoText(errno));
    if (auto written = WriteAll(raw, bytes); !written) return fail(raw, written.error().message);
    if (::fsync(raw) != 0) return fail(raw, "fsync: " + ErrnoText(errno));
    if (::close(raw) != 0) return fail(-1, "close: " + ErrnoText(errno));
    SyncParentDirectory(path);
    return {};
}

}  // namespace

util::Result<KeyFileInfo> DecodeKeyFileInfo(util::ByteView bytes, const std::string& name) {
    TC_TRY(layout, Decode(bytes, name, bytes.size()));
    return layout.info;
}

util::Status WriteKeyFile(const std::string& path, const SecretKey& key, bool devnet,
                          const SecureBuffer* passphrase) {
    const bool encrypt = passphrase != nullptr && passphrase->size() > 0;
    // Everything, seed included, is assembled in secure memory.
    SecureBuffer file(encrypt ? kEncryptedKeyFileSize : kPlainKeyFileSize);
    uint8_t* p = file.data();
    std::memcpy(p, kMagic, sizeof kMagic);
    p[kVersionOffset] = kVersion;
    p[kFlagsOffset] = devnet ? kFlagDevnet : 0;
    p[kEncryptionOffset] = encrypt ? kEncryptionArgon2idAead : kEncryptionNone;
    std::memcpy(p + kPublicKeyOffset, key.public_key().data(), key.public_key().size());
    if (!encrypt) {
        std::memcpy(p + kSeedOffset, key.seed().data(), kSeedSize);
    } else {
        const uint64_t opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        const uint64_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        StoreBe64(p + kOpslimitOffset, opslimit);
        StoreBe64(p + kMemlimitOffset, memlimit);
        randombytes_buf(p + kSaltOffset, crypto_pwhash_SALTBYTES);
        randombytes_buf(p + kNonceOffset, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
        TC_TRY(box_key, DeriveBoxKey(*passphrase, {p + kSaltOffset, crypto_pwhash_SALTBYTES},
                                     opslimit, memlimit, path));
        crypto_aead_xchacha20poly1305_ietf_encrypt(p + kBoxOffset, nullptr, key.seed().data(),
                                                   kSeedSize, p, kAssociatedSize, nullptr,
                                                   p + kNonceOffset, box_key.data());
    }
    return CreateFileDurably(path, file.view());
}

util::Result<KeyFileInfo> ReadKeyFileInfo(const std::string& path) {
    TC_TRY(file, ReadPrivateFile(path, "key file", kEncryptedKeyFileSize + 1));
    TC_TRY(layout, Decode(file.bytes.view(), path, file.file_size));
    if (!layout.info.encrypted) {
        TC_TRY(key, KeyFromSeed(layout.seed, layout.info.public_key, path));
        (void)key;
    }
    return layout.info;
}

util::Result<SecretKey> ReadKeyFile(const std::string& path, const SecureBuffer* passphrase) {
    TC_TRY(file, ReadPrivateFile(path, "key file", kEncryptedKeyFileSize + 1));
    TC_TRY(layout, Decode(file.bytes.view(), path, file.file_size));
    if (!layout.info.encrypted) return KeyFromSeed(layout.seed, layout.info.public_key, path);

    if (passphrase == nullptr || passphrase->size() == 0) {
        return MakeError(Errc::kUsage, path + " is encrypted: give --passphrase-file");
    }
    TC_TRY(box_key, DeriveBoxKey(*passphrase, layout.salt, layout.opslimit, layout.memlimit, path));
    SecureBuffer seed(kSeedSize);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed.data(), nullptr, nullptr, layout.box.data(),
                                                   layout.box.size(), layout.associated.data(),
                                                   layout.associated.size(), layout.nonce.data(),
                                                   box_key.data()) != 0) {
        return MakeError(Errc::kCrypto, path + ": wrong passphrase or corrupted key file");
    }
    return KeyFromSeed(seed.view(), layout.info.public_key, path);
}

util::Result<SecureBuffer> ReadPassphraseFile(const std::string& path) {
    TC_TRY(file, ReadPrivateFile(path, "passphrase file", kMaxPassphraseSize + 2));
    SecureBuffer text = std::move(file.bytes);
    const uint8_t* begin = text.data();
    const uint8_t* newline =
        text.size() > 0 ? static_cast<const uint8_t*>(std::memchr(begin, '\n', text.size()))
                        : nullptr;
    size_t length = newline != nullptr ? static_cast<size_t>(newline - begin) : text.size();
    if (length > 0 && begin[length - 1] == '\r') --length;
    if (length > kMaxPassphraseSize) {
        return MakeError(Errc::kInvalid, path + ": passphrase longer than " +
                                             std::to_string(kMaxPassphraseSize) + " bytes");
    }
    if (length == 0) {
        return MakeError(Errc::kInvalid, path + ": empty passphrase (the first line is empty)");
    }
    text.Truncate(length);
    return text;
}

util::Result<SecretKey> ReadKeyFileWithPassphrase(const std::string& path,
                                                  const std::string& passphrase_file) {
    if (passphrase_file.empty()) return ReadKeyFile(path, nullptr);
    TC_TRY(passphrase, ReadPassphraseFile(passphrase_file));
    return ReadKeyFile(path, &passphrase);
}

}  // namespace tc::crypto
