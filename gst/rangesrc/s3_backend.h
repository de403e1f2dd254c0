// SPDX-License-Identifier: LGPL-2.1-or-later
// RangeBackend for S3 objects: open() is a HEAD (size, ETag as identity), read() one ranged
// GET. The location is s3://REMOTE-BUCKET/KEY[?endpoint=URL&region=REGION] (the key
// percent-encoded, common/s3/s3_registry.h). Endpoint, region and keys come from, first to
// last: the element's properties (RangeBackendOptions), the location's query, the
// process-wide credential registry the service fills (by endpoint + bucket), the
// environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
#pragma once

#include <gio/gio.h>

#include <memory>
#include <string>

#include "common/gref.h"
#include "common/s3/s3_client.h"
#include "range_backend.h"

namespace tws {

class S3Backend final : public RangeBackend {
 public:
  // options: user agent, timeout and retries of every request.
  S3Backend(s3::Target target, std::string key, std::string location,
            const RangeBackendOptions& options);

  bool open(ObjectInfo* info, BackendError* error) override;
  gssize read(guint64 offset, gsize length, guint8* dest, BackendError* error) override;
  void cancel() override;
  void reset_cancel() override;
  const std::string& location() const override { return location_; }

 private:
  void set_error(const s3::Error& e, BackendError* error) const;

  s3::Client client_;
  std::string key_;
  std::string location_;
  GRef<GCancellable> cancellable_;
  guint64 size_ = 0;
};

// RangeBackend for http:// and https:// resources (read-only): open() is a HEAD (size from
// Content-Length, identity the ETag, else Last-Modified; "Accept-Ranges: bytes" tells
// whether ranges are served). With ranges, read() is one GET with Range. Without (or when a
// ranged GET is answered 200 with the whole object), reads come from one streaming GET read
// as it arrives: a read ahead of its position up to kMaxSkip skips the bytes between, only a
// read behind it or further ahead opens a new GET (from the start, the server ignoring
// Range). seekable() is false then, and rangesrc reads the object once, in push mode.
class HttpBackend final : public RangeBackend {
 public:
  static constexpr guint64 kMaxSkip = 4 * 1024 * 1024;

  HttpBackend(std::string url, const RangeBackendOptions& options);
  ~HttpBackend() override;

  bool open(ObjectInfo* info, BackendError* error) override;
  gssize read(guint64 offset, gsize length, guint8* dest, BackendError* error) override;
  void cancel() override;
  void reset_cancel() override;
  bool seekable() const override { return ranges_; }
  const std::string& location() const override { return url_; }

 private:
  // Reads from body_, opening a GET first unless body_ can reach `offset` by skipping.
  gssize read_stream(guint64 offset, gsize length, guint8* dest, s3::Error* e);
  void close_body(bool read_whole);

  std::string url_;
  s3::HttpOptions options_;
  GRef<GCancellable> cancellable_;
  guint64 size_ = 0;
  bool ranges_ = false;  // the server serves byte ranges
  s3::HttpBody body_;    // the streaming GET of a server without ranges; empty when none
};

// HEAD requests made by the S3 and http(s) backends' open() in this process (whether they
// succeeded or not). Their GETs are counted by the block cache they all read through
// (BlockCacheStats::backend_requests / backend_bytes, one per read() call; an HTTP server
// without ranges serves several reads from one GET, so there it counts reads), so together
// these are every request rangesrc makes to a store, each counted once: the service adds
// both to tws_storage_requests_total{op="head"|"get"} and tws_storage_bytes_total{dir="in"}.
guint64 remote_head_requests();

// An S3Backend for an s3:// location; nullptr with *error (kNotFound) when it is malformed
// or no endpoint is known.
std::unique_ptr<RangeBackend> make_s3_backend(const std::string& location,
                                              const RangeBackendOptions& options,
                                              BackendError* error);

}  // namespace tws
