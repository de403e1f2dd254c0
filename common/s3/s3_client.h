// SPDX-License-Identifier: LGPL-2.1-or-later
// A small synchronous S3 client on libsoup 3: HEAD, ranged GET, PUT, DELETE and
// ListObjectsV2, signed with Signature V4 (header auth, payload hash signed).
//
// Threads: every call runs on the calling thread with a SoupSession owned by that thread
// (thread_local), never on the HTTP server's main context; an S3Client may be shared by
// threads. Path-style URLs (ENDPOINT/BUCKET/KEY) unless virtual_hosted (BUCKET.HOST/KEY).
// Requests are tried up to max_tries times with exponential backoff on 5xx answers,
// connection errors and timeouts; 404 / 401 / 403 are final and carry the store's error
// Code from the XML body.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/s3/sigv4.h"

namespace tws::s3 {

struct Target {
  std::string endpoint;  // "http://127.0.0.1:9000" or "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string bucket;  // the remote bucket
  Credentials creds;
  bool virtual_hosted = false;
};

enum class Result {
  kOk,
  kNotFound,     // 404
  kDenied,       // 401 / 403
  kError,        // the store answered an error (other 4xx, 5xx after the last try)
  kUnavailable,  // the store could not be reached (connection, timeout) after the last try
  kCancelled,
};

struct Error {
  Result result = Result::kOk;
  int http_status = 0;
  std::string code;     // the store's <Code> ("NoSuchKey", "AccessDenied") or the HTTP reason
  std::string message;  // one line for users: "S3 GET videos/a.mp4: 404 NoSuchKey: ..."
};

struct HeadInfo {
  uint64_t size = 0;
  std::string etag;  // as sent, quotes included
  std::string last_modified;
};

class Client {
 public:
  explicit Client(Target target);

  Result head(const std::string& key, HeadInfo* info, Error* error,
              GCancellable* cancel = nullptr) const;
  Result get(const std::string& key, std::string* data, Error* error,
             GCancellable* cancel = nullptr) const;
  // Up to `length` bytes at `offset` into *data (short only at the end of the object).
  Result get_range(const std::string& key, uint64_t offset, uint64_t length, std::string* data,
                   Error* error, GCancellable* cancel = nullptr) const;
  Result put(const std::string& key, const std::string& data, Error* error,
             GCancellable* cancel = nullptr) const;
  Result remove(const std::string& key, Error* error, GCancellable* cancel = nullptr) const;
  // Every key starting with `prefix` (all pages), in the store's order (sorted).
  Result list(const std::string& prefix, std::vector<std::string>* keys, Error* error,
              GCancellable* cancel = nullptr) const;

  const Target& target() const { return target_; }
  int max_tries = 3;
  unsigned backoff_ms = 200;  // doubled after each failed try
  unsigned timeout_s = 30;

  struct Response;  // internal

 private:
  Result request(const char* method, const std::string& key, const Params& query,
                 const Params& headers, const std::string* body, Response* response, Error* error,
                 GCancellable* cancel) const;

  Target target_;
  std::string scheme_, host_, base_path_;
  int port_ = -1;
};

// Plain HTTP(S) without signing, with the same per-thread session and retries: rangesrc's
// http(s):// backend. HEAD gives size and ETag (or Last-Modified); a ranged GET as above.
Result http_head(const std::string& url, HeadInfo* info, Error* error,
                 GCancellable* cancel = nullptr);
Result http_get_range(const std::string& url, uint64_t offset, uint64_t length, std::string* data,
                      Error* error, GCancellable* cancel = nullptr);

// Text between <tag> and </tag> of each element `tag` in `xml`, XML entities decoded.
std::vector<std::string> xml_elements(const std::string& xml, const std::string& tag);

}  // namespace tws::s3
