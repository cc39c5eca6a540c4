#include "tx.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "consensus/tx_check.h"
#include "util/amount.h"
#include "wire/address.h"
#include "wire/json.h"
#include "wire/tx_text.h"

namespace tc::txtool {

using util::Errc;
using util::MakeError;

namespace {

util::Error Usage(const std::string& what, const std::string& why) {
    return MakeError(Errc::kUsage, what + ": " + why);
}

util::Result<wire::OutPoint> ParseOutPoint(const std::string& text) {
    auto outpoint = wire::ParseOutPointText(text);
    if (!outpoint) return Usage("--in " + text, outpoint.error().message);
    return outpoint;
}

util::Result<wire::Address> ParseAddress(const std::string& what, std::string_view text,
                                         std::optional<wire::Network>& network) {
    auto address = wire::Address::Parse(text);
    if (!address) return Usage(what, address.error().message);
    if (network && *network != address->network) {
        return Usage(what, "mixes main-network and devnet addresses");
    }
    network = address->network;
    return *address;
}

util::Result<crypto::PublicKey> ParseKey(const std::string& what, std::string_view hex) {
    auto key = util::FromHexFixed<32>(hex);
    if (!key) return Usage(what, "public key: " + key.error().message);
    if (!crypto::ToCurvePublic(*key)) return Usage(what, "not a valid Ed25519 public key");
    return *key;
}

}  // namespace

util::Result<wire::Transaction> BuildTransaction(const Options& opts) {
    wire::Transaction tx;
    std::optional<wire::Network> network;
    if (!opts.register_spec.empty() && !opts.retire_key.empty()) {
        return MakeError(Errc::kUsage, "--register and --retire exclude each other");
    }
    for (const auto& in : opts.ins) {
        TC_TRY(outpoint, ParseOutPoint(in));
        tx.inputs.push_back(outpoint);
    }
    for (const auto& out : opts.outs) {
        std::string what = "--out " + out;
        size_t colon = out.rfind(':');
        if (colon == std::string::npos) return Usage(what, "expected ADDRESS:AMOUNT");
        TC_TRY(address, ParseAddress(what, std::string_view(out).substr(0, colon), network));
        auto amount = util::Amount::Parse(std::string_view(out).substr(colon + 1));
        if (!amount) return Usage(what, amount.error().message);
        tx.outputs.push_back(wire::TxOut{amount->units(), address.hash});
    }
    tx.expiry = opts.expiry;
    if (!opts.register_spec.empty()) {
        std::string what = "--register " + opts.register_spec;
        size_t c1 = opts.register_spec.find(',');
        size_t c2 = opts.register_spec.rfind(',');
        if (c1 == std::string::npos || c1 == c2) {
            return Usage(what, "expected PUBKEY,HOST:PORT,PAYOUT_ADDRESS");
        }
        std::string_view spec = opts.register_spec;
        wire::RegisterPayload reg;
        TC_TRY(key, ParseKey(what, spec.substr(0, c1)));
        reg.masternode_key = key;
        reg.endpoint = std::string(spec.substr(c1 + 1, c2 - c1 - 1));
        TC_TRY(payout, ParseAddress(what, spec.substr(c2 + 1), network));
        reg.payout = payout.hash;
        tx.kind = wire::TxKind::kRegister;
        tx.payload = std::move(reg);
    } else if (!opts.retire_key.empty()) {
        TC_TRY(key, ParseKey("--retire", opts.retire_key));
        tx.kind = wire::TxKind::kRetire;
        tx.payload = wire::RetirePayload{key};
    }
    auto check = consensus::CheckTransaction(tx);
    if (!check) return MakeError(Errc::kUsage, check.error().message);
    return tx;
}

void SetupCli(CLI::App& app, Options& opts) {
    app.description(
        "Build, decode and inspect TimeCoin transactions offline (hex on stdin/stdout).");
    app.require_subcommand(1);
    auto* create = app.add_subcommand("create", "print an unsigned transaction (hex)");
    create->add_option("--in", opts.ins, "input TXID:VOUT (repeat for more)");
    create->add_option("--out", opts.outs, "output ADDRESS:AMOUNT, amount in TIME (repeat)");
    create->add_option("--expiry", opts.expiry, "last height that may include it (0: never)")
        ->check(util::DecimalUnsigned());
    create->add_option(
        "--register", opts.register_spec,
        "masternode register: PUBKEY,HOST:PORT,PAYOUT_ADDRESS (output 0 is the collateral)");
    create->add_option("--retire", opts.retire_key,
                       "masternode retire: PUBKEY (no inputs or outputs)");
    auto* decode = app.add_subcommand("decode", "print the transaction on stdin as JSON");
    decode->add_flag("--devnet", opts.devnet, "show devnet (tct1) addresses");
    app.add_subcommand("id", "print the txid of the transaction on stdin");
}

util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out) {
    const bool json = opts.common.json;
    if (app.got_subcommand("create")) {
        TC_TRY(tx, BuildTransaction(opts));
        if (json) {
            nlohmann::json j = {{"hex", wire::TransactionHex(tx)},
                                {"txid", util::ToHex(wire::TxId(tx))}};
            out << j.dump() << "\n";
        } else {
            out << wire::TransactionHex(tx) << "\n";
        }
        return {};
    }
    TC_TRY(tx, wire::ReadTransactionHex(in, "stdin"));
    if (app.got_subcommand("decode")) {
        auto network = opts.devnet ? wire::Network::kDevnet : wire::Network::kMain;
        out << wire::TxToJson(tx, network).dump(json ? -1 : 2) << "\n";
        return {};
    }
    if (json) {
        out << nlohmann::json{{"txid", util::ToHex(wire::TxId(tx))}}.dump() << "\n";
    } else {
        out << util::ToHex(wire::TxId(tx)) << "\n";
    }
    return {};
}

}  // namespace tc::txtool
