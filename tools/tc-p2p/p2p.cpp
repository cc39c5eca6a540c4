#include "p2p.h"

#include <ostream>

#include "p2p_node.h"

namespace tc::p2p {

using util::Errc;
using util::MakeError;

void SetupCli(CLI::App& app, Options& opts) {
    app.description(
        "The TimeCoin network stage: CURVE-encrypted, key-authenticated ZeroMQ links between "
        "masternodes; PBFT messages, transaction gossip and block sync.");
    app.require_subcommand(1);
    const auto bound = &util::AddBound;
    constexpr uint64_t kHourMs = 3'600'000;
    auto* run = app.add_subcommand("run", "run the network daemon (sockets under DATADIR/run/)");
    run->add_option("--key", opts.key_file,
                    "the node's key file (default: DATADIR/masternode.key)");
    run->add_option("--passphrase-file", opts.passphrase_file,
                    "the passphrase of an encrypted key file");
    run->add_option("--listen", opts.listen,
                    "HOST:PORT the CURVE server binds (default: this key's endpoint in the "
                    "registry; an observer without it listens nowhere)");
    run->add_option("--peer", opts.peers, "PUBKEY_HEX,HOST:PORT: also link to this node (repeat)");
    run->add_option("--observer", opts.observers,
                    "PUBKEY_HEX: also admit this key besides the registry (repeat)");
    bound(run, "--max-inbound", opts.max_inbound, "inbound connections at once", 1, 100'000);
    bound(run, "--max-outbound", opts.max_outbound, "peers we open links to", 0, 100'000);
    bound(run, "--max-message-bytes", opts.max_message_bytes,
          "largest message a peer may send (ZMQ_MAXMSGSIZE; a larger one drops its link)", 1024,
          1ull << 32);
    bound(run, "--peer-msgs-per-s", opts.peer_msgs_per_s,
          "messages a second one peer may send (twice that in a burst)", 1, 1ull << 32);
    bound(run, "--peer-bytes-per-s", opts.peer_bytes_per_s,
          "bytes a second one peer may send (twice that in a burst)", 1024, 1ull << 40);
    bound(run, "--ban-score", opts.ban_score,
          "misbehaviour points that ban a peer (a flooded message is 1, a timed-out sync 5, "
          "an empty answer for blocks it announced 10; "
          "points decay one a second)",
          1, 1'000'000);
    bound(run, "--ban-seconds", opts.ban_seconds, "how long a ban lasts", 1, 365ull * 86400);
    bound(run, "--max-seen-txs", opts.max_seen_txs, "txids remembered to de-duplicate gossip", 0,
          100'000'000);
    bound(run, "--max-peer-queue", opts.max_peer_queue, "messages queued toward one peer", 1,
          10'000'000);
    bound(run, "--sync-batch", opts.sync_batch, "blocks asked of one peer at once", 1, 1024);
    bound(run, "--sync-parallel", opts.sync_parallel, "ranges asked of different peers at once", 1,
          64);
    bound(run, "--sync-timeout-ms", opts.sync_timeout_ms,
          "how long a peer has to answer a request for blocks", 1, kHourMs);
    bound(run, "--sync-after-ms", opts.sync_after_ms,
          "how long a lag of one block lasts before we fetch it (two blocks: at once)", 0, kHourMs);
    bound(run, "--tip-interval-ms", opts.tip_interval_ms,
          "how often we tell each peer our tip (a peer silent for 3 times this is unreachable)", 10,
          kHourMs);
    bound(run, "--gossip-batch", opts.gossip_batch, "transactions in one gossip message", 1, 4096);
    bound(run, "--compress-above", opts.compress_above,
          "payloads of this many bytes and more are zstd-compressed", 0, 1ull << 32);
    bound(run, "--stage-timeout-ms", opts.stage_timeout_ms,
          "how long to wait for tc-pool's or tc-store's answer", 1, kHourMs);
    bound(run, "--max-event-queue", opts.event_queue,
          "events queued per local subscriber (beyond: dropped)", 1, 10'000'000);
    run->add_option("--metrics-listen", opts.metrics_listen,
                    "serve Prometheus metrics at http://HOST:PORT/metrics (PORT 0: any free one)");
    for (auto [name, help] :
         {std::pair{"ping", "ask the daemon for \"pong\"; exit 1 without answer"},
          std::pair{"status", "print our tip, the best peer's, links and bans"},
          std::pair{"peers", "print every peer: key, endpoint, link, height, score, ban"}}) {
        bound(app.add_subcommand(name, help), "--timeout-ms", opts.timeout_ms,
              "how long to wait for the daemon's answer", 1, kHourMs);
    }
    auto* ban = app.add_subcommand("ban", "ban a peer (its key, or a unique prefix of it)");
    ban->add_option("PEER", opts.ban_peer, "the peer's public key in hex, or a unique prefix")
        ->required();
    bound(ban, "--seconds", opts.ban_for_s, "how long (0 lifts a ban)", 0, 365ull * 86400);
    bound(ban, "--timeout-ms", opts.timeout_ms, "how long to wait for the daemon's answer", 1,
          kHourMs);
    app.add_subcommand("watch", "print the daemon's events, one JSON line each");
}

util::Status Run(const CLI::App& app, const Options& opts, std::ostream& out, std::ostream& err) {
    auto got = [&](const char* name) { return app.got_subcommand(name); };
    if (got("run")) return RunDaemon(opts);
    if (got("ping")) return PingDaemon(opts, out);
    if (got("status")) return PrintStatus(opts, out);
    if (got("peers")) return PrintPeers(opts, out);
    if (got("ban")) return BanPeer(opts, out);
    if (got("watch")) return WatchEvents(opts, out, err);
    return MakeError(Errc::kUsage, "no command given (see --help)");
}

}  // namespace tc::p2p
