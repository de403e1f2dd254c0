// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/http/access_log.h"

#include <cstdio>
#include <string>

#include "service/core/metrics.h"

namespace tws {
namespace {

struct RequestStats {
  gint64 started_us = 0;       // monotonic
  gint64 started_real_us = 0;  // wall clock, for the log's "time"
  gint64 first_byte_us = 0;    // monotonic, 0 until the first body byte is written
  guint64 bytes = 0;
  guint sent_status = 0;    // the status line written, 0 until it is
  bool wrote_body = false;  // the whole response went out
  bool finished = false;
};

constexpr const char* kStatsKey = "tws-request-stats";

RequestStats* stats_of(SoupServerMessage* msg) {
  return static_cast<RequestStats*>(g_object_get_data(G_OBJECT(msg), kStatsKey));
}

std::string json_escape(const char* s) {
  std::string out;
  for (; s && *s; ++s) {
    const unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out;
}

void log_request(SoupServerMessage* msg, bool aborted) {
  RequestStats* stats = stats_of(msg);
  if (!stats || stats->finished) return;
  stats->finished = true;
  // libsoup ends a request whose client went away with status 500 and "request-aborted" (as
  // it does a 500 response): what was sent decides. An aborted response is logged with the
  // status it went out with (0: none) and counted apart, never as a 5xx.
  aborted = aborted && !stats->wrote_body;
  const guint status =
      aborted || stats->sent_status ? stats->sent_status : soup_server_message_get_status(msg);
  if (aborted)
    Metrics::global().http_aborted();
  else
    Metrics::global().http_response(int(status));
  GUri* uri = soup_server_message_get_uri(msg);
  const double ms = double(g_get_monotonic_time() - stats->started_us) / 1000.0;
  const double first_ms =
      stats->first_byte_us ? double(stats->first_byte_us - stats->started_us) / 1000.0 : ms;
  GDateTime* started = g_date_time_new_from_unix_utc(stats->started_real_us / G_USEC_PER_SEC);
  GDateTime* exact = g_date_time_add(started, stats->started_real_us % G_USEC_PER_SEC);
  gchar* time = g_date_time_format(exact, "%Y-%m-%dT%H:%M:%S.%fZ");
  g_date_time_unref(exact);
  g_date_time_unref(started);
  std::fprintf(stderr,
               "{\"log\":\"request\",\"time\":\"%.23sZ\",\"method\":\"%s\",\"path\":\"%s\","
               "\"status\":%u,\"bytes\":%llu,\"first_ms\":%.1f,\"ms\":%.1f%s}\n",
               time, json_escape(soup_server_message_get_method(msg)).c_str(),
               json_escape(uri ? g_uri_get_path(uri) : "").c_str(), status,
               static_cast<unsigned long long>(stats->bytes), first_ms, ms,
               aborted ? ",\"aborted\":true" : "");
  g_free(time);
}

}  // namespace

void attach_access_log(SoupServer* server) {
  g_signal_connect(
      server, "request-started", G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, gpointer) {
        auto* stats = new RequestStats;
        stats->started_us = g_get_monotonic_time();
        stats->started_real_us = g_get_real_time();
        g_object_set_data_full(G_OBJECT(msg), kStatsKey, stats,
                               [](gpointer p) { delete static_cast<RequestStats*>(p); });
        g_signal_connect(msg, "wrote-headers", G_CALLBACK(+[](SoupServerMessage* m, gpointer) {
                           if (RequestStats* s = stats_of(m))
                             s->sent_status = soup_server_message_get_status(m);
                         }),
                         nullptr);
        g_signal_connect(msg, "wrote-body", G_CALLBACK(+[](SoupServerMessage* m, gpointer) {
                           if (RequestStats* s = stats_of(m)) s->wrote_body = true;
                         }),
                         nullptr);
        g_signal_connect(msg, "wrote-body-data",
                         G_CALLBACK(+[](SoupServerMessage* m, guint size, gpointer) {
                           RequestStats* s = stats_of(m);
                           if (!s) return;
                           if (!s->first_byte_us && size) s->first_byte_us = g_get_monotonic_time();
                           s->bytes += size;
                         }),
                         nullptr);
      }),
      nullptr);
  g_signal_connect(
      server, "request-finished",
      G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, gpointer) { log_request(msg, false); }),
      nullptr);
  g_signal_connect(
      server, "request-aborted",
      G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, gpointer) { log_request(msg, true); }),
      nullptr);
}

void note_response_sent(SoupServerMessage* msg, int status) {
  if (RequestStats* stats = stats_of(msg)) {
    stats->sent_status = guint(status);
    stats->wrote_body = true;
  }
}

bool message_finished(SoupServerMessage* msg) {
  RequestStats* stats = stats_of(msg);
  return stats && stats->finished;
}

}  // namespace tws
