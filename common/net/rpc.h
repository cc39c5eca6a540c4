// Request/reply over ZeroMQ: a daemon's ROUTER socket and the DEALER client
// that the tc-X subcommands (ping, status, submit, watch) use to talk to it.
// The envelope is net/envelope.h; the sockets live under DATADIR/run/
// (util::RunEndpoint).
//
//   frames   [identity, "", body]   on the ROUTER
//            ["", body]             on the DEALER
//
// One zmq::context_t per process (STYLE §6): give Client the daemon's or
// the command's context, or let it own one for a one-shot command.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "net/envelope.h"
#include "util/bytes.h"
#include "util/result.h"

namespace tc::net {

// A message holding a copy of buf.
zmq::message_t ToMessage(const msgpack::sbuffer& buf);

// Answers one request waiting on `router`: receives [identity, "", body],
// and sends [identity, "", handle(body)]. A message of another shape is
// dropped with a warning in the log and no reply (it has no one to answer),
// and false returned. `handle` must return a reply, never throw (a
// Dispatcher's Handle does); whatever it does before returning (publishing
// events, say) happens before the reply is sent. Call when the router polls
// readable; the receive blocks otherwise.
bool ServeRequest(zmq::socket_t& router,
                  const std::function<msgpack::sbuffer(util::ByteView body)>& handle);

// A DEALER connected to one daemon's request socket, one request in flight
// at a time. Not thread-safe (a ZeroMQ socket belongs to one thread).
class Client {
  public:
    // How an error reply's string becomes an Errc (see ErrcOfReply).
    using ErrcOf = util::Errc (*)(std::string_view error);

    // Connects to `endpoint` on a context of its own. The connection is made
    // in the background: a daemon that is not there yet is not an error
    // here, only a Call that times out.
    Client(std::string endpoint, std::chrono::milliseconds timeout, ErrcOf errc_of = &ErrcOfReply);
    // The same on `context`, which must outlive this.
    Client(zmq::context_t& context, std::string endpoint, std::chrono::milliseconds timeout,
           ErrcOf errc_of = &ErrcOfReply);
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends [1, id, method, params] (`params` packs the params array) and
    // waits until `timeout` from now for its reply. Returns the reply's
    // result, which stays valid until the next Call. Errors:
    //   kIo       "no answer from ENDPOINT" by the deadline
    //   kInvalid  "ENDPOINT: unreadable reply: ..." / "ENDPOINT: malformed
    //             reply" (not msgpack, not the envelope)
    //   the daemon's error string, its Errc from errc_of ("refused" when the
    //             error is not a string)
    // Replies to earlier calls (that timed out) are skipped; so are frames
    // that are not ["", body].
    util::Result<msgpack::object> Call(std::string_view method,
                                       const std::function<void(Packer&)>& params);
    // Call(method) with params [].
    util::Result<msgpack::object> Call(std::string_view method);

    // Call("ping"): ok when the daemon answers "pong"; kInvalid "ENDPOINT:
    // ping: unexpected answer" for any other result. What `tc-X ping` runs.
    util::Status Ping();

    const std::string& endpoint() const { return m_endpoint; }

  private:
    std::unique_ptr<zmq::context_t> m_own_context;  // before m_socket: closed after it
    std::string m_endpoint;
    zmq::socket_t m_socket;
    std::chrono::milliseconds m_timeout;
    ErrcOf m_errc_of;
    uint64_t m_id = 0;
    msgpack::object_handle m_reply;
};

// What `tc-X ping` does: client.Ping(), then "pong" on out.
util::Status PrintPing(Client& client, std::ostream& out);

// What `tc-X status` prints of a daemon's status map: with `json` one JSON
// object on one line, else one "KEY VALUE" line per entry, the keys aligned,
// nil as "-", strings bare, the rest as JSON. `keys` picks and orders the
// entries (empty: all, in the reply's order). kInvalid "status: reply is
// not a map".
util::Status PrintStatusMap(const msgpack::object& reply, bool json,
                            const std::vector<std::string>& keys, std::ostream& out);

}  // namespace tc::net
