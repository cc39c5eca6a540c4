// The JSON-RPC methods of tc-rpc run (man/tc-rpc.1, METHODS) and its health
// check, without HTTP: each takes positional params as JSON and gives an
// Outcome (rpc_jsonrpc.h). Reads (blocks, transactions, balances, unspent
// outputs, masternodes, the store's evidence) go to the ledger, opened
// read-only beside tc-store run; the pool (mempool, submit) and the
// consensus stage (its status and evidence) are asked over their request
// sockets through a Stages, which the daemon gives one ZeroMQ client per
// worker thread and the unit tests fake.
//
// A stage that does not answer (Stages::Call returns kIo) is error -28 with
// data {"stage": NAME}; a ledger read of something absent is -5; a
// transaction the pool refuses is -26 with data {"reason", "detail"}.
//
// Thread-safety: Call and CheckHealth may run on several threads at once,
// as the ledger and a Stages implementation allow (the daemon's do).
#pragma once

#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/ledger.h"
#include "net/envelope.h"
#include "rpc_jsonrpc.h"
#include "util/result.h"

namespace tc::rpc {

enum class Stage { kStore, kPool, kPbft, kP2p };
// "store", "pool", "pbft", "p2p": also the socket names under DATADIR/run/.
const char* StageName(Stage stage);

// The request sockets of the other stages.
class Stages {
  public:
    virtual ~Stages() = default;
    // Sends `method` with the params `params` packs (an array) to `stage` and
    // returns its result as JSON (MsgpackToJson). Errors: kIo when it did not
    // answer within the stage timeout; otherwise the stage's error reply.
    virtual util::Result<nlohmann::json> Call(Stage stage, std::string_view method,
                                              const std::function<void(net::Packer&)>& params) = 0;
};

// A msgpack object as JSON (net/envelope.h).
using net::MsgpackToJson;

struct MethodLimits {
    uint64_t max_utxos = 1000;     // entries of one listunspent, and its default limit
    uint64_t max_evidence = 1000;  // entries getevidence reads from the ledger
};

class Methods {
  public:
    // ledger and stages must outlive this.
    Methods(const ledger::Ledger& ledger, Stages& stages, const MethodLimits& limits);

    // The Handler of HandleBody: nullopt for an unknown method.
    std::optional<Outcome> Call(std::string_view method, const nlohmann::json& params);

    // The BatchHandler of HandleBody: every call as Call would, except that
    // the batch's sendrawtransaction calls go to the pool in one submit
    // (their signatures are then checked together, on all cores).
    std::vector<std::optional<Outcome>> CallBatch(
        const std::vector<std::pair<std::string, nlohmann::json>>& calls);

    // The methods and their one-line descriptions, in help's order.
    static const std::vector<std::pair<std::string, std::string>>& List();

    // GET /health: ok when store, pool and pbft answer ping; body
    // {"status":"ok","height":H} or {"status":"unavailable","stages":{...}}.
    struct Health {
        bool ok = false;
        nlohmann::json body;
    };
    Health CheckHealth();

  private:
    using Json = nlohmann::json;
    Outcome GetInfo(const Json& params);
    Outcome GetBlockCount(const Json& params);
    Outcome GetBlockHash(const Json& params);
    Outcome GetBlock(const Json& params);
    Outcome GetTransaction(const Json& params);
    Outcome GetBalance(const Json& params);
    Outcome ListUnspent(const Json& params);
    Outcome SendRawTransaction(const Json& params);
    // params -> the transaction's bytes, or the error outcome.
    static util::Result<util::Bytes> RawTransactionParam(const Json& params,
                                                         std::optional<Outcome>* bad);
    // One pool submit of txs: the outcome of each, in order.
    std::vector<Outcome> Submit(const std::vector<util::Bytes>& txs);
    Outcome GetMempoolInfo(const Json& params);
    Outcome GetRawMempool(const Json& params);
    Outcome GetMasternodes(const Json& params);
    Outcome GetPeers(const Json& params);
    Outcome GetEvidence(const Json& params);
    Outcome Help(const Json& params);

    const ledger::Ledger& m_ledger;
    Stages& m_stages;
    MethodLimits m_limits;
};

}  // namespace tc::rpc
