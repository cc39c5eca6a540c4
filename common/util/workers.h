// A fixed set of worker threads for work that splits into independent items
// (signature checks): ForEach(n, fn) calls fn(0) ... fn(n - 1) spread over
// the workers and the calling thread, and returns when every call has
// returned. The threads live as long as the object, so a daemon pays for
// starting them once, not per request (STYLE §6: all cores for CPU work).
//
// One ForEach at a time: call it from one thread (the daemon's loop). fn
// must not throw; it runs concurrently with itself on different items.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tc::util {

class Workers {
  public:
    // threads: how many threads work on a ForEach, the caller included;
    // 0 means one per core (std::thread::hardware_concurrency). Fewer are
    // started when the system refuses more.
    explicit Workers(unsigned threads = 0);
    ~Workers();
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;

    void ForEach(size_t n, const std::function<void(size_t)>& fn);

    // The threads that work on a ForEach, the caller included.
    unsigned size() const { return static_cast<unsigned>(m_threads.size()) + 1; }

  private:
    void Work();
    void RunItems();

    std::mutex m_mutex;
    std::condition_variable m_wake;  // workers: a new job or the end
    std::condition_variable m_done;  // ForEach: every worker left the job
    uint64_t m_generation = 0;       // counts jobs
    bool m_stop = false;
    size_t m_busy = 0;  // workers inside the current job
    const std::function<void(size_t)>* m_fn = nullptr;
    size_t m_n = 0;
    size_t m_next = 0;  // the next item to take (under m_mutex)
    std::vector<std::thread> m_threads;
};

}  // namespace tc::util
