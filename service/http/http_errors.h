// SPDX-License-Identifier: LGPL-2.1-or-later
// The JSON error responses of the HTTP service (API.md "Errors"):
// {"Code": ..., "Message": "...", "RequestId": "..."} with the status of API.md's table.
#pragma once

#include <libsoup/soup.h>

#include <string>

#include "service/core/errors.h"

namespace tws {

struct StorageError;

int http_status_of(ErrorCode code);
const char* error_code_name(ErrorCode code);
std::string new_request_id();

// {"Code", "Message", "RequestId"} of `failure`, with a new RequestId, and a final newline.
std::string failure_json(const Failure& failure);

// The error body of `failure`; sets status, Content-Type, Retry-After (503).
void send_failure(SoupServerMessage* msg, const Failure& failure);
inline void send_error(SoupServerMessage* msg, ErrorCode code, const std::string& message) {
  send_failure(msg, Failure{code, message});
}

// A storage error (service/storage/storage.h): the answer error_code_of() gives its status
// (503 ServiceUnavailable with Retry-After when the store could not be reached, else 502
// StorageError, or 404 for kNotFound).
void send_storage_error(SoupServerMessage* msg, const StorageError& storage_error);

// Any JSON body with a status.
void send_json(SoupServerMessage* msg, int status, const std::string& json);

constexpr int kRetryAfterSeconds = 2;

}  // namespace tws
