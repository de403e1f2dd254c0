// SPDX-License-Identifier: LGPL-2.1-or-later
#include "s3_backend.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/s3/s3_registry.h"

namespace tws {

S3Backend::S3Backend(s3::Target target, std::string key, std::string location)
    : client_(std::move(target)),
      key_(std::move(key)),
      location_(std::move(location)),
      cancellable_(adopt_ref(g_cancellable_new())) {}

void S3Backend::cancel() { g_cancellable_cancel(cancellable_.get()); }
void S3Backend::reset_cancel() { g_cancellable_reset(cancellable_.get()); }

namespace {

void set_backend_error(const std::string& what, const s3::Error& e, BackendError* error) {
  const guint status = e.http_status > 0 ? guint(e.http_status) : 0;
  switch (e.result) {
    case s3::Result::kNotFound:
      error->set(BackendErrorCode::kNotFound, "No such object: " + what, e.message, status);
      break;
    case s3::Result::kDenied:
      error->set(BackendErrorCode::kPermissionDenied, "Access denied: " + what, e.message, status);
      break;
    case s3::Result::kCancelled:
      error->set(BackendErrorCode::kCancelled, "Cancelled", e.message);
      break;
    default:
      error->set(BackendErrorCode::kIo, "Could not read " + what + ": " + e.message, e.message,
                 status);
      break;
  }
}

gssize copy_out(const std::string& data, gsize length, guint8* dest) {
  gsize n = std::min<gsize>(data.size(), length);
  memcpy(dest, data.data(), n);
  return static_cast<gssize>(n);
}

}  // namespace

void S3Backend::set_error(const s3::Error& e, BackendError* error) const {
  set_backend_error("s3://" + client_.target().bucket + "/" + key_, e, error);
}

HttpBackend::HttpBackend(std::string url)
    : url_(std::move(url)), cancellable_(adopt_ref(g_cancellable_new())) {}

void HttpBackend::cancel() { g_cancellable_cancel(cancellable_.get()); }
void HttpBackend::reset_cancel() { g_cancellable_reset(cancellable_.get()); }

namespace {
std::atomic<guint64> g_head_requests{0};
}  // namespace

guint64 remote_head_requests() { return g_head_requests.load(); }

bool HttpBackend::open(ObjectInfo* info, BackendError* error) {
  g_head_requests++;
  s3::HeadInfo head;
  s3::Error e;
  if (s3::http_head(url_, &head, &e, cancellable_.get()) != s3::Result::kOk) {
    set_backend_error(url_, e, error);
    return false;
  }
  size_ = head.size;
  info->size = head.size;
  info->identity = !head.etag.empty()            ? head.etag
                   : !head.last_modified.empty() ? "lm:" + head.last_modified
                                                 : "size:" + std::to_string(head.size);
  return true;
}

gssize HttpBackend::read(guint64 offset, gsize length, guint8* dest, BackendError* error) {
  if (offset >= size_ || length == 0) return 0;
  length = std::min<guint64>(length, size_ - offset);
  std::string data;
  s3::Error e;
  if (s3::http_get_range(url_, offset, length, &data, &e, cancellable_.get()) != s3::Result::kOk) {
    set_backend_error(url_, e, error);
    return -1;
  }
  return copy_out(data, length, dest);
}

bool S3Backend::open(ObjectInfo* info, BackendError* error) {
  g_head_requests++;
  s3::HeadInfo head;
  s3::Error e;
  if (client_.head(key_, &head, &e, cancellable_.get()) != s3::Result::kOk) {
    set_error(e, error);
    return false;
  }
  size_ = head.size;
  info->size = head.size;
  info->identity = head.etag.empty() ? "lm:" + head.last_modified : head.etag;
  return true;
}

gssize S3Backend::read(guint64 offset, gsize length, guint8* dest, BackendError* error) {
  if (offset >= size_ || length == 0) return 0;
  length = std::min<guint64>(length, size_ - offset);
  std::string data;
  s3::Error e;
  if (client_.get_range(key_, offset, length, &data, &e, cancellable_.get()) != s3::Result::kOk) {
    set_error(e, error);
    return -1;
  }
  return copy_out(data, length, dest);
}

std::unique_ptr<RangeBackend> make_s3_backend(const std::string& location,
                                              const RangeBackendOptions& options,
                                              BackendError* error) {
  s3::Location loc;
  std::string why;
  if (!s3::parse_location(location, &loc, &why)) {
    error->set(BackendErrorCode::kNotFound, "Invalid S3 location: " + location, why);
    return nullptr;
  }
  s3::Target t = s3::resolve_target(
      loc, {options.endpoint, options.region, options.access_key_id, options.secret_access_key});
  return std::make_unique<S3Backend>(std::move(t), loc.key, location);
}

}  // namespace tws
