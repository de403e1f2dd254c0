// SPDX-License-Identifier: LGPL-2.1-or-later
// The HTTP server's own accept loop in front of libsoup.
//
// libsoup 3.2 (Debian bookworm) never closes a connection whose client closes it between two
// requests, nor one that connects and sends nothing: each stays in CLOSE-WAIT with its
// descriptor until the process runs out of them (upstream fixed it in 3.3). So tws owns every
// connection. It accepts it, holds it while no request is on it, and lends it to libsoup for
// one request at a time (soup_server_accept_iostream). When the response of a keep-alive
// request is written, the listener takes the connection back (soup_server_message_steal_
// connection); every other end of a request is libsoup's close, after which the listener
// closes the socket. Owning the connections also gives the server its limits: an idle
// keep-alive timeout, a deadline for a request's headers and body, and caps on connections in
// all and per client address.
//
// A connection's states and transitions:
//   Idle  --first byte of a request-->           Lent   (libsoup reads and answers one request)
//   Lent  --keep-alive response written-->       Idle   (bytes read ahead are lent with the next)
//   Lent  --libsoup closes or drops the stream-->  closed
//   Lent  --request-timeout before its body-->   socket shut down, then libsoup closes it
//   Idle  --EOF, error, keepalive-timeout, stop-->  closed
#pragma once

#include <libsoup/soup.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/gref.h"
#include "service/core/config.h"

namespace tws {

// A request answered from its headers alone (401 before any body byte is read, 413 on a
// Content-Length or a chunked body past the limit): the listener writes the response itself,
// drops the body, and closes the connection when the body ends or after a short grace.
struct Refusal {
  int status = 0;
  std::string headers;  // extra header lines, each ending in "\r\n"
  std::string body;     // application/json
};
using RequestCheck = std::function<std::optional<Refusal>(SoupServerMessage* msg)>;

class HttpListener {
 public:
  HttpListener(SoupServer* server, GMainContext* context, ConnectionLimits limits);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds `address` and starts accepting. Returns the bound port, or 0 with *error set.
  int listen(GSocketAddress* address, std::string* error);
  // Stops accepting and closes the idle connections. A lent connection closes when libsoup
  // lets it go (soup_server_disconnect() does that at once).
  void stop();

  struct Counts {
    int idle = 0;
    int lent = 0;
    uint64_t refused = 0;  // connections turned away at a cap since start
  };
  Counts counts() const;
  int max_connections() const { return limits_.max_connections; }

  // Judges each request at its headers; `max_body` bytes is the most any request body may
  // hold (a chunked body is cut off with 413 when it passes it).
  // `too_large` makes that 413.
  void set_request_check(RequestCheck check, size_t max_body, std::function<Refusal()> too_large) {
    check_ = std::move(check);
    max_body_ = max_body;
    too_large_ = std::move(too_large);
  }

  // Ends the connection under `msg` now, without the rest of its response (a chunked
  // response then lacks its final chunk, so no client takes it as whole).
  static void cut(SoupServerMessage* msg);

 private:
  struct Connection;
  using ConnectionPtr = std::shared_ptr<Connection>;

  void accept_next();
  void on_accepted(GRef<GSocket> socket);
  // Each takes its own reference: close() drops the listener's.
  void watch_idle(ConnectionPtr c);
  void lend(ConnectionPtr c, GBytes* prefix);
  void take_back(ConnectionPtr c);
  void close(ConnectionPtr c);
  void on_request_started(SoupServerMessage* msg);
  void on_wrote_body(SoupServerMessage* msg);
  void refuse(SoupServerMessage* msg, const Refusal& refusal);
  // A Lent connection's timer: its socket is shut down in `ms` (libsoup then drops it).
  void shut_down_after(const ConnectionPtr& c, guint ms);
  static ConnectionPtr connection_of(SoupServerMessage* msg);

  SoupServer* server_;
  GMainContext* context_;
  ConnectionLimits limits_;
  GRef<GSocketListener> listener_;
  GRef<GCancellable> cancellable_;
  bool stopping_ = false;
  std::map<Connection*, ConnectionPtr> connections_;
  std::map<std::string, int> per_client_;  // open connections by client address
  uint64_t refused_ = 0;
  RequestCheck check_;
  size_t max_body_ = 0;
  std::function<Refusal()> too_large_;
  gint64 last_accept_error_log_us_ = 0;
  gint64 last_refusal_log_us_ = 0;
};

// The process's descriptor limit: raises the soft limit to the hard one (at most 1M) and
// returns the soft limit in force.
int raise_descriptor_limit();

}  // namespace tws
