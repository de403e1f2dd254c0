#include "service/storage.h"

#include "service/config.h"
#include "service/counting_storage.h"
#include "service/errors.h"
#include "service/local_storage.h"

namespace tws {

std::unique_ptr<Storage> open_storage(const BucketConfig& bucket, std::string* error) {
  if (bucket.is_s3()) {
    *error = "bucket \"" + bucket.name + "\": S3 buckets are not supported yet";
    return nullptr;
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

}  // namespace tws
