// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/segment_publisher.h"

#include "service/playlist/playlist_file.h"

namespace tws {

SegmentPublisher::SegmentPublisher(Storage* storage, std::string prefix_key, std::string token,
                                   const SegmentJob* job)
    : storage_(storage), prefix_key_(std::move(prefix_key)), token_(std::move(token)), job_(job) {}

SegmentSink SegmentPublisher::sink() {
  SegmentSink s;
  s.begin = [this](int index) { begin(index); };
  s.data = [this](int index, const uint8_t* bytes, size_t size) {
    return data(index, bytes, size);
  };
  s.end = [this](const SegmentReport& report) { end(report); };
  return s;
}

void SegmentPublisher::fail(const StorageError& error) {
  if (error_.status == StorageStatus::kOk) error_ = error;
}

void SegmentPublisher::begin(int index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_.status != StorageStatus::kOk) return;
  StorageError error;
  auto writer = storage_->open_writer(segment_key(prefix_key_, token_, index), &error);
  if (!writer) {
    fail(error);
    return;
  }
  open_[index] = std::move(writer);
}

bool SegmentPublisher::data(int index, const uint8_t* bytes, size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_.status != StorageStatus::kOk) return false;
  auto it = open_.find(index);
  if (it == open_.end()) {
    fail({StorageStatus::kError, "segment " + std::to_string(index) + ": data before its start"});
    return false;
  }
  StorageError error;
  if (it->second->write(bytes, size, &error) != StorageStatus::kOk) {
    fail(error);
    return false;
  }
  return true;
}

void SegmentPublisher::end(const SegmentReport& report) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = open_.find(report.index);
  if (it == open_.end()) {
    fail({StorageStatus::kError,
          "segment " + std::to_string(report.index) + ": ended without a start"});
    return;
  }
  std::unique_ptr<StorageWriter> writer = std::move(it->second);
  open_.erase(it);
  std::string why;
  StorageError error;
  if (error_.status != StorageStatus::kOk) {
    writer->abort();
  } else if (!check_segment(*job_, report, &why)) {
    writer->abort();
    fail({StorageStatus::kError,
          "segment " + std::to_string(report.index) + " failed its check: " + why});
  } else if (writer->commit(&error) != StorageStatus::kOk) {
    fail(error);
  } else {
    published_.push_back(segment_key(prefix_key_, token_, report.index));
  }
}

void SegmentPublisher::abort_all() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [index, writer] : open_) writer->abort();
  open_.clear();
}

StorageError SegmentPublisher::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

std::vector<std::string> SegmentPublisher::published() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return published_;
}

}  // namespace tws
