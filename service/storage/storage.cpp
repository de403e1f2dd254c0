// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/storage/storage.h"

#include "service/core/errors.h"

namespace tws {

const char* storage_status_name(StorageStatus status) {
  switch (status) {
    case StorageStatus::kOk:
      return "ok";
    case StorageStatus::kNotFound:
      return "not found";
    case StorageStatus::kDenied:
      return "denied";
    case StorageStatus::kUnavailable:
      return "unavailable";
    case StorageStatus::kError:
      return "error";
  }
  return "error";
}

StorageStatus storage_fail(StorageError* error, StorageStatus status, std::string message) {
  error->status = status;
  error->message = std::move(message);
  return status;
}

ErrorCode error_code_of(StorageStatus status) {
  switch (status) {
    case StorageStatus::kNotFound:
      return ErrorCode::kNotFound;
    case StorageStatus::kUnavailable:
      return ErrorCode::kServiceUnavailable;
    case StorageStatus::kOk:  // not a failure; callers never ask
    case StorageStatus::kDenied:
    case StorageStatus::kError:
      return ErrorCode::kStorageError;
  }
  return ErrorCode::kStorageError;
}

bool storage_failure(Failure* failure, const StorageError& error) {
  return set_failure(failure, error_code_of(error.status), error.message);
}

GBytes* bytes_of(std::string&& data) {
  auto* owned = new std::string(std::move(data));
  return g_bytes_new_with_free_func(
      owned->data(), owned->size(), [](gpointer p) { delete static_cast<std::string*>(p); }, owned);
}

StorageStatus Storage::get_bytes(const std::string& key, GUnique<GBytes>* bytes, ObjectStat* st,
                                 StorageError* error) {
  StorageStatus s = stat(key, st, error);
  std::string data;
  if (s == StorageStatus::kOk) s = get(key, &data, error);
  if (s == StorageStatus::kOk) bytes->reset(bytes_of(std::move(data)));
  return s;
}

}  // namespace tws
