#include "service/storage.h"

#include "service/config.h"
#include "service/counting_storage.h"
#include "service/local_storage.h"

namespace tws {

std::unique_ptr<Storage> open_storage(const BucketConfig& bucket, std::string* error) {
  if (bucket.is_s3()) {
    *error = "bucket \"" + bucket.name + "\": S3 buckets are not supported yet";
    return nullptr;
  }
  return std::make_unique<CountingStorage>(std::make_unique<LocalStorage>(bucket.path));
}

}  // namespace tws
