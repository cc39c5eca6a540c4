#include "metrics.h"

namespace tc::store {

std::string RenderMetrics(const Metrics& m) {
    auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    net::Exposition out;
    out.Gauge("tc_store_height", "Height of the ledger's tip.", load(m.height))
        .Gauge("tc_store_map_size_bytes", "Size of the LMDB map.", load(m.map_size))
        .Counter("tc_store_blocks_applied_total", "Blocks committed by apply requests.",
                 load(m.blocks_applied))
        .Counter("tc_store_apply_errors_total",
                 "Apply requests refused (a block broke a rule, bad params) or failed.",
                 load(m.apply_errors))
        .Counter("tc_store_evidence_stored_total",
                 "Equivocation evidence entries written by add-evidence requests.",
                 load(m.evidence_stored))
        .Counters("tc_store_requests_total", "Requests answered, by method.", "method", m.requests)
        .Histogram("tc_store_apply_seconds",
                   "Time from an apply request to its durable commit, for committed requests.",
                   m.apply_seconds);
    return out.str();
}

}  // namespace tc::store
