#include "service/playback.h"

#include <glib.h>

#include "common/gref.h"
#include "service/access_log.h"
#include "service/http_errors.h"
#include "service/http_range.h"
#include "service/master_bandwidth.h"
#include "service/metrics.h"
#include "service/playback_path.h"
#include "service/playlist_file.h"
#include "service/playlist_signing.h"
#include "service/segment_stream.h"
#include "service/signer.h"
#include "service/subtitle_segments.h"

namespace tws {
namespace {

struct QueryParams {
  std::string expires, key_id, signature;
};

QueryParams parse_query(const char* query) {
  QueryParams q;
  if (!query) return q;
  GUnique<GHashTable> params(g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, nullptr));
  if (!params) return q;
  auto get = [&params](const char* name) {
    const char* v = static_cast<const char*>(g_hash_table_lookup(params.get(), name));
    return std::string(v ? v : "");
  };
  q.expires = get("Expires");
  q.key_id = get("KeyId");
  q.signature = get("Signature");
  return q;
}

QueryParams query_params(SoupServerMessage* msg) {
  return parse_query(g_uri_get_query(soup_server_message_get_uri(msg)));
}

std::string etag_of(const ObjectStat& st) {
  GUnique<gchar> sum(g_compute_checksum_for_string(
      G_CHECKSUM_SHA256, (st.identity + "/" + std::to_string(st.size)).c_str(), -1));
  return "\"" + std::string(sum.get()).substr(0, 32) + "\"";
}

// A whole stored object with ETag and Range; the bytes go out as they are (no copy).
void send_object(SoupServerMessage* msg, GBytes* data, const ObjectStat& st,
                 const char* content_type, const char* cache_control) {
  const size_t size = g_bytes_get_size(data);
  SoupMessageHeaders* req = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  const std::string etag = etag_of(st);
  soup_message_headers_replace(h, "ETag", etag.c_str());
  soup_message_headers_replace(h, "Cache-Control", cache_control);
  soup_message_headers_replace(h, "Accept-Ranges", "bytes");
  const char* if_none_match = soup_message_headers_get_one(req, "If-None-Match");
  if (if_none_match && (etag == if_none_match || std::string(if_none_match) == "*")) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED, nullptr);
    return;
  }
  const char* range_header = soup_message_headers_get_one(req, "Range");
  const ByteRange range = range_header ? parse_byte_range(range_header, size) : ByteRange{};
  if (range.kind == ByteRange::kUnsatisfiable) {
    soup_message_headers_replace(h, "Content-Range", range.content_range(size).c_str());
    soup_server_message_set_status(msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, nullptr);
    return;
  }
  soup_message_headers_set_content_type(h, content_type, nullptr);
  SoupMessageBody* body = soup_server_message_get_response_body(msg);
  if (range.kind == ByteRange::kSatisfiable) {
    soup_message_headers_replace(h, "Content-Range", range.content_range(size).c_str());
    soup_server_message_set_status(msg, SOUP_STATUS_PARTIAL_CONTENT, nullptr);
    GUnique<GBytes> part(g_bytes_new_from_bytes(data, range.first, range.last - range.first + 1));
    soup_message_body_append_bytes(body, part.get());
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_message_body_append_bytes(body, data);
}


// The stored object, or false after answering the request (404, 502, 503).
bool read_object(SoupServerMessage* msg, Storage* storage, const ObjectUri& uri,
                 std::string* data, ObjectStat* st) {
  std::string error;
  StorageStatus s = storage->stat(uri.key, st, &error);
  if (s == StorageStatus::kOk) s = storage->get(uri.key, data, &error);
  if (s == StorageStatus::kOk) return true;
  if (s == StorageStatus::kNotFound)
    send_error(msg, ErrorCode::kNotFound, "no such object " + uri.to_string());
  else
    send_storage_error(msg, error);
  return false;
}

// Starts segment 0 of a stored media playlist (read-ahead priority), as its player will ask
// for it next.
void expect_first_segment(ServerContext& ctx, const ObjectUri& uri, const std::string& text) {
  auto playlist = std::make_shared<StoredPlaylist>();
  Failure ignored;
  if (parse_stored_playlist(uri, text, playlist.get(), &ignored) && !playlist->record.has_subtitle)
    ctx.transcoder->expect(playlist, 0);
}

// The first variant of a master playlist: the one a player starts with. False unless its URI
// is a relative path below the master's folder (as tws writes them).
bool first_variant(const ObjectUri& master, const std::string& text, ObjectUri* variant) {
  const auto inf = text.find("#EXT-X-STREAM-INF:");
  if (inf == std::string::npos) return false;
  const auto line_start = text.find('\n', inf);
  if (line_start == std::string::npos) return false;
  auto line_end = text.find('\n', line_start + 1);
  std::string name =
      text.substr(line_start + 1,
                  line_end == std::string::npos ? std::string::npos : line_end - line_start - 1);
  while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
  if (name.empty() || name[0] == '#' || name[0] == '/' || name.find(':') != std::string::npos ||
      name.find('?') != std::string::npos || name.find("..") != std::string::npos ||
      name.find('%') != std::string::npos || name.find('\\') != std::string::npos ||
      !g_str_has_suffix(name.c_str(), ".m3u8"))
    return false;
  *variant = master;
  const auto slash = master.key.rfind('/');
  variant->key = (slash == std::string::npos ? "" : master.key.substr(0, slash + 1)) + name;
  return true;
}

void serve_playlist(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri,
                    const SigningKey& key, int64_t expires) {
  Failure failure;
  auto storage = open_bucket(ctx.config, uri.bucket, &failure);
  if (!storage) return send_failure(msg, failure);
  std::string text;
  ObjectStat st;
  if (!read_object(msg, storage.get(), uri, &text, &st)) return;
  if (text.find("#EXT-X-STREAM-INF:") != std::string::npos) {
    text = refine_master_bandwidth(ctx.config, uri, text);
  } else {
    // A player starts at the first segment: start making it while the player reads this.
    expect_first_segment(ctx, uri, text);
  }
  const std::string body = signed_playlist_text(text, uri, key, expires);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-cache");
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_server_message_set_response(msg, "application/vnd.apple.mpegurl", SOUP_MEMORY_COPY,
                                   body.data(), body.size());
}

// The target of a segment key, when it is a segment of a stored tws playlist.
Transcoder::PlaylistPtr segment_playlist(const Config& config, const ObjectUri& uri,
                                         int* index, Failure* failure) {
  SegmentName name;
  if (!parse_segment_key(uri.key, &name)) {
    set_failure(failure, ErrorCode::kNotFound, "no such segment " + uri.to_string());
    return nullptr;
  }
  auto playlist = std::make_shared<StoredPlaylist>();
  const ObjectUri playlist_uri{uri.bucket, playlist_key_for_prefix(name.prefix_key)};
  if (!load_stored_playlist(config, playlist_uri, playlist.get(), failure)) {
    if (failure->code == ErrorCode::kInvalidArgument || failure->code == ErrorCode::kInvalidURI)
      set_failure(failure, ErrorCode::kNotFound, failure->message);
    return nullptr;
  }
  if (playlist->record.token != name.token ||
      name.extension != segment_extension(playlist->record) ||
      name.index >= int(playlist->plan.segments.size())) {
    set_failure(failure, ErrorCode::kNotFound,
                "no such segment " + uri.to_string() + " in " + playlist_uri.to_string());
    return nullptr;
  }
  *index = name.index;
  return playlist;
}

void serve_segment(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri) {
  Failure failure;
  auto storage = open_bucket(ctx.config, uri.bucket, &failure);
  if (!storage) return send_failure(msg, failure);
  std::string error;
  ObjectStat st;
  const bool head = std::string(soup_server_message_get_method(msg)) == "HEAD";
  // A cluster node's read-ahead (Transcoder::read_ahead, [server] warmup-url): answered at
  // once without a body; a missing segment is queued here at read-ahead priority.
  const bool warmup = !head && soup_message_headers_get_one(
      soup_server_message_get_request_headers(msg), "X-Tws-Warmup");
  GUnique<GBytes> data;
  const StorageStatus status = warmup ? storage->stat(uri.key, &st, &error)
                                      : storage->get_bytes(uri.key, &data, &st, &error);
  if (status == StorageStatus::kError) return send_storage_error(msg, error);
  if (warmup && status == StorageStatus::kOk)
    return soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
  if (status == StorageStatus::kOk) {
    send_object(msg, data.get(), st, "video/mp2t", kImmutable);
    if (!head) Metrics::global().segment_served_from_storage();
    int index = 0;
    Failure ignored;
    if (auto playlist = segment_playlist(ctx.config, uri, &index, &ignored); playlist && !head)
      ctx.transcoder->read_ahead(playlist, index);
    return;
  }
  int index = 0;
  auto playlist = segment_playlist(ctx.config, uri, &index, &failure);
  if (!playlist) return send_failure(msg, failure);
  if (warmup) {
    ctx.transcoder->warm(playlist, index);
    return soup_server_message_set_status(msg, SOUP_STATUS_ACCEPTED, nullptr);
  }
  if (head) {  // a HEAD does not start a transcode
    SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Cache-Control", kImmutable);
    soup_message_headers_replace(h, "Content-Type", "video/mp2t");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    return;
  }
  if (!SegmentStream::start(msg, ctx.transcoder.get(), playlist, index))
    return send_error(msg, ErrorCode::kServiceUnavailable, "too many transcodes waiting; retry");
  ctx.transcoder->read_ahead(playlist, index);
}

// A WebVTT segment of a subtitle rendition: from storage, else made now (off the main loop:
// a stream inside the source is read with GStreamer), stored, then served. Other .vtt objects
// (a SourceSubtitles file) are served as stored.
void serve_subtitles(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri) {
  Failure failure;
  auto storage = open_bucket(ctx.config, uri.bucket, &failure);
  if (!storage) return send_failure(msg, failure);
  std::string error;
  ObjectStat st;
  GUnique<GBytes> data;
  const StorageStatus status = storage->get_bytes(uri.key, &data, &st, &error);
  if (status == StorageStatus::kError) return send_storage_error(msg, error);
  SegmentName name;
  const bool segment = parse_segment_key(uri.key, &name);
  if (status == StorageStatus::kOk)
    return send_object(msg, data.get(), st, "text/vtt", segment ? kImmutable : "public, max-age=3600");
  int index = 0;
  auto playlist = segment_playlist(ctx.config, uri, &index, &failure);
  if (!playlist) return send_failure(msg, failure);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  if (std::string(soup_server_message_get_method(msg)) == "HEAD") {
    soup_message_headers_replace(h, "Cache-Control", kImmutable);
    soup_message_headers_replace(h, "Content-Type", "text/vtt");
    return soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  }
  struct Made {
    std::string text;
    ObjectStat stat;
    bool ok = false;
    Failure failure;
  };
  auto made = std::make_shared<Made>();
  GRef<SoupServerMessage> held = add_ref(msg);
  soup_server_message_pause(msg);
  const Config* config = &ctx.config;
  run_off_main(
      ctx.context,
      [config, playlist, index, uri, made] {
        made->ok = subtitle_segment_text(*config, *playlist, index, &made->text, &made->failure);
        if (!made->ok) return;
        // Stored so that the next viewer gets it from storage; a failed put only costs that.
        std::string why;
        Failure ignored;
        if (auto out = open_bucket(*config, uri.bucket, &ignored))
          out->put(uri.key, made->text, &why);
        made->stat.size = made->text.size();
        made->stat.identity = "made:" + playlist->record.token + "/" + std::to_string(index);
      },
      [held, made] {
        if (message_finished(held.get())) return;
        if (made->ok) {
          GUnique<GBytes> text(g_bytes_new(made->text.data(), made->text.size()));
          send_object(held.get(), text.get(), made->stat, "text/vtt", kImmutable);
        }
        else
          send_failure(held.get(), made->failure);
        soup_server_message_unpause(held.get());
      });
}

}  // namespace

void handle_playback(ServerContext& ctx, SoupServerMessage* msg, const std::string& encoded_path) {
  add_cors_headers(msg);
  const std::string method = soup_server_message_get_method(msg);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  if (method == "OPTIONS") {
    soup_message_headers_replace(h, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    soup_message_headers_replace(h, "Access-Control-Allow-Headers", "Range");
    soup_message_headers_replace(h, "Access-Control-Max-Age", "86400");
    soup_message_headers_replace(h, "Allow", "GET, HEAD, OPTIONS");
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
    return;
  }
  if (method != "GET" && method != "HEAD") {
    soup_message_headers_replace(h, "Allow", "GET, HEAD, OPTIONS");
    return send_json(msg, 405,
                     "{\"Code\":\"MethodNotAllowed\",\"Message\":\"use GET or HEAD\","
                     "\"RequestId\":\"" + new_request_id() + "\"}\n");
  }
  ObjectUri uri;
  Failure failure;
  if (!parse_playback_path(ctx.config, encoded_path, &uri, &failure))
    return send_failure(msg, failure);
  const QueryParams q = query_params(msg);
  std::string why;
  const int64_t now = g_get_real_time() / G_USEC_PER_SEC;
  if (!verify_signature(ctx.config, object_http_path(uri), q.expires, q.key_id, q.signature, now,
                        &why))
    return send_error(msg, ErrorCode::kAccessDenied, "access denied: " + why);
  if (g_str_has_suffix(uri.key.c_str(), ".m3u8"))
    return serve_playlist(ctx, msg, uri, *ctx.config.find_key(q.key_id),
                          g_ascii_strtoll(q.expires.c_str(), nullptr, 10));
  if (g_str_has_suffix(uri.key.c_str(), ".ts")) return serve_segment(ctx, msg, uri);
  if (g_str_has_suffix(uri.key.c_str(), ".vtt")) return serve_subtitles(ctx, msg, uri);
  send_error(msg, ErrorCode::kInvalidURI, "only .m3u8, .ts and .vtt objects are served");
}

void prepare_playback(ServerContext& ctx, const std::string& url) {
  // Only the path and the query matter: the page and the stream may have different origins.
  const std::string absolute = url.starts_with("/") ? "http://localhost" + url : url;
  GUnique<GUri> parsed(g_uri_parse(absolute.c_str(), G_URI_FLAGS_ENCODED, nullptr));
  if (!parsed) return;
  const std::string path = g_uri_get_path(parsed.get());
  const QueryParams q = parse_query(g_uri_get_query(parsed.get()));
  ObjectUri uri;
  Failure failure;
  std::string why;
  if (!g_str_has_suffix(path.c_str(), ".m3u8") ||
      !parse_playback_path(ctx.config, path, &uri, &failure) ||
      !verify_signature(ctx.config, object_http_path(uri), q.expires, q.key_id, q.signature,
                        g_get_real_time() / G_USEC_PER_SEC, &why))
    return;
  // The reads block (a GET on S3): off the main loop; the transcoder is told on it.
  struct Found {
    ObjectUri uri;
    std::string text;
    bool ok = false;
  };
  auto found = std::make_shared<Found>();
  found->uri = uri;
  const Config* config = &ctx.config;
  ServerContext* server = &ctx;
  run_off_main(
      ctx.context,
      [config, found] {
        Failure ignored;
        auto storage = open_bucket(*config, found->uri.bucket, &ignored);
        std::string error;
        if (!storage || storage->get(found->uri.key, &found->text, &error) != StorageStatus::kOk)
          return;
        ObjectUri variant;
        if (first_variant(found->uri, found->text, &variant)) {
          found->uri = variant;
          if (storage->get(found->uri.key, &found->text, &error) != StorageStatus::kOk) return;
        }
        found->ok = found->text.find("#EXT-X-STREAM-INF:") == std::string::npos;
      },
      [server, found] {
        if (found->ok) expect_first_segment(*server, found->uri, found->text);
      });
}

}  // namespace tws
