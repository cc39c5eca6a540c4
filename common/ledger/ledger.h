// The ledger: one LMDB environment in DATADIR/ledger holding blocks,
// certificates, the UTXO set, indexes, the masternode registry, evidence and
// counters (layout in man/timecoin-protocol.7, LMDB LAYOUT). tc-store is its
// only writer; other processes open it read-only (LedgerView) beside it, as
// LMDB allows one writer and many reader processes.
//
// Every write (Init, ApplyBlock, ApplyBlocks) is one LMDB write transaction:
// it commits durably (fsync) or leaves the ledger exactly as it was. When the
// map is full it grows and retries; a full disk is an Errc::kIo error naming
// the path, with nothing half-written.
//
// Caveats: do not hold a LedgerView read transaction for long (LMDB cannot
// reuse pages a reader may see); every call here opens and closes its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "consensus/evidence.h"
#include "crypto/keys.h"
#include "util/amount.h"
#include "util/result.h"
#include "wire/address.h"
#include "wire/genesis.h"
#include "wire/types.h"

namespace tc::ledger {

inline constexpr uint32_t kLayoutVersion = 1;

// An unspent output.
struct Utxo {
    wire::OutPoint outpoint;
    uint64_t amount = 0;
    wire::PubKeyHash address{};
    uint64_t height = 0;  // height of the block that created it (0: genesis)
    bool locked = false;  // collateral of a masternode in (or entering) the set
};

struct Masternode {
    crypto::PublicKey key{};
    std::string endpoint;
    wire::PubKeyHash payout{};
    std::optional<wire::OutPoint> collateral;  // none for genesis masternodes
};

// Where a transaction is in the chain.
struct TxLocation {
    uint64_t height = 0;
    uint32_t position = 0;  // index in the block's txs
};

struct Status {
    std::string chain;
    wire::Hash chain_id{};
    wire::Network network = wire::Network::kDevnet;
    uint64_t height = 0;  // of the tip; 0 = only genesis
    wire::Hash tip_hash{};
    uint64_t tip_time_ms = 0;
    util::Amount genesis_supply;
    util::Amount supply;  // genesis supply - fees burned
    util::Amount fees_burned;
    uint64_t tx_count = 0;
    uint64_t utxo_count = 0;
    uint64_t masternodes = 0;  // in the set effective at height + 1
    uint64_t map_size = 0;     // bytes
};

// A block with its commit certificate: what the ledger stores per height,
// what an export record holds and what a batch apply takes.
struct CertifiedBlock {
    wire::Block block;
    wire::CommitCertificate cert;
};

// One entry of the evidence database, as stored. Its format belongs to the
// consensus stage (equivocation evidence); the ledger keeps the bytes.
struct EvidenceEntry {
    util::Bytes key;
    util::Bytes value;
};

// What AddEvidence found: who equivocated, and whether this was new.
struct EvidenceAdded {
    consensus::Equivocation who;
    bool added = false;  // false: the same offence was stored before
};

struct ApplyOptions {
    // Verify every witness signature (blocks from sync and import). Blocks
    // from tc-pbft were checked by the pool already and skip this.
    bool verify_witnesses = false;
    unsigned threads = 0;  // for witness checks; 0 = all cores
};

// What a rejected block broke: Errc::kInvalid with a message naming the
// rule and the field ("block 7: tx[3].inputs[0]: missing-input 9f2c...:1").

// Opens or creates DATADIR/ledger. Read-write handles are for tc-store only.
// `dir` below is the ledger directory itself, DATADIR/ledger
// (util::LedgerDir(datadir)). The layout is in ledger/schema.h, the apply
// rules and their names in ledger/rules.h. Genesis masternodes are stored as
// effective from height 0, so the set at every height starts as the genesis
// set (and matches the genesis header's mnset_hash).
//
// A Ledger may be used from several threads: reads open their own read
// transactions (MDB_NOTLS), writes are serialised.
class Ledger {
  public:
    // Creates the ledger from a genesis. Refuses (kConflict) when one exists,
    // naming its chain; errors naming the path otherwise.
    static util::Result<std::unique_ptr<Ledger>> Init(const std::string& dir,
                                                      const wire::Genesis& genesis);
    // Opens an existing ledger for writing. A missing ledger is kNotFound
    // ("run tc-store init"); a foreign or corrupted file, or an unknown layout
    // version, is kInvalid naming the path. Clears stale reader slots.
    static util::Result<std::unique_ptr<Ledger>> Open(const std::string& dir);
    // Opens read-only (a LedgerView for other processes; no writes).
    static util::Result<std::unique_ptr<Ledger>> OpenReadOnly(const std::string& dir);

    virtual ~Ledger() = default;

    virtual const wire::Genesis& genesis() const = 0;
    virtual util::Result<Status> GetStatus() const = 0;

    // Checks block + certificate against every rule (DESIGN §3, §4; the
    // apply rules in man/tc-store.1) and commits them in one durable write
    // transaction. Returns only after the commit is on disk.
    virtual util::Status ApplyBlock(const wire::Block& block, const wire::CommitCertificate& cert,
                                    const ApplyOptions& options) = 0;
    // The same checks for each block in turn, each on top of the one before,
    // and one durable commit for all of them. A refused block refuses the
    // whole batch: nothing is written, and when `refused` is given it is set
    // to the index of the block at fault (blocks.size() when the fault is no
    // one block's, e.g. a full disk). The error is the block's, as
    // ApplyBlock gives it ("block H: RULE ...").
    virtual util::Status ApplyBlocks(std::span<const CertifiedBlock> blocks,
                                     const ApplyOptions& options, size_t* refused = nullptr) = 0;

    // Reads. kNotFound when absent.
    virtual util::Result<wire::Block> GetBlock(uint64_t height) const = 0;
    virtual util::Result<uint64_t> GetHeightOfHash(const wire::Hash& hash) const = 0;
    // Height 0 (genesis) has no certificate: kNotFound.
    virtual util::Result<wire::CommitCertificate> GetCertificate(uint64_t height) const = 0;
    virtual util::Result<TxLocation> GetTxLocation(const wire::Hash& txid) const = 0;
    virtual util::Result<Utxo> GetUtxo(const wire::OutPoint& outpoint) const = 0;
    // The unspent outputs of an address, ordered by outpoint, at most
    // `limit`, starting after `start_after` when given (which need not be
    // unspent any more): a page, the next one starting after its last.
    virtual util::Result<std::vector<Utxo>> GetUtxos(
        const wire::PubKeyHash& address, size_t limit,
        const std::optional<wire::OutPoint>& start_after = std::nullopt) const = 0;
    // The masternode set effective at `height` (sorted by key).
    virtual util::Result<std::vector<Masternode>> GetMasternodes(uint64_t height) const = 0;
    // The evidence database in key order, at most `limit` entries.
    virtual util::Result<std::vector<EvidenceEntry>> GetEvidence(size_t limit) const = 0;
    // Checks two PBFT messages as equivocation evidence
    // (consensus::CheckEquivocation) against the masternode set at their
    // height, which must be 1 to the tip + 1 (kNotFound when ahead), and
    // writes the entry durably unless the same offence is stored. kConflict
    // when the database already holds max_entries. Read-write handles only.
    virtual util::Result<EvidenceAdded> AddEvidence(util::ByteView first, util::ByteView second,
                                                    uint64_t max_entries) = 0;

    // Clears reader slots left by killed reader processes (mdb_reader_check;
    // Open does it once): call now and then from a long-running process.
    // Returns how many were cleared.
    virtual util::Result<int> ClearStaleReaders() { return 0; }

    // Full integrity check (tc-store verify): replays every block from
    // genesis into a scratch UTXO set and compares it with the stored one,
    // checks every certificate and the hash chain, and supply = genesis
    // supply - fees burned. progress(height) is called now and then. The
    // error names the first fault. It also re-checks every witness (on all
    // cores), the indexes and the registry, in one read transaction, with
    // the replayed UTXO set in memory.
    virtual util::Status Verify(const std::function<void(uint64_t)>& progress) const = 0;
};

// The UTXO outpoints created by the genesis: (chain id, allocation index).
wire::OutPoint GenesisOutPoint(const wire::Hash& chain_id, uint32_t index);
// The genesis block header: height 0, zero prev hash, the genesis time,
// the empty tx root and the genesis masternode set hash.
wire::BlockHeader GenesisHeader(const wire::Genesis& genesis);

}  // namespace tc::ledger
