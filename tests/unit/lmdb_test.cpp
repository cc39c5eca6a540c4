// The LMDB wrappers (common/ledger/lmdb.h): round trips, abort on
// destruction, map growth from a tiny map, a reader process beside a writer
// process, and foreign, truncated and damaged files, which must be errors and
// never a crash.
#include "ledger/lmdb.h"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "killed_reader.h"
#include "temp_dir.h"

using namespace tc;
using ledger::lmdb::Cursor;
using ledger::lmdb::Dbi;
using ledger::lmdb::Env;
using ledger::lmdb::EnvOptions;
using ledger::lmdb::Txn;
namespace fs = std::filesystem;
using tc::test::TempDir;

namespace {

util::Bytes Key(uint64_t i) {
    util::Bytes out;
    util::AppendBe64(out, i);
    return out;
}

util::Bytes Value(uint64_t i, size_t size) {
    util::Bytes out(size, static_cast<uint8_t>(i));
    util::AppendBe64(out, i);
    return out;
}

EnvOptions Create(size_t map = size_t{1} << 20) {
    EnvOptions o;
    o.create = true;
    o.initial_map_size = map;
    return o;
}

EnvOptions ReadOnly() {
    EnvOptions o;
    o.read_only = true;
    return o;
}

Dbi MustOpenDbi(Env& env, const std::string& name) {
    auto txn = env.BeginWrite();
    EXPECT_TRUE(txn.ok()) << txn.error().message;
    auto dbi = env.OpenDbi(*txn, name, true);
    EXPECT_TRUE(dbi.ok()) << dbi.error().message;
    EXPECT_TRUE(txn->Commit().ok());
    return *dbi;
}

// Writes `count` keys from `first` in one transaction through WriteTxn.
util::Status PutRange(Env& env, const Dbi& dbi, uint64_t first, uint64_t count, size_t size) {
    return env.WriteTxn([&](Txn& txn) -> util::Status {
        for (uint64_t i = first; i < first + count; ++i) {
            TC_CHECK(txn.Put(dbi, Key(i), Value(i, size)));
        }
        return {};
    });
}

uint64_t CountOf(const Env& env, const Dbi& dbi) {
    auto txn = env.BeginRead();
    EXPECT_TRUE(txn.ok()) << txn.error().message;
    if (!txn) return 0;
    auto n = txn->Count(dbi);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : 0;
}

// Fills DIR with an environment of about `bytes` bytes in database "d".
void MakeEnv(const std::string& dir, size_t bytes) {
    auto env = Env::Open(dir, Create());
    ASSERT_TRUE(env.ok()) << env.error().message;
    Dbi dbi = MustOpenDbi(*env, "d");
    ASSERT_TRUE(PutRange(*env, dbi, 0, bytes / 200, 180).ok());
}

void WriteFile(const std::string& path, const util::Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

void PatchByte(const std::string& path, off_t offset, uint8_t value) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    f.put(static_cast<char>(value));
}

// The message of a failed open, or "" when it opened.
std::string OpenError(const std::string& dir, const EnvOptions& options, util::Errc* code) {
    auto env = Env::Open(dir, options);
    if (env.ok()) return "";
    if (code) *code = env.error().code;
    return env.error().message;
}

// Whether the data file ends before the environment's last page (read with
// the raw API, nothing else having the environment open).
bool ShorterThanLastPage(const std::string& dir) {
    MDB_env* env = nullptr;
    if (mdb_env_create(&env) != 0) return false;
    bool shorter = false;
    if (mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0) == 0) {
        MDB_envinfo info{};
        MDB_stat stat{};
        mdb_env_info(env, &info);
        mdb_env_stat(env, &stat);
        shorter = fs::file_size(dir + "/data.mdb") < (info.me_last_pgno + 1) * stat.ms_psize;
    }
    mdb_env_close(env);
    return shorter;
}

bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST(Lmdb, RoundTripAndReopen) {
    TempDir dir;
    {
        auto env = Env::Open(dir.path(), Create());
        ASSERT_TRUE(env.ok()) << env.error().message;
        Dbi dbi = MustOpenDbi(*env, "d");
        auto txn = env->BeginWrite();
        ASSERT_TRUE(txn.ok());
        ASSERT_TRUE(txn->Put(dbi, Key(2), Value(2, 10)).ok());
        ASSERT_TRUE(txn->Put(dbi, Key(1), Value(1, 10)).ok());
        ASSERT_TRUE(txn->Put(dbi, Key(3), Value(3, 10)).ok());
        auto dup = txn->PutNew(dbi, Key(3), Value(9, 1));
        ASSERT_FALSE(dup.ok());
        EXPECT_EQ(dup.error().code, util::Errc::kConflict);
        EXPECT_TRUE(Contains(dup.error().message, "d: 0000000000000003 already exists"))
            << dup.error().message;
        auto gone = txn->Del(dbi, Key(3));
        ASSERT_TRUE(gone.ok() && *gone);
        auto absent = txn->Del(dbi, Key(3));
        ASSERT_TRUE(absent.ok() && !*absent);
        ASSERT_TRUE(txn->Commit().ok());
        EXPECT_FALSE(txn->active());
    }
    auto env = Env::Open(dir.path(), ReadOnly());
    ASSERT_TRUE(env.ok()) << env.error().message;
    auto txn = env->BeginRead();
    ASSERT_TRUE(txn.ok());
    auto dbi = env->OpenDbi(*txn, "d", false);
    ASSERT_TRUE(dbi.ok()) << dbi.error().message;
    auto v = txn->Get(*dbi, Key(2));
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ(util::Bytes((*v)->begin(), (*v)->end()), Value(2, 10));
    auto none = txn->Get(*dbi, Key(3));
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    auto n = txn->Count(*dbi);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 2u);
    // Keys come back in byte order.
    auto cursor = Cursor::Open(*txn, *dbi);
    ASSERT_TRUE(cursor.ok());
    std::vector<util::Bytes> keys;
    for (auto more = cursor->First(); more.ok() && *more; more = cursor->Next()) {
        keys.emplace_back(cursor->key().begin(), cursor->key().end());
    }
    EXPECT_EQ(keys, (std::vector<util::Bytes>{Key(1), Key(2)}));
    auto seek = cursor->Seek(Key(0));
    ASSERT_TRUE(seek.ok() && *seek);
    EXPECT_EQ(util::Bytes(cursor->key().begin(), cursor->key().end()), Key(1));
    auto past = cursor->Seek(Key(5));
    ASSERT_TRUE(past.ok());
    EXPECT_FALSE(*past);
    // A missing database names itself; writes are refused read-only.
    auto missing = env->OpenDbi(*txn, "nope", false);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, util::Errc::kNotFound);
    EXPECT_TRUE(Contains(missing.error().message, "\"nope\"")) << missing.error().message;
    auto write = env->BeginWrite();
    ASSERT_FALSE(write.ok());
    EXPECT_EQ(write.error().code, util::Errc::kPermission);
}

TEST(Lmdb, AbortsUnlessCommitted) {
    TempDir dir;
    auto env = Env::Open(dir.path(), Create());
    ASSERT_TRUE(env.ok()) << env.error().message;
    Dbi dbi = MustOpenDbi(*env, "d");
    {
        auto txn = env->BeginWrite();
        ASSERT_TRUE(txn.ok());
        ASSERT_TRUE(txn->Put(dbi, Key(1), Value(1, 10)).ok());
        // Destroyed without Commit.
    }
    EXPECT_EQ(CountOf(*env, dbi), 0u);
    // An error from the function aborts the whole WriteTxn.
    auto status = env->WriteTxn([&](Txn& txn) -> util::Status {
        TC_CHECK(txn.Put(dbi, Key(1), Value(1, 10)));
        return util::MakeError(util::Errc::kInvalid, "rule broken");
    });
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message, "rule broken");
    EXPECT_EQ(CountOf(*env, dbi), 0u);
    // Moving a transaction moves the obligation to end it.
    {
        auto txn = env->BeginWrite();
        ASSERT_TRUE(txn.ok());
        Txn moved = std::move(*txn);
        ASSERT_TRUE(moved.Put(dbi, Key(7), Value(7, 3)).ok());
        ASSERT_TRUE(moved.Commit().ok());
    }
    EXPECT_EQ(CountOf(*env, dbi), 1u);
}

TEST(Lmdb, CursorOfAnEndedWriteTxnIsNotClosedTwice) {
    TempDir dir;
    auto env = Env::Open(dir.path(), Create());
    ASSERT_TRUE(env.ok());
    Dbi dbi = MustOpenDbi(*env, "d");
    ASSERT_TRUE(PutRange(*env, dbi, 0, 10, 8).ok());
    auto txn = env->BeginWrite();
    ASSERT_TRUE(txn.ok());
    auto cursor = Cursor::Open(*txn, dbi);
    ASSERT_TRUE(cursor.ok());
    // Delete every even key through the cursor.
    for (auto more = cursor->First(); more.ok() && *more;) {
        if (cursor->key().back() % 2 == 0) {
            ASSERT_TRUE(cursor->Del().ok());
            more = cursor->Next();
            // After a delete LMDB's next entry is the one that followed.
            continue;
        }
        more = cursor->Next();
    }
    ASSERT_TRUE(txn->Commit().ok());
    auto after = cursor->Next();
    EXPECT_FALSE(after.ok());  // used after its transaction: an error, not a crash
    EXPECT_EQ(CountOf(*env, dbi), 5u);
}  // cursor destroyed here, after LMDB freed it: must not double free

TEST(Lmdb, MapGrowsFromATinyMap) {
    TempDir dir;
    auto env = Env::Open(dir.path(), Create(64 << 10));
    ASSERT_TRUE(env.ok()) << env.error().message;
    EXPECT_EQ(env->map_size(), size_t{64} << 10);
    Dbi dbi = MustOpenDbi(*env, "d");
    // Many small transactions, then one large one (a single transaction
    // bigger than the map grows it in one retry loop).
    for (uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(PutRange(*env, dbi, i * 50, 50, 100).ok());
    int runs = 0;
    auto big = env->WriteTxn([&](Txn& txn) -> util::Status {
        ++runs;
        for (uint64_t i = 100'000; i < 130'000; ++i) {
            TC_CHECK(txn.Put(dbi, Key(i), Value(i, 200)));
        }
        return {};
    });
    ASSERT_TRUE(big.ok()) << big.error().message;
    EXPECT_GT(runs, 1) << "the big transaction should have hit MDB_MAP_FULL at least once";
    EXPECT_GE(env->map_size(), size_t{8} << 20);
    EXPECT_EQ(CountOf(*env, dbi), 10'000u + 30'000u);
    // The grown size is persisted for the next open.
    size_t grown = env->map_size();
    *env = std::move(*Env::Open(dir.path(), ReadOnly()));
    EXPECT_EQ(env->map_size(), grown);
}

TEST(Lmdb, MapSizeLimitIsAnIoError) {
    TempDir dir;
    EnvOptions options = Create(64 << 10);
    options.max_map_size = 256 << 10;
    auto env = Env::Open(dir.path(), options);
    ASSERT_TRUE(env.ok());
    Dbi dbi = MustOpenDbi(*env, "d");
    auto status = PutRange(*env, dbi, 0, 10'000, 100);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, util::Errc::kIo);
    EXPECT_TRUE(Contains(status.error().message, "map size limit")) << status.error().message;
    EXPECT_EQ(CountOf(*env, dbi), 0u);
}

TEST(Lmdb, RemapWhileThisThreadHoldsATxnIsAnErrorNotADeadlock) {
    TempDir dir;
    auto env = Env::Open(dir.path(), Create());
    ASSERT_TRUE(env.ok());
    auto reader = env->BeginRead();
    ASSERT_TRUE(reader.ok());
    auto status = env->SetMapSize(4 << 20);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, util::Errc::kInternal);
    reader->Abort();
    EXPECT_TRUE(env->SetMapSize(4 << 20).ok());
    EXPECT_EQ(env->map_size(), size_t{4} << 20);
}

// A writer process grows the map far beyond the reader's while the reader
// keeps reading: the reader sees every committed state in order and adopts
// the new map size (MDB_MAP_RESIZED).
TEST(Lmdb, ReaderProcessBesideAWriterProcess) {
    TempDir dir;
    {
        auto env = Env::Open(dir.path(), Create(64 << 10));
        ASSERT_TRUE(env.ok());
        Dbi dbi = MustOpenDbi(*env, "d");
        ASSERT_TRUE(PutRange(*env, dbi, 0, 10, 100).ok());
    }
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(ready[0]);
        auto env = Env::Open(dir.path(), EnvOptions{});
        if (!env) _exit(10);
        auto txn = env->BeginWrite();
        if (!txn) _exit(11);
        auto dbi = env->OpenDbi(*txn, "d", false);
        if (!dbi || !txn->Commit()) _exit(12);
        if (::write(ready[1], "x", 1) != 1) _exit(13);
        for (uint64_t batch = 1; batch <= 40; ++batch) {
            if (!PutRange(*env, *dbi, batch * 1000, 1000, 100)) _exit(14);
        }
        _exit(0);
    }
    ::close(ready[1]);
    auto env = Env::Open(dir.path(), ReadOnly());
    ASSERT_TRUE(env.ok()) << env.error().message;
    Dbi dbi;
    {
        auto txn = env->BeginRead();
        ASSERT_TRUE(txn.ok());
        auto d = env->OpenDbi(*txn, "d", false);
        ASSERT_TRUE(d.ok());
        dbi = *d;
        ASSERT_TRUE(txn->Commit().ok());  // keeps the handle
    }
    char byte;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    uint64_t last = 0;
    int reads = 0;
    int status = 0;
    for (;;) {
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        auto txn = env->BeginRead();
        ASSERT_TRUE(txn.ok()) << txn.error().message;
        auto n = txn->Count(dbi);
        ASSERT_TRUE(n.ok());
        EXPECT_GE(*n, last);
        EXPECT_EQ((*n - 10) % 1000, 0u) << "a reader saw half a transaction";
        // Read the newest entry, which lies in pages beyond the old map.
        auto cursor = Cursor::Open(*txn, dbi);
        ASSERT_TRUE(cursor.ok());
        auto more = cursor->Last();
        ASSERT_TRUE(more.ok() && *more);
        EXPECT_EQ(cursor->value().size(), 108u);
        last = *n;
        ++reads;
        if (done == pid) break;
    }
    ASSERT_TRUE(WIFEXITED(status)) << status;
    ASSERT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(last, 10u + 40'000u);
    EXPECT_GT(env->map_size(), size_t{64} << 10);
    EXPECT_GT(reads, 1);
}

TEST(Lmdb, StaleReaderSlotsAreCleared) {
    TempDir dir;
    {
        auto env = Env::Open(dir.path(), Create());
        ASSERT_TRUE(env.ok());
    }
    // A reader process killed while holding a read transaction.
    ASSERT_NO_FATAL_FAILURE(tc::test::KillReaderHoldingATransaction(dir.path()));
    auto env = Env::Open(dir.path(), EnvOptions{});  // clears it on open
    ASSERT_TRUE(env.ok());
    auto dead = env->ReaderCheck();
    ASSERT_TRUE(dead.ok());
    EXPECT_EQ(*dead, 0) << "the slot should have been cleared by Open already";
}

TEST(Lmdb, MissingEnvironmentIsNotFound) {
    TempDir dir;
    util::Errc code{};
    std::string msg = OpenError(dir.path() + "/none", EnvOptions{}, &code);
    EXPECT_EQ(code, util::Errc::kNotFound);
    EXPECT_TRUE(Contains(msg, "no ledger here")) << msg;
    msg = OpenError(dir.path(), ReadOnly(), &code);  // the directory exists, data.mdb not
    EXPECT_EQ(code, util::Errc::kNotFound);
    EXPECT_TRUE(Contains(msg, "data.mdb missing")) << msg;
}

TEST(Lmdb, ForeignFilesAreErrorsNotCrashes) {
    TempDir dir;
    std::mt19937_64 rng(7);
    struct Case {
        std::string name;
        util::Bytes bytes;
        std::string expect;
    };
    util::Bytes random(64 << 10);
    for (auto& b : random) b = static_cast<uint8_t>(rng());
    std::string text = "this is not a database\n";
    std::vector<Case> cases = {
        {"random", random, "MDB_INVALID"},
        {"text", util::Bytes(text.begin(), text.end()), "MDB_INVALID"},
        {"empty", {}, "empty file"},
        {"zeros", util::Bytes(16 << 10, 0), "MDB_INVALID"},
    };
    for (const auto& c : cases) {
        std::string env_dir = dir.path() + "/" + c.name;
        fs::create_directories(env_dir);
        WriteFile(env_dir + "/data.mdb", c.bytes);
        for (const auto& options : {ReadOnly(), EnvOptions{}, Create()}) {
            util::Errc code{};
            std::string msg = OpenError(env_dir, options, &code);
            EXPECT_EQ(code, util::Errc::kInvalid) << c.name << ": " << msg;
            EXPECT_TRUE(Contains(msg, c.expect)) << c.name << ": " << msg;
            EXPECT_TRUE(Contains(msg, env_dir + "/data.mdb")) << c.name << ": " << msg;
        }
        // The foreign file is left alone.
        EXPECT_EQ(fs::file_size(env_dir + "/data.mdb"), c.bytes.size()) << c.name;
    }
    // A regular file where the environment directory should be.
    WriteFile(dir.path() + "/ledger", util::Bytes(100, 'x'));
    util::Errc code{};
    std::string msg = OpenError(dir.path() + "/ledger", Create(), &code);
    EXPECT_EQ(code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(msg, "not a directory")) << msg;
}

TEST(Lmdb, DamagedHeadersAreErrors) {
    TempDir dir;
    MakeEnv(dir.path(), 100 << 10);
    std::string data = dir.path() + "/data.mdb";
    size_t psize = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    // Meta pages 0 and 1: a 16-byte page header, then mm_magic (u32) and
    // mm_version (u32), native byte order.
    fs::copy_file(data, dir.path() + "/good.mdb");
    for (off_t page : {off_t{0}, static_cast<off_t>(psize)}) PatchByte(data, page + 20, 99);
    util::Errc code{};
    std::string msg = OpenError(dir.path(), ReadOnly(), &code);
    EXPECT_EQ(code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(msg, "MDB_VERSION_MISMATCH")) << msg;
    fs::copy_file(dir.path() + "/good.mdb", data, fs::copy_options::overwrite_existing);
    PatchByte(data, 16, 0x00);
    msg = OpenError(dir.path(), EnvOptions{}, &code);
    EXPECT_EQ(code, util::Errc::kInvalid);
    EXPECT_TRUE(Contains(msg, "MDB_INVALID")) << msg;
}

TEST(Lmdb, TruncatedFilesAreErrorsNotCrashes) {
    TempDir dir;
    MakeEnv(dir.path(), 2 << 20);
    std::string data = dir.path() + "/data.mdb";
    fs::copy_file(data, dir.path() + "/good.mdb");
    auto full = fs::file_size(data);
    size_t psize = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    for (uintmax_t size :
         {full / 2, full - psize, uintmax_t{3 * psize}, uintmax_t{psize + 100}, uintmax_t{100}}) {
        fs::copy_file(dir.path() + "/good.mdb", data, fs::copy_options::overwrite_existing);
        fs::resize_file(data, size);
        for (const auto& options : {ReadOnly(), EnvOptions{}}) {
            util::Errc code{};
            std::string msg = OpenError(dir.path(), options, &code);
            EXPECT_EQ(code, util::Errc::kInvalid) << size << ": " << msg;
            EXPECT_TRUE(Contains(msg, "truncated") || Contains(msg, "MDB_INVALID"))
                << size << ": " << msg;
        }
    }
    fs::copy_file(dir.path() + "/good.mdb", data, fs::copy_options::overwrite_existing);
    EXPECT_EQ(OpenError(dir.path(), ReadOnly(), nullptr), "");
}

// LMDB does not write pages freed in the transaction that allocated them, so
// a healthy data file often ends before its last page. Such files must open.
TEST(Lmdb, ShortButHealthyFilesOpen) {
    TempDir dir;
    std::mt19937_64 rng(1);
    int short_files = 0;
    for (int round = 0; round < 40; ++round) {
        {
            auto env = Env::Open(dir.path(), Create());
            ASSERT_TRUE(env.ok()) << round << ": " << env.error().message;
            Dbi dbi = MustOpenDbi(*env, "d");
            for (int t = 0; t < 5; ++t) {
                auto status = env->WriteTxn([&](Txn& txn) -> util::Status {
                    for (int i = 0; i < 100; ++i) {
                        uint64_t k = rng() % 5000;
                        if (rng() % 2) {
                            TC_CHECK(txn.Put(dbi, Key(k), Value(k, rng() % 300)));
                        } else {
                            TC_TRY(gone, txn.Del(dbi, Key(k)));
                            (void)gone;
                        }
                    }
                    // A large value written and deleted in the same
                    // transaction: its overflow pages are never written.
                    TC_CHECK(txn.Put(dbi, Key(999'999), Value(1, 40'000)));
                    TC_TRY(gone, txn.Del(dbi, Key(999'999)));
                    (void)gone;
                    return {};
                });
                ASSERT_TRUE(status.ok()) << status.error().message;
            }
            auto info = env->BeginRead();
            ASSERT_TRUE(info.ok());
        }
        if (ShorterThanLastPage(dir.path())) ++short_files;
        std::string msg = OpenError(dir.path(), ReadOnly(), nullptr);
        EXPECT_EQ(msg, "") << "round " << round;
        msg = OpenError(dir.path(), EnvOptions{}, nullptr);
        EXPECT_EQ(msg, "") << "round " << round;
    }
    EXPECT_GT(short_files, 0) << "no round exercised the free-list probe";
}

// A full disk (here: a file size limit, which fails writes with EFBIG like
// ENOSPC does) is a kIo "disk full" error and leaves the data as it was.
TEST(Lmdb, DiskFullLeavesTheEnvironmentAsItWas) {
    TempDir dir;
    {
        auto env = Env::Open(dir.path(), Create(16 << 20));
        ASSERT_TRUE(env.ok());
        Dbi dbi = MustOpenDbi(*env, "d");
        ASSERT_TRUE(PutRange(*env, dbi, 0, 100, 100).ok());
    }
    auto before = fs::file_size(dir.path() + "/data.mdb");
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit limit {};
        limit.rlim_cur = limit.rlim_max = before + (64 << 10);
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(20);
        auto env = Env::Open(dir.path(), EnvOptions{});
        if (!env) _exit(21);
        auto txn = env->BeginRead();
        if (!txn) _exit(22);
        auto dbi = env->OpenDbi(*txn, "d", false);
        if (!dbi || !txn->Commit()) _exit(23);
        auto status = PutRange(*env, *dbi, 1000, 20'000, 100);
        if (status.ok()) _exit(24);
        if (status.error().code != util::Errc::kIo) _exit(25);
        if (!Contains(status.error().message, "disk full")) {
            std::fprintf(stderr, "%s\n", status.error().message.c_str());
            _exit(26);
        }
        if (!Contains(status.error().message, dir.path())) _exit(27);
        // Still usable, and unchanged.
        if (CountOf(*env, *dbi) != 100) _exit(28);
        if (!PutRange(*env, *dbi, 100, 1, 100)) _exit(29);
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    auto env = Env::Open(dir.path(), ReadOnly());
    ASSERT_TRUE(env.ok()) << env.error().message;
    auto txn = env->BeginRead();
    ASSERT_TRUE(txn.ok());
    auto dbi = env->OpenDbi(*txn, "d", false);
    ASSERT_TRUE(dbi.ok());
    auto n = txn->Count(*dbi);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 101u);
}
