#include "keygen.h"

#include <sys/stat.h>
#include <zmq.h>

#include <charconv>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "consensus/tx_check.h"
#include "crypto/domain.h"
#include "crypto/keyfile.h"
#include "crypto/keys.h"
#include "wire/address.h"
#include "wire/genesis.h"
#include "wire/tx_text.h"

namespace tc::keygen {

using util::Errc;
using util::MakeError;

namespace {

wire::Network NetworkOf(bool devnet) {
    return devnet ? wire::Network::kDevnet : wire::Network::kMain;
}

std::string Z85(const util::ByteArray<32>& key) {
    char text[41];
    zmq_z85_encode(text, key.data(), key.size());
    return text;
}

util::Result<crypto::SecureBuffer> MaybePassphrase(const std::string& path) {
    if (path.empty()) return crypto::SecureBuffer();
    return crypto::ReadPassphraseFile(path);
}

util::Result<crypto::SecretKey> LoadKey(const Options& opts) {
    TC_TRY(passphrase, MaybePassphrase(opts.passphrase_file));
    return crypto::ReadKeyFile(opts.key, passphrase.size() ? &passphrase : nullptr);
}

}  // namespace

util::Result<Chain> ChainFromOptions(const std::string& genesis, const std::string& chain_id_hex) {
    if (genesis.empty() == chain_id_hex.empty()) {
        return MakeError(Errc::kUsage, "give exactly one of --genesis FILE and --chain-id HEX");
    }
    if (!genesis.empty()) {
        TC_TRY(g, wire::LoadGenesisFile(genesis));
        return Chain{wire::ChainId(g), g.network};
    }
    auto id = util::FromHexFixed<32>(chain_id_hex);
    if (!id) return MakeError(Errc::kUsage, "--chain-id: " + id.error().message);
    return Chain{*id, std::nullopt};
}

util::Result<std::vector<size_t>> ParseInputList(const std::string& list, size_t slots) {
    std::vector<size_t> out;
    if (list.empty()) {
        for (size_t i = 0; i < slots; ++i) out.push_back(i);
        return out;
    }
    std::set<size_t> seen;
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        std::string_view item(list.data() + pos, comma - pos);
        size_t index = 0;
        auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), index);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size()) {
            return MakeError(Errc::kUsage,
                             "--inputs: \"" + std::string(item) + "\" is not an input index");
        }
        if (index >= slots) {
            return MakeError(Errc::kUsage, "--inputs: index " + std::to_string(index) +
                                               " but the transaction has " + std::to_string(slots) +
                                               " inputs to sign");
        }
        if (!seen.insert(index).second) {
            return MakeError(Errc::kUsage,
                             "--inputs: index " + std::to_string(index) + " given twice");
        }
        out.push_back(index);
        pos = comma + 1;
    }
    return out;
}

util::Status New(const Options& opts, std::ostream& out) {
    std::string path = opts.out;
    if (path.empty()) {
        // A datadir holds keys: create it private to its owner.
        std::error_code ec;
        if (std::filesystem::create_directories(opts.common.datadir, ec)) {
            std::filesystem::permissions(opts.common.datadir, std::filesystem::perms::owner_all,
                                         ec);
        }
        if (ec) return MakeError(Errc::kIo, opts.common.datadir + ": " + ec.message());
        path = opts.common.datadir + "/node.key";
    }
    TC_TRY(passphrase, MaybePassphrase(opts.passphrase_file));
    crypto::SecretKey key = crypto::SecretKey::Generate();
    TC_CHECK(
        crypto::WriteKeyFile(path, key, opts.devnet, passphrase.size() ? &passphrase : nullptr));
    auto address = wire::Address::FromPublicKey(key.public_key(), NetworkOf(opts.devnet));
    if (opts.common.json) {
        nlohmann::json j = {{"address", address.ToString()},
                            {"public_key", util::ToHex(key.public_key())},
                            {"file", path}};
        out << j.dump() << "\n";
    } else {
        out << address.ToString() << "\n";
    }
    return {};
}

util::Status Show(const Options& opts, std::ostream& out) {
    TC_TRY(info, crypto::ReadKeyFileInfo(opts.key));
    TC_TRY(curve, crypto::ToCurvePublic(info.public_key));
    auto address = wire::Address::FromPublicKey(info.public_key, NetworkOf(info.devnet));
    if (opts.common.json) {
        nlohmann::json j = {{"address", address.ToString()},
                            {"public_key", util::ToHex(info.public_key)},
                            {"curve_public", Z85(curve)},
                            {"network", info.devnet ? "devnet" : "main"},
                            {"encrypted", info.encrypted}};
        out << j.dump() << "\n";
    } else {
        out << "address      " << address.ToString() << "\n"
            << "public_key   " << util::ToHex(info.public_key) << "\n"
            << "curve_public " << Z85(curve) << "\n"
            << "network      " << (info.devnet ? "devnet" : "main") << "\n"
            << "encrypted    " << (info.encrypted ? "yes" : "no") << "\n";
    }
    return {};
}

util::Status Sign(const Options& opts, std::istream& in, std::ostream& out) {
    TC_TRY(chain, ChainFromOptions(opts.genesis, opts.chain_id));
    TC_TRY(tx, wire::ReadTransactionHex(in, "stdin"));
    TC_TRY(indices, ParseInputList(opts.inputs, tx.WitnessSlots()));
    if (chain.network) {
        // A key of the other network on this chain is almost surely a mistake.
        TC_TRY(info, crypto::ReadKeyFileInfo(opts.key));
        if (info.devnet != (*chain.network == wire::Network::kDevnet)) {
            return MakeError(Errc::kUsage,
                             opts.key + ": a " + (info.devnet ? "devnet" : "main-network") +
                                 " key for a " + (info.devnet ? "main-network" : "devnet") +
                                 " chain");
        }
    }
    TC_TRY(key, LoadKey(opts));
    crypto::Signature sig = key.Sign(crypto::TxSigningMessage(chain.id, wire::TxId(tx)));
    tx.witnesses.resize(tx.WitnessSlots());
    for (size_t i : indices) tx.witnesses[i] = wire::Witness{key.public_key(), sig};
    out << wire::TransactionHex(tx) << "\n";
    return {};
}

util::Status Verify(const Options& opts, std::istream& in, std::ostream& out) {
    TC_TRY(chain, ChainFromOptions(opts.genesis, opts.chain_id));
    TC_TRY(tx, wire::ReadTransactionHex(in, "stdin"));
    TC_CHECK(consensus::VerifyWitnesses(tx, chain.id));
    if (opts.common.json) {
        nlohmann::json j = {{"txid", util::ToHex(wire::TxId(tx))},
                            {"valid", true},
                            {"witnesses", tx.witnesses.size()}};
        out << j.dump() << "\n";
    } else {
        out << util::ToHex(wire::TxId(tx)) << "\n";
    }
    return {};
}

util::Status SignMessage(const Options& opts, std::ostream& out) {
    TC_TRY(key, LoadKey(opts));
    crypto::Signature sig = key.Sign(crypto::MessageSigningMessage(util::AsBytes(opts.message)));
    util::Bytes both(key.public_key().begin(), key.public_key().end());
    util::Append(both, sig);
    out << util::ToHex(both) << "\n";
    return {};
}

util::Status VerifyMessage(const Options& opts, std::ostream& out) {
    auto address = wire::Address::Parse(opts.address);
    if (!address) return MakeError(Errc::kUsage, address.error().message);
    auto both = util::FromHexFixed<96>(opts.signature);
    if (!both) {
        return MakeError(Errc::kUsage,
                         "signature: " + both.error().message +
                             " (sign-message prints 96 bytes: public key, signature)");
    }
    crypto::PublicKey pk;
    crypto::Signature sig;
    std::copy(both->begin(), both->begin() + 32, pk.begin());
    std::copy(both->begin() + 32, both->end(), sig.begin());
    if (wire::KeyHash(pk) != address->hash) {
        return MakeError(Errc::kCrypto,
                         "signature was made by another key than " + opts.address + "'s");
    }
    if (!crypto::Verify(pk, crypto::MessageSigningMessage(util::AsBytes(opts.message)), sig)) {
        return MakeError(Errc::kCrypto, "bad signature for this message");
    }
    out << "ok\n";
    return {};
}

void SetupCli(CLI::App& app, Options& opts) {
    app.description("Create and show TimeCoin keys; sign and verify transactions and messages.");
    app.require_subcommand(1);

    auto* cmd_new =
        app.add_subcommand("new", "create a key file (mode 0600) and print its address");
    cmd_new->add_option("--out", opts.out, "key file to create (default DATADIR/node.key)");
    cmd_new->add_flag("--devnet", opts.devnet, "a devnet key (addresses tct1...)");
    cmd_new->add_option("--passphrase-file", opts.passphrase_file,
                        "encrypt the key with the passphrase on this file's first line");

    auto* cmd_show = app.add_subcommand("show", "print a key file's address and public keys");
    cmd_show->add_option("KEYFILE", opts.key, "key file")->required();

    auto chain_opts = [&](CLI::App* cmd) {
        auto* g = cmd->add_option("--genesis", opts.genesis, "genesis file of the chain");
        auto* c = cmd->add_option("--chain-id", opts.chain_id, "chain id (hex)");
        g->excludes(c);
    };
    auto* cmd_sign = app.add_subcommand(
        "sign", "add witnesses to the transaction on stdin (hex), print it signed");
    cmd_sign->add_option("--key", opts.key, "key file")->required();
    chain_opts(cmd_sign);
    cmd_sign->add_option("--inputs", opts.inputs, "input indices to sign, e.g. 0,2 (default all)");
    cmd_sign->add_option("--passphrase-file", opts.passphrase_file,
                         "passphrase of an encrypted key");

    auto* cmd_verify = app.add_subcommand(
        "verify", "exit 0 iff every input of the transaction on stdin has a valid witness");
    chain_opts(cmd_verify);

    auto* cmd_sm =
        app.add_subcommand("sign-message", "sign MSG; prints public key and signature (hex)");
    cmd_sm->add_option("--key", opts.key, "key file")->required();
    cmd_sm->add_option("--passphrase-file", opts.passphrase_file, "passphrase of an encrypted key");
    cmd_sm->add_option("MSG", opts.message, "message")->required();

    auto* cmd_vm =
        app.add_subcommand("verify-message", "exit 0 iff SIG is ADDRESS's signature of MSG");
    cmd_vm->add_option("ADDRESS", opts.address, "address")->required();
    cmd_vm->add_option("SIG", opts.signature, "signature from sign-message (hex)")->required();
    cmd_vm->add_option("MSG", opts.message, "message")->required();
}

util::Status Run(const CLI::App& app, const Options& opts, std::istream& in, std::ostream& out) {
    auto got = [&](const char* name) { return app.got_subcommand(name); };
    if (got("new")) return New(opts, out);
    if (got("show")) return Show(opts, out);
    if (got("sign")) return Sign(opts, in, out);
    if (got("verify")) return Verify(opts, in, out);
    if (got("sign-message")) return SignMessage(opts, out);
    if (got("verify-message")) return VerifyMessage(opts, out);
    return MakeError(Errc::kUsage, "no command given (see --help)");
}

}  // namespace tc::keygen
