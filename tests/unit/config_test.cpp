// Options precedence (flag > TC_* > config file > default), the config file's
// rules, and RunTool's exit codes and one-line errors.
#include "util/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/cli.h"

namespace fs = std::filesystem;
using tc::util::CommonOptions;
using tc::util::Errc;
using tc::util::Status;

namespace {

// argv for CLI11: argv[0] then args.
class Argv {
  public:
    Argv(std::initializer_list<std::string> args) : m_strings{"tc-pool"} {
        m_strings.insert(m_strings.end(), args.begin(), args.end());
        for (auto& s : m_strings) m_ptrs.push_back(s.data());
        m_ptrs.push_back(nullptr);
    }
    int argc() const { return static_cast<int>(m_strings.size()); }
    char** argv() { return m_ptrs.data(); }

  private:
    std::vector<std::string> m_strings;
    std::vector<char*> m_ptrs;
};

// A small tool in the shape of tc-pool: a program option with an env name,
// a subcommand with a required option and two options that exclude each
// other, a flag and a multi-value option.
struct PoolOptions {
    CommonOptions common;
    uint64_t max_pool_bytes = 100;
    std::vector<std::string> peers;
    bool verbose = false;
    std::string key;
    std::string genesis;
    std::string chain_id;
};

void SetupPool(CLI::App& app, PoolOptions& o) {
    tc::util::AddCommonOptions(app, o.common, "pool");
    tc::util::WithEnv(app.add_option("--max-pool-bytes", o.max_pool_bytes, "pool limit"));
    app.add_option("--peer", o.peers, "peers");
    app.add_flag("--verbose", o.verbose, "chatty");
    auto* run = app.add_subcommand("run", "the daemon");
    run->add_option("--key", o.key, "key file")->required();
    auto* g = run->add_option("--genesis", o.genesis, "genesis");
    auto* c = run->add_option("--chain-id", o.chain_id, "chain id");
    g->excludes(c);
    app.add_subcommand("status", "ask the daemon");
}

const char* kEnvNames[] = {"TC_DATADIR",    "TC_CONFIG",         "TC_LOG_LEVEL",
                           "TC_LOG_FORMAT", "TC_MAX_POOL_BYTES", "HOME"};

class ConfigTest : public testing::Test {
  protected:
    void SetUp() override {
        for (const char* name : kEnvNames) {
            const char* v = std::getenv(name);
            m_saved.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
            unsetenv(name);
        }
        m_dir = fs::temp_directory_path() /
                ("tc-config-test-" + std::to_string(getpid()) + "-" +
                 testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir / "home");
        fs::create_directories(m_dir / "data");
        // A HOME of our own, so that a developer's ~/.timecoin is never read.
        setenv("HOME", (m_dir / "home").c_str(), 1);
    }
    void TearDown() override {
        for (const auto& [name, value] : m_saved) {
            if (value) {
                setenv(name.c_str(), value->c_str(), 1);
            } else {
                unsetenv(name.c_str());
            }
        }
        fs::remove_all(m_dir);
    }

    std::string Datadir() const { return (m_dir / "data").string(); }
    std::string DatadirToml() const { return Datadir() + "/timecoin.toml"; }
    std::string Write(const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
        return path;
    }

    // Parses args into a fresh pool app; o receives the values.
    Status Parse(PoolOptions& o, std::initializer_list<std::string> args) {
        CLI::App app{"test pool", "tc-pool"};
        SetupPool(app, o);
        Argv argv(args);
        return tc::util::ParseCommandLine(app, o.common, argv.argc(), argv.argv());
    }
    uint64_t MaxPoolBytes(std::initializer_list<std::string> args) {
        PoolOptions o;
        Status st = Parse(o, args);
        EXPECT_TRUE(st.ok()) << st.error().message;
        return o.max_pool_bytes;
    }
    std::string ErrorOf(std::initializer_list<std::string> args) {
        PoolOptions o;
        Status st = Parse(o, args);
        EXPECT_FALSE(st.ok());
        if (st.ok()) return "";
        EXPECT_EQ(st.error().code, Errc::kUsage);
        return st.error().message;
    }

    // Runs RunTool on the pool app; captures stdout and stderr.
    struct Run {
        int code;
        std::string out;
        std::string err;
        bool body_ran;
    };
    Run RunPool(std::initializer_list<std::string> args, std::function<Status()> body = nullptr,
                bool require_subcommand = false) {
        CLI::App app{"test pool", "tc-pool"};
        PoolOptions o;
        SetupPool(app, o);
        if (require_subcommand) app.require_subcommand(1);
        Argv argv(args);
        bool ran = false;
        testing::internal::CaptureStdout();
        testing::internal::CaptureStderr();
        int code = tc::util::RunTool(app, o.common, argv.argc(), argv.argv(), [&]() -> Status {
            ran = true;
            return body ? body() : Status{};
        });
        std::string err = testing::internal::GetCapturedStderr();
        std::string out = testing::internal::GetCapturedStdout();
        return {code, out, err, ran};
    }

    fs::path m_dir;
    std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

TEST_F(ConfigTest, FlagBeatsEnvBeatsFileBeatsDefault) {
    const std::string dd = "--datadir=" + Datadir();
    EXPECT_EQ(MaxPoolBytes({dd}), 100u);  // default

    Write(DatadirToml(), "[pool]\nmax-pool-bytes = 300\n");
    EXPECT_EQ(MaxPoolBytes({dd}), 300u);  // file > default

    setenv("TC_MAX_POOL_BYTES", "200", 1);
    EXPECT_EQ(MaxPoolBytes({dd}), 200u);  // env > file

    EXPECT_EQ(MaxPoolBytes({dd, "--max-pool-bytes", "400"}), 400u);  // flag > env
    unsetenv("TC_MAX_POOL_BYTES");
    EXPECT_EQ(MaxPoolBytes({dd, "--max-pool-bytes", "400"}), 400u);  // flag > file
}

TEST_F(ConfigTest, CommonOptionsFollowTheSamePrecedence) {
    Write(DatadirToml(), "log-level = \"debug\"\nlog-format = \"json\"\n");
    setenv("TC_DATADIR", Datadir().c_str(), 1);
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {}).ok());
    EXPECT_EQ(o.common.log_level, "debug");
    EXPECT_EQ(o.common.log_format, "json");

    setenv("TC_LOG_LEVEL", "warn", 1);
    PoolOptions o2;
    ASSERT_TRUE(Parse(o2, {}).ok());
    EXPECT_EQ(o2.common.log_level, "warn");

    PoolOptions o3;
    ASSERT_TRUE(Parse(o3, {"--log-level", "error"}).ok());
    EXPECT_EQ(o3.common.log_level, "error");
}

TEST_F(ConfigTest, OwnTableOverridesTopLevel) {
    Write(DatadirToml(), "max-pool-bytes = 5\n[pool]\nmax-pool-bytes = 7\n");
    EXPECT_EQ(MaxPoolBytes({"--datadir", Datadir()}), 7u);
    Write(DatadirToml(), "max-pool-bytes = 5\n");
    EXPECT_EQ(MaxPoolBytes({"--datadir", Datadir()}), 5u);
}

TEST_F(ConfigTest, ReadsDatadirTomlWhenNoConfigGiven) {
    Write(DatadirToml(), "[pool]\nmax-pool-bytes = 300\n");
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {"--datadir", Datadir()}).ok());
    EXPECT_EQ(o.max_pool_bytes, 300u);
    EXPECT_EQ(o.common.config_file, DatadirToml());

    // The datadir may come from TC_DATADIR, and defaults to $HOME/.timecoin.
    setenv("TC_DATADIR", Datadir().c_str(), 1);
    EXPECT_EQ(MaxPoolBytes({}), 300u);
    unsetenv("TC_DATADIR");
    fs::create_directories(m_dir / "home/.timecoin");
    Write((m_dir / "home/.timecoin/timecoin.toml").string(), "[pool]\nmax-pool-bytes = 9\n");
    PoolOptions home;
    ASSERT_TRUE(Parse(home, {}).ok());
    EXPECT_EQ(home.common.datadir, (m_dir / "home/.timecoin").string());
    EXPECT_EQ(home.max_pool_bytes, 9u);
}

TEST_F(ConfigTest, NoConfigFileIsFine) {
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {"--datadir", Datadir()}).ok());
    EXPECT_EQ(o.common.config_file, "");
    EXPECT_EQ(o.common.datadir, Datadir());
    EXPECT_EQ(o.max_pool_bytes, 100u);
    EXPECT_EQ(o.common.log_level, "info");
}

TEST_F(ConfigTest, ExplicitConfigReplacesDatadirToml) {
    Write(DatadirToml(), "[pool]\nmax-pool-bytes = 300\n");
    std::string other = Write((m_dir / "other.toml").string(), "[pool]\nmax-pool-bytes = 42\n");
    EXPECT_EQ(MaxPoolBytes({"--datadir", Datadir(), "--config", other}), 42u);
    setenv("TC_CONFIG", other.c_str(), 1);
    EXPECT_EQ(MaxPoolBytes({"--datadir", Datadir()}), 42u);
}

TEST_F(ConfigTest, MissingConfigFileIsAnError) {
    std::string missing = (m_dir / "nope.toml").string();
    EXPECT_EQ(ErrorOf({"--datadir", Datadir(), "--config", missing}),
              "--config " + missing + ": no such config file");
    setenv("TC_CONFIG", missing.c_str(), 1);
    EXPECT_NE(ErrorOf({"--datadir", Datadir()}).find(missing), std::string::npos);
}

TEST_F(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
    Write(DatadirToml(), "log-level = \"debug\"\n[pool\nmax-pool-bytes = 1\n");
    std::string err = ErrorOf({"--datadir", Datadir()});
    EXPECT_EQ(err.rfind(DatadirToml() + ":2:", 0), 0u) << err;
    // file:line:column: reason
    EXPECT_GT(err.size(), DatadirToml().size() + 6) << err;
    EXPECT_NE(err.find(":2:6: "), std::string::npos) << err;
}

TEST_F(ConfigTest, UnknownKeyInOwnTableIsAnError) {
    Write(DatadirToml(), "[pool]\nmax-pool-bytes = 1\nmax-pool-byts = 5\n");
    EXPECT_EQ(ErrorOf({"--datadir", Datadir()}),
              DatadirToml() + ":3:1: unknown key 'max-pool-byts' in [pool]");
}

TEST_F(ConfigTest, OtherTablesAndUnknownTopLevelKeysAreIgnored) {
    Write(DatadirToml(),
          "rpc-url = \"http://127.0.0.1:8332\"\n"
          "max-pool-bytes = 11\n"
          "[store]\nbogus = 1\nmax-pool-bytes = 99\n"
          "[rpc]\nlisten = \"127.0.0.1:8332\"\n");
    EXPECT_EQ(MaxPoolBytes({"--datadir", Datadir()}), 11u);
}

TEST_F(ConfigTest, ConfigAndDatadirCannotBeSetInTheFile) {
    Write(DatadirToml(), "[pool]\nconfig = \"/etc/x.toml\"\n");
    EXPECT_EQ(ErrorOf({"--datadir", Datadir()}),
              DatadirToml() + ":2:1: 'config' cannot be set in a config file");
    Write(DatadirToml(), "datadir = \"/elsewhere\"\n");
    EXPECT_NE(ErrorOf({"--datadir", Datadir()}).find("'datadir' cannot be set"), std::string::npos);
    Write(DatadirToml(), "version = true\n");
    EXPECT_NE(ErrorOf({"--datadir", Datadir()}).find("'version' cannot be set"), std::string::npos);
}

TEST_F(ConfigTest, BadValueInFileNamesFileLineAndKey) {
    Write(DatadirToml(), "\n[pool]\nmax-pool-bytes = \"lots\"\n");
    std::string err = ErrorOf({"--datadir", Datadir()});
    EXPECT_EQ(err.rfind(DatadirToml() + ":3:1: max-pool-bytes: ", 0), 0u) << err;

    Write(DatadirToml(), "log-level = \"loud\"\n");
    err = ErrorOf({"--datadir", Datadir()});
    EXPECT_EQ(err.rfind(DatadirToml() + ":1:1: log-level: ", 0), 0u) << err;
    EXPECT_NE(err.find("loud"), std::string::npos) << err;
}

TEST_F(ConfigTest, FlagsAndArraysFromFile) {
    Write(DatadirToml(), "json = true\n[pool]\nverbose = false\npeer = [\"a:1\", \"b:2\"]\n");
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {"--datadir", Datadir()}).ok());
    EXPECT_TRUE(o.common.json);
    EXPECT_FALSE(o.verbose);
    EXPECT_EQ(o.peers, (std::vector<std::string>{"a:1", "b:2"}));
    // A flag on the command line is not overridden by "false" in the file.
    Write(DatadirToml(), "json = false\n");
    PoolOptions o2;
    ASSERT_TRUE(Parse(o2, {"--datadir", Datadir(), "--json"}).ok());
    EXPECT_TRUE(o2.common.json);
}

TEST_F(ConfigTest, RequiredOptionMayComeFromFile) {
    PoolOptions without;
    try {
        (void)Parse(without, {"--datadir", Datadir(), "run"});
        ADD_FAILURE() << "--key is required";
    } catch (const CLI::RequiredError& e) {
        EXPECT_STREQ(e.what(), "--key is required");
    }
    Write(DatadirToml(), "[pool]\nkey = \"/keys/node.key\"\n");
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {"--datadir", Datadir(), "run"}).ok());
    EXPECT_EQ(o.key, "/keys/node.key");
    PoolOptions flag;
    ASSERT_TRUE(Parse(flag, {"--datadir", Datadir(), "run", "--key", "/k2"}).ok());
    EXPECT_EQ(flag.key, "/k2");
}

TEST_F(ConfigTest, SubcommandKeysApplyOnlyToTheChosenSubcommand) {
    Write(DatadirToml(), "[pool]\nkey = \"/keys/node.key\"\n");
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {"--datadir", Datadir(), "status"}).ok());
    EXPECT_EQ(o.key, "");  // known to tc-pool, but status has no --key
}

TEST_F(ConfigTest, FileValueYieldsToAnOptionThatExcludesIt) {
    Write(DatadirToml(), "[pool]\nkey = \"k\"\ngenesis = \"genesis.json\"\n");
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {"--datadir", Datadir(), "run", "--chain-id", "ab"}).ok());
    EXPECT_EQ(o.chain_id, "ab");
    EXPECT_EQ(o.genesis, "");
    PoolOptions o2;
    ASSERT_TRUE(Parse(o2, {"--datadir", Datadir(), "run"}).ok());
    EXPECT_EQ(o2.genesis, "genesis.json");
}

TEST_F(ConfigTest, CommonOptionsMayFollowTheSubcommand) {
    PoolOptions o;
    ASSERT_TRUE(Parse(o, {"status", "--json", "--datadir", Datadir()}).ok());
    EXPECT_TRUE(o.common.json);
    EXPECT_EQ(o.common.datadir, Datadir());
}

TEST_F(ConfigTest, WithEnvNamesTheVariableAfterTheLongName) {
    CLI::App app{"x", "tc-pool"};
    uint64_t v = 0;
    EXPECT_EQ(tc::util::WithEnv(app.add_option("-m,--max-pool-bytes", v))->get_envname(),
              "TC_MAX_POOL_BYTES");
    PoolOptions o;
    CLI::App pool{"x", "tc-pool"};
    SetupPool(pool, o);
    EXPECT_EQ(pool.get_option("--datadir")->get_envname(), "TC_DATADIR");
    EXPECT_EQ(pool.get_option("--config")->get_envname(), "TC_CONFIG");
    EXPECT_EQ(pool.get_option("--log-level")->get_envname(), "TC_LOG_LEVEL");
    EXPECT_EQ(pool.get_option("--log-format")->get_envname(), "TC_LOG_FORMAT");
}

TEST_F(ConfigTest, DatadirNeedsHomeWhenNotGiven) {
    auto home = tc::util::DefaultDatadir();
    ASSERT_TRUE(home.ok());
    EXPECT_EQ(*home, (m_dir / "home/.timecoin").string());
    unsetenv("HOME");
    EXPECT_FALSE(tc::util::DefaultDatadir().ok());
    EXPECT_NE(ErrorOf({}).find("--datadir"), std::string::npos);
    EXPECT_EQ(MaxPoolBytes({"--datadir", Datadir()}), 100u);
}

TEST_F(ConfigTest, DerivedPaths) {
    EXPECT_EQ(tc::util::RunEndpoint("/var/lib/tc", "pool"), "ipc:///var/lib/tc/run/pool.sock");
    EXPECT_EQ(tc::util::LedgerDir("/d"), "/d/ledger");
    EXPECT_EQ(tc::util::LogDir("/d"), "/d/log");
}

// --- RunTool -------------------------------------------------------------

TEST_F(ConfigTest, RunToolMapsBodyOutcomeToExitCode) {
    const std::string dd = "--datadir=" + Datadir();
    Run ok = RunPool({dd});
    EXPECT_EQ(ok.code, 0);
    EXPECT_TRUE(ok.body_ran);
    EXPECT_EQ(ok.err, "");

    Run usage =
        RunPool({dd}, [] { return Status(tc::util::MakeError(Errc::kUsage, "bad amount")); });
    EXPECT_EQ(usage.code, 2);
    EXPECT_EQ(usage.err, "tc-pool: error: bad amount\n");

    Run failed = RunPool({dd}, [] {
        return Status(tc::util::MakeError(Errc::kIo, "ledger: disk full\nretry later"));
    });
    EXPECT_EQ(failed.code, 1);
    EXPECT_EQ(failed.err, "tc-pool: error: ledger: disk full retry later\n");

    Run thrown = RunPool({dd}, []() -> Status { throw std::runtime_error("boom"); });
    EXPECT_EQ(thrown.code, 1);
    EXPECT_EQ(thrown.err, "tc-pool: error: internal: boom\n");
}

TEST_F(ConfigTest, RunToolUsageErrorsAreOneLineWithExit2) {
    const std::string dd = "--datadir=" + Datadir();
    Run unknown = RunPool({dd, "--bogus"});
    EXPECT_EQ(unknown.code, 2);
    EXPECT_FALSE(unknown.body_ran);
    EXPECT_EQ(unknown.err,
              "tc-pool: error: The following argument was not expected: --bogus "
              "(see tc-pool --help)\n");
    EXPECT_EQ(unknown.out, "");

    Run missing_value = RunPool({dd, "--max-pool-bytes"});
    EXPECT_EQ(missing_value.code, 2);
    EXPECT_EQ(missing_value.err.rfind("tc-pool: error: ", 0), 0u) << missing_value.err;
    EXPECT_EQ(std::count(missing_value.err.begin(), missing_value.err.end(), '\n'), 1);

    Run bad_value = RunPool({dd, "--max-pool-bytes", "lots"});
    EXPECT_EQ(bad_value.code, 2);
    EXPECT_NE(bad_value.err.find("--max-pool-bytes"), std::string::npos) << bad_value.err;
    EXPECT_EQ(std::count(bad_value.err.begin(), bad_value.err.end(), '\n'), 1);

    Run no_subcommand = RunPool({dd}, nullptr, /*require_subcommand=*/true);
    EXPECT_EQ(no_subcommand.code, 2);
    EXPECT_EQ(no_subcommand.err, "tc-pool: error: A subcommand is required (see tc-pool --help)\n");

    // A stray argument is named even when a subcommand is missing too.
    Run stray = RunPool({dd, "--bogus"}, nullptr, /*require_subcommand=*/true);
    EXPECT_EQ(stray.code, 2);
    EXPECT_EQ(stray.err,
              "tc-pool: error: The following argument was not expected: --bogus "
              "(see tc-pool --help)\n");

    Run required = RunPool({dd, "run"});
    EXPECT_EQ(required.code, 2);
    EXPECT_EQ(required.err, "tc-pool: error: --key is required (see tc-pool --help)\n");
}

TEST_F(ConfigTest, RunToolBadLogLevelIsExit2FromFlagEnvOrFile) {
    const std::string dd = "--datadir=" + Datadir();
    Run flag = RunPool({dd, "--log-level", "loud"});
    EXPECT_EQ(flag.code, 2);
    EXPECT_FALSE(flag.body_ran);
    EXPECT_NE(flag.err.find("--log-level"), std::string::npos) << flag.err;
    EXPECT_EQ(std::count(flag.err.begin(), flag.err.end(), '\n'), 1);

    setenv("TC_LOG_LEVEL", "loud", 1);
    Run env = RunPool({dd});
    EXPECT_EQ(env.code, 2);
    unsetenv("TC_LOG_LEVEL");

    Write(DatadirToml(), "log-level = \"loud\"\n");
    Run file = RunPool({dd});
    EXPECT_EQ(file.code, 2);
    EXPECT_EQ(file.err.rfind("tc-pool: error: " + DatadirToml() + ":1:1: log-level: ", 0), 0u)
        << file.err;
}

TEST_F(ConfigTest, RunToolConfigErrorIsExit2) {
    Write(DatadirToml(), "[pool]\nmax-pool-byts = 5\n");
    Run r = RunPool({"--datadir", Datadir()});
    EXPECT_EQ(r.code, 2);
    EXPECT_FALSE(r.body_ran);
    EXPECT_EQ(r.err,
              "tc-pool: error: " + DatadirToml() + ":2:1: unknown key 'max-pool-byts' in [pool]\n");
}

TEST_F(ConfigTest, RunToolVersionAndHelpPrintToStdout) {
    Run version = RunPool({"--version"});
    EXPECT_EQ(version.code, 0);
    EXPECT_FALSE(version.body_ran);
    EXPECT_EQ(version.out, "tc-pool " TC_VERSION "\n");
    EXPECT_EQ(version.err, "");

    // Help works even when the config file is broken.
    Write(DatadirToml(), "[pool\n");
    Run help = RunPool({"--datadir", Datadir(), "--help"});
    EXPECT_EQ(help.code, 0);
    EXPECT_FALSE(help.body_ran);
    EXPECT_NE(help.out.find("--datadir"), std::string::npos);
    EXPECT_NE(help.out.find("TC_LOG_LEVEL"), std::string::npos);
    EXPECT_EQ(help.err, "");
}

}  // namespace
