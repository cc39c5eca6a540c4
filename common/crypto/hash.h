// BLAKE2b hashes (libsodium crypto_generichash): 256-bit for txids, block
// hashes and the chain id; 160-bit for addresses.
#pragma once

#include "util/bytes.h"

namespace tc::crypto {

using Hash256 = util::ByteArray<32>;
using Hash160 = util::ByteArray<20>;

Hash256 Blake2b256(util::ByteView data);
Hash160 Blake2b160(util::ByteView data);

// Incremental BLAKE2b-256 over several pieces, without concatenating them.
class Hasher256 {
  public:
    Hasher256();
    Hasher256& Update(util::ByteView data);
    Hash256 Final();

  private:
    alignas(64) unsigned char m_state[384];
};

}  // namespace tc::crypto
