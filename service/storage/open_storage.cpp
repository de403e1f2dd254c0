// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/storage/open_storage.h"

#include "service/core/config.h"
#include "service/core/errors.h"
#include "service/storage/counting_storage.h"
#include "service/storage/local_storage.h"
#include "service/storage/s3/s3_storage.h"

namespace tws {

std::unique_ptr<Storage> open_storage(const BucketConfig& bucket, StorageError* error) {
  if (bucket.is_s3()) {
    if (bucket.endpoint.empty()) {
      storage_fail(error, StorageStatus::kError,
                   "bucket \"" + bucket.name + "\": an S3 bucket needs an endpoint");
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
  StorageError error;
  auto storage = open_storage(*bucket, &error);
  if (!storage) storage_failure(failure, error);
  return storage;
}

}  // namespace tws
