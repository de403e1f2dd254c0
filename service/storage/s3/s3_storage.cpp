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

// The one-line error of a failed request: marked unavailable (503 upstream) when the store
// could not be reached or still answered 5xx (or 429) after the client's retries; otherwise the
// store answered an error (502), e.message naming its Code ("403 AccessDenied").
std::string message_of(s3::Result r, const s3::Error& e) {
  const bool unavailable =
      r == s3::Result::kUnavailable ||
      (r == s3::Result::kError && (e.http_status >= 500 || e.http_status == 429));
  return unavailable ? storage_unavailable_message(e.message) : e.message;
}

StorageStatus status_of(s3::Result r, const s3::Error& e, std::string* error) {
  if (r == s3::Result::kOk) return StorageStatus::kOk;
  if (r == s3::Result::kNotFound) return StorageStatus::kNotFound;
  *error = message_of(r, e);
  return StorageStatus::kError;
}

class S3Writer : public StorageWriter {
 public:
  S3Writer(const s3::Client* client, std::string key) : client_(client), key_(std::move(key)) {}

  bool write(const void* data, size_t size, std::string* error) override {
    if (done_) {
      *error = "write after commit or abort";
      return false;
    }
    buffer_.append(static_cast<const char*>(data), size);
    return true;
  }
  bool commit(std::string* error) override {
    if (done_) {
      *error = "commit after commit or abort";
      return false;
    }
    done_ = true;
    s3::Error e;
    const s3::Result r = client_->put(key_, buffer_, &e);
    const bool ok = r == s3::Result::kOk;
    if (!ok) *error = message_of(r, e);
    std::string().swap(buffer_);
    return ok;
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

bool S3Storage::check_key(const std::string& key, std::string* error) const {
  std::string why;
  if (validate_key(key, &why)) return true;
  *error = "invalid key \"" + key + "\": " + why;
  return false;
}

StorageStatus S3Storage::stat(const std::string& key, ObjectStat* st, std::string* error) {
  if (!check_key(key, error)) return StorageStatus::kError;
  s3::HeadInfo info;
  s3::Error e;
  StorageStatus s = status_of(client_.head(key, &info, &e), e, error);
  if (s == StorageStatus::kOk) {
    st->size = info.size;
    st->identity = info.etag.empty() ? "lm:" + info.last_modified : info.etag;
  }
  return s;
}

StorageStatus S3Storage::get(const std::string& key, std::string* data, std::string* error) {
  if (!check_key(key, error)) return StorageStatus::kError;
  s3::Error e;
  return status_of(client_.get(key, data, &e), e, error);
}

bool S3Storage::put(const std::string& key, const std::string& data, std::string* error) {
  if (!check_key(key, error)) return false;
  s3::Error e;
  const s3::Result r = client_.put(key, data, &e);
  if (r == s3::Result::kOk) return true;
  *error = message_of(r, e);
  return false;
}

std::unique_ptr<StorageWriter> S3Storage::open_writer(const std::string& key, std::string* error) {
  if (!check_key(key, error)) return nullptr;
  return std::make_unique<S3Writer>(&client_, key);
}

StorageStatus S3Storage::remove(const std::string& key, std::string* error) {
  if (!check_key(key, error)) return StorageStatus::kError;
  // DELETE answers 204 for a missing key too: HEAD first, so a missing object says so.
  s3::HeadInfo info;
  s3::Error e;
  StorageStatus s = status_of(client_.head(key, &info, &e), e, error);
  if (s != StorageStatus::kOk) return s;
  return status_of(client_.remove(key, &e), e, error);
}

bool S3Storage::list(const std::string& prefix, std::vector<std::string>* keys,
                     std::string* error) {
  std::string why;
  if (!prefix.empty() && !validate_key(prefix + "x", &why)) {
    *error = "invalid prefix \"" + prefix + "\": " + why;
    return false;
  }
  s3::Error e;
  const s3::Result r = client_.list(prefix, keys, &e);
  if (r != s3::Result::kOk) {
    *error = message_of(r, e);
    return false;
  }
  std::sort(keys->begin(), keys->end());
  return true;
}

std::string S3Storage::source_location(const std::string& key) const {
  const s3::Target& t = client_.target();
  return s3::make_location({t.bucket, key, t.endpoint, t.region});
}

}  // namespace tws
