// SPDX-License-Identifier: LGPL-2.1-or-later
#include "s3_backend.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/s3/s3_registry.h"

namespace tws {

S3Backend::S3Backend(s3::Target target, std::string key, std::string location,
                     const RangeBackendOptions& options)
    : client_(std::move(target)),
      key_(std::move(key)),
      location_(std::move(location)),
      cancellable_(adopt_ref(g_cancellable_new())) {
  client_.max_tries = int(options.retries) + 1;
  client_.timeout_s = options.timeout_s;
  client_.user_agent = options.user_agent;
}

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

namespace {
std::atomic<guint64> g_head_requests{0};
}  // namespace

guint64 remote_head_requests() { return g_head_requests.load(); }

HttpBackend::HttpBackend(std::string url, const RangeBackendOptions& options)
    : url_(std::move(url)),
      options_{options.user_agent, options.timeout_s, options.retries},
      cancellable_(adopt_ref(g_cancellable_new())) {}

HttpBackend::~HttpBackend() { close_body(false); }

void HttpBackend::cancel() { g_cancellable_cancel(cancellable_.get()); }
void HttpBackend::reset_cancel() { g_cancellable_reset(cancellable_.get()); }

bool HttpBackend::open(ObjectInfo* info, BackendError* error) {
  g_head_requests++;
  s3::HeadInfo head;
  s3::Error e;
  if (s3::http_head(url_, options_, &head, &e, cancellable_.get()) != s3::Result::kOk) {
    set_backend_error(url_, e, error);
    return false;
  }
  size_ = head.size;
  ranges_ = head.accept_ranges;
  info->size = head.size;
  info->identity = !head.etag.empty()            ? head.etag
                   : !head.last_modified.empty() ? "lm:" + head.last_modified
                                                 : "size:" + std::to_string(head.size);
  return true;
}

void HttpBackend::close_body(bool read_whole) {
  // libsoup's close reads what is left of the body, to keep the connection: right for a
  // part read whole, not for a stream left halfway, whose close is cancelled (the
  // connection is dropped instead).
  if (body_.stream) {
    GRef<GCancellable> cancel = adopt_ref(g_cancellable_new());
    if (!read_whole) g_cancellable_cancel(cancel.get());
    g_input_stream_close(body_.stream.get(), cancel.get(), nullptr);
  }
  body_ = {};
}

gssize HttpBackend::read(guint64 offset, gsize length, guint8* dest, BackendError* error) {
  if (offset >= size_ || length == 0) return 0;
  length = std::min<guint64>(length, size_ - offset);
  s3::Error e;
  gssize got = -1;
  for (guint attempt = 0; got < 0 && attempt <= options_.retries; attempt++) {
    if (ranges_ && !body_.stream) {
      s3::HttpBody part;
      if (s3::http_open(url_, options_, offset, length, &part, &e, cancellable_.get()) !=
          s3::Result::kOk)
        break;  // http_open retried already
      body_ = std::move(part);
      if (!body_.partial) {
        // A 200 with the whole object: the server ignores Range after all. Read on from it.
        ranges_ = false;
        got = read_stream(offset, length, dest, &e);
      } else {
        got = s3::http_read(&body_, length, dest, &e, cancellable_.get());
        close_body(got >= 0);
      }
    } else {
      got = read_stream(offset, length, dest, &e);
    }
    if (got < 0) close_body(false);
    if (got < 0 && e.result == s3::Result::kCancelled) break;
  }
  if (got < 0) set_backend_error(url_, e, error);
  return got;
}

gssize HttpBackend::read_stream(guint64 offset, gsize length, guint8* dest, s3::Error* e) {
  const bool reachable =
      body_.stream && offset >= body_.position && offset - body_.position <= kMaxSkip;
  if (!reachable) {
    close_body(false);
    if (s3::http_open(url_, options_, offset, 0, &body_, e, cancellable_.get()) != s3::Result::kOk)
      return -1;
  }
  // Past bytes are skipped: from a server ignoring Range, all those before `offset`.
  if (offset > body_.position &&
      s3::http_read(&body_, offset - body_.position, nullptr, e, cancellable_.get()) < 0)
    return -1;
  if (body_.position != offset) {
    *e = {s3::Result::kError, 0, "ShortBody", "GET " + url_ + ": the body ended early"};
    return -1;
  }
  return s3::http_read(&body_, length, dest, e, cancellable_.get());
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
  return std::make_unique<S3Backend>(std::move(t), loc.key, location, options);
}

}  // namespace tws
