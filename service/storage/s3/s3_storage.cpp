// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/storage/s3/s3_storage.h"

#include <algorithm>

#include "common/s3/s3_registry.h"
#include "service/core/config.h"
#include "service/core/uri.h"

namespace tws {
namespace {

s3::Target target_of(const BucketConfig& b) {
  s3::Target t;
  t.endpoint = b.endpoint;
  t.region = b.region.empty() ? "us-east-1" : b.region;
  t.bucket = b.remote_name.empty() ? b.name : b.remote_name;
  t.creds = {b.access_key_id, b.secret_access_key};
  return t;
}

// The status of a request: unavailable when the store could not be reached or still answered
// 5xx (or 429) after the client's retries; denied on 401/403; otherwise the store answered an
// error, e.message naming its Code ("400 InvalidBucketName").
StorageStatus status_of(s3::Result r, const s3::Error& e, StorageError* error) {
  switch (r) {
    case s3::Result::kOk:
      return StorageStatus::kOk;
    case s3::Result::kNotFound:
      return storage_fail(error, StorageStatus::kNotFound, e.message);
    case s3::Result::kDenied:
      return storage_fail(error, StorageStatus::kDenied, e.message);
    case s3::Result::kUnavailable:
      return storage_fail(error, StorageStatus::kUnavailable, e.message);
    case s3::Result::kError:
    case s3::Result::kCancelled:
      break;
  }
  const bool unavailable =
      r == s3::Result::kError && (e.http_status >= 500 || e.http_status == 429);
  return storage_fail(error, unavailable ? StorageStatus::kUnavailable : StorageStatus::kError,
                      e.message);
}

class S3Writer : public StorageWriter {
 public:
  S3Writer(const s3::Client* client, std::string key) : client_(client), key_(std::move(key)) {}

  StorageStatus write(const void* data, size_t size, StorageError* error) override {
    if (done_) return storage_fail(error, StorageStatus::kError, "write after commit or abort");
    buffer_.append(static_cast<const char*>(data), size);
    return StorageStatus::kOk;
  }
  StorageStatus commit(StorageError* error) override {
    if (done_) return storage_fail(error, StorageStatus::kError, "commit after commit or abort");
    done_ = true;
    s3::Error e;
    const StorageStatus s = status_of(client_->put(key_, buffer_, &e), e, error);
    std::string().swap(buffer_);
    return s;
  }
  void abort() override {
    done_ = true;
    std::string().swap(buffer_);
  }

 private:
  const s3::Client* client_;
  std::string key_;
  std::string buffer_;
  bool done_ = false;
};

}  // namespace

S3Storage::S3Storage(const BucketConfig& bucket) : name_(bucket.name), client_(target_of(bucket)) {
  s3::register_credentials(client_.target().endpoint, client_.target().bucket,
                           client_.target().creds);
}

bool S3Storage::check_key(const std::string& key, StorageError* error) const {
  std::string why;
  if (validate_key(key, &why)) return true;
  storage_fail(error, StorageStatus::kError, "invalid key \"" + key + "\": " + why);
  return false;
}

StorageStatus S3Storage::stat(const std::string& key, ObjectStat* st, StorageError* error) {
  if (!check_key(key, error)) return error->status;
  s3::HeadInfo info;
  s3::Error e;
  StorageStatus s = status_of(client_.head(key, &info, &e), e, error);
  if (s == StorageStatus::kOk) {
    st->size = info.size;
    st->identity = info.etag.empty() ? "lm:" + info.last_modified : info.etag;
  }
  return s;
}

StorageStatus S3Storage::get(const std::string& key, std::string* data, StorageError* error) {
  if (!check_key(key, error)) return error->status;
  s3::Error e;
  return status_of(client_.get(key, data, &e), e, error);
}

StorageStatus S3Storage::put(const std::string& key, const std::string& data, StorageError* error) {
  if (!check_key(key, error)) return error->status;
  s3::Error e;
  return status_of(client_.put(key, data, &e), e, error);
}

std::unique_ptr<StorageWriter> S3Storage::open_writer(const std::string& key, StorageError* error) {
  if (!check_key(key, error)) return nullptr;
  return std::make_unique<S3Writer>(&client_, key);
}

StorageStatus S3Storage::remove(const std::string& key, StorageError* error) {
  if (!check_key(key, error)) return error->status;
  // DELETE answers 204 for a missing key too: HEAD first, so a missing object says so.
  s3::HeadInfo info;
  s3::Error e;
  StorageStatus s = status_of(client_.head(key, &info, &e), e, error);
  if (s != StorageStatus::kOk) return s;
  return status_of(client_.remove(key, &e), e, error);
}

StorageStatus S3Storage::list(const std::string& prefix, std::vector<std::string>* keys,
                              StorageError* error) {
  std::string why;
  if (!prefix.empty() && !validate_key(prefix + "x", &why))
    return storage_fail(error, StorageStatus::kError, "invalid prefix \"" + prefix + "\": " + why);
  s3::Error e;
  const StorageStatus s = status_of(client_.list(prefix, keys, &e), e, error);
  if (s == StorageStatus::kOk) std::sort(keys->begin(), keys->end());
  return s;
}

std::string S3Storage::source_location(const std::string& key) const {
  const s3::Target& t = client_.target();
  return s3::make_location({t.bucket, key, t.endpoint, t.region});
}

}  // namespace tws
