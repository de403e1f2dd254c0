// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playback/player_page.h"

#include <gio/gio.h>

#include "common/gref.h"
#include "service/http/http_errors.h"

#if TWS_HAVE_PLAYER
extern "C" GResource* tws_player_get_resource(void);
#endif

namespace tws {
namespace {

struct PlayerFile {
  const char* path;      // request path
  const char* resource;  // name in the GResource
  const char* content_type;
  const char* cache_control;
};

// The page itself is never cached (a new build may change it); the scripts for an hour.
constexpr PlayerFile kFiles[] = {
    {"/player", "/tws/player/player.html", "text/html; charset=utf-8", "no-cache"},
    {"/player/", "/tws/player/player.html", "text/html; charset=utf-8", "no-cache"},
    {"/player/player.js", "/tws/player/player.js", "text/javascript; charset=utf-8",
     "public, max-age=3600"},
    {"/player/hls.min.js", "/tws/player/hls.min.js", "text/javascript; charset=utf-8",
     "public, max-age=3600"},
};

}  // namespace

bool player_page_built() { return TWS_HAVE_PLAYER != 0; }

// The file's bytes from the resource compiled into this build, or null.
static GBytes* player_file(const char* name) {
#if TWS_HAVE_PLAYER
  return g_resource_lookup_data(tws_player_get_resource(), name, G_RESOURCE_LOOKUP_FLAGS_NONE,
                                nullptr);
#else
  (void)name;
  return nullptr;
#endif
}

std::string player_src(SoupServerMessage* msg) {
  const char* query = g_uri_get_query(soup_server_message_get_uri(msg));
  if (!query) return "";
  GUnique<GHashTable> params(g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, nullptr));
  if (!params) return "";
  const auto* src = static_cast<const char*>(g_hash_table_lookup(params.get(), "src"));
  return src ? src : "";
}

void handle_player(SoupServerMessage* msg, const std::string& path) {
  const std::string method = soup_server_message_get_method(msg);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  if (method != "GET" && method != "HEAD") {
    soup_message_headers_replace(h, "Allow", "GET, HEAD");
    return send_json(msg, 405,
                     "{\"Code\":\"MethodNotAllowed\",\"Message\":\"use GET or HEAD\","
                     "\"RequestId\":\"" +
                         new_request_id() + "\"}\n");
  }
  if (!player_page_built())
    return send_error(msg, ErrorCode::kNotFound,
                      "this tws was built without the player page (hls.js was not installed: "
                      "run scripts/install-deps.sh, then build again)");
  for (const PlayerFile& file : kFiles) {
    if (path != file.path) continue;
    GUnique<GBytes> bytes(player_file(file.resource));
    if (!bytes) break;
    gsize size = 0;
    // Compiled-in resource data lives as long as the program: no copy.
    const auto* data = static_cast<const char*>(g_bytes_get_data(bytes.get(), &size));
    soup_message_headers_replace(h, "Cache-Control", file.cache_control);
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    soup_server_message_set_response(msg, file.content_type, SOUP_MEMORY_STATIC, data, size);
    return;
  }
  send_error(msg, ErrorCode::kNotFound, "no such file " + path);
}

}  // namespace tws
