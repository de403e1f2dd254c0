// SPDX-License-Identifier: LGPL-2.1-or-later
// What went wrong, in the words of API.md's error table, so that the CLI prints one line and
// the HTTP service maps the same failure to its status and Code.
#pragma once

#include <string>

namespace tws {

enum class ErrorCode {
  kInvalidArgument,     // 400, names the field
  kInvalidSource,       // 400, names why
  kUnknownBucket,       // 400
  kInvalidURI,          // 400
  kNotFound,            // 404
  kSourceChanged,       // 409
  kStorageError,        // 502
  kTranscodeFailed,     // 502
  kUnauthorized,        // 401 (the service's API token)
  kAccessDenied,        // 403 (playback signature)
  kPayloadTooLarge,     // 413
  kServiceUnavailable,  // 503, with Retry-After
  kTranscodeTimeout,    // 504
};

struct Failure {
  ErrorCode code = ErrorCode::kInvalidArgument;
  std::string message;  // one line
};

inline bool set_failure(Failure* f, ErrorCode code, std::string message) {
  f->code = code;
  f->message = std::move(message);
  return false;
}

}  // namespace tws
