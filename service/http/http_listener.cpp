// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/http/http_listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "service/http/access_log.h"
#include "service/http/lent_stream.h"

namespace tws {

namespace {

// Descriptors kept free for what is not a client connection: transcodes (sources, temporary
// segment files, pipeline wake-ups), storage connections, the log.
constexpr int kReservedDescriptors = 64;
// Bytes a client may send ahead of its next request (pipelining) before it is cut off.
constexpr gsize kMaxReadAhead = 64 * 1024;
constexpr char kConnectionQuark[] = "tws-http-connection";

const char kRefusal[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "Content-Length: 75\r\n"
    "\r\n"
    "{\"Code\":\"ServiceUnavailable\",\"Message\":\"too many connections, retry later\"}";
static_assert(sizeof("{\"Code\":\"ServiceUnavailable\",\"Message\":\"too many connections, "
                     "retry later\"}") -
                  1 ==
              75);

std::string client_of(GSocketAddress* address) {
  if (!G_IS_INET_SOCKET_ADDRESS(address)) return "";
  GUnique<gchar> text(
      g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address))));
  return text.get();
}

// True when the response just written leaves the connection open for another request.
bool keeps_alive(SoupServerMessage* msg) {
  if (soup_server_message_get_http_version(msg) != SOUP_HTTP_1_1) return false;
  SoupMessageHeaders* request = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders* response = soup_server_message_get_response_headers(msg);
  if (soup_message_headers_header_contains(request, "Connection", "close") ||
      soup_message_headers_header_contains(response, "Connection", "close"))
    return false;
  return soup_message_headers_get_encoding(response) != SOUP_ENCODING_EOF;
}

}  // namespace

struct HttpListener::Connection {
  enum class State { kIdle, kLent, kClosed };

  HttpListener* owner = nullptr;
  GRef<GSocket> socket;
  GRef<GSocketAddress> local, remote;
  std::string client;
  State state = State::kIdle;
  // Counts lends: a lent stream released after its lend ended (taken back) is not a close.
  uint64_t lend = 0;
  GUnique<GSource> watch;  // Idle: the socket's readability
  GUnique<GSource> timer;  // Idle: keepalive-timeout; Lent: request-timeout until the body
  GRef<GIOStream> taken;   // Lent -> Idle: the stream libsoup gave back, drained on the loop

  void clear_sources() {
    if (watch) g_source_destroy(watch.get());
    if (timer) g_source_destroy(timer.get());
    watch.reset();
    timer.reset();
  }
  int fd() const { return g_socket_get_fd(socket.get()); }
};

HttpListener::HttpListener(SoupServer* server, GMainContext* context, ConnectionLimits limits)
    : server_(server), context_(context), limits_(limits) {
  const int fd_limit = raise_descriptor_limit();
  const int fit = fd_limit > 2 * kReservedDescriptors ? fd_limit - kReservedDescriptors
                                                      : std::max(fd_limit / 2, 1);
  limits_.max_connections = std::min(limits_.max_connections, fit);
  g_signal_connect(server_, "request-started",
                   G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, gpointer self) {
                     static_cast<HttpListener*>(self)->on_request_started(msg);
                   }),
                   this);
}

HttpListener::~HttpListener() {
  stop();
  g_signal_handlers_disconnect_by_data(server_, this);
  // Lent connections outlive the listener only inside libsoup, which closes their streams.
  for (auto& [raw, c] : connections_) {
    c->clear_sources();
    c->state = Connection::State::kClosed;
  }
}

int HttpListener::listen(GSocketAddress* address, std::string* error) {
  listener_ = adopt_ref(g_socket_listener_new());
  // GLib's default backlog is 10: a burst of new connections would wait for SYN retries.
  g_socket_listener_set_backlog(listener_.get(), SOMAXCONN);
  cancellable_ = adopt_ref(g_cancellable_new());
  GRef<GSocketAddress> bound;
  GError* gerr = nullptr;
  if (!g_socket_listener_add_address(listener_.get(), address, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, nullptr, bound.out(), &gerr)) {
    *error = gerr->message;
    g_error_free(gerr);
    return 0;
  }
  accept_next();
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get()));
}

void HttpListener::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (cancellable_) g_cancellable_cancel(cancellable_.get());
  if (listener_) g_socket_listener_close(listener_.get());
  std::vector<ConnectionPtr> idle;
  for (auto& [raw, c] : connections_)
    if (c->state == Connection::State::kIdle) idle.push_back(c);
  for (const ConnectionPtr& c : idle) close(c);
}

HttpListener::Counts HttpListener::counts() const {
  Counts n;
  for (const auto& [raw, c] : connections_)
    (c->state == Connection::State::kLent ? n.lent : n.idle)++;
  n.refused = refused_;
  return n;
}

void HttpListener::accept_next() {
  g_socket_listener_accept_socket_async(
      listener_.get(), cancellable_.get(),
      +[](GObject* source, GAsyncResult* result, gpointer data) {
        GError* gerr = nullptr;
        GRef<GSocket> socket = adopt_ref(g_socket_listener_accept_socket_finish(
            G_SOCKET_LISTENER(source), result, nullptr, &gerr));
        if (g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
          g_error_free(gerr);
          return;  // stopped: `data` may be gone
        }
        auto* self = static_cast<HttpListener*>(data);
        if (!socket) {
          // Out of descriptors (or a transient error): pause rather than spin on the backlog.
          const gint64 now = g_get_monotonic_time();
          if (now - self->last_accept_error_log_us_ > 10 * G_USEC_PER_SEC) {
            g_warning("accepting a connection: %s; retrying in 100 ms", gerr->message);
            self->last_accept_error_log_us_ = now;
          }
          g_error_free(gerr);
          GUnique<GSource> pause(g_timeout_source_new(100));
          g_source_set_callback(
              pause.get(),
              +[](gpointer s) {
                static_cast<HttpListener*>(s)->accept_next();
                return G_SOURCE_REMOVE;
              },
              self, nullptr);
          g_source_attach(pause.get(), self->context_);
          return;
        }
        self->on_accepted(std::move(socket));
        self->accept_next();
      },
      this);
}

void HttpListener::on_accepted(GRef<GSocket> socket) {
  auto c = std::make_shared<Connection>();
  c->owner = this;
  c->socket = std::move(socket);
  c->remote = adopt_ref(g_socket_get_remote_address(c->socket.get(), nullptr));
  c->local = adopt_ref(g_socket_get_local_address(c->socket.get(), nullptr));
  if (!c->remote || !c->local || stopping_) {
    g_socket_close(c->socket.get(), nullptr);
    return;
  }
  c->client = client_of(c->remote.get());
  int& from_client = per_client_[c->client];
  if (int(connections_.size()) >= limits_.max_connections ||
      (limits_.max_per_client > 0 && from_client >= limits_.max_per_client)) {
    if (from_client == 0) per_client_.erase(c->client);
    refused_++;
    const gint64 now = g_get_monotonic_time();
    if (now - last_refusal_log_us_ > 10 * G_USEC_PER_SEC) {
      last_refusal_log_us_ = now;
      g_warning(
          "turning connections away: %zu open (max-connections %d), %d from %s "
          "(max-connections-per-client %d)",
          connections_.size(), limits_.max_connections, from_client, c->client.c_str(),
          limits_.max_per_client);
    }
    // Best effort: a client that reads before it writes learns why.
    (void)!send(c->fd(), kRefusal, sizeof kRefusal - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    g_socket_close(c->socket.get(), nullptr);
    return;
  }
  from_client++;
  g_socket_set_option(c->socket.get(), IPPROTO_TCP, TCP_NODELAY, TRUE, nullptr);
  // Messages find their connection through the address object libsoup hands back.
  g_object_set_data_full(G_OBJECT(c->remote.get()), kConnectionQuark,
                         new std::weak_ptr<Connection>(c),
                         [](gpointer p) { delete static_cast<std::weak_ptr<Connection>*>(p); });
  connections_[c.get()] = c;
  watch_idle(c);
}

void HttpListener::watch_idle(ConnectionPtr c) {
  c->clear_sources();
  c->state = Connection::State::kIdle;
  c->watch.reset(g_socket_create_source(c->socket.get(),
                                        GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr));
  g_source_set_callback(c->watch.get(),
                        G_SOURCE_FUNC(+[](GSocket*, GIOCondition, gpointer data) -> gboolean {
                          auto* raw = static_cast<Connection*>(data);
                          ConnectionPtr conn = raw->owner->connections_.at(raw);
                          char byte;
                          const ssize_t n = recv(conn->fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
                          if (n < 0 && (errno == EAGAIN || errno == EINTR))
                            return G_SOURCE_CONTINUE;
                          if (n > 0)
                            raw->owner->lend(conn, nullptr);
                          else
                            raw->owner->close(conn);  // the client closed it, or it broke
                          return G_SOURCE_REMOVE;
                        }),
                        c.get(), nullptr);
  g_source_attach(c->watch.get(), context_);
  c->timer.reset(g_timeout_source_new_seconds(guint(limits_.keepalive_timeout)));
  g_source_set_callback(
      c->timer.get(),
      +[](gpointer data) -> gboolean {
        auto* raw = static_cast<Connection*>(data);
        raw->owner->close(raw->owner->connections_.at(raw));
        return G_SOURCE_REMOVE;
      },
      c.get(), nullptr);
  g_source_attach(c->timer.get(), context_);
}

void HttpListener::lend(ConnectionPtr c, GBytes* prefix) {
  c->clear_sources();
  c->state = Connection::State::kLent;
  const uint64_t lend = ++c->lend;
  std::weak_ptr<Connection> weak = c;
  GRef<GIOStream> stream = lent_stream_new(c->fd(), prefix, [weak, lend] {
    // libsoup closed or dropped the stream: the request is over and so is the connection,
    // unless the listener took it back first.
    ConnectionPtr conn = weak.lock();
    if (conn && conn->state == Connection::State::kLent && conn->lend == lend)
      conn->owner->close(conn);
  });
  // A request must be whole within request-timeout of its first byte (slowloris).
  shut_down_after(c, guint(limits_.request_timeout) * 1000);
  GError* gerr = nullptr;
  if (!soup_server_accept_iostream(server_, stream.get(), c->local.get(), c->remote.get(), &gerr)) {
    g_warning("handing a connection to the HTTP server: %s", gerr->message);
    g_error_free(gerr);
    close(c);
  }
}

namespace {

constexpr const char kBodyBytesKey[] = "tws-body-bytes";
constexpr const char kRefusedKey[] = "tws-refused";
// How long a refused request's body is read (and dropped) before the connection is closed,
// so that the client reads the answer rather than a reset.
constexpr guint kRefusalLingerMs = 2000;

const char* reason_phrase(int status) {
  const char* p = soup_status_get_phrase(guint(status));
  return p ? p : "Error";
}

}  // namespace

void HttpListener::refuse(SoupServerMessage* msg, const Refusal& refusal) {
  ConnectionPtr c = connection_of(msg);
  if (!c || c->state != Connection::State::kLent || g_object_get_data(G_OBJECT(msg), kRefusedKey))
    return;
  g_object_set_data(G_OBJECT(msg), kRefusedKey, GINT_TO_POINTER(1));
  const std::string response = "HTTP/1.1 " + std::to_string(refusal.status) + " " +
                               reason_phrase(refusal.status) +
                               "\r\nContent-Type: application/json\r\nCache-Control: no-store"
                               "\r\nContent-Length: " +
                               std::to_string(refusal.body.size()) + "\r\nConnection: close\r\n" +
                               refusal.headers + "\r\n" + refusal.body;
  // libsoup has written nothing yet (it is still reading the request): the answer goes
  // straight to the socket, and libsoup is kept from handling the request or keeping its body.
  (void)!send(c->fd(), response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  soup_server_message_set_status(msg, guint(refusal.status), nullptr);
  soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
  note_response_sent(msg, refusal.status);
  shut_down_after(c, kRefusalLingerMs);
}

void HttpListener::shut_down_after(const ConnectionPtr& c, guint ms) {
  if (c->timer) g_source_destroy(c->timer.get());
  c->timer.reset(g_timeout_source_new(ms));
  g_source_set_callback(
      c->timer.get(),
      +[](gpointer data) -> gboolean {
        auto* raw = static_cast<Connection*>(data);
        raw->timer.reset();
        // libsoup sees the end of its input and drops the request and the stream.
        g_socket_shutdown(raw->socket.get(), TRUE, TRUE, nullptr);
        return G_SOURCE_REMOVE;
      },
      c.get(), nullptr);
  g_source_attach(c->timer.get(), context_);
}

void HttpListener::on_request_started(SoupServerMessage* msg) {
  g_signal_connect(msg, "got-headers", G_CALLBACK(+[](SoupServerMessage* m, gpointer self) {
                     auto* listener = static_cast<HttpListener*>(self);
                     if (!listener->check_ || !listener->too_large_) return;
                     if (std::optional<Refusal> r = listener->check_(m)) {
                       listener->refuse(m, *r);
                       return;
                     }
                     SoupMessageHeaders* h = soup_server_message_get_request_headers(m);
                     if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH &&
                         size_t(soup_message_headers_get_content_length(h)) > listener->max_body_)
                       listener->refuse(m, listener->too_large_());
                   }),
                   this);
  g_signal_connect(
      msg, "got-chunk", G_CALLBACK(+[](SoupServerMessage* m, GBytes* chunk, gpointer self) {
        auto* listener = static_cast<HttpListener*>(self);
        const size_t total = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(m), kBodyBytesKey)) +
                             g_bytes_get_size(chunk);
        g_object_set_data(G_OBJECT(m), kBodyBytesKey, GSIZE_TO_POINTER(total));
        if (listener->too_large_ && total > listener->max_body_)
          listener->refuse(m, listener->too_large_());
      }),
      this);
  g_signal_connect(msg, "got-body", G_CALLBACK(+[](SoupServerMessage* m, gpointer) {
                     ConnectionPtr c = connection_of(m);
                     if (!c || c->state != Connection::State::kLent) return;
                     // A refused request is over once its body is: its answer went out already.
                     if (g_object_get_data(G_OBJECT(m), kRefusedKey)) {
                       g_socket_shutdown(c->socket.get(), TRUE, TRUE, nullptr);
                       return;
                     }
                     if (c->timer) {
                       g_source_destroy(c->timer.get());
                       c->timer.reset();
                     }
                   }),
                   nullptr);
  g_signal_connect(msg, "wrote-body", G_CALLBACK(+[](SoupServerMessage* m, gpointer self) {
                     static_cast<HttpListener*>(self)->on_wrote_body(m);
                   }),
                   this);
}

void HttpListener::on_wrote_body(SoupServerMessage* msg) {
  ConnectionPtr c = connection_of(msg);
  if (!c || c->owner != this || c->state != Connection::State::kLent || stopping_ ||
      !keeps_alive(msg))
    return;  // libsoup ends the request and closes the stream; then the socket is closed
  // What libsoup does when a request ends (a stolen one ends without it) ...
  g_signal_emit_by_name(msg, "finished");
  g_signal_emit_by_name(server_, "request-finished", msg);
  // ... then the connection is the listener's again.
  c->state = Connection::State::kIdle;
  c->clear_sources();
  c->taken = adopt_ref(soup_server_message_steal_connection(msg));
  // libsoup is still inside this message's I/O: drain and re-lend from the loop.
  c->watch.reset(g_idle_source_new());
  // At the loop's default priority, not idle priority: under load (new connections, worker
  // replies, other requests) an idle source waits behind all of them, and connections
  // pile up between two requests until max-connections-per-client turns clients away.
  g_source_set_priority(c->watch.get(), G_PRIORITY_DEFAULT);
  g_source_set_callback(
      c->watch.get(),
      +[](gpointer data) -> gboolean {
        auto* raw = static_cast<Connection*>(data);
        raw->watch.reset();
        raw->owner->take_back(raw->owner->connections_.at(raw));
        return G_SOURCE_REMOVE;
      },
      c.get(), nullptr);
  g_source_attach(c->watch.get(), context_);
}

void HttpListener::take_back(ConnectionPtr c) {
  // libsoup may have read past the request it answered (a pipelining client), and the next
  // request may be here already: whatever is readable now goes to the next lend.
  GRef<GIOStream> taken = std::move(c->taken);
  GByteArray* ahead = g_byte_array_new();
  bool ended = false;
  auto* input = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(taken.get()));
  guint8 chunk[4096];
  while (ahead->len <= kMaxReadAhead) {
    GError* gerr = nullptr;
    const gssize n =
        g_pollable_input_stream_read_nonblocking(input, chunk, sizeof chunk, nullptr, &gerr);
    if (n > 0) {
      g_byte_array_append(ahead, chunk, guint(n));
      continue;
    }
    if (n < 0 && g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free(gerr);
      break;
    }
    if (gerr) g_error_free(gerr);
    ended = true;  // EOF or a broken connection
    break;
  }
  taken.reset();  // libsoup's wrapper; the socket stays open
  GUnique<GBytes> bytes(g_byte_array_free_to_bytes(ahead));
  const gsize size = g_bytes_get_size(bytes.get());
  if (size > kMaxReadAhead || (ended && size == 0) || stopping_)
    close(c);
  else if (size > 0)
    lend(c, bytes.get());
  else
    watch_idle(c);
}

void HttpListener::close(ConnectionPtr c) {
  if (c->state == Connection::State::kClosed) return;
  c->state = Connection::State::kClosed;
  c->clear_sources();
  c->taken.reset();
  g_socket_close(c->socket.get(), nullptr);
  auto it = per_client_.find(c->client);
  if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
  connections_.erase(c.get());
}

HttpListener::ConnectionPtr HttpListener::connection_of(SoupServerMessage* msg) {
  GSocketAddress* remote = soup_server_message_get_remote_address(msg);
  if (!remote) return nullptr;
  auto* weak = static_cast<std::weak_ptr<Connection>*>(
      g_object_get_data(G_OBJECT(remote), kConnectionQuark));
  return weak ? weak->lock() : nullptr;
}

void HttpListener::cut(SoupServerMessage* msg) {
  ConnectionPtr c = connection_of(msg);
  if (c && c->state == Connection::State::kLent)
    g_socket_shutdown(c->socket.get(), TRUE, TRUE, nullptr);
}

int raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  const rlim_t want = std::min<rlim_t>(limit.rlim_max, rlim_t(1) << 20);
  if (limit.rlim_cur < want) {
    rlimit raised = limit;
    raised.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return int(std::min<rlim_t>(limit.rlim_cur, rlim_t(1) << 20));
}

}  // namespace tws
