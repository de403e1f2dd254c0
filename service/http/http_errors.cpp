// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/http/http_errors.h"

#include <json-glib/json-glib.h>

#include "common/gref.h"
#include "service/core/json_text.h"
#include "service/storage/storage.h"

namespace tws {

int http_status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kInvalidSource:
    case ErrorCode::kUnknownBucket:
    case ErrorCode::kInvalidURI:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kAccessDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kSourceChanged:
      return 409;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kStorageError:
    case ErrorCode::kTranscodeFailed:
      return 502;
    case ErrorCode::kServiceUnavailable:
      return 503;
    case ErrorCode::kTranscodeTimeout:
      return 504;
  }
  return 500;
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kInvalidSource:
      return "InvalidSource";
    case ErrorCode::kUnknownBucket:
      return "UnknownBucket";
    case ErrorCode::kInvalidURI:
      return "InvalidURI";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kAccessDenied:
      return "AccessDenied";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kSourceChanged:
      return "SourceChanged";
    case ErrorCode::kPayloadTooLarge:
      return "PayloadTooLarge";
    case ErrorCode::kStorageError:
      return "StorageError";
    case ErrorCode::kTranscodeFailed:
      return "TranscodeFailed";
    case ErrorCode::kServiceUnavailable:
      return "ServiceUnavailable";
    case ErrorCode::kTranscodeTimeout:
      return "TranscodeTimeout";
  }
  return "InternalError";
}

std::string new_request_id() {
  GUnique<gchar> id(g_uuid_string_random());
  return id.get();
}

void send_json(SoupServerMessage* msg, int status, const std::string& json) {
  soup_server_message_set_status(msg, guint(status), nullptr);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json.data(),
                                   json.size());
}

std::string failure_json(const Failure& failure) {
  GRef<JsonBuilder> b = adopt_ref(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "Code");
  json_builder_add_string_value(b.get(), error_code_name(failure.code));
  json_builder_set_member_name(b.get(), "Message");
  json_builder_add_string_value(b.get(), failure.message.c_str());
  json_builder_set_member_name(b.get(), "RequestId");
  json_builder_add_string_value(b.get(), new_request_id().c_str());
  json_builder_end_object(b.get());
  JsonNodePtr root(json_builder_get_root(b.get()));
  return json_to_text(root.get(), false) + "\n";
}

void send_failure(SoupServerMessage* msg, const Failure& failure) {
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  if (failure.code == ErrorCode::kServiceUnavailable)
    soup_message_headers_replace(headers, "Retry-After",
                                 std::to_string(kRetryAfterSeconds).c_str());
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  send_json(msg, http_status_of(failure.code), failure_json(failure));
}

void send_storage_error(SoupServerMessage* msg, const StorageError& storage_error) {
  Failure failure;
  storage_failure(&failure, storage_error);
  send_failure(msg, failure);
}

}  // namespace tws
