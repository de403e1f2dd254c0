// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/cli/http_server.h"

#include <glib-unix.h>
#include <libsoup/soup.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "gst/rangesrc/block_cache.h"
#include "gst/rangesrc/s3_backend.h"
#include "pipelines/pipeline_util.h"
#include "service/api/api.h"
#include "service/core/main_context.h"
#include "service/core/metrics.h"
#include "service/core/process_stats.h"
#include "service/core/storage_threads.h"
#include "service/http/access_log.h"
#include "service/http/auth.h"
#include "service/http/http_errors.h"
#include "service/http/http_listener.h"
#include "service/playback/playback.h"
#include "service/playback/player_page.h"
#include "service/storage/local_storage.h"
#include "service/transcode/server_context.h"
#include "service/worker/worker_pool.h"

namespace tws {
namespace {

std::string connection_metrics_text(const HttpListener::Counts& n, int max_connections) {
  return "# HELP tws_http_connections Open client connections: idle (kept alive between "
         "requests) or active (a request on it).\n"
         "# TYPE tws_http_connections gauge\n"
         "tws_http_connections{state=\"idle\"} " +
         std::to_string(n.idle) +
         "\n"
         "tws_http_connections{state=\"active\"} " +
         std::to_string(n.lent) +
         "\n"
         "# HELP tws_http_max_connections The cap on open client connections.\n"
         "# TYPE tws_http_max_connections gauge\n"
         "tws_http_max_connections " +
         std::to_string(max_connections) +
         "\n"
         "# HELP tws_http_connections_refused_total Connections closed at once at a cap.\n"
         "# TYPE tws_http_connections_refused_total counter\n"
         "tws_http_connections_refused_total " +
         std::to_string(n.refused) + "\n";
}

std::string worker_metrics_text(const worker::WorkerPool::Counts& n) {
  return "# HELP tws_media_workers Media worker processes: idle (started, waiting for a job) or "
         "busy.\n"
         "# TYPE tws_media_workers gauge\n"
         "tws_media_workers{state=\"idle\"} " +
         std::to_string(n.idle) +
         "\n"
         "tws_media_workers{state=\"busy\"} " +
         std::to_string(n.busy) + "\n";
}

void route(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) {
  ServerContext& ctx = *static_cast<ServerContext*>(data);
  const std::string path = g_uri_get_path(soup_server_message_get_uri(msg));
  const std::string method = soup_server_message_get_method(msg);
  if (path == "/healthz") {
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, "ok\n", 3);
    return;
  }
  if (path == "/metrics") {
    const BlockCacheStats cache = BlockCache::shared().stats();
    // rangesrc's reads (source probing and transcoding), each request counted once: GETs and
    // bytes by the block cache every read goes through, HEADs by the S3/http backends.
    const HttpListener::Counts connections = ctx.listener->counts();
    const std::string text =
        Metrics::global().text(ctx.transcoder->queue_depth(), cache.backend_requests,
                               cache.backend_bytes, remote_head_requests()) +
        connection_metrics_text(connections, ctx.listener->max_connections()) +
        worker_metrics_text(worker::WorkerPool::shared().counts()) +
        process_metrics_text(read_process_stats());
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_server_message_set_response(msg, "text/plain; version=0.0.4", SOUP_MEMORY_COPY,
                                     text.data(), text.size());
    return;
  }
  if (path == "/v1" || g_str_has_prefix(path.c_str(), "/v1/")) return handle_api(ctx, msg, path);
  if (path == "/player" || g_str_has_prefix(path.c_str(), "/player/")) {
    // The page's player will fetch `src` once the page and hls.js have loaded.
    if (path == "/player" && player_page_built() &&
        !strcmp(soup_server_message_get_method(msg), "GET"))
      prepare_playback(ctx, player_src(msg));
    return handle_player(msg, path);
  }
  if (path == "/" || path.empty())
    return send_error(msg, ErrorCode::kNotFound, "nothing here; see GET /<bucket>/<key>");
  handle_playback(ctx, msg, path);
}

// Temporary files not written for this long belong to no live writer (a segment writer
// writes at least every [server] stall-timeout, 1 h at most).
constexpr int kStaleTempSeconds = 2 * 3600;

// Splits "ADDR:PORT" ("[::1]:8080" too).
bool split_listen(const std::string& listen, std::string* host, guint16* port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  guint64 p = 0;
  if (!g_ascii_string_to_unsigned(listen.substr(colon + 1).c_str(), 10, 0, 65535, &p, nullptr))
    return false;
  *port = guint16(p);
  return true;
}

}  // namespace

int run_server(ServeOptions options) {
  ServerContext ctx;
  ctx.config = std::move(options.config);
  ctx.context = g_main_context_default();

  std::string host;
  guint16 port = 0;
  if (!split_listen(options.listen, &host, &port)) {
    std::fprintf(stderr, "tws: --listen: must be ADDR:PORT\n");
    return 2;
  }
  GRef<GInetAddress> address = adopt_ref(g_inet_address_new_from_string(host.c_str()));
  if (!address && host == "localhost")
    address = adopt_ref(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  if (!address) {
    std::fprintf(stderr, "tws: --listen: \"%s\" is not an IP address\n", host.c_str());
    return 2;
  }
  // raw-paths: libsoup would percent-decode paths itself, and playback decodes them again
  // (parse_playback_path): paths are decoded exactly once, there.
  GRef<SoupServer> server =
      adopt_ref(soup_server_new("server-header", "tws", "raw-paths", TRUE, nullptr));
  // Connections are accepted by the listener and lent to libsoup one request at a time.
  HttpListener listener(server.get(), ctx.context, ctx.config.connections);
  ctx.listener = &listener;
  listener.set_request_check(
      [&ctx](SoupServerMessage* msg) -> std::optional<Refusal> {
        // /v1/* wants its API token before anything of its body is read.
        const char* path = g_uri_get_path(soup_server_message_get_uri(msg));
        if ((!strcmp(path, "/v1") || g_str_has_prefix(path, "/v1/")) &&
            !bearer_token_ok(ctx.config,
                             soup_message_headers_get_one(
                                 soup_server_message_get_request_headers(msg), "Authorization")))
          return Refusal{401, "WWW-Authenticate: Bearer\r\n",
                         failure_json({ErrorCode::kUnauthorized,
                                       "missing or wrong API token (Authorization: Bearer "
                                       "<token>)"})};
        return std::nullopt;
      },
      kMaxRequestBody,
      [] {
        return Refusal{
            413, "", failure_json({ErrorCode::kPayloadTooLarge, "the body is larger than 1 MiB"})};
      });
  GRef<GSocketAddress> socket_address = adopt_ref(g_inet_socket_address_new(address.get(), port));
  std::string listen_error;
  const int bound_port = listener.listen(socket_address.get(), &listen_error);
  if (!bound_port) {
    std::fprintf(stderr, "tws: cannot listen on %s: %s\n", options.listen.c_str(),
                 listen_error.c_str());
    return 1;
  }
  const bool v6 = g_inet_address_get_family(address.get()) == G_SOCKET_FAMILY_IPV6;
  const std::string base =
      "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(bound_port);
  // Signed URLs point at this server unless public-url names another place.
  const std::string configured_listen = "http://" + ctx.config.listen;
  if (ctx.config.public_url == configured_listen ||
      ctx.config.public_url == "http://" + options.listen)
    ctx.config.public_url = base;

  // Off the first request's path: loading libav, x264 and the demuxers costs ~0.1 s.
  preload_pipeline_plugins();
  // Probes and segment jobs run in sandboxed worker processes, one per transcode worker and
  // one more for probes, started now so that the first request does not wait for one.
  worker::WorkerPool::shared().configure(ctx.config.workers + 1,
                                         uint64_t(ctx.config.worker_memory_mb) << 20);
  // What a killed process left half-written in local buckets (never visible as objects).
  std::vector<std::string> roots;
  for (const BucketConfig& b : ctx.config.buckets)
    if (!b.is_s3()) roots.push_back(b.path);
  run_on_storage_thread(
      ctx.context,
      [roots] {
        for (const std::string& root : roots)
          if (int n = LocalStorage::remove_stale_temp_files(root, kStaleTempSeconds))
            g_message("removed %d temporary files older than %d s in %s", n, kStaleTempSeconds,
                      root.c_str());
      },
      [] {});
  ctx.transcoder = std::make_unique<Transcoder>(ctx.config, ctx.context);
  attach_access_log(server.get());
  soup_server_add_handler(server.get(), nullptr, route, &ctx, nullptr);

  std::printf("listening on %s\n", base.c_str());
  if (options.print_token && !ctx.config.api_tokens.empty())
    std::printf("API token: %s (from %s)\n", ctx.config.api_tokens.front().c_str(),
                ctx.config.file.c_str());
  std::fflush(stdout);

  GUnique<GMainLoop> loop(g_main_loop_new(ctx.context, FALSE));
  auto quit = +[](gpointer loop) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(loop));
    return G_SOURCE_CONTINUE;
  };
  const guint sigint = g_unix_signal_add(SIGINT, quit, loop.get());
  const guint sigterm = g_unix_signal_add(SIGTERM, quit, loop.get());
  g_main_loop_run(loop.get());
  g_source_remove(sigint);
  g_source_remove(sigterm);

  g_message("stopping: no new connections, cancelling transcodes");
  // Transcodes first: their clients are cut while libsoup still holds the connections.
  ctx.transcoder->shutdown();
  worker::WorkerPool::shared().shutdown();
  listener.stop();
  soup_server_disconnect(server.get());
  std::fflush(stderr);
  return 0;
}

}  // namespace tws
