// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/storage.h"

#include "service/config.h"
#include "service/counting_storage.h"
#include "service/errors.h"
#include "service/local_storage.h"
#include "service/s3/s3_storage.h"

namespace tws {

std::string storage_unavailable_message(const std::string& error) {
  if (is_storage_unavailable(error)) return error;
  return kStorageUnavailablePrefix + error;
}

bool is_storage_unavailable(const std::string& error) {
  return error.rfind(kStorageUnavailablePrefix, 0) == 0;
}

bool storage_failure(Failure* failure, const std::string& error) {
  return set_failure(failure,
                     is_storage_unavailable(error) ? ErrorCode::kServiceUnavailable
                                                   : ErrorCode::kStorageError,
                     error);
}

std::unique_ptr<Storage> open_storage(const BucketConfig& bucket, std::string* error) {
  if (bucket.is_s3()) {
    if (bucket.endpoint.empty()) {
      *error = "bucket \"" + bucket.name + "\": an S3 bucket needs an endpoint";
      return nullptr;
    }
    return std::make_unique<CountingStorage>(std::make_unique<S3Storage>(bucket));
  }
  return std::make_unique<CountingStorage>(std::make_unique<LocalStorage>(bucket.path));
}

std::unique_ptr<Storage> open_bucket(const Config& config, const std::string& name,
                                     Failure* failure) {
  const BucketConfig* bucket = config.find_bucket(name);
  if (!bucket) {
    set_failure(failure, ErrorCode::kUnknownBucket, "unknown bucket \"" + name + "\"");
    return nullptr;
  }
  std::string error;
  auto storage = open_storage(*bucket, &error);
  if (!storage) set_failure(failure, ErrorCode::kStorageError, error);
  return storage;
}

GBytes* bytes_of(std::string&& data) {
  auto* owned = new std::string(std::move(data));
  return g_bytes_new_with_free_func(owned->data(), owned->size(),
                                    [](gpointer p) { delete static_cast<std::string*>(p); }, owned);
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
