// SPDX-License-Identifier: LGPL-2.1-or-later
// The tws configuration: a GLib key file (API.md "Config"). Loaded once per process; plain data
// afterwards, so every layer can read it without locks.
#pragma once

#include <string>
#include <vector>

namespace tws {

struct BucketConfig {
  std::string name;  // the tws bucket name: the first path segment of its HTTP paths
  // A local directory bucket: `path` (absolute after loading). Else an S3-compatible one.
  std::string path;
  bool is_s3() const { return path.empty(); }
  std::string endpoint, region, remote_name, access_key_id, secret_access_key;
};

// A tws bucket name (a config section, the first segment of HTTP paths): 1-63 letters,
// digits, '-', '_', '.', not "." or "..".
bool valid_bucket_name(const std::string& name);

struct SigningKey {
  std::string id;      // KeyId
  std::string secret;  // the HMAC key: the bytes of the configured string
};

// [server] limits on client connections (the HTTP listener enforces them).
struct ConnectionLimits {
  int keepalive_timeout = 60;  // seconds an idle keep-alive connection is kept open
  int request_timeout = 30;    // seconds from a request's first byte to its last body byte
  int max_connections = 4096;  // open connections in all (lowered to fit the descriptor limit)
  int max_per_client = 512;    // open connections per client address; 0: no cap
};

struct Config {
  std::string file;  // the file it was loaded from (absolute)
  std::string listen = "127.0.0.1:8080";
  std::string public_url = "http://127.0.0.1:8080";  // no trailing '/'
  int workers = 2;
  // [server] stall-timeout: seconds a transcode may go without progress before it is torn down
  // (a client waiting gets 504 TranscodeTimeout).
  int stall_timeout = 60;
  // [server] queue-limit: runs of segments waiting for a worker; a request beyond it (after
  // background work was pushed out) is answered 503 with Retry-After.
  int queue_limit = 256;
  // [server] warmup-url: a cluster's balancer (no trailing '/'). When set, read-ahead is a
  // signed warm-up GET through it (the node owning the segment by the hash makes it); empty:
  // read-ahead transcodes locally.
  std::string warmup_url;
  ConnectionLimits connections;
  // [server] worker-memory: MiB of address space a media worker may use; a job past it fails.
  int worker_memory_mb = 4096;
  std::vector<BucketConfig> buckets;
  std::vector<SigningKey> keys;  // new URLs are signed with the first
  std::vector<std::string> api_tokens;
  std::string preset = "veryfast";

  const BucketConfig* find_bucket(const std::string& name) const;
  const SigningKey* find_key(const std::string& id) const;
};

// Parses key-file text. `dir` is the directory relative bucket paths resolve against.
bool parse_config(const std::string& text, const std::string& dir, Config* config,
                  std::string* error);

// Loads FILE.
bool load_config(const std::string& file, Config* config, std::string* error);

// The default location, ./data/tws.conf; created on first use (with ./data/media) from
// default_config_text().
constexpr const char* kDefaultConfigFile = "data/tws.conf";
bool load_default_config(Config* config, std::string* error);

// The embedded default with a fresh random signing key and API token.
std::string default_config_text();

}  // namespace tws
