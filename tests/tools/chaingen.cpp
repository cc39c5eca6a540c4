// tc-chaingen: a test-only generator of valid chains. From a genesis file,
// the key of one of its allocations (the faucet) and the keys of a quorum of
// its masternodes, it builds N blocks of transfers and writes them with
// their commit certificates in the export format (tools/tc-store/export.h),
// ready for `tc-store import`:
//
//   tc-chaingen --genesis G --masternode-key K... --faucet-key K --blocks N
//               [--txs-per-block M] [--to ADDRESS...] [--amount AMOUNT]
//               [--summary FILE] > chain.tcx
//
// Each transaction spends one or more of the faucet's outputs from earlier
// blocks (two when there are plenty, more when they are small), pays
// --amount to the next --to address (round robin; default the faucet
// itself) and returns the change to the faucet, split in two while it is at
// least four payments, so the faucet's outputs multiply and are spent again
// in later blocks. The fee is
// the genesis min fee rate times the encoded size (witnesses included). A
// block holds at most M transactions, fewer while the faucet has fewer
// outputs to spend (block 1 has one: the genesis allocation). Blocks are one
// second apart from the genesis time, in view 0, proposed by the primary of
// (height, 0), certified by every masternode key given.
//
// --summary FILE writes one JSON object: blocks, txs, fees, the faucet's
// balance and what each recipient received, for tests to check against.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "consensus/certificate.h"
#include "consensus/quorum.h"
#include "consensus/tx_check.h"
#include "crypto/domain.h"
#include "crypto/keyfile.h"
#include "export.h"
#include "ledger/ledger.h"
#include "util/cli.h"
#include "wire/codec.h"

namespace {

using namespace tc;
using util::Errc;
using util::MakeError;

struct Options {
    util::CommonOptions common;
    std::string genesis;
    std::vector<std::string> masternode_keys;
    std::string faucet_key;
    uint64_t blocks = 0;
    uint64_t txs_per_block = 10;
    std::vector<std::string> to;
    std::string amount = "1";
    std::string summary;
};

// Inputs of one generated transaction, at most.
constexpr size_t kMaxInputs = 16;

struct Coin {
    wire::OutPoint outpoint;
    uint64_t amount = 0;
};

util::Result<wire::Transaction> MakeTransfer(const std::vector<Coin>& coins,
                                             const wire::PubKeyHash& recipient, uint64_t pay,
                                             const wire::PubKeyHash& faucet,
                                             const crypto::SecretKey& key,
                                             const wire::Hash& chain_id, uint64_t fee_rate) {
    uint64_t in = 0;
    for (const auto& c : coins) in += c.amount;
    auto build = [&](uint64_t fee) -> util::Result<wire::Transaction> {
        if (in < pay + fee + 2) {
            return MakeError(Errc::kInvalid, "the faucet ran dry: an output of " +
                                                 std::to_string(in) + " units cannot pay " +
                                                 std::to_string(pay) + " and a fee");
        }
        wire::Transaction tx;
        for (const auto& c : coins) tx.inputs.push_back(c.outpoint);
        uint64_t change = in - pay - fee;
        tx.outputs.push_back({pay, recipient});
        // Split the change while it is worth splitting, so that the faucet's
        // outputs multiply without turning to dust.
        if (change >= 4 * pay) {
            tx.outputs.push_back({change / 2, faucet});
            tx.outputs.push_back({change - change / 2, faucet});
        } else {
            tx.outputs.push_back({change, faucet});
        }
        auto sig = key.Sign(crypto::TxSigningMessage(chain_id, wire::TxId(tx)));
        tx.witnesses.assign(tx.WitnessSlots(), wire::Witness{key.public_key(), sig});
        return tx;
    };
    // The fee depends on the size, which depends (by a few bytes of integer
    // encoding) on the amounts: size it once, then pay for a little more.
    TC_TRY(draft, build(0));
    uint64_t fee = fee_rate * (wire::Encode(draft).size() + 16);
    TC_TRY(tx, build(fee));
    if (fee < fee_rate * wire::Encode(tx).size()) {
        return MakeError(Errc::kInternal, "fee below the min fee rate");
    }
    TC_CHECK(consensus::CheckTransaction(tx));
    TC_CHECK(consensus::VerifyWitnesses(tx, chain_id));
    return tx;
}

util::Status Generate(const Options& opts, std::ostream& out) {
    TC_TRY(genesis, wire::LoadGenesisFile(opts.genesis));
    const wire::Hash chain_id = wire::ChainId(genesis);

    std::vector<crypto::PublicKey> set;
    for (const auto& m : genesis.masternodes) set.push_back(m.public_key);
    std::map<uint32_t, crypto::SecretKey> signers;  // by index in the set
    for (const auto& path : opts.masternode_keys) {
        TC_TRY(key, crypto::ReadKeyFile(path, nullptr));
        auto it = std::find(set.begin(), set.end(), key.public_key());
        if (it == set.end()) {
            return MakeError(Errc::kUsage,
                             "--masternode-key " + path + ": not a genesis masternode");
        }
        signers.emplace(static_cast<uint32_t>(it - set.begin()), std::move(key));
    }
    const auto quorum = consensus::QuorumFor(set.size());
    if (signers.size() < quorum.q) {
        return MakeError(Errc::kUsage, "--masternode-key: " + std::to_string(signers.size()) +
                                           " keys, a quorum is " + std::to_string(quorum.q));
    }

    TC_TRY(faucet_key, crypto::ReadKeyFile(opts.faucet_key, nullptr));
    const wire::PubKeyHash faucet = wire::KeyHash(faucet_key.public_key());
    std::deque<Coin> coins;  // the faucet's spendable outputs, oldest first
    for (size_t i = 0; i < genesis.allocations.size(); ++i) {
        if (genesis.allocations[i].address == faucet) {
            coins.push_back({ledger::GenesisOutPoint(chain_id, static_cast<uint32_t>(i)),
                             genesis.allocations[i].amount.units()});
        }
    }
    if (coins.empty()) {
        return MakeError(Errc::kUsage,
                         "--faucet-key: the genesis allocates nothing to its address");
    }
    std::vector<wire::PubKeyHash> recipients;
    for (const auto& text : opts.to) {
        auto address = wire::Address::Parse(text, genesis.network);
        if (!address)
            return MakeError(Errc::kUsage, "--to " + text + ": " + address.error().message);
        recipients.push_back(address->hash);
    }
    if (recipients.empty()) recipients.push_back(faucet);
    auto pay = util::Amount::Parse(opts.amount);
    if (!pay || pay->units() == 0)
        return MakeError(Errc::kUsage, "--amount: not a positive amount");

    const size_t per_block = std::min<uint64_t>(opts.txs_per_block, genesis.max_block_txs);
    const wire::Hash mnset_hash = consensus::MasternodeSetHash(set);
    wire::BlockHeader prev = ledger::GenesisHeader(genesis);
    store::ExportWriter writer(out, "stdout");
    TC_CHECK(writer.Begin(chain_id));
    uint64_t txs = 0;
    uint64_t fees = 0;
    size_t next_recipient = 0;
    std::map<wire::PubKeyHash, uint64_t> paid;
    for (uint64_t height = 1; height <= opts.blocks; ++height) {
        // Spend only outputs of earlier blocks; this block's change waits.
        std::deque<Coin> mature;
        mature.swap(coins);
        wire::Block block;
        while (block.txs.size() < per_block && !mature.empty()) {
            std::vector<Coin> spend{mature.front()};
            mature.pop_front();
            uint64_t sum = spend[0].amount;
            // Merge a second output when there are plenty, and more while
            // they are too small to pay (a fee is far below one payment).
            while (
                !mature.empty() && spend.size() < kMaxInputs &&
                (sum < 2 * pay->units() || (spend.size() == 1 && mature.size() > 2 * per_block))) {
                sum += mature.front().amount;
                spend.push_back(mature.front());
                mature.pop_front();
            }
            const wire::PubKeyHash& to = recipients[next_recipient++ % recipients.size()];
            TC_TRY(tx, MakeTransfer(spend, to, pay->units(), faucet, faucet_key, chain_id,
                                    genesis.min_fee_rate.units()));
            uint64_t in = 0;
            for (const auto& c : spend) in += c.amount;
            uint64_t out_sum = 0;
            for (const auto& o : tx.outputs) out_sum += o.amount;
            fees += in - out_sum;
            paid[to] += pay->units();
            const wire::Hash txid = wire::TxId(tx);
            for (uint32_t vout = to == faucet ? 0 : 1; vout < tx.outputs.size(); ++vout) {
                coins.push_back({{txid, vout}, tx.outputs[vout].amount});
            }
            block.txs.push_back(std::move(tx));
        }
        // What was not spent stays spendable, ahead of the new change.
        coins.insert(coins.begin(), mature.begin(), mature.end());

        wire::BlockHeader& h = block.header;
        h.height = height;
        h.prev_hash = wire::BlockHash(prev);
        h.view = 0;
        h.timestamp_ms = genesis.time_ms + height * 1000;
        h.proposer = static_cast<uint32_t>(height % set.size());
        h.tx_root = wire::TxRoot(block.txs);
        h.mnset_hash = mnset_hash;
        if (wire::Encode(block).size() > genesis.max_block_bytes) {
            return MakeError(Errc::kUsage, "block " + std::to_string(height) +
                                               " exceeds the genesis max_block_bytes: "
                                               "give a smaller --txs-per-block");
        }
        const wire::Hash hash = wire::BlockHash(h);
        wire::CommitCertificate cert;
        cert.height = height;
        cert.view = 0;
        cert.block_hash = hash;
        const auto vote = crypto::VoteSigningMessage(
            chain_id, static_cast<uint8_t>(wire::VotePhase::kCommit), height, 0, hash);
        for (const auto& [index, key] : signers) cert.sigs.push_back({index, key.Sign(vote)});
        TC_CHECK(consensus::VerifyCertificate(cert, set, chain_id, height, hash));
        TC_CHECK(writer.Add(block, cert));
        txs += block.txs.size();
        prev = h;
    }
    TC_CHECK(writer.End());

    if (!opts.summary.empty()) {
        uint64_t faucet_balance = 0;
        for (const auto& c : coins) faucet_balance += c.amount;
        nlohmann::json received = nlohmann::json::object();
        for (const auto& [address, units] : paid) {
            received[wire::Address{genesis.network, address}.ToString()] =
                util::Amount::FromUnits(units).ToString();
        }
        nlohmann::json j = {
            {"blocks", opts.blocks},
            {"txs", txs},
            {"fees", util::Amount::FromUnits(fees).ToString()},
            {"faucet", wire::Address{genesis.network, faucet}.ToString()},
            {"faucet_balance", util::Amount::FromUnits(faucet_balance).ToString()},
            {"faucet_utxos", coins.size()},
            {"received", received},
            {"tip_hash", util::ToHex(wire::BlockHash(prev))},
        };
        std::ofstream file(opts.summary);
        file << j.dump() << "\n";
        if (!file) return MakeError(Errc::kIo, opts.summary + ": write failed");
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    if (!crypto::InitSodium().ok()) {
        std::cerr << "tc-chaingen: error: libsodium failed to initialise\n";
        return 1;
    }
    std::ios::sync_with_stdio(false);
    CLI::App app{"Build a valid test chain in the tc-store export format (test tool).",
                 "tc-chaingen"};
    Options opts;
    util::AddCommonOptions(app, opts.common, "chaingen");
    app.add_option("--genesis", opts.genesis, "genesis file")->required();
    app.add_option("--masternode-key", opts.masternode_keys,
                   "key file of a genesis masternode (repeat; at least a quorum)")
        ->required();
    app.add_option("--faucet-key", opts.faucet_key, "key file of a genesis allocation")->required();
    app.add_option("--blocks", opts.blocks, "blocks to build")
        ->required()
        ->check(util::DecimalUnsigned());
    app.add_option("--txs-per-block", opts.txs_per_block, "most transactions in a block")
        ->capture_default_str()
        ->check(util::DecimalUnsigned());
    app.add_option("--to", opts.to, "recipient address (repeat; default the faucet)");
    app.add_option("--amount", opts.amount, "paid to a recipient per transaction, in TIME")
        ->capture_default_str();
    app.add_option("--summary", opts.summary, "write a JSON summary to this file");
    return util::RunTool(app, opts.common, argc, argv, [&] { return Generate(opts, std::cout); });
}
