// SPDX-License-Identifier: LGPL-2.1-or-later
// A bucket in an S3-compatible store (config: [bucket NAME] with endpoint, region, name,
// access-key-id, secret-access-key), over common/s3's client.
//
// stat() is a HEAD (identity: the ETag); a writer buffers the bytes and publishes them with
// one PUT of the complete object on commit() (nothing is sent on abort), so a segment is
// never visible half-written. source_location() is "s3://REMOTE/KEY?endpoint=..&region=.."
// (no secrets); constructing an S3Storage registers the bucket's credentials in the
// process-wide registry (common/s3/s3_registry.h) where rangesrc finds them.
#pragma once

#include "common/s3/s3_client.h"
#include "service/storage/storage.h"

namespace tws {

struct BucketConfig;

class S3Storage : public Storage {
 public:
  explicit S3Storage(const BucketConfig& bucket);

  StorageStatus stat(const std::string& key, ObjectStat* st, StorageError* error) override;
  StorageStatus get(const std::string& key, std::string* data, StorageError* error) override;
  StorageStatus put(const std::string& key, const std::string& data, StorageError* error) override;
  std::unique_ptr<StorageWriter> open_writer(const std::string& key, StorageError* error) override;
  StorageStatus remove(const std::string& key, StorageError* error) override;
  StorageStatus list(const std::string& prefix, std::vector<std::string>* keys,
                     StorageError* error) override;
  std::string source_location(const std::string& key) const override;

  const s3::Client& client() const { return client_; }

 private:
  bool check_key(const std::string& key, StorageError* error) const;

  std::string name_;  // the tws bucket name, for messages
  s3::Client client_;
};

}  // namespace tws
