// Test helper: builds real chains for a genesis with real keys. It tracks
// the tip and the masternode set (genesis set plus registers and retires of
// the blocks it advanced past, at height + activation delay), and makes the
// next block with a correct header and a commit certificate signed by a
// quorum of the masternodes whose secret keys it holds. Tests then break one
// field at a time to see a rule reject it.
//
//   test::ChainBuilder chain(genesis, std::move(masternode_keys));
//   auto made = chain.MakeBlock({tx});
//   ASSERT_TRUE(ledger->ApplyBlock(made.block, made.cert, {}).ok());
//   chain.Advance(made.block);
#pragma once

#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "consensus/certificate.h"
#include "consensus/quorum.h"
#include "crypto/domain.h"
#include "crypto/keys.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "wire/codec.h"
#include "wire/genesis.h"
#include "wire/types.h"

namespace tc::test {

struct MadeBlock {
    wire::Block block;
    wire::CommitCertificate cert;
};

class ChainBuilder {
  public:
    ChainBuilder(wire::Genesis genesis, std::vector<crypto::SecretKey> masternode_keys)
        : m_genesis(std::move(genesis)),
          m_chain_id(wire::ChainId(m_genesis)),
          m_registry(ledger::Registry::FromGenesis(m_genesis)) {
        for (auto& key : masternode_keys) AddMasternodeKey(std::move(key));
        wire::BlockHeader h0 = ledger::GenesisHeader(m_genesis);
        m_tip_hash = wire::BlockHash(h0);
        m_tip_time = h0.timestamp_ms;
    }

    const wire::Genesis& genesis() const { return m_genesis; }
    const wire::Hash& chain_id() const { return m_chain_id; }
    // Height and hash of the tip the next block builds on.
    uint64_t height() const { return m_height; }
    const wire::Hash& tip_hash() const { return m_tip_hash; }

    // A key the builder may sign certificates with.
    void AddMasternodeKey(crypto::SecretKey key) {
        crypto::PublicKey pk = key.public_key();
        m_keys.erase(pk);
        m_keys.emplace(pk, std::move(key));
    }

    // The masternode set (keys, sorted) effective at `height`.
    std::vector<crypto::PublicKey> SetAt(uint64_t height) const {
        return ledger::Keys(m_registry.SetAt(height));
    }

    // The header of the next block: height tip + 1, the tip's hash, the
    // primary of `view` as proposer, the set's hash and the txs' root.
    wire::BlockHeader NextHeader(const std::vector<wire::Transaction>& txs, uint64_t view) const {
        wire::BlockHeader h;
        h.height = m_height + 1;
        h.prev_hash = m_tip_hash;
        h.view = view;
        h.timestamp_ms = m_tip_time + 1000;
        auto set = SetAt(h.height);
        h.proposer = static_cast<uint32_t>((h.height + view) % set.size());
        h.tx_root = wire::TxRoot(txs);
        h.mnset_hash = consensus::MasternodeSetHash(set);
        return h;
    }

    // A commit certificate for `header` (as given, even if broken) signed by
    // the first quorum of the set at its height whose keys the builder holds.
    wire::CommitCertificate Certify(const wire::BlockHeader& header, uint64_t view) const {
        wire::CommitCertificate cert;
        cert.height = header.height;
        cert.view = view;
        cert.block_hash = wire::BlockHash(header);
        auto set = SetAt(header.height);
        size_t q = consensus::QuorumFor(set.size()).q;
        auto msg =
            crypto::VoteSigningMessage(m_chain_id, static_cast<uint8_t>(wire::VotePhase::kCommit),
                                       header.height, view, cert.block_hash);
        for (uint32_t i = 0; i < set.size() && cert.sigs.size() < q; ++i) {
            auto it = m_keys.find(set[i]);
            if (it == m_keys.end()) continue;
            cert.sigs.push_back({i, it->second.Sign(msg)});
        }
        if (cert.sigs.size() < q)
            throw std::logic_error("ChainBuilder: not enough keys for a quorum");
        return cert;
    }

    // The next block holding txs, proposed in `view`, with its certificate.
    // Does not move the tip (see Advance).
    MadeBlock MakeBlock(std::vector<wire::Transaction> txs, uint64_t view = 0) const {
        MadeBlock made;
        made.block.header = NextHeader(txs, view);
        made.block.txs = std::move(txs);
        made.cert = Certify(made.block.header, view);
        return made;
    }

    // Moves the tip past `block` (after the ledger accepted it) and records
    // its registers and retires.
    void Advance(const wire::Block& block) {
        m_height = block.header.height;
        m_tip_hash = wire::BlockHash(block.header);
        m_tip_time = block.header.timestamp_ms;
        const uint64_t effective = m_height + m_genesis.activation_delay;
        for (const auto& tx : block.txs) {
            ledger::schema::RegistryEntry e;
            e.height = effective;
            if (const auto* reg = std::get_if<wire::RegisterPayload>(&tx.payload)) {
                e.kind = ledger::schema::RegistryKind::kAdd;
                e.node = ledger::Masternode{reg->masternode_key, reg->endpoint, reg->payout,
                                            wire::OutPoint{wire::TxId(tx), 0}};
                m_registry.Add(e);
            } else if (const auto* ret = std::get_if<wire::RetirePayload>(&tx.payload)) {
                e.kind = ledger::schema::RegistryKind::kRemove;
                for (const auto& m : m_registry.Final()) {
                    if (m.key == ret->masternode_key) e.node = m;
                }
                m_registry.Add(e);
            }
        }
    }

    // MakeBlock, then Advance past it.
    MadeBlock Next(std::vector<wire::Transaction> txs, uint64_t view = 0) {
        MadeBlock made = MakeBlock(std::move(txs), view);
        Advance(made.block);
        return made;
    }

    // Fills every witness slot of tx, in order, with a signature by keys[i].
    void Sign(wire::Transaction& tx, const std::vector<const crypto::SecretKey*>& keys) const {
        auto msg = crypto::TxSigningMessage(m_chain_id, wire::TxId(tx));
        tx.witnesses.clear();
        for (const auto* key : keys) {
            tx.witnesses.push_back(wire::Witness{key->public_key(), key->Sign(msg)});
        }
    }

  private:
    wire::Genesis m_genesis;
    wire::Hash m_chain_id;
    ledger::Registry m_registry;
    std::map<crypto::PublicKey, crypto::SecretKey> m_keys;
    uint64_t m_height = 0;
    wire::Hash m_tip_hash{};
    uint64_t m_tip_time = 0;
};

}  // namespace tc::test
