// Key files: round trips, permissions, refusal to overwrite, and a clear
// error (never a crash) for every malformed file. Each test works in a fresh
// directory from mkdtemp.
#include "crypto/keyfile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "crypto/keys.h"
#include "util/bytes.h"

namespace {

using tc::crypto::KeyFileInfo;
using tc::crypto::ReadKeyFile;
using tc::crypto::ReadKeyFileInfo;
using tc::crypto::ReadPassphraseFile;
using tc::crypto::SecretKey;
using tc::crypto::SecureBuffer;
using tc::crypto::Verify;
using tc::crypto::WriteKeyFile;
using tc::util::Bytes;
using tc::util::Errc;

SecureBuffer Passphrase(std::string_view text) {
    SecureBuffer buf(text.size());
    std::copy(text.begin(), text.end(), buf.data());
    return buf;
}

class KeyFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(tc::crypto::InitSodium().ok());
        std::string pattern = (std::filesystem::temp_directory_path() / "tc-keyfile-XXXXXX");
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        m_dir = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }

    std::string Path(const std::string& name) const { return m_dir + "/" + name; }

    static Bytes ReadRaw(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    static void WriteRaw(const std::string& path, const Bytes& bytes, mode_t mode = 0600) {
        std::filesystem::remove(path);
        {
            std::ofstream out(path, std::ios::binary);
            out.write(reinterpret_cast<const char*>(bytes.data()),
                      static_cast<std::streamsize>(bytes.size()));
        }
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    }

    static mode_t Mode(const std::string& path) {
        struct stat st;
        EXPECT_EQ(::stat(path.c_str(), &st), 0);
        return st.st_mode & 07777;
    }

    // Writes a plain (or, with passphrase, encrypted) key file and returns its bytes.
    Bytes MakeFile(const std::string& name, const SecretKey& key,
                   const SecureBuffer* passphrase = nullptr, bool devnet = false) {
        const std::string path = Path(name);
        auto written = WriteKeyFile(path, key, devnet, passphrase);
        EXPECT_TRUE(written.ok()) << written.error().message;
        return ReadRaw(path);
    }

    // Expects ReadKeyFile (and ReadKeyFileInfo, which needs no passphrase) on
    // path to fail with code and a message containing text and the path.
    static void ExpectBoth(const std::string& path, Errc code, const std::string& text,
                           const SecureBuffer* passphrase = nullptr) {
        auto key = ReadKeyFile(path, passphrase);
        ASSERT_FALSE(key.ok());
        EXPECT_EQ(key.error().code, code) << key.error().message;
        EXPECT_NE(key.error().message.find(text), std::string::npos) << key.error().message;
        EXPECT_NE(key.error().message.find(path), std::string::npos) << key.error().message;
        auto info = ReadKeyFileInfo(path);
        ASSERT_FALSE(info.ok());
        EXPECT_EQ(info.error().code, code) << info.error().message;
        EXPECT_NE(info.error().message.find(text), std::string::npos) << info.error().message;
    }

    std::string m_dir;
};

TEST_F(KeyFileTest, PlainRoundTrip) {
    SecretKey key = SecretKey::Generate();
    const Bytes bytes = MakeFile("node.key", key, nullptr, /*devnet=*/true);
    EXPECT_EQ(bytes.size(), tc::crypto::kPlainKeyFileSize);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 5), "TCKEY");
    EXPECT_EQ(Mode(Path("node.key")), 0600u);

    auto info = ReadKeyFileInfo(Path("node.key"));
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->public_key, key.public_key());
    EXPECT_TRUE(info->devnet);
    EXPECT_FALSE(info->encrypted);

    auto loaded = ReadKeyFile(Path("node.key"), nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->public_key(), key.public_key());
    const Bytes msg = {1, 2, 3, 4};
    EXPECT_EQ(loaded->Sign(msg), key.Sign(msg));
    EXPECT_TRUE(Verify(key.public_key(), msg, loaded->Sign(msg)));

    // A passphrase given for an unencrypted file is not needed and not an error.
    SecureBuffer pass = Passphrase("unused");
    EXPECT_TRUE(ReadKeyFile(Path("node.key"), &pass).ok());
}

TEST_F(KeyFileTest, EncryptedRoundTrip) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer pass = Passphrase("correct horse battery staple");
    const Bytes bytes = MakeFile("enc.key", key, &pass);
    EXPECT_EQ(bytes.size(), tc::crypto::kEncryptedKeyFileSize);
    EXPECT_EQ(Mode(Path("enc.key")), 0600u);
    // The seed is nowhere in the file.
    const Bytes seed(key.seed().begin(), key.seed().end());
    EXPECT_EQ(std::search(bytes.begin(), bytes.end(), seed.begin(), seed.end()), bytes.end());

    auto info = ReadKeyFileInfo(Path("enc.key"));
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->public_key, key.public_key());
    EXPECT_FALSE(info->devnet);
    EXPECT_TRUE(info->encrypted);

    auto loaded = ReadKeyFile(Path("enc.key"), &pass);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->public_key(), key.public_key());
    const Bytes msg = {9, 8, 7};
    EXPECT_EQ(loaded->Sign(msg), key.Sign(msg));
}

TEST_F(KeyFileTest, EmptyPassphraseWritesPlainFile) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer empty;
    EXPECT_EQ(MakeFile("k", key, &empty).size(), tc::crypto::kPlainKeyFileSize);
}

TEST_F(KeyFileTest, RefusesToOverwrite) {
    SecretKey first = SecretKey::Generate();
    const Bytes before = MakeFile("node.key", first);
    SecretKey second = SecretKey::Generate();
    auto again = WriteKeyFile(Path("node.key"), second, false, nullptr);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, Errc::kConflict);
    EXPECT_EQ(again.error().message, Path("node.key") + " already exists");
    EXPECT_EQ(ReadRaw(Path("node.key")), before);
    auto loaded = ReadKeyFile(Path("node.key"), nullptr);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->public_key(), first.public_key());

    // Nor through a symlink, dangling or not.
    ASSERT_EQ(::symlink(Path("elsewhere").c_str(), Path("link.key").c_str()), 0);
    auto through_link = WriteKeyFile(Path("link.key"), second, false, nullptr);
    ASSERT_FALSE(through_link.ok());
    EXPECT_EQ(through_link.error().code, Errc::kConflict);
    EXPECT_FALSE(std::filesystem::exists(Path("elsewhere")));
}

TEST_F(KeyFileTest, WriteIntoMissingDirectoryFails) {
    SecretKey key = SecretKey::Generate();
    auto written = WriteKeyFile(Path("no/such/dir/node.key"), key, false, nullptr);
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.error().code, Errc::kNotFound);
}

TEST_F(KeyFileTest, RefusesFilesOthersCanRead) {
    SecretKey key = SecretKey::Generate();
    MakeFile("node.key", key);
    const std::string path = Path("node.key");
    for (mode_t mode : {0644, 0640, 0604, 0601, 0660}) {
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
        auto loaded = ReadKeyFile(path, nullptr);
        ASSERT_FALSE(loaded.ok());
        EXPECT_EQ(loaded.error().code, Errc::kPermission);
        EXPECT_EQ(loaded.error().message,
                  std::string("permissions ") + octal + " for '" + path +
                      "' are too open; the key file must be readable by its owner only (chmod "
                      "600 " +
                      path + ")");
        auto info = ReadKeyFileInfo(path);
        ASSERT_FALSE(info.ok());
        EXPECT_EQ(info.error().code, Errc::kPermission);
        EXPECT_NE(info.error().message.find("too open"), std::string::npos);
    }
    // 0400 is fine.
    ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
    EXPECT_TRUE(ReadKeyFile(path, nullptr).ok());
}

TEST_F(KeyFileTest, RefusesSymlinksDirectoriesAndMissingFiles) {
    SecretKey key = SecretKey::Generate();
    MakeFile("node.key", key);
    ASSERT_EQ(::symlink(Path("node.key").c_str(), Path("link.key").c_str()), 0);
    auto via_link = ReadKeyFile(Path("link.key"), nullptr);
    ASSERT_FALSE(via_link.ok());
    EXPECT_EQ(via_link.error().code, Errc::kPermission);
    EXPECT_NE(via_link.error().message.find("symbolic link"), std::string::npos);

    std::filesystem::create_directory(Path("dir.key"));
    ::chmod(Path("dir.key").c_str(), 0700);
    auto dir = ReadKeyFile(Path("dir.key"), nullptr);
    ASSERT_FALSE(dir.ok());
    EXPECT_EQ(dir.error().code, Errc::kInvalid);
    EXPECT_NE(dir.error().message.find("not a regular file"), std::string::npos);

    ASSERT_EQ(::mkfifo(Path("fifo.key").c_str(), 0600), 0);
    auto fifo = ReadKeyFile(Path("fifo.key"), nullptr);  // must not hang
    ASSERT_FALSE(fifo.ok());
    EXPECT_NE(fifo.error().message.find("not a regular file"), std::string::npos);

    auto missing = ReadKeyFile(Path("missing.key"), nullptr);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, Errc::kNotFound);
    EXPECT_NE(missing.error().message.find(Path("missing.key")), std::string::npos);
}

TEST_F(KeyFileTest, WrongPassphrase) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer pass = Passphrase("right");
    MakeFile("enc.key", key, &pass);
    SecureBuffer wrong = Passphrase("wrong");
    auto loaded = ReadKeyFile(Path("enc.key"), &wrong);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, Errc::kCrypto);
    EXPECT_EQ(loaded.error().message, Path("enc.key") + ": wrong passphrase or corrupted key file");
}

TEST_F(KeyFileTest, EncryptedWithoutPassphrase) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer pass = Passphrase("secret");
    MakeFile("enc.key", key, &pass);
    const SecureBuffer empty;
    for (const SecureBuffer* none : {static_cast<const SecureBuffer*>(nullptr), &empty}) {
        auto loaded = ReadKeyFile(Path("enc.key"), none);
        ASSERT_FALSE(loaded.ok());
        EXPECT_EQ(loaded.error().code, Errc::kUsage);
        EXPECT_EQ(loaded.error().message,
                  Path("enc.key") + " is encrypted: give --passphrase-file");
    }
}

TEST_F(KeyFileTest, EveryTruncationIsAClearError) {
    SecretKey key = SecretKey::Generate();
    const Bytes whole = MakeFile("node.key", key);
    ASSERT_EQ(whole.size(), 72u);
    for (size_t n = 0; n < whole.size(); ++n) {
        SCOPED_TRACE("length " + std::to_string(n));
        const std::string path = Path("cut.key");
        WriteRaw(path, Bytes(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(n)));
        ExpectBoth(path, Errc::kInvalid, "truncated key file (" + std::to_string(n) + " bytes");
    }
}

TEST_F(KeyFileTest, EveryTruncationOfAnEncryptedFileIsAClearError) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer pass = Passphrase("pw");
    const Bytes whole = MakeFile("enc.key", key, &pass);
    ASSERT_EQ(whole.size(), 144u);
    for (size_t n = 8; n < whole.size(); ++n) {
        SCOPED_TRACE("length " + std::to_string(n));
        const std::string path = Path("cut.key");
        WriteRaw(path, Bytes(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(n)));
        ExpectBoth(path, Errc::kInvalid,
                   "truncated key file (" + std::to_string(n) + " bytes, expected 144)", &pass);
    }
}

TEST_F(KeyFileTest, TrailingBytes) {
    SecretKey key = SecretKey::Generate();
    Bytes bytes = MakeFile("node.key", key);
    bytes.push_back(0x0a);
    WriteRaw(Path("long.key"), bytes);
    ExpectBoth(Path("long.key"), Errc::kInvalid, "1 trailing bytes after the key (file is 73");

    // Far larger than any key file: still a clear error, from a capped read.
    bytes.resize(1 << 20, 0);
    WriteRaw(Path("huge.key"), bytes);
    ExpectBoth(Path("huge.key"), Errc::kInvalid, "trailing bytes");

    SecureBuffer pass = Passphrase("pw");
    Bytes enc = MakeFile("enc.key", key, &pass);
    enc.push_back(0);
    WriteRaw(Path("enc-long.key"), enc);
    ExpectBoth(Path("enc-long.key"), Errc::kInvalid, "expected 144", &pass);
}

TEST_F(KeyFileTest, MalformedHeaders) {
    SecretKey key = SecretKey::Generate();
    const Bytes good = MakeFile("node.key", key);
    struct Case {
        size_t offset;
        uint8_t value;
        const char* message;
    };
    const Case cases[] = {
        {0, 'X', "not a TimeCoin key file"},      {4, 'Z', "not a TimeCoin key file"},
        {5, 2, "unsupported key file version 2"}, {5, 0, "unsupported key file version 0"},
        {6, 0x02, "unknown flags 0x02"},          {6, 0x81, "unknown flags 0x81"},
        {7, 7, "unknown encryption method 7"},    {7, 2, "unknown encryption method 2"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.message);
        Bytes bad = good;
        bad[c.offset] = c.value;
        WriteRaw(Path("bad.key"), bad);
        ExpectBoth(Path("bad.key"), Errc::kInvalid, c.message);
    }
    // A text file is not a key file, whatever its length.
    WriteRaw(Path("text.key"), Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
    ExpectBoth(Path("text.key"), Errc::kInvalid, "not a TimeCoin key file");
}

TEST_F(KeyFileTest, AlteredPublicKey) {
    SecretKey key = SecretKey::Generate();
    Bytes plain = MakeFile("node.key", key);
    plain[8] ^= 0x01;
    WriteRaw(Path("plain-bad.key"), plain);
    ExpectBoth(Path("plain-bad.key"), Errc::kInvalid, "public key does not match the secret key");

    // Encrypted: the header is associated data of the AEAD, so the change
    // fails authentication before any seed comes out.
    SecureBuffer pass = Passphrase("pw");
    Bytes enc = MakeFile("enc.key", key, &pass);
    enc[20] ^= 0x40;
    WriteRaw(Path("enc-bad.key"), enc);
    EXPECT_TRUE(ReadKeyFileInfo(Path("enc-bad.key")).ok());  // structure is fine
    auto loaded = ReadKeyFile(Path("enc-bad.key"), &pass);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, Errc::kCrypto);
    EXPECT_EQ(loaded.error().message,
              Path("enc-bad.key") + ": wrong passphrase or corrupted key file");
}

TEST_F(KeyFileTest, AlteredSeedOfPlainFile) {
    SecretKey key = SecretKey::Generate();
    Bytes plain = MakeFile("node.key", key);
    plain[60] ^= 0x10;
    WriteRaw(Path("bad.key"), plain);
    ExpectBoth(Path("bad.key"), Errc::kInvalid, "public key does not match the secret key");
}

TEST_F(KeyFileTest, FlippedByteAnywhereInAnEncryptedFileFailsTheAead) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer pass = Passphrase("pw");
    const Bytes enc = MakeFile("enc.key", key, &pass);
    // 6: the devnet flag, 20: public key, 56: salt, 72: nonce, 96 and 120:
    // ciphertext, 143: tag. Everything before the nonce is associated data.
    for (size_t offset : {6, 20, 56, 72, 96, 120, 143}) {
        SCOPED_TRACE("offset " + std::to_string(offset));
        Bytes bad = enc;
        bad[offset] ^= 0x01;
        WriteRaw(Path("bad.key"), bad);
        auto loaded = ReadKeyFile(Path("bad.key"), &pass);
        ASSERT_FALSE(loaded.ok());
        EXPECT_EQ(loaded.error().code, Errc::kCrypto);
        EXPECT_NE(loaded.error().message.find("wrong passphrase or corrupted key file"),
                  std::string::npos);
    }
}

// Sets the big-endian u64 at offset.
void SetBe64(Bytes& bytes, size_t offset, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        bytes[offset + static_cast<size_t>(i)] = static_cast<uint8_t>(v);
        v >>= 8;
    }
}

TEST_F(KeyFileTest, HostileKdfLimitsAreRefusedBeforeDerivation) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer pass = Passphrase("pw");
    const Bytes enc = MakeFile("enc.key", key, &pass);
    struct Case {
        size_t offset;
        uint64_t value;
        const char* message;
    };
    const Case cases[] = {
        {40, uint64_t{1} << 60, "KDF opslimit 1152921504606846976 outside the accepted range"},
        {40, 0, "KDF opslimit 0 outside"},
        {40, 5, "KDF opslimit 5 outside"},  // one above OPSLIMIT_SENSITIVE
        {48, uint64_t{1} << 60, "KDF memlimit 1152921504606846976 bytes outside"},
        {48, (uint64_t{1} << 30) + 1, "KDF memlimit 1073741825 bytes outside"},
        {48, 8191, "KDF memlimit 8191 bytes outside"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.message);
        Bytes bad = enc;
        SetBe64(bad, c.offset, c.value);
        WriteRaw(Path("bad.key"), bad);
        // Had argon2id run with 2^60 passes or 2^60 bytes, this would never
        // return; it must fail at once, with or without a passphrase.
        const auto start = std::chrono::steady_clock::now();
        ExpectBoth(Path("bad.key"), Errc::kInvalid, c.message, &pass);
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    }
}

TEST_F(KeyFileTest, ChangedKdfLimitsWithinBoundsFailTheMac) {
    SecretKey key = SecretKey::Generate();
    SecureBuffer pass = Passphrase("pw");
    Bytes enc = MakeFile("enc.key", key, &pass);
    SetBe64(enc, 40, 3);  // opslimit 2 -> 3: another derived key
    WriteRaw(Path("bad.key"), enc);
    auto loaded = ReadKeyFile(Path("bad.key"), &pass);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, Errc::kCrypto);
}

TEST_F(KeyFileTest, DecodeKeyFileInfoInMemory) {
    SecretKey key = SecretKey::Generate();
    const Bytes good = MakeFile("node.key", key, nullptr, true);
    auto info = tc::crypto::DecodeKeyFileInfo(good, "<memory>");
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->devnet);
    EXPECT_EQ(info->public_key, key.public_key());
    auto bad = tc::crypto::DecodeKeyFileInfo(Bytes{}, "<memory>");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "<memory>: truncated key file (0 bytes, expected 72 or 144)");
}

TEST_F(KeyFileTest, PassphraseFileFirstLine) {
    struct Case {
        std::string contents;
        std::string passphrase;
    };
    const Case cases[] = {
        {"hunter2\n", "hunter2"},
        {"hunter2", "hunter2"},
        {"hunter2\r\n", "hunter2"},
        {"two words \nsecond line\n", "two words "},
        {std::string("nul\0inside\n", 11), std::string("nul\0inside", 10)},
    };
    for (const auto& c : cases) {
        WriteRaw(Path("pass"), Bytes(c.contents.begin(), c.contents.end()));
        auto pass = ReadPassphraseFile(Path("pass"));
        ASSERT_TRUE(pass.ok()) << pass.error().message;
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(pass->data()), pass->size()),
                  c.passphrase);
    }
    // The passphrase read from a file opens a key written with it.
    WriteRaw(Path("pass"), Bytes{'p', 'w', '\n'});
    auto pass = ReadPassphraseFile(Path("pass"));
    ASSERT_TRUE(pass.ok());
    SecretKey key = SecretKey::Generate();
    MakeFile("enc.key", key, &*pass);
    SecureBuffer typed = Passphrase("pw");
    EXPECT_TRUE(ReadKeyFile(Path("enc.key"), &typed).ok());
}

TEST_F(KeyFileTest, PassphraseFileErrors) {
    for (std::string empty : {"", "\n", "\r\n", "\nsecond line"}) {
        WriteRaw(Path("pass"), Bytes(empty.begin(), empty.end()));
        auto pass = ReadPassphraseFile(Path("pass"));
        ASSERT_FALSE(pass.ok());
        EXPECT_EQ(pass.error().code, Errc::kInvalid);
        EXPECT_NE(pass.error().message.find("empty passphrase"), std::string::npos);
    }

    WriteRaw(Path("pass"), Bytes{'p', 'w', '\n'}, 0644);
    auto open = ReadPassphraseFile(Path("pass"));
    ASSERT_FALSE(open.ok());
    EXPECT_EQ(open.error().code, Errc::kPermission);
    EXPECT_NE(open.error().message.find("permissions 0644"), std::string::npos);
    EXPECT_NE(open.error().message.find("too open"), std::string::npos);
    EXPECT_NE(open.error().message.find("passphrase file"), std::string::npos);

    const size_t max = tc::crypto::kMaxPassphraseSize;
    WriteRaw(Path("pass"), Bytes(max, 'a'));
    EXPECT_TRUE(ReadPassphraseFile(Path("pass")).ok());
    Bytes long_line(max + 1, 'a');
    long_line.push_back('\n');
    WriteRaw(Path("pass"), long_line);
    auto too_long = ReadPassphraseFile(Path("pass"));
    ASSERT_FALSE(too_long.ok());
    EXPECT_EQ(too_long.error().code, Errc::kInvalid);
    EXPECT_NE(too_long.error().message.find("longer than"), std::string::npos);

    auto missing = ReadPassphraseFile(Path("nope"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

}  // namespace
