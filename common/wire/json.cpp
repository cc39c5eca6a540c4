#include "wire/json.h"

#include "util/amount.h"
#include "wire/codec.h"

namespace tc::wire {

using nlohmann::json;

json TxToJson(const Transaction& tx, Network network) {
    json inputs = json::array();
    for (const auto& in : tx.inputs) {
        inputs.push_back({{"txid", util::ToHex(in.txid)}, {"vout", in.vout}});
    }
    json outputs = json::array();
    for (const auto& out : tx.outputs) {
        outputs.push_back({{"amount", util::Amount::FromUnits(out.amount).ToString()},
                           {"address", Address{network, out.address}.ToString()}});
    }
    json witnesses = json::array();
    for (const auto& w : tx.witnesses) {
        if (w) {
            witnesses.push_back({{"public_key", util::ToHex(w->public_key)},
                                 {"signature", util::ToHex(w->signature)}});
        } else {
            witnesses.push_back(nullptr);
        }
    }
    json out = {
        {"txid", util::ToHex(TxId(tx))},
        {"wtxid", util::ToHex(WitnessTxId(tx))},
        {"version", tx.version},
        {"kind", TxKindName(tx.kind)},
        {"inputs", inputs},
        {"outputs", outputs},
        {"expiry", tx.expiry},
        {"size", Encode(tx).size()},
        {"signed", tx.FullySigned()},
        {"witnesses", witnesses},
    };
    if (const auto* reg = std::get_if<RegisterPayload>(&tx.payload)) {
        out["masternode"] = {{"public_key", util::ToHex(reg->masternode_key)},
                             {"endpoint", reg->endpoint},
                             {"payout", Address{network, reg->payout}.ToString()}};
    } else if (const auto* retire = std::get_if<RetirePayload>(&tx.payload)) {
        out["masternode"] = {{"public_key", util::ToHex(retire->masternode_key)}};
    }
    return out;
}

}  // namespace tc::wire
