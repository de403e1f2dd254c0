// SPDX-License-Identifier: LGPL-2.1-or-later
// A Storage that counts every request and byte of the storage it wraps into Metrics (the
// tws_storage_* counters). open_storage() wraps every backend in one.
#pragma once

#include <memory>

#include "service/storage/storage.h"

namespace tws {

class CountingStorage : public Storage {
 public:
  explicit CountingStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}

  StorageStatus stat(const std::string& key, ObjectStat* st, StorageError* error) override;
  StorageStatus get(const std::string& key, std::string* data, StorageError* error) override;
  StorageStatus get_bytes(const std::string& key, GUnique<GBytes>* bytes, ObjectStat* st,
                          StorageError* error) override;
  bool get_bytes_is_one_request() const override { return inner_->get_bytes_is_one_request(); }
  StorageStatus put(const std::string& key, const std::string& data, StorageError* error) override;
  std::unique_ptr<StorageWriter> open_writer(const std::string& key, StorageError* error) override;
  StorageStatus remove(const std::string& key, StorageError* error) override;
  StorageStatus list(const std::string& prefix, std::vector<std::string>* keys,
                     StorageError* error) override;
  std::string source_location(const std::string& key) const override {
    return inner_->source_location(key);
  }

 private:
  std::unique_ptr<Storage> inner_;
};

}  // namespace tws
