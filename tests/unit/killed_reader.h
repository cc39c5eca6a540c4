// Leaves a stale reader slot in the LMDB environment at dir: a child process
// opens it read-only, begins a read transaction and dies by SIGKILL while
// holding it. For tests of mdb_reader_check.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "ledger/lmdb.h"

namespace tc::test {

inline void KillReaderHoldingATransaction(const std::string& dir) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ledger::lmdb::EnvOptions o;
        o.read_only = true;
        auto env = ledger::lmdb::Env::Open(dir, o);
        if (!env) _exit(1);
        auto txn = env->BeginRead();
        if (!txn) _exit(2);
        ::raise(SIGKILL);
        _exit(3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status));
}

}  // namespace tc::test
