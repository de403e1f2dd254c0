// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playback/playback.h"

#include <glib.h>

#include <cmath>
#include <functional>
#include <memory>

#include "common/gref.h"
#include "service/core/metrics.h"
#include "service/core/storage_threads.h"
#include "service/http/access_log.h"
#include "service/http/http_errors.h"
#include "service/http/http_range.h"
#include "service/playback/master_bandwidth.h"
#include "service/playback/playback_path.h"
#include "service/playback/segment_stream.h"
#include "service/playlist/playlist_file.h"
#include "service/playlist/playlist_signing.h"
#include "service/playlist/signer.h"
#include "service/storage/open_storage.h"
#include "service/transcode/storyboard_files.h"
#include "service/transcode/subtitle_segments.h"

namespace tws {
namespace {

struct QueryParams {
  std::string expires, key_id, signature;
  std::string seek;  // t: a segment request's seek hint (seconds on the playlist's timeline)
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
  q.seek = get("t");
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
  // A Range tws does not serve (several ranges, or malformed) gets the whole object: libsoup
  // would otherwise answer it itself, building a multipart reply in memory.
  soup_message_headers_remove(req, "Range");
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_message_body_append_bytes(body, data);
}

// What a playback request read from storage, off the main loop for a remote bucket.
struct StoredRead {
  bool bucket_ok = false;
  Failure bucket_failure;  // the bucket could not be opened
  StorageStatus status = StorageStatus::kNotFound;
  StorageError error;  // of a failed status
  ObjectStat stat;
};

// Answers a failed StoredRead (the bucket, a storage error or, unless `missing_ok`, 404);
// true when it did.
bool answer_read_failure(SoupServerMessage* msg, const StoredRead& read, const ObjectUri& uri,
                         bool missing_ok) {
  if (!read.bucket_ok) {
    send_failure(msg, read.bucket_failure);
    return true;
  }
  if (storage_failed(read.status)) {
    send_storage_error(msg, read.error);
    return true;
  }
  if (read.status == StorageStatus::kNotFound && !missing_ok) {
    send_error(msg, ErrorCode::kNotFound, "no such object " + uri.to_string());
    return true;
  }
  return false;
}

bool remote_bucket(const Config& config, const std::string& bucket) {
  const BucketConfig* b = config.find_bucket(bucket);
  return b && b->is_s3();
}

// Runs `read` (storage requests), then `done` on the main loop. For a local bucket both run
// now: its reads are page-cache reads, cheaper than a hop to another thread. For a remote one
// (`remote`) `read` runs on a storage thread (storage_threads.h), so a slow store holds up
// only what needs it.
void read_then(ServerContext& ctx, bool remote, std::function<void()> read,
               std::function<void()> done) {
  if (!remote) {
    read();
    done();
    return;
  }
  run_on_storage_thread(ctx.context, std::move(read), std::move(done));
}

// read_then() for a request: the message waits paused while a remote bucket is read.
// `answer` returns false when it handed the message on (a SegmentStream resumes it), true when
// the response is complete.
void read_then_answer(ServerContext& ctx, SoupServerMessage* msg, const std::string& bucket,
                      std::function<void()> read, std::function<bool(SoupServerMessage*)> answer) {
  const bool remote = remote_bucket(ctx.config, bucket);
  GRef<SoupServerMessage> held = add_ref(msg);
  if (remote) soup_server_message_pause(msg);
  read_then(ctx, remote, std::move(read), [held, remote, answer = std::move(answer)] {
    if (message_finished(held.get())) return;
    if (answer(held.get()) && remote) soup_server_message_unpause(held.get());
  });
}

// Starts segment 0 of a stored media playlist (read-ahead priority), as its player will ask
// for it next.
void expect_first_segment(ServerContext& ctx, const std::shared_ptr<StoredPlaylist>& playlist) {
  if (!playlist->record.has_subtitle) ctx.transcoder->expect(playlist, 0);
}

// The stored media playlist `text` (at `uri`) parsed, or nullptr.
std::shared_ptr<StoredPlaylist> parsed_playlist(const ObjectUri& uri, const std::string& text) {
  auto playlist = std::make_shared<StoredPlaylist>();
  Failure ignored;
  return parse_stored_playlist(uri, text, playlist.get(), &ignored) ? playlist : nullptr;
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

// A media playlist with video names its storyboard in a comment line after #EXTM3U (players
// ignore it; the player page reads it): "#TWS-STORYBOARD:" and the signed reference.
std::string with_storyboard_line(const std::string& served, const ObjectUri& uri,
                                 const StoredPlaylist& playlist, const SigningKey& key,
                                 int64_t expires) {
  if (!has_storyboard(playlist.record)) return served;
  std::string name = storyboard_vtt_key(playlist.prefix_key, playlist.record.token);
  if (const auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
  const auto first_line = served.find('\n');
  if (first_line == std::string::npos) return served;
  return served.substr(0, first_line + 1) + kStoryboardTag +
         sign_playlist_reference(uri, name, key, expires) + "\n" + served.substr(first_line + 1);
}

void serve_playlist(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri,
                    const SigningKey& key, int64_t expires) {
  struct Read : StoredRead {
    std::string text;
    bool master = false;
  };
  auto read = std::make_shared<Read>();
  const Config* config = &ctx.config;
  ServerContext* server = &ctx;
  read_then_answer(
      ctx, msg, uri.bucket,
      [config, uri, read] {
        auto storage = open_bucket(*config, uri.bucket, &read->bucket_failure);
        if (!(read->bucket_ok = storage != nullptr)) return;
        read->status = storage->stat(uri.key, &read->stat, &read->error);
        if (read->status == StorageStatus::kOk)
          read->status = storage->get(uri.key, &read->text, &read->error);
        if (read->status != StorageStatus::kOk) return;
        read->master = read->text.find("#EXT-X-STREAM-INF:") != std::string::npos;
        if (read->master) read->text = refine_master_bandwidth(*config, uri, read->text);
      },
      [server, uri, key, expires, read](SoupServerMessage* msg) {
        if (answer_read_failure(msg, *read, uri, false)) return true;
        std::string body = signed_playlist_text(read->text, uri, key, expires);
        // A player starts at the first segment: start making it while the player reads this.
        if (auto media = read->master ? nullptr : parsed_playlist(uri, read->text)) {
          expect_first_segment(*server, media);
          body = with_storyboard_line(body, uri, *media, key, expires);
        }
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                                     "no-cache");
        soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
        soup_server_message_set_response(msg, "application/vnd.apple.mpegurl", SOUP_MEMORY_COPY,
                                         body.data(), body.size());
        return true;
      });
}

// The target of a segment key, when it is a segment of a stored tws playlist.
Transcoder::PlaylistPtr segment_playlist(const Config& config, const ObjectUri& uri, int* index,
                                         Failure* failure) {
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

// A stored segment, or the playlist it belongs to when it is not stored.
struct SegmentRead : StoredRead {
  GUnique<GBytes> data;
  Transcoder::PlaylistPtr playlist;  // for read-ahead, or to make the segment
  int index = 0;
  Failure failure;  // why there is no playlist
};

// The storage side of a segment request: the stored segment (only its stat when
// `stat_only`), and the playlist it belongs to when it is not stored (to make it) or, with
// `playlist_if_stored`, when it is (for read-ahead).
void read_segment(const Config& config, const ObjectUri& uri, bool stat_only,
                  bool playlist_if_stored, SegmentRead* read) {
  auto storage = open_bucket(config, uri.bucket, &read->bucket_failure);
  if (!(read->bucket_ok = storage != nullptr)) return;
  read->status = stat_only ? storage->stat(uri.key, &read->stat, &read->error)
                           : storage->get_bytes(uri.key, &read->data, &read->stat, &read->error);
  if (storage_failed(read->status)) return;
  if (read->status == StorageStatus::kOk && !playlist_if_stored) return;
  read->playlist = segment_playlist(config, uri, &read->index, &read->failure);
}

// A segment request's seek hint `t`: seconds, a plain non-negative decimal number; -1 when
// absent or anything else (query parameters besides the signature are never an error).
double seek_hint(const std::string& text) {
  if (text.empty() || text.size() > 32 ||
      text.find_first_not_of("0123456789.") != std::string::npos)
    return -1;
  char* end = nullptr;
  const double t = g_ascii_strtod(text.c_str(), &end);
  return end && !*end && std::isfinite(t) && t <= 1e7 ? t : -1;
}

void serve_segment(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri, double hint) {
  const bool head = std::string(soup_server_message_get_method(msg)) == "HEAD";
  // A cluster node's read-ahead (Transcoder::read_ahead, [server] warmup-url): answered at
  // once without a body; a missing segment is queued here at read-ahead priority.
  const bool warmup = !head && soup_message_headers_get_one(
                                   soup_server_message_get_request_headers(msg), "X-Tws-Warmup");
  auto read = std::make_shared<SegmentRead>();
  const Config* config = &ctx.config;
  ServerContext* server = &ctx;
  read_then_answer(
      ctx, msg, uri.bucket,
      [config, uri, head, warmup, read] {
        read_segment(*config, uri, warmup, !head && !warmup, read.get());
      },
      [server, uri, head, warmup, read, hint](SoupServerMessage* msg) {
        if (answer_read_failure(msg, *read, uri, true)) return true;
        Transcoder& transcoder = *server->transcoder;
        if (read->status == StorageStatus::kOk) {
          if (warmup) {
            soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
            return true;
          }
          // A draft (made for a seek hint) is replaced by its remake: caches ask again.
          const bool draft = read->playlist && transcoder.draft(*read->playlist, read->index);
          send_object(msg, read->data.get(), read->stat, "video/mp2t",
                      draft ? kRevalidate : kImmutable);
          if (!head) Metrics::global().segment_served_from_storage();
          if (read->playlist) transcoder.note_stored(*read->playlist, read->index, true);
          if (read->playlist && !head) transcoder.read_ahead(read->playlist, read->index);
          return true;
        }
        if (!read->playlist) {
          send_failure(msg, read->failure);
          return true;
        }
        if (warmup) {
          transcoder.warm(read->playlist, read->index);
          soup_server_message_set_status(msg, SOUP_STATUS_ACCEPTED, nullptr);
          return true;
        }
        if (head) {  // a HEAD does not start a transcode
          SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
          soup_message_headers_replace(h, "Cache-Control", kImmutable);
          soup_message_headers_replace(h, "Content-Type", "video/mp2t");
          soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
          return true;
        }
        if (!SegmentStream::start(msg, &transcoder, read->playlist, read->index, hint)) {
          send_error(msg, ErrorCode::kServiceUnavailable, "too many transcodes waiting; retry");
          return true;
        }
        transcoder.read_ahead(read->playlist, read->index);
        return false;  // the stream resumes the message as bytes come
      });
}

// Makes WebVTT segment `index` of a subtitle rendition off the main loop, stores it and
// answers with it; true when it answered at once (a HEAD), false when the message waits
// paused for the text.
bool make_subtitles(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri,
                    const Transcoder::PlaylistPtr& playlist, int index) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  if (std::string(soup_server_message_get_method(msg)) == "HEAD") {
    soup_message_headers_replace(h, "Cache-Control", kImmutable);
    soup_message_headers_replace(h, "Content-Type", "text/vtt");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    return true;
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
  run_on_storage_thread(
      ctx.context,
      [config, playlist, index, uri, made] {
        made->ok = subtitle_segment_text(*config, *playlist, index, &made->text, &made->failure);
        if (!made->ok) return;
        // Stored so that the next viewer gets it from storage; a failed put only costs that.
        StorageError why;
        Failure ignored;
        if (auto out = open_bucket(*config, uri.bucket, &ignored))
          (void)out->put(uri.key, made->text, &why);
        made->stat.size = made->text.size();
        made->stat.identity = "made:" + playlist->record.token + "/" + std::to_string(index);
      },
      [held, made] {
        if (message_finished(held.get())) return;
        if (made->ok) {
          GUnique<GBytes> text(g_bytes_new(made->text.data(), made->text.size()));
          send_object(held.get(), text.get(), made->stat, "text/vtt", kImmutable);
        } else
          send_failure(held.get(), made->failure);
        soup_server_message_unpause(held.get());
      });
  return false;
}

// A WebVTT segment of a subtitle rendition: from storage, else made now (off the main loop:
// a stream inside the source is read with GStreamer), stored, then served. Other .vtt objects
// (a SourceSubtitles file) are served as stored.
void serve_subtitles(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri) {
  auto read = std::make_shared<SegmentRead>();
  const Config* config = &ctx.config;
  ServerContext* server = &ctx;
  read_then_answer(
      ctx, msg, uri.bucket,
      [config, uri, read] { read_segment(*config, uri, false, false, read.get()); },
      [server, uri, read](SoupServerMessage* msg) {
        if (answer_read_failure(msg, *read, uri, true)) return true;
        SegmentName name;
        const bool segment = parse_segment_key(uri.key, &name);
        if (read->status == StorageStatus::kOk) {
          send_object(msg, read->data.get(), read->stat, "text/vtt",
                      segment ? kImmutable : "public, max-age=3600");
          return true;
        }
        if (!read->playlist) {
          send_failure(msg, read->failure);
          return true;
        }
        return make_subtitles(*server, msg, uri, read->playlist, read->index);
      });
}

// The WebVTT storyboard as served: each sprite reference ("NAME.jpg#xywh=...") signed for its
// own path with the storyboard URL's Expires and KeyId, as a playlist's URIs are.
std::string signed_storyboard_text(const std::string& text, const ObjectUri& vtt,
                                   const SigningKey& key, int64_t expires) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    const auto hash = line.find("#xywh=");
    if (hash != std::string::npos && line.find("-->") == std::string::npos)
      out += sign_playlist_reference(vtt, line.substr(0, hash), key, expires) + line.substr(hash);
    else
      out += line;
    if (end < text.size()) out += '\n';
    pos = end + 1;
  }
  return out;
}

// The playlist a storyboard object belongs to, when it is one of a stored tws playlist with
// video.
std::shared_ptr<StoredPlaylist> storyboard_playlist(const Config& config, const ObjectUri& uri,
                                                    const StoryboardName& name, Failure* failure) {
  auto playlist = std::make_shared<StoredPlaylist>();
  const ObjectUri playlist_uri{uri.bucket, playlist_key_for_prefix(name.prefix_key)};
  if (!load_stored_playlist(config, playlist_uri, playlist.get(), failure)) {
    set_failure(failure, ErrorCode::kNotFound, failure->message);
    return nullptr;
  }
  if (playlist->record.token != name.token || !has_storyboard(playlist->record)) {
    set_failure(failure, ErrorCode::kNotFound,
                "no such storyboard " + uri.to_string() + " of " + playlist_uri.to_string());
    return nullptr;
  }
  return playlist;
}

struct StoryboardRead : StoredRead {
  GUnique<GBytes> data;
  std::shared_ptr<StoredPlaylist> playlist;  // to make it, when it is not stored
  Failure failure;                           // why there is no playlist
};

void send_storyboard_object(SoupServerMessage* msg, GBytes* data, const ObjectStat& stat,
                            const ObjectUri& uri, bool vtt, const SigningKey& key,
                            int64_t expires) {
  if (!vtt) return send_object(msg, data, stat, "image/jpeg", kImmutable);
  gsize size = 0;
  const auto* bytes = static_cast<const char*>(g_bytes_get_data(data, &size));
  const std::string body = signed_storyboard_text(std::string(bytes, size), uri, key, expires);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-cache");
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_server_message_set_response(msg, "text/vtt", SOUP_MEMORY_COPY, body.data(), body.size());
}

// A storyboard (its WebVTT or a sprite): from storage, else made now in a media worker (off the
// main loop), stored whole, then served. A HEAD never makes one.
void serve_storyboard(ServerContext& ctx, SoupServerMessage* msg, const ObjectUri& uri,
                      const StoryboardName& name, const SigningKey& key, int64_t expires) {
  const bool vtt = name.sprite < 0;
  auto read = std::make_shared<StoryboardRead>();
  const Config* config = &ctx.config;
  ServerContext* server = &ctx;
  read_then_answer(
      ctx, msg, uri.bucket,
      [config, uri, name, read] {
        auto storage = open_bucket(*config, uri.bucket, &read->bucket_failure);
        if (!(read->bucket_ok = storage != nullptr)) return;
        read->status = storage->get_bytes(uri.key, &read->data, &read->stat, &read->error);
        if (read->status != StorageStatus::kNotFound) return;
        read->playlist = storyboard_playlist(*config, uri, name, &read->failure);
      },
      [server, uri, vtt, key, expires, read](SoupServerMessage* msg) {
        if (answer_read_failure(msg, *read, uri, true)) return true;
        if (read->status == StorageStatus::kOk) {
          send_storyboard_object(msg, read->data.get(), read->stat, uri, vtt, key, expires);
          return true;
        }
        if (!read->playlist) {
          send_failure(msg, read->failure);
          return true;
        }
        if (std::string(soup_server_message_get_method(msg)) == "HEAD") {
          soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                       "Content-Type", vtt ? "text/vtt" : "image/jpeg");
          soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
          return true;
        }
        struct Made {
          GUnique<GBytes> data;
          ObjectStat stat;
          bool ok = false;
          Failure failure;
        };
        auto made = std::make_shared<Made>();
        GRef<SoupServerMessage> held = add_ref(msg);
        if (!remote_bucket(server->config, uri.bucket)) soup_server_message_pause(msg);
        const Config* config = &server->config;
        auto playlist = read->playlist;
        run_on_storage_thread(
            server->context,
            [config, playlist, uri, made] {
              std::string text;
              std::vector<std::string> stored;
              if (!make_storyboard_files(*config, *playlist, &text, &stored, &made->failure))
                return;
              auto storage = open_bucket(*config, uri.bucket, &made->failure);
              StorageError why;
              if (!storage || storage->get_bytes(uri.key, &made->data, &made->stat, &why) !=
                                  StorageStatus::kOk) {
                if (storage) storage_failure(&made->failure, why);
                return;
              }
              made->ok = true;
            },
            [held, made, uri, vtt, key, expires] {
              if (message_finished(held.get())) return;
              if (made->ok)
                send_storyboard_object(held.get(), made->data.get(), made->stat, uri, vtt, key,
                                       expires);
              else
                send_failure(held.get(), made->failure);
              soup_server_message_unpause(held.get());
            });
        return false;
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
                     "\"RequestId\":\"" +
                         new_request_id() + "\"}\n");
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
  if (g_str_has_suffix(uri.key.c_str(), ".ts"))
    return serve_segment(ctx, msg, uri, seek_hint(q.seek));
  StoryboardName storyboard;
  if (parse_storyboard_key(uri.key, &storyboard))
    return serve_storyboard(ctx, msg, uri, storyboard, *ctx.config.find_key(q.key_id),
                            g_ascii_strtoll(q.expires.c_str(), nullptr, 10));
  if (g_str_has_suffix(uri.key.c_str(), ".vtt")) return serve_subtitles(ctx, msg, uri);
  send_error(msg, ErrorCode::kInvalidURI,
             "only .m3u8, .ts, .vtt and storyboard .jpg objects are served");
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
  // The reads block on a remote bucket (a GET on S3): then they run on a storage thread, and
  // the transcoder is told on the main loop.
  struct Found {
    ObjectUri uri;
    std::string text;
    bool ok = false;
  };
  auto found = std::make_shared<Found>();
  found->uri = uri;
  const Config* config = &ctx.config;
  ServerContext* server = &ctx;
  read_then(
      ctx, remote_bucket(ctx.config, uri.bucket),
      [config, found] {
        Failure ignored;
        auto storage = open_bucket(*config, found->uri.bucket, &ignored);
        StorageError error;
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
        if (!found->ok) return;
        if (auto media = parsed_playlist(found->uri, found->text))
          expect_first_segment(*server, media);
      });
}

}  // namespace tws
