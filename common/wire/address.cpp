#include "wire/address.h"

#include "util/bech32.h"

namespace tc::wire {

const char* Hrp(Network network) {
    return network == Network::kDevnet ? "tct" : "tc";
}

PubKeyHash KeyHash(const crypto::PublicKey& pk) {
    return crypto::Blake2b160(pk);
}

Address Address::FromPublicKey(const crypto::PublicKey& pk, Network network) {
    return Address{network, KeyHash(pk)};
}

util::Result<Address> Address::Parse(std::string_view text) {
    auto fail = [&](const std::string& why) {
        return util::MakeError(util::Errc::kInvalid,
                               "address \"" + std::string(text) + "\": " + why);
    };
    auto decoded = util::bech32::Decode(text);
    if (!decoded) return fail(decoded.error().message);
    Address out;
    if (decoded->hrp == "tc") {
        out.network = Network::kMain;
    } else if (decoded->hrp == "tct") {
        out.network = Network::kDevnet;
    } else {
        return fail("unknown prefix \"" + decoded->hrp + "\" (expected tc or tct)");
    }
    auto bytes = util::bech32::FromFiveBit(decoded->data);
    if (!bytes) return fail(bytes.error().message);
    if (bytes->size() != out.hash.size()) {
        return fail("holds " + std::to_string(bytes->size()) + " bytes, expected 20");
    }
    std::copy(bytes->begin(), bytes->end(), out.hash.begin());
    return out;
}

util::Result<Address> Address::Parse(std::string_view text, Network expected) {
    TC_TRY(address, Parse(text));
    if (address.network != expected) {
        return util::MakeError(util::Errc::kInvalid,
                               "address \"" + std::string(text) + "\": a " +
                                   (address.network == Network::kMain ? "main-network" : "devnet") +
                                   " address where a " +
                                   (expected == Network::kMain ? "main-network" : "devnet") +
                                   " one is needed");
    }
    return address;
}

std::string Address::ToString() const {
    return util::bech32::Encode(Hrp(network), util::bech32::ToFiveBit(hash));
}

}  // namespace tc::wire
