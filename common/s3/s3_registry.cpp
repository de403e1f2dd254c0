// SPDX-License-Identifier: LGPL-2.1-or-later
#include "common/s3/s3_registry.h"

#include <glib.h>

#include <map>
#include <mutex>

#include "common/gref.h"

namespace tws::s3 {
namespace {

std::mutex g_mutex;
std::map<std::pair<std::string, std::string>, Credentials>& registry() {
  static auto* r = new std::map<std::pair<std::string, std::string>, Credentials>();
  return *r;
}

std::string normalize_endpoint(std::string e) {
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

bool unescape(const std::string& s, std::string* out) {
  GUnique<gchar> u(g_uri_unescape_string(s.c_str(), nullptr));
  if (!u) return false;
  *out = u.get();
  return true;
}

}  // namespace

std::string make_location(const Location& loc) {
  std::string out = "s3://" + loc.bucket + "/" + uri_encode(loc.key, false);
  Params q;
  if (!loc.endpoint.empty()) q.emplace_back("endpoint", loc.endpoint);
  if (!loc.region.empty()) q.emplace_back("region", loc.region);
  if (!q.empty()) out += "?" + canonical_query(q);
  return out;
}

bool parse_location(const std::string& uri, Location* loc, std::string* error) {
  if (g_ascii_strncasecmp(uri.c_str(), "s3://", 5) != 0) {
    *error = "not an s3:// location: " + uri;
    return false;
  }
  std::string rest = uri.substr(5);
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= rest.size()) {
    *error = "an s3:// location needs a bucket and a key: " + uri;
    return false;
  }
  *loc = Location{};
  loc->bucket = rest.substr(0, slash);
  if (!unescape(rest.substr(slash + 1), &loc->key) || loc->key.empty()) {
    *error = "invalid key in " + uri;
    return false;
  }
  GUnique<gchar*> parts(g_strsplit(query.c_str(), "&", -1));
  for (gchar** p = parts.get(); p && *p; ++p) {
    if (!**p) continue;
    std::string item = *p;
    size_t eq = item.find('=');
    std::string name = item.substr(0, eq), value;
    if (eq != std::string::npos && !unescape(item.substr(eq + 1), &value)) {
      *error = "invalid query in " + uri;
      return false;
    }
    if (name == "endpoint")
      loc->endpoint = value;
    else if (name == "region")
      loc->region = value;
  }
  return true;
}

void register_credentials(const std::string& endpoint, const std::string& bucket,
                          const Credentials& creds) {
  std::lock_guard<std::mutex> lock(g_mutex);
  registry()[{normalize_endpoint(endpoint), bucket}] = creds;
}

bool lookup_credentials(const std::string& endpoint, const std::string& bucket,
                        Credentials* creds) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = registry().find({normalize_endpoint(endpoint), bucket});
  if (it == registry().end()) return false;
  *creds = it->second;
  return true;
}

Target resolve_target(const Location& loc, const Overrides& o) {
  auto env = [](const char* name) {
    const char* v = g_getenv(name);
    return std::string(v ? v : "");
  };
  Target t;
  t.bucket = loc.bucket;
  t.endpoint = !o.endpoint.empty()     ? o.endpoint
               : !loc.endpoint.empty() ? loc.endpoint
                                       : env("AWS_ENDPOINT_URL");
  t.region = !o.region.empty() ? o.region : !loc.region.empty() ? loc.region : env("AWS_REGION");
  if (t.region.empty()) t.region = "us-east-1";
  if (t.endpoint.empty()) t.endpoint = "https://s3." + t.region + ".amazonaws.com";
  if (!o.access_key_id.empty()) {
    t.creds = {o.access_key_id, o.secret_access_key};
  } else if (!lookup_credentials(t.endpoint, t.bucket, &t.creds)) {
    t.creds = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")};
  }
  return t;
}

}  // namespace tws::s3
