// SPDX-License-Identifier: LGPL-2.1-or-later
// The storage side of rangesrc: one object (a file, an S3 object or an HTTP resource) read
// by byte ranges. Backends are chosen by the scheme of the location (make_range_backend).
//
// Shape of every backend, as S3 and HTTP need it: open() is the HEAD (size and an identity
// that changes whenever the content does: an ETag, or "mtime:<ns>" for a file); read() is
// one ranged GET. A backend object is used by one streaming thread at a time; cancel() may
// be called from any thread to make a blocking open()/read() return kCancelled soon.
#pragma once

#include <glib.h>

#include <cstddef>
#include <memory>
#include <string>

namespace tws {

enum class BackendErrorCode {
  kNone = 0,
  kNotFound,          // no such file / object (404)
  kPermissionDenied,  // EACCES / 401 / 403
  kIo,                // any other failure to open or read
  kUnsupported,       // the location names a scheme no backend serves
  kCancelled,         // cancel() was called
};

struct BackendError {
  BackendErrorCode code = BackendErrorCode::kNone;
  std::string message;    // for users: "No such file: /x/y.mp4"
  std::string detail;     // for the debug log: errno text, the store's error code ...
  guint http_status = 0;  // the HTTP status the server answered (S3/HTTP), 0 none

  explicit operator bool() const { return code != BackendErrorCode::kNone; }
  void set(BackendErrorCode c, std::string msg, std::string det = {}, guint status = 0) {
    code = c;
    message = std::move(msg);
    detail = std::move(det);
    http_status = status;
  }
};

// What open() learns about the object.
struct ObjectInfo {
  guint64 size = 0;
  // Changes whenever the object's content may have: "mtime:<ns>" for files, the ETag for
  // S3/HTTP. Part of the block cache key, so a replaced object is never served stale.
  std::string identity;
};

class RangeBackend {
 public:
  virtual ~RangeBackend() = default;

  // Opens (or HEADs) the object. False with *error set on failure.
  virtual bool open(ObjectInfo* info, BackendError* error) = 0;

  // Reads up to `length` bytes at `offset` into `dest` (room for `length` bytes). Returns
  // the number of bytes read, short only at the end of the object; -1 with *error set on
  // failure. One call is one backend request, except where the store cannot serve ranges
  // (seekable() false): then reads at increasing offsets share one streaming request.
  virtual gssize read(guint64 offset, gsize length, guint8* dest, BackendError* error) = 0;

  // Makes a blocking open()/read() return soon with kCancelled; further calls fail the same
  // way until reset_cancel(). Thread-safe.
  virtual void cancel() {}
  virtual void reset_cancel() {}

  // True when reads are served by this machine's operating system (a local file): cheap,
  // and cached by the page cache, so rangesrc reads them straight, not through its cache.
  virtual bool local() const { return false; }

  // False when the store serves no byte ranges (an HTTP server without Range support, known
  // from open()): reads at increasing offsets are served from one streaming request, any
  // other costs a new request that reads from the start. rangesrc then runs in push mode.
  virtual bool seekable() const { return true; }

  // The location as a user gave it, for messages and cache keys ("/data/a.mp4").
  virtual const std::string& location() const = 0;
};

// Settings for remote backends (rangesrc's properties); empty = not set.
struct RangeBackendOptions {
  std::string endpoint;  // S3: "http://127.0.0.1:9000"
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;
  // HTTP(S) and S3 requests.
  std::string user_agent;  // empty: no User-Agent header
  guint timeout_s = 30;    // connecting and each read or write; 0 = no timeout
  guint retries = 2;       // tries after the first on connection errors, timeouts, 5xx, 429
  bool operator==(const RangeBackendOptions&) const = default;
};

// A backend for `location`: a local path, a file:// URI, an s3:// URI or an http(s):// URL
// (s3_backend.h).
// Nothing is opened yet. nullptr with *error set (kUnsupported, kNotFound for an invalid
// file or s3 URI) when no backend serves the location.
std::unique_ptr<RangeBackend> make_range_backend(const std::string& location, BackendError* error,
                                                 const RangeBackendOptions& options = {});

// True when some backend serves URIs of this scheme ("file", "s3", "http", "https").
bool range_backend_supports_scheme(const char* scheme);

}  // namespace tws
