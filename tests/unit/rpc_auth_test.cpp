// Cookie authentication of tc-rpc (tools/tc-rpc/rpc_auth.h): the cookie's
// form, its file, base64 and the Basic header check.
#include "rpc_auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "crypto/keys.h"
#include "temp_dir.h"
#include "util/file.h"

namespace tc {
namespace {

TEST(RpcAuth, Base64MatchesRfc4648) {
    const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, coded] : vectors) {
        EXPECT_EQ(rpc::Base64Encode(plain), coded);
        auto back = rpc::Base64Decode(coded);
        ASSERT_TRUE(back.ok()) << coded;
        EXPECT_EQ(*back, plain);
    }
    EXPECT_FALSE(rpc::Base64Decode("Zm9").ok());
    EXPECT_FALSE(rpc::Base64Decode("Zm=v").ok());
    EXPECT_FALSE(rpc::Base64Decode("Zm9*").ok());
}

TEST(RpcAuth, CookieSecretsAreFreshHex) {
    ASSERT_TRUE(crypto::InitSodium().ok());
    const std::string a = rpc::NewCookieSecret();
    const std::string b = rpc::NewCookieSecret();
    EXPECT_EQ(a.size(), 64u);
    EXPECT_NE(a, b);
    auto parsed = rpc::ParseCookie(rpc::CookieText(a) + "\n");
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, a);
}

TEST(RpcAuth, ParseCookieRefusesOtherForms) {
    const std::string hex(64, 'a');
    EXPECT_TRUE(rpc::ParseCookie("__cookie__:" + hex).ok());
    EXPECT_FALSE(rpc::ParseCookie("__cookie__:" + hex.substr(1)).ok());
    EXPECT_FALSE(rpc::ParseCookie("__cookie__:" + std::string(64, 'A')).ok());
    EXPECT_FALSE(rpc::ParseCookie("user:" + hex).ok());
    EXPECT_FALSE(rpc::ParseCookie(hex).ok());
    EXPECT_FALSE(rpc::ParseCookie("").ok());
}

TEST(RpcAuth, BasicHeaderCheck) {
    const std::string secret(64, 'b');
    EXPECT_TRUE(rpc::CheckBasicAuth(rpc::BasicAuthHeader(secret), secret));
    EXPECT_FALSE(rpc::CheckBasicAuth(rpc::BasicAuthHeader(std::string(64, 'c')), secret));
    EXPECT_FALSE(rpc::CheckBasicAuth("Basic " + rpc::Base64Encode("root:" + secret), secret));
    EXPECT_FALSE(rpc::CheckBasicAuth("Bearer " + secret, secret));
    EXPECT_FALSE(rpc::CheckBasicAuth("", secret));
    EXPECT_FALSE(rpc::CheckBasicAuth("Basic !!!!", secret));
}

TEST(RpcAuth, CookieFileIsOwnerOnlyAndReadable) {
    ASSERT_TRUE(crypto::InitSodium().ok());
    test::TempDir dir;
    const std::string path = rpc::CookiePath(dir.path());
    const std::string secret = rpc::NewCookieSecret();
    ASSERT_TRUE(util::WriteFileAtomic(path, rpc::CookieText(secret) + "\n", 0600).ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto read = rpc::ReadCookie(path);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(*read, secret);
    // A second write replaces it.
    const std::string other = rpc::NewCookieSecret();
    ASSERT_TRUE(util::WriteFileAtomic(path, rpc::CookieText(other), 0600).ok());
    EXPECT_EQ(*rpc::ReadCookie(path), other);
    auto missing = rpc::ReadCookie(dir.path() + "/nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, util::Errc::kNotFound);
    std::ofstream(dir.path() + "/bad") << "garbage";
    EXPECT_EQ(rpc::ReadCookie(dir.path() + "/bad").error().code, util::Errc::kInvalid);
}

}  // namespace
}  // namespace tc
