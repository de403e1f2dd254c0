// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/config.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common/gref.h"

namespace tws {
namespace {

const std::set<std::string> kReservedBuckets = {"v1", "healthz", "metrics", "player"};

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) g_error("getrandom failed: %s", g_strerror(errno));
    got += size_t(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

// Reads an optional string key; false with *error on a key-file error other than "missing".
std::string get_string(GKeyFile* kf, const char* group, const char* key, const std::string& def) {
  GUnique<gchar> v(g_key_file_get_string(kf, group, key, nullptr));
  if (!v) return def;
  return g_strstrip(v.get());
}

bool check_keys(GKeyFile* kf, const char* group, const std::set<std::string>& allowed,
                std::string* error) {
  GUnique<gchar*> keys(g_key_file_get_keys(kf, group, nullptr, nullptr));
  for (gchar** k = keys.get(); k && *k; ++k) {
    if (!allowed.count(*k)) {
      *error = std::string("[") + group + "]: unknown key \"" + *k + "\"";
      return false;
    }
  }
  return true;
}

bool parse_bucket(GKeyFile* kf, const char* group, const std::string& name, const std::string& dir,
                  Config* config, std::string* error) {
  const std::string where = std::string("[") + group + "]";
  if (!valid_bucket_name(name)) {
    *error = where + ": invalid bucket name (letters, digits, '-', '_', '.')";
    return false;
  }
  if (kReservedBuckets.count(name)) {
    *error = where + ": the bucket name \"" + name + "\" is reserved";
    return false;
  }
  if (config->find_bucket(name)) {
    *error = where + ": defined twice";
    return false;
  }
  if (!check_keys(kf, group,
                  {"path", "endpoint", "region", "name", "access-key-id", "secret-access-key"},
                  error))
    return false;
  BucketConfig b;
  b.name = name;
  const std::string path = get_string(kf, group, "path", "");
  b.endpoint = get_string(kf, group, "endpoint", "");
  if (path.empty() == b.endpoint.empty()) {
    *error = where + ": needs either path (a local directory) or endpoint (S3), not both";
    return false;
  }
  if (!path.empty()) {
    GUnique<gchar> abs(g_canonicalize_filename(path.c_str(), dir.c_str()));
    b.path = abs.get();
  } else {
    b.region = get_string(kf, group, "region", "us-east-1");
    b.remote_name = get_string(kf, group, "name", name);
    b.access_key_id = get_string(kf, group, "access-key-id", "");
    b.secret_access_key = get_string(kf, group, "secret-access-key", "");
  }
  config->buckets.push_back(std::move(b));
  return true;
}

bool parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port)
    if (!g_ascii_isdigit(c)) return false;
  return std::stoi(port) <= 65535;
}

// An integer key in [min, max]; absent: *value is left as it is.
bool get_int(GKeyFile* kf, const char* group, const char* key, int min, int max, const char* unit,
             int* value, std::string* error) {
  if (!g_key_file_has_key(kf, group, key, nullptr)) return true;
  const std::string text = get_string(kf, group, key, "");
  char* end = nullptr;
  const long v = strtol(text.c_str(), &end, 10);
  if (text.empty() || *end || v < min || v > max) {
    *error = std::string("[") + group + "] " + key + ": must be " + unit + " between " +
             std::to_string(min) + " and " + std::to_string(max);
    return false;
  }
  *value = int(v);
  return true;
}

bool write_new_file(const std::string& path, const std::string& text, std::string* error) {
  // Written to a temporary name and linked into place, so a concurrent first run never sees a
  // half-written file and never replaces one another process already created.
  std::string tmp = path + ".XXXXXX";
  int fd = g_mkstemp_full(tmp.data(), O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + path + ": " + g_strerror(errno);
    return false;
  }
  bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size()) && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (ok && link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    ok = false;
    saved = errno;
  }
  g_unlink(tmp.c_str());
  if (!ok) *error = "cannot write " + path + ": " + g_strerror(saved);
  return ok;
}

}  // namespace

bool valid_bucket_name(const std::string& name) {
  if (name.empty() || name.size() > 63 || name == "." || name == "..") return false;
  for (char c : name)
    if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

const BucketConfig* Config::find_bucket(const std::string& name) const {
  for (const auto& b : buckets)
    if (b.name == name) return &b;
  return nullptr;
}

const SigningKey* Config::find_key(const std::string& id) const {
  for (const auto& k : keys)
    if (k.id == id) return &k;
  return nullptr;
}

bool parse_config(const std::string& text, const std::string& dir, Config* config,
                  std::string* error) {
  *config = Config{};
  GUnique<GKeyFile> kf(g_key_file_new());
  g_key_file_set_list_separator(kf.get(), ';');
  GError* gerr = nullptr;
  if (!g_key_file_load_from_data(kf.get(), text.data(), text.size(), G_KEY_FILE_NONE, &gerr)) {
    *error = gerr->message;
    g_error_free(gerr);
    return false;
  }
  bool listen_given = false, public_url_given = false;
  GUnique<gchar*> groups(g_key_file_get_groups(kf.get(), nullptr));
  for (gchar** g = groups.get(); g && *g; ++g) {
    const std::string group = *g;
    const std::string where = "[" + group + "]";
    if (group == "server") {
      if (!check_keys(kf.get(), *g,
                      {"listen", "public-url", "workers", "warmup-url", "stall-timeout",
                       "queue-limit", "keepalive-timeout", "request-timeout", "max-connections",
                       "max-connections-per-client", "worker-memory"},
                      error))
        return false;
      listen_given = g_key_file_has_key(kf.get(), *g, "listen", nullptr);
      public_url_given = g_key_file_has_key(kf.get(), *g, "public-url", nullptr);
      config->listen = get_string(kf.get(), *g, "listen", config->listen);
      config->public_url = get_string(kf.get(), *g, "public-url", config->public_url);
      config->warmup_url = get_string(kf.get(), *g, "warmup-url", "");
      struct IntKey {
        const char* key;
        int* value;
        int min, max;
        const char* unit;  // "seconds" or "a number"
      };
      const IntKey ints[] = {
          {"workers", &config->workers, 1, 256, "a number"},
          {"stall-timeout", &config->stall_timeout, 1, 3600, "seconds"},
          {"queue-limit", &config->queue_limit, 1, 100000, "a number"},
          {"keepalive-timeout", &config->connections.keepalive_timeout, 1, 3600, "seconds"},
          {"request-timeout", &config->connections.request_timeout, 1, 3600, "seconds"},
          {"max-connections", &config->connections.max_connections, 1, 1000000, "a number"},
          {"max-connections-per-client", &config->connections.max_per_client, 0, 1000000,
           "a number"},
          {"worker-memory", &config->worker_memory_mb, 256, 1 << 20, "MiB"},
      };
      for (const IntKey& k : ints)
        if (!get_int(kf.get(), *g, k.key, k.min, k.max, k.unit, k.value, error)) return false;
    } else if (g_str_has_prefix(*g, "bucket ")) {
      if (!parse_bucket(kf.get(), *g, group.substr(7), dir, config, error)) return false;
    } else if (g_str_has_prefix(*g, "key ")) {
      if (!check_keys(kf.get(), *g, {"secret"}, error)) return false;
      SigningKey key{group.substr(4), get_string(kf.get(), *g, "secret", "")};
      if (key.id.empty() || key.secret.empty()) {
        *error = where + ": needs a name and a non-empty secret";
        return false;
      }
      if (config->find_key(key.id)) {
        *error = where + ": defined twice";
        return false;
      }
      config->keys.push_back(std::move(key));
    } else if (group == "api") {
      if (!check_keys(kf.get(), *g, {"tokens"}, error)) return false;
      GUnique<gchar*> tokens(g_key_file_get_string_list(kf.get(), *g, "tokens", nullptr, nullptr));
      for (gchar** t = tokens.get(); t && *t; ++t) {
        std::string token = g_strstrip(*t);
        if (!token.empty()) config->api_tokens.push_back(token);
      }
    } else if (group == "transcode") {
      if (!check_keys(kf.get(), *g, {"preset"}, error)) return false;
      config->preset = get_string(kf.get(), *g, "preset", config->preset);
      static const std::set<std::string> kPresets = {"ultrafast", "superfast", "veryfast", "faster",
                                                     "fast",      "medium",    "slow",     "slower",
                                                     "veryslow",  "placebo"};
      if (!kPresets.count(config->preset)) {
        *error = where + " preset: unknown x264/x265 preset \"" + config->preset + "\"";
        return false;
      }
    } else {
      *error = "unknown section " + where;
      return false;
    }
  }
  if (!parse_listen(config->listen)) {
    *error = "[server] listen: must be ADDR:PORT";
    return false;
  }
  if (listen_given && !public_url_given) config->public_url = "http://" + config->listen;
  while (!config->public_url.empty() && config->public_url.back() == '/')
    config->public_url.pop_back();
  if (!g_str_has_prefix(config->public_url.c_str(), "http://") &&
      !g_str_has_prefix(config->public_url.c_str(), "https://")) {
    *error = "[server] public-url: must start with http:// or https://";
    return false;
  }
  while (!config->warmup_url.empty() && config->warmup_url.back() == '/')
    config->warmup_url.pop_back();
  if (!config->warmup_url.empty() && !g_str_has_prefix(config->warmup_url.c_str(), "http://") &&
      !g_str_has_prefix(config->warmup_url.c_str(), "https://")) {
    *error = "[server] warmup-url: must start with http:// or https://";
    return false;
  }
  return true;
}

bool load_config(const std::string& file, Config* config, std::string* error) {
  gchar* contents = nullptr;
  gsize length = 0;
  GError* gerr = nullptr;
  if (!g_file_get_contents(file.c_str(), &contents, &length, &gerr)) {
    *error = std::string("cannot read config: ") + gerr->message;
    g_error_free(gerr);
    return false;
  }
  GUnique<gchar> owned(contents);
  GUnique<gchar> abs(g_canonicalize_filename(file.c_str(), nullptr));
  GUnique<gchar> dir(g_path_get_dirname(abs.get()));
  std::string why;
  if (!parse_config(std::string(contents, length), dir.get(), config, &why)) {
    *error = file + ": " + why;
    return false;
  }
  config->file = abs.get();
  return true;
}

bool load_default_config(Config* config, std::string* error) {
  if (!g_file_test(kDefaultConfigFile, G_FILE_TEST_EXISTS)) {
    if (g_mkdir_with_parents("data/media", 0755) != 0) {
      *error = std::string("cannot create ./data/media: ") + g_strerror(errno);
      return false;
    }
    if (!write_new_file(kDefaultConfigFile, default_config_text(), error)) return false;
  }
  return load_config(kDefaultConfigFile, config, error);
}

std::string default_config_text() {
  return "# tws configuration (GLib key file). Comments only on their own lines.\n"
         "# Relative paths resolve against the directory of this file.\n"
         "\n"
         "[server]\n"
         "listen = 127.0.0.1:8080\n"
         "# base of signed URLs\n"
         "public-url = http://127.0.0.1:8080\n"
         "# concurrent transcode pipelines\n"
         "workers = 2\n"
         "\n"
         "# a local directory bucket; \"media\" is relative to this file's directory,\n"
         "# so with ./data/tws.conf it is ./data/media\n"
         "[bucket media]\n"
         "path = media\n"
         "\n"
         "# signing keys: KeyId = the section's name; new URLs are signed with the first one\n"
         "[key dev]\n"
         "secret = " +
         random_hex(32) +
         "\n"
         "\n"
         "[api]\n"
         "# Authorization: Bearer <token> for /v1/*\n"
         "tokens = " +
         random_hex(16) +
         "\n"
         "\n"
         "[transcode]\n"
         "# x264/x265 speed preset\n"
         "preset = veryfast\n";
}

}  // namespace tws
