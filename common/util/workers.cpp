#include "util/workers.h"

#include <algorithm>
#include <system_error>

namespace tc::util {

Workers::Workers(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    try {
        for (unsigned i = 1; i < threads; ++i) m_threads.emplace_back([this] { Work(); });
    } catch (const std::system_error&) {
        // Fewer threads than asked: the ones started and the caller do it.
    }
}

Workers::~Workers() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (auto& t : m_threads) t.join();
}

void Workers::RunItems() {
    std::unique_lock lock(m_mutex);
    while (m_next < m_n) {
        const size_t i = m_next++;
        const auto* fn = m_fn;
        lock.unlock();
        (*fn)(i);
        lock.lock();
    }
}

void Workers::Work() {
    uint64_t seen = 0;
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
        if (m_stop) return;
        seen = m_generation;
        ++m_busy;
        lock.unlock();
        RunItems();
        lock.lock();
        if (--m_busy == 0) m_done.notify_all();
    }
}

void Workers::ForEach(size_t n, const std::function<void(size_t)>& fn) {
    if (n == 0) return;
    if (n == 1 || m_threads.empty()) {
        for (size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_fn = &fn;
        m_n = n;
        m_next = 0;
        ++m_generation;
    }
    m_wake.notify_all();
    RunItems();
    std::unique_lock lock(m_mutex);
    // Every item is taken; wait for the workers still running one. A worker
    // that wakes late finds no item left and leaves at once.
    m_done.wait(lock, [&] { return m_busy == 0; });
    m_fn = nullptr;
    m_n = 0;
}

}  // namespace tc::util
