// The methods of tc-rpc (tools/tc-rpc/rpc_methods.h) on a real ledger at
// genesis, with the pool and pbft faked; and the client's pieces
// (rpc_client.h) and --listen parsing (rpc_server.h).
#include "rpc_methods.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chain_builder.h"
#include "ledger/ledger.h"
#include "rpc_client.h"
#include "rpc_server.h"
#include "temp_dir.h"
#include "test_chain.h"
#include "util/config.h"

namespace tc {
namespace {

using nlohmann::json;
using test::Addr;

// Stages answered by functions of (method, params as JSON); a stage without
// one does not answer (kIo).
class FakeStages : public rpc::Stages {
  public:
    using Fn = std::function<util::Result<json>(std::string_view method, const json& params)>;
    std::map<rpc::Stage, Fn> answer;

    util::Result<json> Call(rpc::Stage stage, std::string_view method,
                            const std::function<void(net::Packer&)>& params) override {
        msgpack::sbuffer buf;
        net::Packer p(buf);
        params(p);
        auto handle = msgpack::unpack(buf.data(), buf.size());
        auto it = answer.find(stage);
        if (it == answer.end()) {
            return util::MakeError(util::Errc::kIo,
                                   std::string("no answer from ") + rpc::StageName(stage));
        }
        return it->second(method, rpc::MsgpackToJson(handle.get()));
    }
};

class RpcMethodsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(crypto::InitSodium().ok());
        m_genesis = test::MakeGenesis("rpc-test", 1);
        auto ledger = ledger::Ledger::Init(m_dir.path() + "/ledger", m_genesis);
        ASSERT_TRUE(ledger.ok()) << ledger.error().message;
        m_ledger = std::move(*ledger);
        m_methods = std::make_unique<rpc::Methods>(*m_ledger, m_stages, rpc::MethodLimits{});
    }

    rpc::Outcome Call(const std::string& method, json params = json::array()) {
        auto out = m_methods->Call(method, params);
        EXPECT_TRUE(out.has_value()) << method;
        return out ? *out : rpc::Outcome::Fail(0, "unknown");
    }
    json Ok(const std::string& method, json params = json::array()) {
        auto out = Call(method, std::move(params));
        EXPECT_TRUE(out.ok()) << method << ": " << (out.ok() ? "" : out.error().message);
        return out.ok() ? out.result() : json();
    }
    int Code(const std::string& method, json params = json::array()) {
        auto out = Call(method, std::move(params));
        return out.ok() ? 0 : out.error().code;
    }
    std::string Alice() const { return wire::Address{wire::Network::kDevnet, Addr(1)}.ToString(); }

    test::TempDir m_dir;
    wire::Genesis m_genesis;
    std::unique_ptr<ledger::Ledger> m_ledger;
    FakeStages m_stages;
    std::unique_ptr<rpc::Methods> m_methods;
};

TEST_F(RpcMethodsTest, BlocksAtGenesis) {
    EXPECT_EQ(Ok("getblockcount"), 0);
    const std::string hash = util::ToHex(wire::BlockHash(ledger::GenesisHeader(m_genesis)));
    EXPECT_EQ(Ok("getblockhash", {0}), hash);
    json block = Ok("getblock", {0});
    EXPECT_EQ(block["height"], 0);
    EXPECT_EQ(block["hash"], hash);
    EXPECT_TRUE(block["txids"].empty());
    EXPECT_TRUE(block["certificate"].is_null());
    EXPECT_GT(block["size"].get<uint64_t>(), 0u);
    EXPECT_EQ(Ok("getblock", {hash}), block);
    EXPECT_EQ(Code("getblock", {1}), rpc::kNotFound);
    EXPECT_EQ(Code("getblockhash", {7}), rpc::kNotFound);
    EXPECT_EQ(Code("getblock", {std::string(64, '0')}), rpc::kNotFound);
}

TEST_F(RpcMethodsTest, ParamsAreChecked) {
    EXPECT_EQ(Code("getblockcount", {1}), rpc::kInvalidParams);
    EXPECT_EQ(Code("getblockhash"), rpc::kInvalidParams);
    EXPECT_EQ(Code("getblockhash", {-1}), rpc::kInvalidParams);
    EXPECT_EQ(Code("getblockhash", {"0"}), rpc::kInvalidParams);
    EXPECT_EQ(Code("getblock", {"xyz"}), rpc::kInvalidParams);
    EXPECT_EQ(Code("getblock", {std::string(64, 'A')}), rpc::kInvalidParams);  // uppercase
    EXPECT_EQ(Code("gettransaction", {12}), rpc::kInvalidParams);
    EXPECT_EQ(Code("getbalance", {"tct1notanaddress"}), rpc::kInvalidParams);
    EXPECT_EQ(Code("getbalance", {wire::Address{wire::Network::kMain, Addr(1)}.ToString()}),
              rpc::kInvalidParams);  // a main-network address on a devnet chain
    EXPECT_EQ(Code("listunspent", {Alice(), 0}), rpc::kInvalidParams);
    EXPECT_EQ(Code("listunspent", {Alice(), 1001}), rpc::kInvalidParams);
    EXPECT_EQ(Code("sendrawtransaction", {"zz"}), rpc::kInvalidParams);
    EXPECT_FALSE(m_methods->Call("nosuchmethod", json::array()).has_value());
}

TEST_F(RpcMethodsTest, BalancesAndUnspentOutputs) {
    EXPECT_EQ(Ok("getbalance", {Alice()}), "1000");
    json utxos = Ok("listunspent", {Alice()});
    ASSERT_EQ(utxos.size(), 1u);
    EXPECT_EQ(utxos[0]["amount"], "1000");
    EXPECT_EQ(utxos[0]["height"], 0);
    EXPECT_EQ(utxos[0]["locked"], false);
    EXPECT_EQ(utxos[0]["txid"].get<std::string>().size(), 64u);
    const std::string nobody = wire::Address{wire::Network::kDevnet, Addr(9)}.ToString();
    EXPECT_EQ(Ok("getbalance", {nobody}), "0");
    EXPECT_TRUE(Ok("listunspent", {nobody, 5}).empty());
    EXPECT_EQ(Code("gettransaction", {utxos[0]["txid"]}), rpc::kNotFound);  // genesis: no tx
}

// listunspent pages: [address, limit, after] continues after the last
// outpoint of the previous page; the pages together are the whole list.
TEST_F(RpcMethodsTest, UnspentOutputsComeInPages) {
    // Block 1 splits Alice's 1000 coins into five outputs of hers.
    test::ChainBuilder chain(m_genesis, test::MasternodeKeys(1));
    wire::Transaction split;
    split.inputs.push_back(ledger::GenesisOutPoint(chain.chain_id(), 0));
    for (int i = 0; i < 5; ++i) {
        split.outputs.push_back({(100 + i) * util::Amount::kUnitsPerCoin, Addr(1)});
    }
    const auto alice = test::Key(1);
    chain.Sign(split, {&alice});
    auto made = chain.Next({split});
    ASSERT_TRUE(m_ledger->ApplyBlock(made.block, made.cert, {}).ok());
    rpc::MethodLimits limits;
    limits.max_utxos = 2;
    rpc::Methods methods(*m_ledger, m_stages, limits);
    auto call = [&](json params) { return *methods.Call("listunspent", std::move(params)); };

    auto whole = call({Alice(), 2});
    ASSERT_TRUE(whole.ok());
    EXPECT_EQ(whole.result().size(), 2u);  // the bound holds without a limit too
    EXPECT_EQ(call({Alice()}).result(), whole.result());
    json pages = json::array();
    json after = nullptr;
    for (int page = 0; page < 10; ++page) {
        auto out = call({Alice(), nullptr, after});
        ASSERT_TRUE(out.ok()) << out.error().message;
        if (out.result().empty()) break;
        for (const auto& u : out.result()) pages.push_back(u);
        const auto& last = out.result().back();
        after = last["txid"].get<std::string>() + ":" + std::to_string(last["vout"].get<int>());
    }
    ASSERT_EQ(pages.size(), 5u);
    for (size_t i = 1; i < pages.size(); ++i) {
        EXPECT_LT(std::make_pair(pages[i - 1]["txid"].get<std::string>(),
                                 pages[i - 1]["vout"].get<int>()),
                  std::make_pair(pages[i]["txid"].get<std::string>(), pages[i]["vout"].get<int>()));
    }
    EXPECT_EQ(call({Alice(), 1, after}).result(), json::array());     // past the end
    EXPECT_EQ(call({Alice(), 3}).error().code, rpc::kInvalidParams);  // over --max-utxos
    EXPECT_EQ(call({Alice(), nullptr, "abc"}).error().code, rpc::kInvalidParams);
    EXPECT_EQ(call({Alice(), nullptr, std::string(64, '0') + ":x"}).error().code,
              rpc::kInvalidParams);
    EXPECT_EQ(call({Alice(), nullptr, 7}).error().code, rpc::kInvalidParams);
    EXPECT_EQ(call({Alice(), 1, nullptr, 1}).error().code, rpc::kInvalidParams);
}

TEST_F(RpcMethodsTest, SendRawTransactionMapsThePoolsAnswer) {
    json sent;
    m_stages.answer[rpc::Stage::kPool] = [&](std::string_view method, const json& params) {
        EXPECT_EQ(method, "submit");
        sent = params;
        if (params[0] == "00") {
            return util::Result<json>(json::array({{{"txid", std::string(64, 'c')},
                                                    {"accepted", false},
                                                    {"reason", "double-spend"},
                                                    {"detail", "tx.inputs[0]: spent"}}}));
        }
        return util::Result<json>(json::array({{{"txid", std::string(64, 'd')},
                                                {"accepted", true},
                                                {"reason", ""},
                                                {"detail", ""}}}));
    };
    EXPECT_EQ(Ok("sendrawtransaction", {"0a0B"}), std::string(64, 'd'));
    EXPECT_EQ(sent, json::array({"0a0b"}));  // sent as bin: hex of the bytes
    auto refused = Call("sendrawtransaction", {"00"});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, rpc::kTxRefused);
    EXPECT_EQ(refused.error().message, "double-spend: tx.inputs[0]: spent");
    EXPECT_EQ(refused.error().data["reason"], "double-spend");
    EXPECT_EQ(refused.error().data["detail"], "tx.inputs[0]: spent");
}

TEST_F(RpcMethodsTest, AStageThatDoesNotAnswerIsMinus28NamingIt) {
    auto out = Call("sendrawtransaction", {"00"});
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, rpc::kStageDown);
    EXPECT_EQ(out.error().data["stage"], "pool");
    EXPECT_EQ(Code("getmempoolinfo"), rpc::kStageDown);
    EXPECT_EQ(Code("getrawmempool"), rpc::kStageDown);
    // getinfo still answers, with nulls for what is down.
    json info = Ok("getinfo");
    EXPECT_EQ(info["chain"], "rpc-test");
    EXPECT_EQ(info["network"], "devnet");
    EXPECT_EQ(info["height"], 0);
    EXPECT_EQ(info["masternodes"], 1);
    EXPECT_EQ(info["min_fee_rate"], "0.00000001");
    EXPECT_TRUE(info["mempool"].is_null());
    EXPECT_TRUE(info["pbft"].is_null());
}

TEST_F(RpcMethodsTest, MempoolFromThePool) {
    m_stages.answer[rpc::Stage::kPool] = [](std::string_view method, const json&) {
        if (method == "list") {
            return util::Result<json>(json::array({json::array({std::string(64, 'e'), 10, 200})}));
        }
        return util::Result<json>(json{{"count", 1},
                                       {"bytes", 200},
                                       {"lowest", "10/200"},
                                       {"highest", "10/200"},
                                       {"height", 0},
                                       {"max_count", 5},
                                       {"max_bytes", 9},
                                       {"history", 3}});
    };
    EXPECT_EQ(Ok("getrawmempool"), json::array({std::string(64, 'e')}));
    json info = Ok("getmempoolinfo");
    EXPECT_EQ(info["count"], 1);
    EXPECT_EQ(info["max_count"], 5);
    EXPECT_FALSE(info.contains("history"));
    EXPECT_EQ(Ok("getinfo")["mempool"], (json{{"count", 1}, {"bytes", 200}}));
}

TEST_F(RpcMethodsTest, MasternodesPeersEvidenceHelp) {
    json mns = Ok("getmasternodes");
    ASSERT_EQ(mns.size(), 1u);
    EXPECT_EQ(mns[0]["endpoint"], "127.0.0.1:7000");
    EXPECT_EQ(mns[0]["payout"], (wire::Address{wire::Network::kDevnet, Addr(200)}.ToString()));
    EXPECT_TRUE(mns[0]["collateral"].is_null());
    m_stages.answer[rpc::Stage::kP2p] = [](std::string_view method, const json&) {
        EXPECT_EQ(method, "peers");
        return util::Result<json>(json::array({{{"key", "ab"}, {"connected", true}}}));
    };
    json peers = Ok("getpeers");
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0]["key"], "ab");
    EXPECT_EQ(peers[0]["connected"], true);
    EXPECT_EQ(Ok("getevidence"), json::array());
    m_stages.answer[rpc::Stage::kPbft] = [](std::string_view, const json&) {
        return util::Result<json>(json::array({json::array({"aa", "bb"})}));
    };
    EXPECT_EQ(Ok("getevidence"),
              json::array({{{"source", "pbft"}, {"first", "aa"}, {"second", "bb"}}}));
    json help = Ok("help");
    EXPECT_EQ(help.size(), rpc::Methods::List().size());
    for (const auto& [name, what] : rpc::Methods::List()) {
        EXPECT_TRUE(help.contains(name));
        EXPECT_TRUE(m_methods->Call(name, json::array()).has_value()) << name;
    }
}

TEST_F(RpcMethodsTest, HealthNeedsEveryStage) {
    auto pong = [](std::string_view, const json&) { return util::Result<json>(json("pong")); };
    m_stages.answer[rpc::Stage::kStore] = pong;
    m_stages.answer[rpc::Stage::kPool] = pong;
    auto health = m_methods->CheckHealth();
    EXPECT_FALSE(health.ok);
    EXPECT_EQ(health.body["status"], "unavailable");
    EXPECT_EQ(health.body["stages"], (json{{"store", true}, {"pool", true}, {"pbft", false}}));
    m_stages.answer[rpc::Stage::kPbft] = pong;
    health = m_methods->CheckHealth();
    EXPECT_TRUE(health.ok);
    EXPECT_EQ(health.body, (json{{"status", "ok"}, {"height", 0}}));
}

TEST(RpcClient, ParamsAreJsonWhenTheyParse) {
    EXPECT_EQ(rpc::ParseParam("5"), 5);
    EXPECT_EQ(rpc::ParseParam("-1"), -1);
    EXPECT_EQ(rpc::ParseParam("true"), true);
    EXPECT_EQ(rpc::ParseParam("[1,\"a\"]"), json::array({1, "a"}));
    EXPECT_EQ(rpc::ParseParam("\"5\""), "5");
    EXPECT_EQ(rpc::ParseParam("tct1qqq"), "tct1qqq");
    EXPECT_EQ(rpc::ParseParam("5abc"), "5abc");
    EXPECT_EQ(rpc::ParseParam(""), "");
}

TEST(RpcClient, ResultsPrintBareOrAsOneLineOfJson) {
    EXPECT_EQ(rpc::FormatResult("abc", false), "abc");
    EXPECT_EQ(rpc::FormatResult("abc", true), "\"abc\"");
    EXPECT_EQ(rpc::FormatResult(5, false), "5");
    EXPECT_EQ(rpc::FormatResult(json{{"a", 1}}, false), "{\"a\":1}");
    EXPECT_EQ(rpc::FormatResult(nullptr, false), "null");
}

TEST(RpcClient, UrlComesFromTheFlagTheRunFileOrTheDefault) {
    test::TempDir dir;
    rpc::Options opts;
    opts.common.datadir = dir.path();
    EXPECT_EQ(rpc::ResolveUrl(opts), "http://127.0.0.1:8732");
    std::filesystem::create_directories(dir.path() + "/run");
    std::ofstream(dir.path() + "/run/rpc.url") << "http://127.0.0.1:4242\n";
    EXPECT_EQ(rpc::ResolveUrl(opts), "http://127.0.0.1:4242");
    opts.rpc_url = "http://10.0.0.1:1";
    EXPECT_EQ(rpc::ResolveUrl(opts), "http://10.0.0.1:1");
    EXPECT_EQ(rpc::ResolveCookiePath(opts), dir.path() + "/rpc.cookie");
    opts.cookie_file = "/x/c";
    EXPECT_EQ(rpc::ResolveCookiePath(opts), "/x/c");
}

TEST(RpcServer, ListenIsHostAndPort) {
    auto hp = rpc::ParseListen("127.0.0.1:0");
    ASSERT_TRUE(hp.ok());
    EXPECT_EQ(hp->host, "127.0.0.1");
    EXPECT_EQ(hp->port, 0);
    hp = rpc::ParseListen("[::1]:8732");
    ASSERT_TRUE(hp.ok());
    EXPECT_EQ(hp->host, "::1");
    EXPECT_EQ(hp->port, 8732);
    for (const char* bad : {"127.0.0.1", ":80", "h:", "h:65536", "h:-1", "h:8x"}) {
        auto r = rpc::ParseListen(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, util::Errc::kUsage);
    }
}

TEST_F(RpcMethodsTest, ABatchSendsItsTransactionsToThePoolInOneSubmit) {
    int submits = 0;
    m_stages.answer[rpc::Stage::kPool] = [&](std::string_view method, const json& params) {
        EXPECT_EQ(method, "submit");
        ++submits;
        json out = json::array();
        for (const auto& hex : params) {
            const bool ok = hex != "00";
            out.push_back({{"txid", std::string(64, ok ? 'a' : 'b')},
                           {"accepted", ok},
                           {"reason", ok ? "" : "fee-too-low"},
                           {"detail", ""}});
        }
        EXPECT_EQ(params, json::array({"0a", "00", "0c"}));
        return util::Result<json>(out);
    };
    std::vector<std::pair<std::string, json>> calls = {
        {"sendrawtransaction", {"0a"}}, {"getblockcount", json::array()},
        {"sendrawtransaction", {"00"}}, {"sendrawtransaction", {"zz"}},
        {"sendrawtransaction", {"0c"}}, {"nosuchmethod", json::array()}};
    auto out = m_methods->CallBatch(calls);
    ASSERT_EQ(out.size(), calls.size());
    EXPECT_EQ(submits, 1);
    ASSERT_TRUE(out[0] && out[0]->ok());
    EXPECT_EQ(out[0]->result(), std::string(64, 'a'));
    ASSERT_TRUE(out[1] && out[1]->ok());
    EXPECT_EQ(out[1]->result(), 0);
    ASSERT_TRUE(out[2] && !out[2]->ok());
    EXPECT_EQ(out[2]->error().code, rpc::kTxRefused);
    EXPECT_EQ(out[2]->error().data["reason"], "fee-too-low");
    ASSERT_TRUE(out[3] && !out[3]->ok());
    EXPECT_EQ(out[3]->error().code, rpc::kInvalidParams);
    ASSERT_TRUE(out[4] && out[4]->ok());
    EXPECT_FALSE(out[5].has_value());

    // A pool that does not answer: every transaction of the batch gets -28.
    m_stages.answer.erase(rpc::Stage::kPool);
    auto down =
        m_methods->CallBatch({{"sendrawtransaction", {"0a"}}, {"sendrawtransaction", {"0c"}}});
    ASSERT_EQ(down.size(), 2u);
    for (const auto& o : down) {
        ASSERT_TRUE(o && !o->ok());
        EXPECT_EQ(o->error().code, -28);
    }
}

}  // namespace
}  // namespace tc
