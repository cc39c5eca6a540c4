// Quorum arithmetic (DESIGN §4). n masternodes tolerate f = floor((n-1)/3)
// byzantine ones; a quorum is q = ceil((n+f+1)/2), which is 2f+1 when
// n = 3f+1, and any two quorums intersect in at least f+1 masternodes, so
// in at least one correct one. n = 1 gives f = 0, q = 1.
#pragma once

#include <cstddef>

namespace tc::consensus {

struct Quorum {
    size_t n = 0;
    size_t f = 0;
    size_t q = 0;
};

// n must be at least 1.
Quorum QuorumFor(size_t n);

}  // namespace tc::consensus
