// SPDX-License-Identifier: LGPL-2.1-or-later
// Publishes the segments of a job to storage: each segment goes to a storage writer as it is
// produced and is committed only when it closed and passed check_segment; anything else is
// aborted, so no partial or failed segment is ever visible.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipelines/segment_job.h"
#include "service/storage/storage.h"

namespace tws {

class SegmentPublisher {
 public:
  // Segment k is stored at segment_key(prefix_key, token, k) in `storage`.
  SegmentPublisher(Storage* storage, std::string prefix_key, std::string token,
                   const SegmentJob* job);
  ~SegmentPublisher() { abort_all(); }

  // The callbacks for run_segment_job; valid while this publisher lives.
  SegmentSink sink();

  // Drops every segment that is still open (after a failed job).
  void abort_all();

  // The first failure seen by the callbacks (status kOk: none): the storage's own, or kError
  // for a segment that failed its check or came out of order.
  StorageError error() const;
  bool failed() const { return error().status != StorageStatus::kOk; }
  // Keys committed so far, in order.
  std::vector<std::string> published() const;

 private:
  void begin(int index);
  bool data(int index, const uint8_t* bytes, size_t size);
  void end(const SegmentReport& report);
  void fail(const StorageError& error);  // needs mutex_

  Storage* storage_;
  const std::string prefix_key_, token_;
  const SegmentJob* job_;
  mutable std::mutex mutex_;
  std::map<int, std::unique_ptr<StorageWriter>> open_;  // guarded by mutex_
  StorageError error_;                                  // guarded by mutex_
  std::vector<std::string> published_;                  // guarded by mutex_
};

}  // namespace tws
