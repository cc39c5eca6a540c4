// RAII over LMDB (liblmdb 0.9): the environment, transactions, named
// databases and cursors, with errors as util::Result values that name the
// path, the database and the key. The ledger (ledger.cpp) is written on top
// of this; nothing else in TimeCoin calls mdb_* directly.
//
// An environment is a directory (DIR/data.mdb and DIR/lock.mdb). It is opened
// with MDB_NOTLS, so read transactions are tied to Txn objects rather than to
// threads: any thread may open read transactions, several at once. Stale
// reader slots left by dead processes are cleared (mdb_reader_check) on open
// and whenever ReaderCheck() is called.
//
// The map grows by itself. WriteTxn() runs a function in a write transaction;
// when LMDB reports MDB_MAP_FULL (from a put or from the commit), the
// transaction is aborted, the map doubled and the function run again from the
// start. Growing the map (mdb_env_set_mapsize on an open environment) is only
// allowed while this process has no transaction open (lmdb.h), so every Txn
// holds a shared lock on its Env and growth takes it exclusively. When
// another process has grown the map, mdb_txn_begin fails with MDB_MAP_RESIZED
// and Begin* adopt the new size (mdb_env_set_mapsize(env, 0)) and retry.
//
// Opening checks what LMDB does not: an empty data file, and a data file
// shorter than the pages its trees reference (a truncated copy), which LMDB
// would otherwise read through the map and die of SIGBUS. Foreign files give
// MDB_INVALID / MDB_VERSION_MISMATCH from LMDB itself; all are
// Errc::kInvalid naming the path.
//
// Caveats:
// - A Txn must not outlive its Env, a Cursor must not outlive its Txn, and a
//   ByteView returned by Get or a Cursor is valid only until its transaction
//   ends or the next write in it.
// - A thread that holds a Txn must not start a WriteTxn() or Begin* that may
//   need to remap: it would wait for itself. This is detected and returned as
//   Errc::kInternal instead of deadlocking.
// - Long-lived read transactions stop LMDB from reusing pages (the file
//   grows) and block map growth in this process until they end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "util/bytes.h"
#include "util/result.h"

// From <lmdb.h>; kept out of this header so users need not include it.
typedef struct MDB_env MDB_env;
typedef struct MDB_txn MDB_txn;
typedef struct MDB_cursor MDB_cursor;

namespace tc::ledger::lmdb {

// The Error for an LMDB or errno return code: what failed (`what`, e.g.
// "/d/ledger: utxos: put 3f2a..") followed by the reason. Codes:
// MDB_MAP_FULL, ENOSPC, EDQUOT, EFBIG, EIO -> kIo ("disk full" for the
// space ones); MDB_INVALID, MDB_VERSION_MISMATCH, MDB_CORRUPTED,
// MDB_PAGE_NOTFOUND -> kInvalid; ENOENT, MDB_NOTFOUND -> kNotFound;
// EACCES, EPERM, EROFS -> kPermission; MDB_KEYEXIST, EAGAIN -> kConflict;
// anything else -> kInternal.
util::Error MdbError(int rc, const std::string& what);

struct EnvOptions {
    bool read_only = false;
    // Create the directory and an empty environment when missing. Without
    // it a missing data file is kNotFound.
    bool create = false;
    // Map size for a new environment; an existing one keeps the size stored
    // in it (or a larger one adopted from its writer).
    size_t initial_map_size = size_t{64} << 20;
    // Growth stops here (kIo "map size limit").
    size_t max_map_size = size_t{1} << 40;
    unsigned max_dbs = 16;
    unsigned max_readers = 126;
    unsigned file_mode = 0640;
};

class Txn;

// A named database. Cheap to copy; valid for the life of the Env.
struct Dbi {
    unsigned handle = 0;
    std::string name;
};

class Env {
  public:
    // Opens (or with options.create, creates) the environment in directory
    // `dir`. Errors name the path: kNotFound when there is no environment
    // (and create is off), kInvalid for a file that is not an LMDB
    // environment or is truncated, kPermission, kIo.
    static util::Result<Env> Open(const std::string& dir, const EnvOptions& options);

    Env(Env&&) noexcept;
    Env& operator=(Env&&) noexcept;
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;
    ~Env();

    const std::string& path() const;
    bool read_only() const;
    MDB_env* get() const;

    // Begins a transaction; adopts a map grown by another process first when
    // needed.
    util::Result<Txn> BeginRead() const;
    util::Result<Txn> BeginWrite();

    // Runs fn in a write transaction and commits it durably. An error from
    // fn aborts (nothing written) and is returned as is, unless the
    // transaction hit MDB_MAP_FULL: then the map is doubled and fn runs
    // again in a new transaction, as many times as needed up to
    // max_map_size. fn must therefore have no effect outside the
    // transaction, or effects that are safe to repeat.
    util::Status WriteTxn(const std::function<util::Status(Txn&)>& fn);

    // Opens a named database (creating it when `create` and this is a write
    // transaction); "" is the main database, which lists the named ones. A
    // missing database is kNotFound naming it. Handles opened in a
    // transaction that aborts are closed again: commit it (a read
    // transaction too) to keep them.
    util::Result<Dbi> OpenDbi(Txn& txn, const std::string& name, bool create);

    // Current map size in bytes.
    size_t map_size() const;
    // Grows the map to at least `size` bytes (no transaction of this process
    // may be open; see the caveats). Used by WriteTxn and by tests.
    util::Status SetMapSize(size_t size);
    // Clears reader slots of dead processes; returns how many.
    util::Result<int> ReaderCheck();

  private:
    struct Impl;
    explicit Env(std::unique_ptr<Impl> impl);
    util::Status AdoptMapSize() const;
    util::Status Grow();
    std::unique_ptr<Impl> m_impl;
    friend class Txn;
};

// A transaction. Move-only; aborts in its destructor unless committed.
class Txn {
  public:
    Txn(Txn&&) noexcept;
    Txn& operator=(Txn&&) noexcept;
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    ~Txn();

    bool read_only() const { return m_read_only; }
    bool active() const { return m_txn != nullptr; }
    MDB_txn* get() const { return m_txn; }
    const std::string& path() const;

    // Commits durably (write transactions; a read transaction just ends).
    // The transaction is over afterwards, whatever the result.
    util::Status Commit();
    void Abort();

    // The value of key, or nullopt when absent. The view points into the map.
    util::Result<std::optional<util::ByteView>> Get(const Dbi& dbi, util::ByteView key) const;
    // Inserts or replaces.
    util::Status Put(const Dbi& dbi, util::ByteView key, util::ByteView value);
    // Inserts; kConflict naming the key when it exists.
    util::Status PutNew(const Dbi& dbi, util::ByteView key, util::ByteView value);
    // Deletes; false when the key was absent.
    util::Result<bool> Del(const Dbi& dbi, util::ByteView key);
    // Number of entries.
    util::Result<uint64_t> Count(const Dbi& dbi) const;

    // True once any operation of this transaction failed with MDB_MAP_FULL
    // (WriteTxn uses it to grow and retry, whatever fn made of the error).
    bool map_full() const { return m_map_full; }

  private:
    friend class Env;
    friend class Cursor;
    Txn(const Env::Impl* env, MDB_txn* txn, bool read_only);
    util::Error Fail(int rc, const Dbi& dbi, const char* op, util::ByteView key) const;
    void End();

    const Env::Impl* m_env = nullptr;
    MDB_txn* m_txn = nullptr;
    bool m_read_only = true;
    mutable bool m_map_full = false;
    // Shared with this transaction's cursors: false once it has ended, so a
    // cursor of an ended write transaction (freed by LMDB) is not closed again.
    std::shared_ptr<bool> m_alive;
    struct Lock;
    std::unique_ptr<Lock> m_lock;  // shared lock on the Env's remap mutex
};

// A cursor over one database of a transaction. Move-only. It keeps a pointer
// to its Txn: do not move the Txn while the cursor is in use. LMDB frees a
// write transaction's cursors when it ends; this wrapper notices and does not
// close them twice (a read transaction's cursor is closed by the wrapper).
class Cursor {
  public:
    static util::Result<Cursor> Open(Txn& txn, const Dbi& dbi);

    Cursor(Cursor&&) noexcept;
    Cursor& operator=(Cursor&&) noexcept;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    ~Cursor();

    // Each positions the cursor and returns false when there is no such
    // entry (past the end, empty database).
    util::Result<bool> First();
    util::Result<bool> Last();
    util::Result<bool> Next();
    util::Result<bool> Prev();
    // The first entry whose key is >= key.
    util::Result<bool> Seek(util::ByteView key);

    // The current entry (after a call that returned true).
    util::ByteView key() const { return m_key; }
    util::ByteView value() const { return m_value; }

    // Deletes the current entry.
    util::Status Del();

  private:
    Cursor(Txn* txn, const Dbi& dbi, MDB_cursor* cursor);
    util::Result<bool> Move(int op, util::ByteView key);
    void Close();

    Txn* m_txn = nullptr;
    Dbi m_dbi;
    MDB_cursor* m_cursor = nullptr;
    bool m_read_only = true;
    std::shared_ptr<bool> m_txn_alive;
    util::ByteView m_key;
    util::ByteView m_value;
};

}  // namespace tc::ledger::lmdb
