// The bounds tc-p2p keeps per peer and per node (DESIGN §5, §6): a token
// bucket for messages and bytes, and a de-duplication cache of fixed size.
// Time is passed in (steady milliseconds), so the tests need no clock.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_set>

#include "wire/types.h"

namespace tc::p2p {

// `rate` tokens a second, at most `burst` saved up. A bucket starts full.
class TokenBucket {
  public:
    TokenBucket(double rate, double burst) : m_rate(rate), m_burst(burst), m_tokens(burst) {}

    // Takes `cost` tokens at time now_ms if there are that many; false (and
    // nothing taken) otherwise.
    bool Take(double cost, uint64_t now_ms);

  private:
    double m_rate;
    double m_burst;
    double m_tokens;
    uint64_t m_last_ms = 0;
    bool m_started = false;
};

struct HashHasher {
    size_t operator()(const wire::Hash& h) const;
};

// The last `capacity` hashes inserted; the oldest go first.
class SeenCache {
  public:
    explicit SeenCache(size_t capacity) : m_capacity(capacity) {}

    // true when h was not in the cache (it is now).
    bool Insert(const wire::Hash& h);
    bool Contains(const wire::Hash& h) const { return m_set.count(h) > 0; }
    size_t size() const { return m_set.size(); }

  private:
    size_t m_capacity;
    std::deque<wire::Hash> m_order;
    std::unordered_set<wire::Hash, HashHasher> m_set;
};

}  // namespace tc::p2p
