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
#include <libsoup/soup.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/gref.h"
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
  bool accept_ranges = false;  // "Accept-Ranges: bytes" was sent
};

// Per-request settings of a plain HTTP(S) call.
struct HttpOptions {
  std::string user_agent;   // empty: no User-Agent header
  unsigned timeout_s = 30;  // for connecting and for each read or write; 0 = none
  unsigned retries = 2;     // tries after the first on connection errors, timeouts, 5xx / 429
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
  unsigned timeout_s = 30;    // for connecting and for each read or write; 0 = none
  std::string user_agent;     // sent unsigned; empty: none

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
// http(s):// backend. HEAD gives size, ETag (or Last-Modified) and whether ranges are served.
Result http_head(const std::string& url, const HttpOptions& options, HeadInfo* info, Error* error,
                 GCancellable* cancel = nullptr);

// The body of a GET, read as it arrives (not downloaded whole first).
struct HttpBody {
  GRef<SoupMessage> msg;
  GRef<GInputStream> stream;
  uint64_t position = 0;  // object offset of the next byte the stream gives
  bool partial = false;   // 206: the server honoured the Range
};

// A streaming GET asking for [offset, offset + length) (length 0: to the end). A server that
// ignores Range answers 200 with the whole object: body->partial is false and
// body->position 0. Retries as the other calls, until the headers arrive.
Result http_open(const std::string& url, const HttpOptions& options, uint64_t offset,
                 uint64_t length, HttpBody* body, Error* error, GCancellable* cancel = nullptr);

// Reads exactly `length` bytes from the body (fewer only where it ends) into dest, or skips
// them when dest is null. Returns the bytes read, -1 with *error set on failure.
int64_t http_read(HttpBody* body, uint64_t length, uint8_t* dest, Error* error,
                  GCancellable* cancel = nullptr);

// Text between <tag> and </tag> of each element `tag` in `xml`, XML entities decoded.
std::vector<std::string> xml_elements(const std::string& xml, const std::string& tag);

}  // namespace tws::s3
