// tc-rpc run: the HTTP side of the JSON-RPC daemon (man/tc-rpc.1, DAEMON).
//
//   POST /        JSON-RPC 2.0 (rpc_jsonrpc.h, the methods rpc_methods.h),
//                 cookie auth (rpc_auth.h); body over --max-body-bytes: 413
//   GET /health   no auth; 200 when store, pool and pbft answer ping, else 503
//   GET /events   cookie auth; server-sent events (rpc_events.h)
//
// Threads: cpp-httplib's listener and its pool of --max-concurrent +
// --max-event-subscribers workers (an /events stream holds a worker for as
// long as it lasts; a semaphore keeps JSON-RPC requests to --max-concurrent
// at once); the EventReader; the metrics server when asked for; and the
// main thread, which waits for SIGTERM/SIGINT on a signalfd. A ZeroMQ
// socket belongs to one thread at a time: the DEALER clients of the stages
// are kept in a pool under a mutex, and a worker takes a set for one call.
//
// At start, once the port is bound, it writes DATADIR/rpc.cookie (fresh,
// 0600) and then DATADIR/run/rpc.url; on a signal it stops the server, ends
// the event streams, removes both files and returns success.
#pragma once

#include <string>

#include "rpc_cli.h"
#include "util/result.h"

namespace tc::rpc {

struct HostPort {
    std::string host;  // without the brackets of an IPv6 literal
    int port = 0;
};
// "127.0.0.1:8732", "[::1]:0", "localhost:80". kUsage naming --listen.
util::Result<HostPort> ParseListen(const std::string& listen);

util::Status RunDaemon(const Options& opts);

}  // namespace tc::rpc
