// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/api/api.h"

#include <json-glib/json-glib.h>

#include <memory>

#include "common/gref.h"
#include "service/api/generate.h"
#include "service/api/request.h"
#include "service/core/json_fields.h"
#include "service/core/json_text.h"
#include "service/core/storage_threads.h"
#include "service/http/access_log.h"
#include "service/http/auth.h"
#include "service/http/http_errors.h"
#include "service/playlist/playlist_file.h"
#include "service/playlist/signer.h"

namespace tws {
namespace {

std::string request_body(SoupServerMessage* msg) {
  SoupMessageBody* body = soup_server_message_get_request_body(msg);
  GUnique<GBytes> bytes(soup_message_body_flatten(body));
  gsize size = 0;
  const char* data = static_cast<const char*>(g_bytes_get_data(bytes.get(), &size));
  return std::string(data ? data : "", size);
}

struct GenerateResult {
  bool ok = false;
  std::string response;
  Failure failure;
  std::vector<std::pair<std::shared_ptr<const StoredPlaylist>, int>> pre_transcode;
};

void create_playlists(ServerContext& ctx, SoupServerMessage* msg, const std::string& body) {
  auto request = std::make_shared<PlaylistRequest>();
  Failure invalid;
  if (!parse_playlist_request(body, request.get(), &invalid)) return send_failure(msg, invalid);
  auto result = std::make_shared<GenerateResult>();
  GRef<SoupServerMessage> held = add_ref(msg);
  soup_server_message_pause(msg);
  const Config* config = &ctx.config;
  run_on_storage_thread(
      ctx.context,
      [config, request, result] {
        std::vector<ObjectUri> written;
        result->ok =
            generate_playlists(*config, *request, &result->response, &result->failure, &written);
        if (!result->ok) return;
        for (const ObjectUri& uri : written) {
          auto stored = std::make_shared<StoredPlaylist>();
          Failure ignored;
          if (!load_stored_playlist(*config, uri, stored.get(), &ignored) ||
              stored->record.has_subtitle)
            continue;
          const int n = initial_segment_count(stored->plan, stored->record.initial_transcode);
          if (n > 0) result->pre_transcode.emplace_back(stored, n);
        }
      },
      [&ctx, held, result] {
        for (const auto& [stored, n] : result->pre_transcode)
          ctx.transcoder->pre_transcode(stored, 0, n - 1);
        if (message_finished(held.get())) return;
        if (result->ok)
          send_json(held.get(), 200, result->response + "\n");
        else
          send_failure(held.get(), result->failure);
        soup_server_message_unpause(held.get());
      });
}

void sign(ServerContext& ctx, SoupServerMessage* msg, const std::string& body) {
  std::string error;
  JsonNodePtr root = json_from_text(body, &error);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root.get()))
    return send_error(msg, ErrorCode::kInvalidArgument,
                      "the body must be a JSON object" + (error.empty() ? "" : ": " + error));
  JsonObject* obj = json_node_get_object(root.get());
  if (!JsonFields(obj, "").no_other_members(&error, {"URI", "Expires"}))
    return send_error(msg, ErrorCode::kInvalidArgument, error);
  JsonNode* uri_node = json_object_get_member(obj, "URI");
  if (!uri_node || !JSON_NODE_HOLDS_VALUE(uri_node) ||
      json_node_get_value_type(uri_node) != G_TYPE_STRING)
    return send_error(msg, ErrorCode::kInvalidArgument, "URI: required, a string");
  int64_t seconds = kDefaultSignSeconds;
  if (JsonNode* e = json_object_get_member(obj, "Expires"); e && !JSON_NODE_HOLDS_NULL(e)) {
    const GType type = JSON_NODE_HOLDS_VALUE(e) ? json_node_get_value_type(e) : G_TYPE_INVALID;
    const bool integral = type == G_TYPE_INT64 ||
                          (type == G_TYPE_DOUBLE &&
                           json_node_get_double(e) == double(int64_t(json_node_get_double(e))));
    const int64_t v =
        type == G_TYPE_INT64 ? json_node_get_int(e) : int64_t(json_node_get_double(e));
    if (!integral || v < 1 || v > kMaxSignSeconds)
      return send_error(msg, ErrorCode::kInvalidArgument,
                        "Expires: must be seconds between 1 and 604800 (7 days)");
    seconds = v;
  }
  ObjectUri uri;
  if (!parse_object_uri(json_node_get_string(uri_node), &uri, &error))
    return send_error(msg, ErrorCode::kInvalidURI, "URI: " + error);
  if (!ctx.config.find_bucket(uri.bucket))
    return send_error(msg, ErrorCode::kUnknownBucket, "unknown bucket \"" + uri.bucket + "\"");
  std::string url;
  if (!signed_url(ctx.config, uri, g_get_real_time() / G_USEC_PER_SEC + seconds, &url, &error))
    return send_error(msg, ErrorCode::kInvalidArgument, error);
  GRef<JsonBuilder> b = adopt_ref(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "URL");
  json_builder_add_string_value(b.get(), url.c_str());
  json_builder_end_object(b.get());
  JsonNodePtr out(json_builder_get_root(b.get()));
  send_json(msg, 200, json_to_text(out.get(), false) + "\n");
}

}  // namespace

int initial_segment_count(const Plan& plan, double initial_transcode) {
  const int count = int(plan.segments.size());
  if (initial_transcode == 0) return 0;
  if (initial_transcode < 0 || initial_transcode >= plan.input.duration) return count;
  const double limit_ns = initial_transcode * 1e9;
  int n = 0;
  while (n < count && double(plan.segments[n].start_ns) < limit_ns - 0.5) ++n;
  return n;
}

void handle_api(ServerContext& ctx, SoupServerMessage* msg, const std::string& path) {
  SoupMessageHeaders* req = soup_server_message_get_request_headers(msg);
  if (!bearer_token_ok(ctx.config, soup_message_headers_get_one(req, "Authorization"))) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Bearer");
    return send_error(msg, ErrorCode::kUnauthorized,
                      "missing or wrong API token (Authorization: Bearer <token>)");
  }
  const bool known = path == "/v1/playlists" || path == "/v1/sign";
  if (!known) return send_error(msg, ErrorCode::kNotFound, "no such API " + path);
  if (std::string(soup_server_message_get_method(msg)) != "POST") {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "POST");
    return send_json(msg, 405,
                     "{\"Code\":\"MethodNotAllowed\",\"Message\":\"use POST\",\"RequestId\":\"" +
                         new_request_id() + "\"}\n");
  }
  if (size_t(soup_server_message_get_request_body(msg)->length) > kMaxRequestBody)
    return send_error(msg, ErrorCode::kPayloadTooLarge, "the body is larger than 1 MiB");
  const std::string body = request_body(msg);
  if (path == "/v1/playlists") return create_playlists(ctx, msg, body);
  sign(ctx, msg, body);
}

}  // namespace tws
