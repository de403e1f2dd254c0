// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/storage/counting_storage.h"

#include "service/core/metrics.h"

namespace tws {
namespace {

class CountingWriter : public StorageWriter {
 public:
  explicit CountingWriter(std::unique_ptr<StorageWriter> inner) : inner_(std::move(inner)) {}
  StorageStatus write(const void* data, size_t size, StorageError* error) override {
    const StorageStatus s = inner_->write(data, size, error);
    if (s == StorageStatus::kOk) bytes_ += size;
    return s;
  }
  StorageStatus commit(StorageError* error) override {
    Metrics::global().storage_request(StorageOp::kPut);
    const StorageStatus s = inner_->commit(error);
    if (s == StorageStatus::kOk) Metrics::global().storage_bytes_out(bytes_);
    return s;
  }
  void abort() override { inner_->abort(); }

 private:
  std::unique_ptr<StorageWriter> inner_;
  uint64_t bytes_ = 0;
};

}  // namespace

StorageStatus CountingStorage::stat(const std::string& key, ObjectStat* st, StorageError* error) {
  Metrics::global().storage_request(StorageOp::kHead);
  return inner_->stat(key, st, error);
}

StorageStatus CountingStorage::get(const std::string& key, std::string* data, StorageError* error) {
  Metrics::global().storage_request(StorageOp::kGet);
  const StorageStatus s = inner_->get(key, data, error);
  if (s == StorageStatus::kOk) Metrics::global().storage_bytes_in(data->size());
  return s;
}

StorageStatus CountingStorage::get_bytes(const std::string& key, GUnique<GBytes>* bytes,
                                         ObjectStat* st, StorageError* error) {
  if (!inner_->get_bytes_is_one_request()) Metrics::global().storage_request(StorageOp::kHead);
  Metrics::global().storage_request(StorageOp::kGet);
  const StorageStatus s = inner_->get_bytes(key, bytes, st, error);
  if (s == StorageStatus::kOk) Metrics::global().storage_bytes_in(g_bytes_get_size(bytes->get()));
  return s;
}

StorageStatus CountingStorage::put(const std::string& key, const std::string& data,
                                   StorageError* error) {
  Metrics::global().storage_request(StorageOp::kPut);
  const StorageStatus s = inner_->put(key, data, error);
  if (s == StorageStatus::kOk) Metrics::global().storage_bytes_out(data.size());
  return s;
}

std::unique_ptr<StorageWriter> CountingStorage::open_writer(const std::string& key,
                                                            StorageError* error) {
  auto writer = inner_->open_writer(key, error);
  if (!writer) return nullptr;
  return std::make_unique<CountingWriter>(std::move(writer));
}

StorageStatus CountingStorage::remove(const std::string& key, StorageError* error) {
  Metrics::global().storage_request(StorageOp::kDelete);
  return inner_->remove(key, error);
}

StorageStatus CountingStorage::list(const std::string& prefix, std::vector<std::string>* keys,
                                    StorageError* error) {
  Metrics::global().storage_request(StorageOp::kList);
  return inner_->list(prefix, keys, error);
}

}  // namespace tws
