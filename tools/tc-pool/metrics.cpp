#include "metrics.h"

namespace tc::pool {

std::string RenderMetrics(const Metrics& m) {
    auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    net::Exposition out;
    out.Gauge("tc_pool_transactions", "Transactions in the pool.", load(m.count))
        .Gauge("tc_pool_bytes", "Encoded bytes of the transactions in the pool.", load(m.bytes))
        .Gauge("tc_pool_height", "The last committed block the pool has taken.", load(m.height))
        .Counters("tc_pool_requests_total", "Requests answered, by method.", "method", m.requests)
        .Counters("tc_pool_submitted_total", "Submitted transactions, by outcome.", "outcome",
                  m.submitted)
        .Counters("tc_pool_removed_total", "Transactions that left the pool, by reason.", "reason",
                  m.removed);
    return out.str();
}

}  // namespace tc::pool
