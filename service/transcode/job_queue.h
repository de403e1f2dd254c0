// SPDX-License-Identifier: LGPL-2.1-or-later
// The transcode queue: runs of segments waiting for a worker, highest priority first, oldest
// first within a priority. Bounded: when full, a new item pushes out the newest item of a
// lower priority, or is refused (the caller answers 503).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tws {

struct StoredPlaylist;

// A segment a client waits for > read-ahead of active viewers > pre-transcode.
enum class Priority { kPreTranscode = 0, kReadAhead = 1, kWaiting = 2 };
const char* priority_name(Priority p);

struct QueueItem {
  std::string playlist;  // "bucket/key.m3u8": which target
  std::shared_ptr<const StoredPlaylist> stored;
  int first = 0, last = 0;  // inclusive
  Priority priority = Priority::kPreTranscode;
  uint64_t seq = 0;  // set by push
  // A waited-for segment: where its client starts watching (a seek hint), or < 0.
  double hint = -1;
  // Remakes stored drafts at full quality (the stored segments are replaced, not skipped).
  bool remake = false;
  int count() const { return last - first + 1; }
};

class JobQueue {
 public:
  explicit JobQueue(size_t max_items) : max_items_(max_items) {}

  // False when the queue is full of items at least as urgent. *dropped: what made room.
  bool push(QueueItem item, std::vector<QueueItem>* dropped = nullptr);
  std::optional<QueueItem> pop();
  // The item pop() would return, or nullptr.
  const QueueItem* peek() const;
  // Removes the item of `playlist` whose range starts at `first` (the most urgent such one),
  // a remake excepted (it runs alone).
  std::optional<QueueItem> take_starting_at(const std::string& playlist, int first);
  // Whether a queued item of `playlist` includes segment `index`.
  bool covers(const std::string& playlist, int index) const;
  // The highest priority queued (kPreTranscode when empty).
  std::optional<Priority> top_priority() const;

  size_t items() const { return items_.size(); }
  int64_t segments() const;  // tws_queue_depth
  bool full() const { return items_.size() >= max_items_; }
  void clear() { items_.clear(); }

 private:
  size_t max_items_;
  uint64_t next_seq_ = 0;
  std::vector<QueueItem> items_;
};

}  // namespace tws
