// tc-p2p: the only program that talks to other hosts (DESIGN §1, §5). This
// file holds its command line: the daemon (p2p_node.h) and its clients
// (ping, status, peers, ban, watch). The output grammar is in man/tc-p2p.1.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "util/config.h"
#include "util/result.h"

namespace tc::p2p {

struct Options {
    util::CommonOptions common;

    // run
    std::string key_file;            // empty: DATADIR/masternode.key
    std::string passphrase_file;     // for an encrypted key file
    std::string listen;              // HOST:PORT; empty: our registry endpoint (none: no server)
    std::vector<std::string> peers;  // PUBKEY_HEX,HOST:PORT
    std::vector<std::string> observers;  // PUBKEY_HEX
    uint64_t max_inbound = 64;
    uint64_t max_outbound = 64;
    uint64_t max_message_bytes = 16ull << 20;
    uint64_t peer_msgs_per_s = 50'000;
    uint64_t peer_bytes_per_s = 256ull << 20;
    uint64_t ban_score = 100;
    uint64_t ban_seconds = 600;
    uint64_t max_seen_txs = 200'000;
    uint64_t max_peer_queue = 10'000;  // messages queued toward one peer
    uint64_t sync_batch = 128;         // blocks asked of one peer at once
    uint64_t sync_parallel = 3;        // ranges asked at once, of different peers
    uint64_t sync_timeout_ms = 5000;
    uint64_t sync_after_ms = 1000;  // a lag of one block this long starts a sync
    uint64_t tip_interval_ms = 1000;
    uint64_t gossip_batch = 1000;  // transactions per gossip message
    uint64_t compress_above = 4096;
    uint64_t stage_timeout_ms = 5000;
    uint64_t event_queue = 100'000;
    std::string metrics_listen;

    // clients
    uint64_t timeout_ms = 2000;
    std::string ban_peer;
    uint64_t ban_for_s = 600;
};

void SetupCli(CLI::App& app, Options& opts);

util::Status Run(const CLI::App& app, const Options& opts, std::ostream& out, std::ostream& err);

}  // namespace tc::p2p
