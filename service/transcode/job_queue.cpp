// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/job_queue.h"

#include <algorithm>

namespace tws {
namespace {

// a before b: more urgent, then older.
bool before(const QueueItem& a, const QueueItem& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.seq < b.seq;
}

}  // namespace

const char* priority_name(Priority p) {
  switch (p) {
    case Priority::kWaiting:
      return "waiting";
    case Priority::kReadAhead:
      return "read-ahead";
    case Priority::kPreTranscode:
      return "pre-transcode";
  }
  return "?";
}

bool JobQueue::push(QueueItem item, std::vector<QueueItem>* dropped) {
  if (item.last < item.first) return true;
  if (items_.size() >= max_items_) {
    // The least urgent item (newest among the lowest priority) makes room, if it is less
    // urgent than the new one.
    auto victim = std::max_element(items_.begin(), items_.end(), before);
    if (victim == items_.end() || victim->priority >= item.priority) return false;
    if (dropped) dropped->push_back(std::move(*victim));
    items_.erase(victim);
  }
  item.seq = next_seq_++;
  items_.push_back(std::move(item));
  return true;
}

std::optional<QueueItem> JobQueue::pop() {
  if (items_.empty()) return std::nullopt;
  auto it = std::min_element(items_.begin(), items_.end(), before);
  QueueItem item = std::move(*it);
  items_.erase(it);
  return item;
}

const QueueItem* JobQueue::peek() const {
  if (items_.empty()) return nullptr;
  return &*std::min_element(items_.begin(), items_.end(), before);
}

std::optional<QueueItem> JobQueue::take_starting_at(const std::string& playlist, int first) {
  auto best = items_.end();
  for (auto it = items_.begin(); it != items_.end(); ++it)
    if (it->playlist == playlist && it->first == first && !it->remake &&
        (best == items_.end() || before(*it, *best)))
      best = it;
  if (best == items_.end()) return std::nullopt;
  QueueItem item = std::move(*best);
  items_.erase(best);
  return item;
}

bool JobQueue::covers(const std::string& playlist, int index) const {
  for (const auto& item : items_)
    if (item.playlist == playlist && item.first <= index && index <= item.last) return true;
  return false;
}

std::optional<Priority> JobQueue::top_priority() const {
  if (items_.empty()) return std::nullopt;
  return std::min_element(items_.begin(), items_.end(), before)->priority;
}

int64_t JobQueue::segments() const {
  int64_t n = 0;
  for (const auto& item : items_) n += item.count();
  return n;
}

}  // namespace tws
