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
  S3Backend(s3::Target target, std::string key, std::string location);

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
// Content-Length, identity the ETag, else Last-Modified), read() one GET with Range. A
// server that ignores Range is still read correctly (the part is cut from the whole body),
// only slowly.
class HttpBackend final : public RangeBackend {
 public:
  explicit HttpBackend(std::string url);

  bool open(ObjectInfo* info, BackendError* error) override;
  gssize read(guint64 offset, gsize length, guint8* dest, BackendError* error) override;
  void cancel() override;
  void reset_cancel() override;
  const std::string& location() const override { return url_; }

 private:
  std::string url_;
  GRef<GCancellable> cancellable_;
  guint64 size_ = 0;
};

// HEAD requests made by the S3 and http(s) backends' open() in this process (whether they
// succeeded or not). Their GETs are counted by the block cache they all read through
// (BlockCacheStats::backend_requests / backend_bytes, one per read() call), so together
// these are every request rangesrc makes to a store, each counted once: the service adds
// both to tws_storage_requests_total{op="head"|"get"} and tws_storage_bytes_total{dir="in"}.
guint64 remote_head_requests();

// An S3Backend for an s3:// location; nullptr with *error (kNotFound) when it is malformed
// or no endpoint is known.
std::unique_ptr<RangeBackend> make_s3_backend(const std::string& location,
                                              const RangeBackendOptions& options,
                                              BackendError* error);

}  // namespace tws
