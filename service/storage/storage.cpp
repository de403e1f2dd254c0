// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/storage/storage.h"

#include "service/core/errors.h"

namespace tws {

std::string storage_unavailable_message(const std::string& error) {
  if (is_storage_unavailable(error)) return error;
  return kStorageUnavailablePrefix + error;
}

bool is_storage_unavailable(const std::string& error) {
  return error.rfind(kStorageUnavailablePrefix, 0) == 0;
}

bool storage_failure(Failure* failure, const std::string& error) {
  return set_failure(
      failure,
      is_storage_unavailable(error) ? ErrorCode::kServiceUnavailable : ErrorCode::kStorageError,
      error);
}

GBytes* bytes_of(std::string&& data) {
  auto* owned = new std::string(std::move(data));
  return g_bytes_new_with_free_func(
      owned->data(), owned->size(), [](gpointer p) { delete static_cast<std::string*>(p); }, owned);
}

StorageStatus Storage::get_bytes(const std::string& key, GUnique<GBytes>* bytes, ObjectStat* st,
                                 std::string* error) {
  StorageStatus s = stat(key, st, error);
  std::string data;
  if (s == StorageStatus::kOk) s = get(key, &data, error);
  if (s == StorageStatus::kOk) bytes->reset(bytes_of(std::move(data)));
  return s;
}

}  // namespace tws
