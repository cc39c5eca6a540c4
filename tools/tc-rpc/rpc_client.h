// The client side of tc-rpc (man/tc-rpc.1, CLIENT): one method call
// (tc-rpc METHOD [PARAMS...]) and ping, over HTTP to tc-rpc run. The pieces
// that need no daemon (where the URL comes from, how a PARAM becomes JSON,
// how a result is printed) are separate functions for the tests.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rpc_cli.h"
#include "util/result.h"

namespace tc::rpc {

// --rpc-url; else the first line of DATADIR/run/rpc.url; else
// http://127.0.0.1:8732.
std::string ResolveUrl(const Options& opts);
// --cookie, else DATADIR/rpc.cookie.
std::string ResolveCookiePath(const Options& opts);

// A PARAM as JSON when the whole of it parses as JSON (5, true, null,
// [1,2], "quoted"), else as the string itself.
nlohmann::json ParseParam(const std::string& text);

// A result as the client prints it (without the newline): a string bare,
// anything else as one line of JSON; with `json`, always JSON.
std::string FormatResult(const nlohmann::json& result, bool json);

// tc-rpc METHOD [PARAMS...]: call[0] is the method. The result on out.
// Errors: a JSON-RPC error is kInvalid "MESSAGE (code N)"; no connection is
// kIo "cannot connect to URL: ..."; 401 is kPermission naming the cookie
// file; a missing cookie file kNotFound.
util::Status CallMethod(const Options& opts, const std::vector<std::string>& call,
                        std::ostream& out);

// tc-rpc ping: GET /health; its body on out and success whatever the HTTP
// status; kIo when nothing answers.
util::Status Ping(const Options& opts, std::ostream& out);

}  // namespace tc::rpc
