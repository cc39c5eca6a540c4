#include "ledger/lmdb.h"

#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <utility>

namespace tc::ledger::lmdb {

using util::Errc;
using util::MakeError;

namespace {

// Transactions this thread holds open, on any Env: growing or adopting the
// map waits for every transaction of the process to end, so a thread holding
// one would wait for itself.
thread_local int t_open_txns = 0;

std::string Reason(int rc) {
    switch (rc) {
        case MDB_MAP_FULL:
            return "map full (MDB_MAP_FULL)";
        case MDB_INVALID:
            return "not an LMDB environment: bad file header (MDB_INVALID)";
        case MDB_VERSION_MISMATCH:
            return "an LMDB environment of another format version (MDB_VERSION_MISMATCH)";
        case MDB_CORRUPTED:
            return "corrupted: a page has the wrong type (MDB_CORRUPTED)";
        case MDB_PAGE_NOTFOUND:
            return "corrupted: a referenced page is missing (MDB_PAGE_NOTFOUND)";
        case MDB_PANIC:
            return "an earlier fatal error left the environment unusable; restart (MDB_PANIC)";
        case MDB_READERS_FULL:
            return "too many readers; stale slots are cleared on open (MDB_READERS_FULL)";
        case ENOSPC:
        case EDQUOT:
            return std::string("disk full (") + std::strerror(rc) + ")";
        case EFBIG:
            return std::string("disk full: file size limit (") + std::strerror(rc) + ")";
        case EIO:
            // mdb_page_flush reports a short write ("filesystem full?") as
            // EIO, so a full disk often arrives as EIO.
            return std::string("disk full or I/O error (") + std::strerror(rc) + ")";
        default:
            return mdb_strerror(rc);
    }
}

Errc CodeOf(int rc) {
    switch (rc) {
        case MDB_MAP_FULL:
        case ENOSPC:
        case EDQUOT:
        case EFBIG:
        case EIO:
        case MDB_PANIC:
        case MDB_READERS_FULL:
        case ENOMEM:
            return Errc::kIo;
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH:
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case ENOTDIR:
            return Errc::kInvalid;
        case ENOENT:
        case MDB_NOTFOUND:
            return Errc::kNotFound;
        case EACCES:
        case EPERM:
        case EROFS:
            return Errc::kPermission;
        case MDB_KEYEXIST:
        case EAGAIN:
            return Errc::kConflict;
        default:
            return Errc::kInternal;
    }
}

// A key as it reads best in a message: printable ASCII as is, else hex
// (shortened past 48 bytes).
std::string KeyText(util::ByteView key) {
    bool printable = !key.empty();
    for (uint8_t c : key) printable = printable && c >= 0x20 && c < 0x7f;
    if (printable) return std::string(key.begin(), key.end());
    if (key.size() <= 48) return util::ToHex(key);
    return util::ToHex(key.first(48)) + "..";
}

MDB_val Val(util::ByteView b) {
    return MDB_val{b.size(), const_cast<uint8_t*>(b.data())};
}

util::ByteView View(const MDB_val& v) {
    return {static_cast<const uint8_t*>(v.mv_data), v.mv_size};
}

enum ProbeResult { kProbeOk = 0, kProbeTruncated = 1, kProbeLmdbError = 2 };

// Runs in a child process (see CheckNotTruncated) and exits with a
// ProbeResult. Every page up to the environment's last one is either free or
// referenced by a tree, and a referenced page must be in the file: so every
// page from the first one past the end of the file to the last must be
// free. It counts those in LMDB's free list (database 0, whose
// values are arrays of page numbers headed by their count, as mdb_stat -ff
// reads them), in the snapshot whose last page it compares against.
[[noreturn]] void ProbeChild(const std::string& dir) {
    // Die of the signal itself, not in a handler the parent installed (a
    // crash reporter, a sanitizer), so that the parent sees what happened.
    ::signal(SIGBUS, SIG_DFL);
    ::signal(SIGSEGV, SIG_DFL);
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    MDB_cursor* cursor = nullptr;
    if (mdb_env_create(&env) != 0) _exit(kProbeLmdbError);
    if (mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0) != 0) _exit(kProbeLmdbError);
    for (int attempt = 0; attempt < 100; ++attempt) {
        MDB_envinfo before{};
        mdb_env_info(env, &before);
        int begun = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
        if (begun == MDB_MAP_RESIZED && mdb_env_set_mapsize(env, 0) == 0) continue;
        if (begun != 0) _exit(kProbeLmdbError);
        MDB_envinfo info{};
        mdb_env_info(env, &info);
        // The last page must be that of the snapshot whose free list we read.
        if (info.me_last_txnid != mdb_txn_id(txn) || before.me_last_txnid != info.me_last_txnid) {
            mdb_txn_abort(txn);
            txn = nullptr;
            continue;
        }
        // Measured after the snapshot was taken: the file only grows, and
        // every page of the snapshot was written before its meta page.
        MDB_stat stat{};
        struct stat st {};
        if (mdb_env_stat(env, &stat) != 0 || ::stat((dir + "/data.mdb").c_str(), &st) != 0) {
            _exit(kProbeLmdbError);
        }
        size_t file_pages = static_cast<size_t>(st.st_size) / stat.ms_psize;
        size_t last = info.me_last_pgno;
        if (last < file_pages) _exit(kProbeOk);
        size_t free_in_tail = 0;
        if (mdb_cursor_open(txn, 0, &cursor) != 0) _exit(kProbeLmdbError);
        MDB_val key, data;
        int rc;
        while ((rc = mdb_cursor_get(cursor, &key, &data, MDB_NEXT)) == 0) {
            if (data.mv_size < sizeof(size_t)) _exit(kProbeTruncated);
            const auto* ids = static_cast<const size_t*>(data.mv_data);
            size_t n = ids[0];
            if ((n + 1) * sizeof(size_t) > data.mv_size) _exit(kProbeTruncated);
            for (size_t i = 1; i <= n; ++i) {
                if (ids[i] >= file_pages && ids[i] <= last) ++free_in_tail;
            }
        }
        if (rc != MDB_NOTFOUND) _exit(kProbeLmdbError);
        mdb_cursor_close(cursor);
        mdb_txn_abort(txn);
        mdb_env_close(env);
        _exit(free_in_tail == last + 1 - file_pages ? kProbeOk : kProbeTruncated);
    }
    _exit(kProbeLmdbError);
}

// LMDB reads pages through the map, so a page past the end of the file kills
// the process with SIGBUS. A data file may legitimately end before its last
// page (pages freed in the transaction that allocated them are never
// written; measured: up to 21 pages short under random puts and deletes), so
// only when the file is shorter than its last page do we look at the free
// list, and we do it in a child process, where a SIGBUS from a truncated free
// list costs only the child.
util::Status CheckNotTruncated(MDB_env* env, const std::string& dir) {
    const std::string data = dir + "/data.mdb";
    MDB_envinfo info{};
    MDB_stat stat{};
    int rc = mdb_env_info(env, &info);
    if (rc == 0) rc = mdb_env_stat(env, &stat);
    if (rc != 0) return MdbError(rc, data);
    struct stat st {};
    if (::stat(data.c_str(), &st) != 0) return MdbError(errno, data);
    size_t psize = stat.ms_psize;
    size_t file_pages = static_cast<size_t>(st.st_size) / psize;
    if (file_pages > info.me_last_pgno) return {};

    pid_t pid = ::fork();
    if (pid < 0) return MdbError(errno, data + ": fork a probe process");
    if (pid == 0) ProbeChild(dir);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return MdbError(errno, data + ": wait for the probe process");
    }
    std::string sizes = std::to_string(st.st_size) + " bytes, its pages reach " +
                        std::to_string((info.me_last_pgno + 1) * psize);
    if (WIFSIGNALED(status)) {
        return MakeError(Errc::kInvalid, data + ": truncated or corrupted (" + sizes +
                                             "; reading its free list raised signal " +
                                             std::to_string(WTERMSIG(status)) + ")");
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : kProbeLmdbError;
    if (code == kProbeOk) return {};
    if (code == kProbeTruncated) {
        return MakeError(Errc::kInvalid, data + ": truncated (" + sizes + ")");
    }
    return MakeError(Errc::kInvalid,
                     data + ": corrupted (" + sizes + " and its free list cannot be read)");
}

}  // namespace

util::Error MdbError(int rc, const std::string& what) {
    return MakeError(CodeOf(rc), what + ": " + Reason(rc));
}

// ---------------------------------------------------------------- Env

struct Env::Impl {
    MDB_env* env = nullptr;
    std::string path;
    EnvOptions options;
    // Shared by every open transaction of this process, exclusive while the
    // map is remapped (mdb_env_set_mapsize).
    mutable std::shared_mutex remap;

    ~Impl() {
        if (env) mdb_env_close(env);
    }
};

struct Txn::Lock {
    std::shared_lock<std::shared_mutex> lock;
};

Env::Env(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Env::Env(Env&&) noexcept = default;
Env& Env::operator=(Env&&) noexcept = default;
Env::~Env() = default;

const std::string& Env::path() const {
    return m_impl->path;
}
bool Env::read_only() const {
    return m_impl->options.read_only;
}
MDB_env* Env::get() const {
    return m_impl->env;
}

util::Result<Env> Env::Open(const std::string& dir, const EnvOptions& options) {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto dir_status = fs::status(dir, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) return MdbError(ec.value(), dir);
    if (!fs::exists(dir_status)) {
        if (!options.create || options.read_only) {
            return MakeError(Errc::kNotFound, dir + ": no ledger here (directory missing)");
        }
        fs::create_directories(dir, ec);
        if (ec) return MdbError(ec.value(), dir + ": create directory");
        fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                        ec);
    } else if (!fs::is_directory(dir_status)) {
        return MakeError(Errc::kInvalid,
                         dir + ": not a directory (a foreign file where the ledger should be)");
    }
    const std::string data = dir + "/data.mdb";
    struct stat st {};
    bool fresh = false;
    if (::stat(data.c_str(), &st) != 0) {
        if (errno != ENOENT) return MdbError(errno, data);
        if (!options.create || options.read_only) {
            return MakeError(Errc::kNotFound, dir + ": no ledger here (data.mdb missing)");
        }
        fresh = true;
    } else if (!S_ISREG(st.st_mode)) {
        return MakeError(Errc::kInvalid, data + ": not a regular file");
    } else if (st.st_size == 0) {
        // LMDB would take an empty file for a new environment and write one.
        return MakeError(Errc::kInvalid, data + ": empty file, not an LMDB environment");
    }

    auto impl = std::make_unique<Impl>();
    impl->path = dir;
    impl->options = options;
    int rc = mdb_env_create(&impl->env);
    if (rc != 0) return MdbError(rc, dir);
    rc = mdb_env_set_maxdbs(impl->env, options.max_dbs);
    if (rc == 0) rc = mdb_env_set_maxreaders(impl->env, options.max_readers);
    if (rc == 0 && fresh) rc = mdb_env_set_mapsize(impl->env, options.initial_map_size);
    if (rc != 0) return MdbError(rc, dir);
    unsigned flags = MDB_NOTLS | (options.read_only ? MDB_RDONLY : 0u);
    rc = mdb_env_open(impl->env, dir.c_str(), flags, options.file_mode);
    if (rc != 0) {
        // lmdb.h: after a failed mdb_env_open the handle must be closed.
        mdb_env_close(impl->env);
        impl->env = nullptr;
        return MdbError(rc, data);
    }
    TC_CHECK(CheckNotTruncated(impl->env, dir));
    Env env(std::move(impl));
    auto dead = env.ReaderCheck();
    if (!dead) return std::move(dead).error();
    return env;
}

util::Result<int> Env::ReaderCheck() {
    int dead = 0;
    int rc = mdb_reader_check(m_impl->env, &dead);
    if (rc != 0) return MdbError(rc, m_impl->path + ": reader check");
    return dead;
}

size_t Env::map_size() const {
    MDB_envinfo info{};
    mdb_env_info(m_impl->env, &info);
    return info.me_mapsize;
}

util::Status Env::SetMapSize(size_t size) {
    if (t_open_txns > 0) {
        return MakeError(Errc::kInternal,
                         m_impl->path + ": cannot remap while this thread holds a transaction");
    }
    std::unique_lock lock(m_impl->remap);
    int rc = mdb_env_set_mapsize(m_impl->env, size);
    if (rc != 0) {
        return MdbError(rc, m_impl->path + ": set the map size to " + std::to_string(size));
    }
    return {};
}

util::Status Env::AdoptMapSize() const {
    if (t_open_txns > 0) {
        return MakeError(Errc::kInternal, m_impl->path +
                                              ": the map was grown by another process and "
                                              "cannot be remapped while this thread holds a "
                                              "transaction");
    }
    std::unique_lock lock(m_impl->remap);
    int rc = mdb_env_set_mapsize(m_impl->env, 0);
    if (rc != 0) return MdbError(rc, m_impl->path + ": adopt the map size of the writer");
    return {};
}

util::Status Env::Grow() {
    size_t current = map_size();
    size_t max = m_impl->options.max_map_size;
    if (current >= max) {
        return MakeError(Errc::kIo, m_impl->path + ": map full at the map size limit of " +
                                        std::to_string(max) + " bytes");
    }
    size_t next = current > max / 2 ? max : current * 2;
    return SetMapSize(next);
}

util::Result<Txn> Env::BeginRead() const {
    for (int attempt = 0;; ++attempt) {
        auto lock = std::make_unique<Txn::Lock>();
        lock->lock = std::shared_lock(m_impl->remap);
        MDB_txn* txn = nullptr;
        int rc = mdb_txn_begin(m_impl->env, nullptr, MDB_RDONLY, &txn);
        if (rc == MDB_MAP_RESIZED && attempt < 8) {
            lock.reset();
            TC_CHECK(AdoptMapSize());
            continue;
        }
        if (rc != 0) return MdbError(rc, m_impl->path + ": begin a read transaction");
        Txn out(m_impl.get(), txn, true);
        out.m_lock = std::move(lock);
        return out;
    }
}

util::Result<Txn> Env::BeginWrite() {
    if (m_impl->options.read_only) {
        return MakeError(Errc::kPermission, m_impl->path + ": opened read-only");
    }
    for (int attempt = 0;; ++attempt) {
        auto lock = std::make_unique<Txn::Lock>();
        lock->lock = std::shared_lock(m_impl->remap);
        MDB_txn* txn = nullptr;
        int rc = mdb_txn_begin(m_impl->env, nullptr, 0, &txn);
        if (rc == MDB_MAP_RESIZED && attempt < 8) {
            lock.reset();
            TC_CHECK(AdoptMapSize());
            continue;
        }
        if (rc != 0) return MdbError(rc, m_impl->path + ": begin a write transaction");
        Txn out(m_impl.get(), txn, false);
        out.m_lock = std::move(lock);
        return out;
    }
}

util::Status Env::WriteTxn(const std::function<util::Status(Txn&)>& fn) {
    for (;;) {
        TC_TRY(txn, BeginWrite());
        util::Status status = fn(txn);
        if (status.ok()) status = txn.Commit();
        bool full = txn.map_full();
        txn.Abort();
        if (status.ok()) return {};
        if (!full) return status;
        TC_CHECK(Grow());
    }
}

util::Result<Dbi> Env::OpenDbi(Txn& txn, const std::string& name, bool create) {
    MDB_dbi handle = 0;
    unsigned flags = create && !txn.read_only() ? MDB_CREATE : 0u;
    // The empty name is LMDB's main database, where the named ones live.
    int rc = mdb_dbi_open(txn.get(), name.empty() ? nullptr : name.c_str(), flags, &handle);
    if (rc == MDB_NOTFOUND) {
        return MakeError(Errc::kNotFound, m_impl->path + ": no database \"" + name + "\"");
    }
    if (rc != 0) return MdbError(rc, m_impl->path + ": open database \"" + name + "\"");
    return Dbi{handle, name};
}

// ---------------------------------------------------------------- Txn

Txn::Txn(const Env::Impl* env, MDB_txn* txn, bool read_only)
    : m_env(env), m_txn(txn), m_read_only(read_only), m_alive(std::make_shared<bool>(true)) {
    ++t_open_txns;
}

Txn::Txn(Txn&& other) noexcept
    : m_env(other.m_env),
      m_txn(std::exchange(other.m_txn, nullptr)),
      m_read_only(other.m_read_only),
      m_map_full(other.m_map_full),
      m_alive(std::move(other.m_alive)),
      m_lock(std::move(other.m_lock)) {}

Txn& Txn::operator=(Txn&& other) noexcept {
    if (this != &other) {
        End();
        m_env = other.m_env;
        m_txn = std::exchange(other.m_txn, nullptr);
        m_read_only = other.m_read_only;
        m_map_full = other.m_map_full;
        m_alive = std::move(other.m_alive);
        m_lock = std::move(other.m_lock);
    }
    return *this;
}

Txn::~Txn() {
    End();
}

const std::string& Txn::path() const {
    return m_env->path;
}

void Txn::End() {
    if (m_txn) {
        mdb_txn_abort(m_txn);
        m_txn = nullptr;
    }
    if (m_alive) *m_alive = false;
    if (m_lock) {
        m_lock.reset();
        --t_open_txns;
    }
}

void Txn::Abort() {
    End();
}

util::Status Txn::Commit() {
    if (!m_txn) return MakeError(Errc::kInternal, path() + ": commit of an ended transaction");
    // mdb_txn_commit frees the transaction whatever it returns; on failure
    // nothing of it reached the meta page, so the environment is as it was.
    int rc = mdb_txn_commit(std::exchange(m_txn, nullptr));
    End();
    if (rc == MDB_MAP_FULL) m_map_full = true;
    if (rc != 0) return MdbError(rc, path() + ": commit");
    return {};
}

util::Error Txn::Fail(int rc, const Dbi& dbi, const char* op, util::ByteView key) const {
    if (rc == MDB_MAP_FULL) m_map_full = true;
    return MdbError(rc, path() + ": " + dbi.name + ": " + op + " " + KeyText(key));
}

util::Result<std::optional<util::ByteView>> Txn::Get(const Dbi& dbi, util::ByteView key) const {
    MDB_val k = Val(key);
    MDB_val v{};
    int rc = mdb_get(m_txn, dbi.handle, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<util::ByteView>();
    if (rc != 0) return Fail(rc, dbi, "get", key);
    return std::optional<util::ByteView>(View(v));
}

util::Status Txn::Put(const Dbi& dbi, util::ByteView key, util::ByteView value) {
    MDB_val k = Val(key);
    MDB_val v = Val(value);
    int rc = mdb_put(m_txn, dbi.handle, &k, &v, 0);
    if (rc != 0) return Fail(rc, dbi, "put", key);
    return {};
}

util::Status Txn::PutNew(const Dbi& dbi, util::ByteView key, util::ByteView value) {
    MDB_val k = Val(key);
    MDB_val v = Val(value);
    int rc = mdb_put(m_txn, dbi.handle, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        return MakeError(Errc::kConflict,
                         path() + ": " + dbi.name + ": " + KeyText(key) + " already exists");
    }
    if (rc != 0) return Fail(rc, dbi, "put", key);
    return {};
}

util::Result<bool> Txn::Del(const Dbi& dbi, util::ByteView key) {
    MDB_val k = Val(key);
    int rc = mdb_del(m_txn, dbi.handle, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) return Fail(rc, dbi, "delete", key);
    return true;
}

util::Result<uint64_t> Txn::Count(const Dbi& dbi) const {
    MDB_stat st{};
    int rc = mdb_stat(m_txn, dbi.handle, &st);
    if (rc != 0) return MdbError(rc, path() + ": " + dbi.name + ": stat");
    return static_cast<uint64_t>(st.ms_entries);
}

// ---------------------------------------------------------------- Cursor

Cursor::Cursor(Txn* txn, const Dbi& dbi, MDB_cursor* cursor)
    : m_txn(txn),
      m_dbi(dbi),
      m_cursor(cursor),
      m_read_only(txn->read_only()),
      m_txn_alive(txn->m_alive) {}

util::Result<Cursor> Cursor::Open(Txn& txn, const Dbi& dbi) {
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn.get(), dbi.handle, &cursor);
    if (rc != 0) return MdbError(rc, txn.path() + ": " + dbi.name + ": open a cursor");
    return Cursor(&txn, dbi, cursor);
}

Cursor::Cursor(Cursor&& other) noexcept
    : m_txn(other.m_txn),
      m_dbi(std::move(other.m_dbi)),
      m_cursor(std::exchange(other.m_cursor, nullptr)),
      m_read_only(other.m_read_only),
      m_txn_alive(std::move(other.m_txn_alive)),
      m_key(other.m_key),
      m_value(other.m_value) {}

Cursor& Cursor::operator=(Cursor&& other) noexcept {
    if (this != &other) {
        Close();
        m_txn = other.m_txn;
        m_dbi = std::move(other.m_dbi);
        m_cursor = std::exchange(other.m_cursor, nullptr);
        m_read_only = other.m_read_only;
        m_txn_alive = std::move(other.m_txn_alive);
        m_key = other.m_key;
        m_value = other.m_value;
    }
    return *this;
}

Cursor::~Cursor() {
    Close();
}

void Cursor::Close() {
    if (!m_cursor) return;
    // A write transaction's cursors are freed by LMDB when it ends; a read
    // transaction's must be closed by us, before or after it ends (lmdb.h).
    if (m_read_only || (m_txn_alive && *m_txn_alive)) mdb_cursor_close(m_cursor);
    m_cursor = nullptr;
}

util::Result<bool> Cursor::Move(int op, util::ByteView key) {
    if (!m_cursor || !m_txn_alive || !*m_txn_alive) {
        return MakeError(Errc::kInternal, m_dbi.name + ": cursor used after its transaction");
    }
    MDB_val k = Val(key);
    MDB_val v{};
    int rc = mdb_cursor_get(m_cursor, &k, &v, static_cast<MDB_cursor_op>(op));
    if (rc == MDB_NOTFOUND) {
        m_key = {};
        m_value = {};
        return false;
    }
    if (rc != 0) return m_txn->Fail(rc, m_dbi, "cursor at", key);
    m_key = View(k);
    m_value = View(v);
    return true;
}

util::Result<bool> Cursor::First() {
    return Move(MDB_FIRST, {});
}
util::Result<bool> Cursor::Last() {
    return Move(MDB_LAST, {});
}
util::Result<bool> Cursor::Next() {
    return Move(MDB_NEXT, {});
}
util::Result<bool> Cursor::Prev() {
    return Move(MDB_PREV, {});
}
util::Result<bool> Cursor::Seek(util::ByteView key) {
    return Move(MDB_SET_RANGE, key);
}

util::Status Cursor::Del() {
    int rc = mdb_cursor_del(m_cursor, 0);
    if (rc != 0) return m_txn->Fail(rc, m_dbi, "delete", m_key);
    return {};
}

}  // namespace tc::ledger::lmdb
