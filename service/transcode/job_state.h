// SPDX-License-Identifier: LGPL-2.1-or-later
// The state of one transcode job (transcoder.h) over its run of segments [first, last]: the
// segment it is making, and the segments it still owns (makes), which only ever narrow.
// Kept by the server's main context; the job's worker thread only asks makes().
#pragma once

#include <atomic>
#include <optional>

namespace tws {

class JobState {
 public:
  // The phases, derived from the segment in progress and the owned range, so that no two
  // fields have to change together:
  //
  //   kStarting    launched, no segment begun yet                     position() = first
  //     | begin(k)
  //   kMaking      segment k is in progress (begin() again: the next)  position() = k
  //     | stop_before(at) with at <= position()
  //   kStopping    the segment in progress is dropped: the job ends without making another
  //                (its gate is cancelled by the caller)
  //
  // stop_before(at) with at > position() keeps the phase: the job makes segments up to at - 1
  // and then ends. cancel() (shutdown) stops every phase at once: nothing more is made. A job
  // is over when its thread says so (the transcoder's kDone event); it is then destroyed.
  enum class Phase { kStarting, kMaking, kStopping };

  JobState(int first, int last) : first_(first), last_(last), end_(last + 1) {}
  JobState(const JobState&) = delete;
  JobState& operator=(const JobState&) = delete;

  // The run as started (the worker's range).
  int first() const { return first_; }
  int last() const { return last_; }

  // Main context ------------------------------------------------------------------------------

  // Segment `index` began (indices ascend).
  void begin(int index) { making_ = index; }
  // The segment in progress, none before the first began.
  std::optional<int> making() const { return making_; }
  // Where the job is: the segment in progress, or the first before any began.
  int position() const { return making_ ? *making_ : first_; }
  // Segments from `at` on are not made (another job or nobody makes them). Narrows only.
  void stop_before(int at) {
    if (at < end_.load()) end_.store(at);
  }
  // The last segment the job still owns (makes or is making); below position() once stopping.
  int owned_last() const { return end_.load() - 1; }
  // Where the job was cut short: the first segment it gives up, if stop_before() narrowed it.
  std::optional<int> stopped_at() const {
    const int end = end_.load();
    return end <= last_ ? std::optional<int>(end) : std::nullopt;
  }
  Phase phase() const {
    // The segment in progress, else the first: where the job stands (value_or, not *making_,
    // which GCC's -Wmaybe-uninitialized misreads under the sanitizers).
    const int at = making_.value_or(first_);
    if (end_.load() <= at) return Phase::kStopping;
    return making_.has_value() ? Phase::kMaking : Phase::kStarting;
  }
  bool stopping() const { return phase() == Phase::kStopping; }

  // Any thread --------------------------------------------------------------------------------

  // Nothing more is made, whatever the range (shutdown).
  void cancel() { cancelled_.store(true); }
  // Whether segment `index` is still to be made (the worker asks before each segment's
  // begin, data and end).
  bool makes(int index) const { return !cancelled_.load() && index < end_.load(); }

 private:
  const int first_, last_;
  std::optional<int> making_;  // main context only
  // One past the last owned segment: last + 1 until stop_before(). Written by the main
  // context, read by the worker thread.
  std::atomic<int> end_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace tws
