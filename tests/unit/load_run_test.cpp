// A whole tc-load run (tools/tc-load/load_run.h) against an in-process
// fake of tc-rpc that follows the agreed HTTP API closely enough: Basic auth
// with a cookie, getinfo, listunspent, sendrawtransaction (with the ledger's
// checks that matter here: inputs unspent, owner, signatures, the exact fee
// floor), gettransaction, and GET /events with "tx" "committed" events sent
// when its block thread commits the pending transactions.
#include "load_run.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "consensus/tx_check.h"
#include "crypto/keyfile.h"
#include "temp_dir.h"
#include "util/amount.h"
#include "util/bytes.h"
#include "util/cli.h"
#include "wire/address.h"
#include "wire/codec.h"
#include "wire/tx_text.h"

namespace tc::load {
namespace {

class FakeNode {
  public:
    struct Config {
        uint64_t min_fee_rate = 2;  // units per byte
        uint64_t max_tx_bytes = 100'000;
        bool commit = true;         // false: accept but never commit
        uint64_t refuse_every = 0;  // refuse every Nth one-output tx as pool-full
        std::string password = "s3cret";
        size_t max_body_bytes = 1 << 20;  // tc-rpc's default --max-body-bytes
        size_t drop_stream_after = 0;     // close the first /events stream after N writes
        uint64_t mute_every = 0;          // announce no commit event for every Nth committed tx
        size_t max_utxos = 1000;          // tc-rpc's --max-utxos: entries of one listunspent
        bool ignore_after = false;        // listunspent always gives the first page
    };

    explicit FakeNode(Config config) : m_config(std::move(config)) {
        m_chain_id.fill(0x42);
        m_server.set_payload_max_length(m_config.max_body_bytes);
        m_server.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
            if (!Authorized(req)) {
                res.status = 401;
                return;
            }
            auto body = nlohmann::json::parse(req.body, nullptr, false);
            nlohmann::json reply;
            if (body.is_array()) {
                reply = nlohmann::json::array();
                for (const auto& r : body) reply.push_back(Handle(r));
                ++m_batches;
            } else {
                reply = Handle(body);
            }
            res.set_content(reply.dump(), "application/json");
        });
        m_server.Get("/events", [this](const httplib::Request& req, httplib::Response& res) {
            if (!Authorized(req)) {
                res.status = 401;
                return;
            }
            auto next = std::make_shared<size_t>(0);
            auto welcomed = std::make_shared<bool>(false);
            auto writes_left = std::make_shared<size_t>(0);
            {
                std::lock_guard lock(m_mu);
                *next = m_events.size();
                if (m_streams++ == 0) *writes_left = m_config.drop_stream_after;
            }
            res.set_chunked_content_provider(
                "text/event-stream",
                [this, next, welcomed, writes_left](size_t, httplib::DataSink& sink) {
                    if (!*welcomed) {
                        *welcomed = true;
                        const std::string hello = ": welcome\n\n";
                        return sink.write(hello.data(), hello.size());
                    }
                    std::unique_lock lock(m_mu);
                    m_cv.wait_for(lock, std::chrono::milliseconds(50),
                                  [&] { return m_stopping || *next < m_events.size(); });
                    if (m_stopping) return false;
                    if (*writes_left != 0 && *next < m_events.size() && --*writes_left == 0) {
                        return false;  // a dropped subscriber
                    }
                    std::string out;
                    while (*next < m_events.size()) out += m_events[(*next)++];
                    lock.unlock();
                    return out.empty() || sink.write(out.data(), out.size());
                });
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_listener = std::thread([this] { m_server.listen_after_bind(); });
        m_blocks = std::thread([this] { Blocks(); });
    }

    ~FakeNode() {
        {
            std::lock_guard lock(m_mu);
            m_stopping = true;
        }
        m_cv.notify_all();
        m_server.stop();
        m_listener.join();
        m_blocks.join();
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    const std::string& password() const { return m_config.password; }

    void Fund(const wire::PubKeyHash& owner, uint64_t amount, bool locked = false) {
        std::lock_guard lock(m_mu);
        wire::Hash txid{};
        txid[0] = static_cast<uint8_t>(m_utxos.size() + 1);
        m_utxos[wire::OutPoint{txid, 0}] = Utxo{amount, owner, locked};
    }

    // (fee, encoded size) of every one-output transfer accepted.
    std::vector<std::pair<uint64_t, uint64_t>> transfer_fees() const {
        std::lock_guard lock(m_mu);
        return m_transfer_fees;
    }
    uint64_t batches() const { return m_batches.load(); }
    uint64_t listunspent_calls() const { return m_listunspent_calls.load(); }

  private:
    struct Utxo {
        uint64_t amount = 0;
        wire::PubKeyHash owner{};
        bool locked = false;
    };

    bool Authorized(const httplib::Request& req) const {
        const auto expected =
            httplib::make_basic_authentication_header("__cookie__", m_config.password);
        return req.get_header_value("Authorization") == expected.second;
    }

    static nlohmann::json Error(const nlohmann::json& id, int code, const std::string& message,
                                nlohmann::json data = nullptr) {
        nlohmann::json e = {{"code", code}, {"message", message}};
        if (!data.is_null()) e["data"] = std::move(data);
        return {{"jsonrpc", "2.0"}, {"id", id}, {"error", e}};
    }
    static nlohmann::json Refuse(const nlohmann::json& id, const std::string& reason) {
        return Error(id, -26, reason + ": fake", {{"reason", reason}, {"detail", "fake"}});
    }

    nlohmann::json Handle(const nlohmann::json& req) {
        if (!req.is_object() || !req.contains("method") || !req.contains("id")) {
            return Error(nullptr, -32600, "invalid request");
        }
        const auto& id = req["id"];
        const std::string method = req["method"];
        const nlohmann::json params = req.value("params", nlohmann::json::array());
        auto ok = [&](nlohmann::json result) {
            return nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
        };
        std::lock_guard lock(m_mu);
        if (method == "getinfo") {
            return ok({{"chain", "fake"},
                       {"chain_id", util::ToHex(m_chain_id)},
                       {"network", "devnet"},
                       {"height", m_height},
                       {"min_fee_rate", util::Amount::FromUnits(m_config.min_fee_rate).ToString()},
                       {"max_tx_bytes", m_config.max_tx_bytes}});
        }
        if (method == "listunspent") {
            auto addr = wire::Address::Parse(params.at(0).get<std::string>());
            if (!addr) return Error(id, -32602, "bad address");
            size_t limit = m_config.max_utxos;
            if (params.size() >= 2 && !params[1].is_null()) limit = params[1].get<size_t>();
            if (limit == 0 || limit > m_config.max_utxos) return Error(id, -32602, "bad limit");
            auto it = m_utxos.begin();
            if (params.size() == 3 && !params[2].is_null() && !m_config.ignore_after) {
                auto after = wire::ParseOutPointText(params[2].get<std::string>());
                if (!after) return Error(id, -32602, "bad start");
                it = m_utxos.upper_bound(*after);
            }
            ++m_listunspent_calls;
            nlohmann::json list = nlohmann::json::array();
            for (; it != m_utxos.end() && list.size() < limit; ++it) {
                const auto& [op, u] = *it;
                if (u.owner != addr->hash) continue;
                list.push_back({{"txid", util::ToHex(op.txid)},
                                {"vout", op.vout},
                                {"amount", util::Amount::FromUnits(u.amount).ToString()},
                                {"height", 0},
                                {"locked", u.locked}});
            }
            return ok(list);
        }
        if (method == "gettransaction") {
            const std::string txid = params.at(0);
            if (!m_committed.count(txid)) return Error(id, -5, "not found");
            return ok({{"txid", txid}, {"height", m_committed[txid]}});
        }
        if (method == "sendrawtransaction") return Send(id, params.at(0), ok);
        return Error(id, -32601, "method not found");
    }

    template <typename Ok>
    nlohmann::json Send(const nlohmann::json& id, const std::string& hex, Ok ok) {
        auto bytes = util::FromHex(hex);
        if (!bytes) return Refuse(id, "malformed");
        auto tx = wire::DecodeTransaction(*bytes);
        if (!tx) return Refuse(id, "malformed");
        if (!tx->FullySigned() || !consensus::VerifyWitnesses(*tx, m_chain_id).ok()) {
            return Refuse(id, "bad-signature");
        }
        if (bytes->size() > m_config.max_tx_bytes) return Refuse(id, "tx-too-large");
        uint64_t in = 0, out = 0;
        for (size_t i = 0; i < tx->inputs.size(); ++i) {
            auto it = m_utxos.find(tx->inputs[i]);
            if (it == m_utxos.end() || m_reserved.count(tx->inputs[i])) {
                return Refuse(id, "missing-input");
            }
            if (it->second.locked) return Refuse(id, "collateral-locked");
            if (wire::KeyHash(tx->witnesses[i]->public_key) != it->second.owner) {
                return Refuse(id, "wrong-owner");
            }
            in += it->second.amount;
        }
        for (const auto& o : tx->outputs) out += o.amount;
        if (out > in || in - out < m_config.min_fee_rate * bytes->size()) {
            return Refuse(id, "fee-too-low");
        }
        if (tx->outputs.size() == 1) {
            ++m_transfers_seen;
            if (m_config.refuse_every != 0 && m_transfers_seen % m_config.refuse_every == 0) {
                return Refuse(id, "pool-full");
            }
            m_transfer_fees.emplace_back(in - out, bytes->size());
        }
        for (const auto& op : tx->inputs) m_reserved.insert(op);
        m_pending.push_back(*std::move(tx));
        return ok(util::ToHex(wire::TxId(m_pending.back())));
    }

    void Blocks() {
        std::unique_lock lock(m_mu);
        while (!m_cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return m_stopping; })) {
            if (!m_config.commit || m_pending.empty()) continue;
            ++m_height;
            for (const auto& tx : m_pending) {
                const wire::Hash txid = wire::TxId(tx);
                for (const auto& op : tx.inputs) {
                    m_utxos.erase(op);
                    m_reserved.erase(op);
                }
                for (uint32_t v = 0; v < tx.outputs.size(); ++v) {
                    m_utxos[wire::OutPoint{txid, v}] =
                        Utxo{tx.outputs[v].amount, tx.outputs[v].address, false};
                }
                const std::string hex = util::ToHex(txid);
                m_committed[hex] = m_height;
                // A busy node drops events for a slow subscriber, without a
                // reconnect: the commit is in the chain, not in the stream.
                if (m_config.mute_every > 0 && ++m_muted_count % m_config.mute_every == 0 &&
                    tx.outputs.size() == 1) {
                    continue;
                }
                nlohmann::json data = {{"seq", m_events.size()},
                                       {"event", "committed"},
                                       {"txid", hex},
                                       {"reason", "committed"}};
                m_events.push_back("event: tx\ndata: " + data.dump() + "\n\n");
            }
            m_events.push_back("event: block\ndata: {\"height\":" + std::to_string(m_height) +
                               "}\n\n");
            m_pending.clear();
            m_cv.notify_all();
        }
    }

    Config m_config;
    crypto::Hash256 m_chain_id{};
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_listener;
    std::thread m_blocks;
    mutable std::mutex m_mu;
    std::condition_variable m_cv;
    bool m_stopping = false;
    uint64_t m_height = 0;
    std::map<wire::OutPoint, Utxo> m_utxos;
    std::set<wire::OutPoint> m_reserved;
    std::vector<wire::Transaction> m_pending;
    std::map<std::string, uint64_t> m_committed;
    uint64_t m_muted_count = 0;
    std::vector<std::string> m_events;
    std::vector<std::pair<uint64_t, uint64_t>> m_transfer_fees;
    uint64_t m_transfers_seen = 0;
    uint64_t m_streams = 0;
    std::atomic<uint64_t> m_batches{0};
    std::atomic<uint64_t> m_listunspent_calls{0};
};

class LoadRun : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(crypto::InitSodium().ok());
        m_key_file = m_dir.path() + "/faucet.key";
        auto key = crypto::SecretKey::Generate();
        m_faucet = wire::KeyHash(key.public_key());
        ASSERT_TRUE(crypto::WriteKeyFile(m_key_file, key, true, nullptr).ok());
    }

    Options BaseOptions(const FakeNode& node) {
        std::ofstream(m_dir.path() + "/rpc.cookie") << "__cookie__:" << node.password() << "\n";
        Options o;
        o.common.datadir = m_dir.path();
        o.rpc_url = node.url();
        o.faucet_key = m_key_file;
        o.timeout = 10;
        return o;
    }

    util::Status RunIt(const Options& o) {
        m_out.str("");
        m_err.str("");
        return load::Run(o, m_out, m_err);
    }
    nlohmann::json Report() { return nlohmann::json::parse(m_out.str()); }

    test::TempDir m_dir{"tc-load"};
    std::string m_key_file;
    wire::PubKeyHash m_faucet{};
    std::ostringstream m_out, m_err;
};

TEST_F(LoadRun, SplitsSignsSubmitsAndReportsCommits) {
    FakeNode node({});
    node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);
    node.Fund(m_faucet, 1000 * util::Amount::kUnitsPerCoin, /*locked=*/true);  // never touched
    Options o = BaseOptions(node);
    o.count = 50;
    o.split_fanout = 8;  // 8 outputs a split: two rounds for 50 leaves
    o.batch = 7;
    auto st = RunIt(o);
    ASSERT_TRUE(st.ok()) << st.error().message << "\n" << m_err.str();
    auto r = Report();
    EXPECT_EQ(r["submitted"], 50);
    EXPECT_EQ(r["accepted"], 50);
    EXPECT_EQ(r["committed"], 50);
    EXPECT_EQ(r["pending"], 0);
    EXPECT_TRUE(r["refused"].empty());
    EXPECT_EQ(r["split_rounds"], 2);
    EXPECT_EQ(r["fee_rate"], 2);  // the chain's min_fee_rate
    EXPECT_TRUE(r["rate"].is_null());
    ASSERT_TRUE(r["latency_ms"].is_object());
    const auto& l = r["latency_ms"];
    EXPECT_GE(l["p50"].get<double>(), 0);
    EXPECT_LE(l["p50"].get<double>(), l["p90"].get<double>());
    EXPECT_LE(l["p90"].get<double>(), l["p99"].get<double>());
    EXPECT_LE(l["p99"].get<double>(), l["max"].get<double>());
    EXPECT_GT(r["tx_per_s"].get<double>(), 0);
    // 50 transfers in batches of at most 7, plus the splits' batches.
    EXPECT_GE(node.batches(), 8u);
    // Every transfer paid exactly the rate times its encoded size.
    const auto fees = node.transfer_fees();
    ASSERT_EQ(fees.size(), 50u);
    for (const auto& [fee, size] : fees) EXPECT_EQ(fee, 2 * size);
    EXPECT_NE(m_err.str().find("tc-load: split round 2"), std::string::npos) << m_err.str();
}

TEST_F(LoadRun, RefusalsAreCountedByReason) {
    FakeNode::Config c;
    c.refuse_every = 5;
    FakeNode node(c);
    node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);
    Options o = BaseOptions(node);
    o.count = 20;
    o.fee_rate = 3;
    auto st = RunIt(o);
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto r = Report();
    EXPECT_EQ(r["submitted"], 20);
    EXPECT_EQ(r["accepted"], 16);
    EXPECT_EQ(r["refused"]["pool-full"], 4);
    EXPECT_EQ(r["committed"], 16);
    EXPECT_EQ(r["fee_rate"], 3);
    for (const auto& [fee, size] : node.transfer_fees()) EXPECT_EQ(fee, 3 * size);
}

TEST_F(LoadRun, RateAndDurationPaceTheSubmissions) {
    FakeNode node({});
    node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);
    Options o = BaseOptions(node);
    o.rate = 40;
    o.duration = 1;  // 40 transfers, 4 a batch, one batch every 100 ms
    auto st = RunIt(o);
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto r = Report();
    EXPECT_EQ(r["submitted"], 40);
    EXPECT_EQ(r["committed"], 40);
    EXPECT_EQ(r["rate"], 40);
    // The last batch leaves 0.9 s after the first: a lower bound, never flaky.
    EXPECT_GE(r["duration_s"].get<double>(), 0.9);
    EXPECT_GE(node.batches(), 10u);
}

// listunspent answers a page at a time (tc-rpc --max-utxos); the faucet's
// big output behind many dust outputs is still found, read page by page.
TEST_F(LoadRun, TheFaucetIsReadPageByPageAndItsLargestOutputsKept) {
    FakeNode::Config c;
    c.max_utxos = 4;
    FakeNode node(c);
    for (int i = 0; i < 20; ++i) node.Fund(m_faucet, 10);   // dust: less than one fee
    node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);  // last in outpoint order
    Options o = BaseOptions(node);
    o.count = 20;
    o.max_sources = 2;
    auto st = RunIt(o);
    ASSERT_TRUE(st.ok()) << st.error().message << "\n" << m_err.str();
    EXPECT_EQ(Report()["committed"], 20);
    EXPECT_GE(node.listunspent_calls(), 6u);  // 21 outputs, 4 a page, then an empty page
    EXPECT_NE(m_err.str().find("read 21 faucet outputs in 6 pages, using the 2 largest"),
              std::string::npos)
        << m_err.str();
}

// A node that ignores the start of the page would hand out its first page
// forever: an error, not a hang.
TEST_F(LoadRun, AListThatDoesNotAdvanceIsAnError) {
    FakeNode::Config c;
    c.max_utxos = 2;
    c.ignore_after = true;
    FakeNode node(c);
    for (int i = 0; i < 3; ++i) node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);
    Options o = BaseOptions(node);
    o.count = 5;
    auto st = RunIt(o);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("ends where it started"), std::string::npos)
        << st.error().message;
}

TEST_F(LoadRun, LargeSplitsStayUnderTheBodyLimit) {
    FakeNode::Config c;
    c.max_body_bytes = 100 * 1024;  // four 1000-output splits in hex do not fit
    FakeNode node(c);
    node.Fund(m_faucet, 100 * util::Amount::kUnitsPerCoin);
    Options o = BaseOptions(node);
    o.count = 4'000;
    o.batch = 1000;
    o.max_batch_bytes = 64 * 1024;
    auto st = RunIt(o);
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto r = Report();
    EXPECT_EQ(r["committed"], 4'000);
    EXPECT_EQ(r["split_txs"], 5);  // one into four, then four into 1000 each
}

TEST_F(LoadRun, ADroppedStreamIsReopenedAndMissedCommitsPolled) {
    FakeNode::Config c;
    c.drop_stream_after = 3;  // during the splits or the transfers
    FakeNode node(c);
    node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);
    Options o = BaseOptions(node);
    o.count = 30;
    o.split_fanout = 6;
    o.batch = 5;
    auto st = RunIt(o);
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto r = Report();
    EXPECT_EQ(r["accepted"], 30);
    EXPECT_EQ(r["committed"], 30);
    EXPECT_GE(r["stream_reconnects"], 1);
}

TEST_F(LoadRun, CommitsTheStreamNeverAnnouncedAreFoundByPolling) {
    FakeNode::Config c;
    c.mute_every = 4;
    FakeNode node(c);
    node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);
    Options o = BaseOptions(node);
    o.count = 20;
    o.batch = 5;
    auto st = RunIt(o);
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto r = Report();
    EXPECT_EQ(r["accepted"], 20);
    EXPECT_EQ(r["committed"], 20);
    EXPECT_EQ(r["stream_reconnects"], 0);
    EXPECT_GE(r["committed_by_poll"], 1);
}

TEST_F(LoadRun, SplitsNotCommittedInTimeAreAnOperationalError) {
    FakeNode::Config c;
    c.commit = false;
    FakeNode node(c);
    node.Fund(m_faucet, 10 * util::Amount::kUnitsPerCoin);
    Options o = BaseOptions(node);
    o.count = 5;
    o.timeout = 1;
    auto st = RunIt(o);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, util::Errc::kIo);
    EXPECT_NE(st.error().message.find("not committed within 1 s"), std::string::npos)
        << st.error().message;
    EXPECT_TRUE(m_out.str().empty());
}

TEST_F(LoadRun, EmptyFaucetWrongCookieAndNoNodeFail) {
    FakeNode node({});
    Options o = BaseOptions(node);
    o.count = 5;
    auto empty = RunIt(o);
    ASSERT_FALSE(empty.ok());
    EXPECT_NE(empty.error().message.find("no spendable outputs"), std::string::npos);
    EXPECT_NE(util::ExitCode(empty.error()), 2);

    std::ofstream(m_dir.path() + "/wrong.cookie") << "__cookie__:nope\n";
    o.cookie = m_dir.path() + "/wrong.cookie";
    auto denied = RunIt(o);
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error().code, util::Errc::kPermission);

    o.cookie.clear();
    o.rpc_url = "http://127.0.0.1:1";
    auto gone = RunIt(o);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code, util::Errc::kIo);
    EXPECT_NE(gone.error().message.find("cannot reach"), std::string::npos);
}

TEST_F(LoadRun, UsageErrors) {
    Options o;
    o.common.datadir = m_dir.path();
    o.faucet_key = m_key_file;
    EXPECT_EQ(RunIt(o).error().code, util::Errc::kUsage);  // neither --count nor --duration
    o.duration = 5;
    EXPECT_EQ(RunIt(o).error().code, util::Errc::kUsage);  // --duration without --rate
}

}  // namespace
}  // namespace tc::load
