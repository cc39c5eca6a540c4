#include "consensus/quorum.h"

namespace tc::consensus {

Quorum QuorumFor(size_t n) {
    Quorum out;
    out.n = n;
    out.f = n == 0 ? 0 : (n - 1) / 3;
    out.q = (n + out.f + 1 + 1) / 2;  // ceil((n + f + 1) / 2)
    return out;
}

}  // namespace tc::consensus
