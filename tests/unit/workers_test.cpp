// util::Workers: every item runs exactly once per ForEach, whatever the
// number of threads and items, and ForEach returns only after all of them.
#include "util/workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tc::util {
namespace {

TEST(Workers, EveryItemRunsOnceForAnyThreadAndItemCount) {
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
        Workers workers(threads);
        EXPECT_EQ(workers.size(), threads);
        for (size_t n : {0u, 1u, 2u, 7u, 1000u}) {
            std::vector<std::atomic<int>> runs(n);
            workers.ForEach(n, [&](size_t i) { runs[i].fetch_add(1); });
            for (size_t i = 0; i < n; ++i) {
                ASSERT_EQ(runs[i].load(), 1) << "threads " << threads << " n " << n << " i " << i;
            }
        }
    }
}

TEST(Workers, ReturnsOnlyAfterTheSlowestItem) {
    Workers workers(4);
    for (int round = 0; round < 50; ++round) {
        std::atomic<int> finished{0};
        workers.ForEach(16, [&](size_t i) {
            if (i % 5 == 0) std::this_thread::yield();
            finished.fetch_add(1);
        });
        ASSERT_EQ(finished.load(), 16) << "round " << round;
    }
}

TEST(Workers, ItemsRunOnTheWorkersAndTheCaller) {
    Workers workers(3);
    std::mutex mutex;
    std::set<std::thread::id> seen;
    workers.ForEach(3000, [&](size_t) {
        std::lock_guard lock(mutex);
        seen.insert(std::this_thread::get_id());
    });
    EXPECT_GE(seen.size(), 1u);
    EXPECT_LE(seen.size(), 3u);
}

TEST(Workers, ZeroMeansOnePerCore) {
    Workers workers(0);
    EXPECT_EQ(workers.size(), std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace tc::util
