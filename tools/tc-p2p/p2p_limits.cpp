#include "p2p_limits.h"

#include <algorithm>
#include <cstring>

namespace tc::p2p {

bool TokenBucket::Take(double cost, uint64_t now_ms) {
    if (m_started && now_ms > m_last_ms) {
        m_tokens = std::min(m_burst, m_tokens + m_rate * double(now_ms - m_last_ms) / 1000.0);
    }
    if (!m_started || now_ms > m_last_ms) m_last_ms = now_ms;
    m_started = true;
    if (m_tokens < cost) return false;
    m_tokens -= cost;
    return true;
}

size_t HashHasher::operator()(const wire::Hash& h) const {
    size_t v = 0;
    std::memcpy(&v, h.data(), sizeof v);  // a blake2b output: any 8 bytes are uniform
    return v;
}

bool SeenCache::Insert(const wire::Hash& h) {
    if (m_capacity == 0) return true;
    if (!m_set.insert(h).second) return false;
    m_order.push_back(h);
    while (m_order.size() > m_capacity) {
        m_set.erase(m_order.front());
        m_order.pop_front();
    }
    return true;
}

}  // namespace tc::p2p
