// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/audio_clock.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>

GST_DEBUG_CATEGORY_STATIC(tws_clock_debug);
#define GST_CAT_DEFAULT tws_clock_debug

namespace tws {

AudioClock::AudioClock() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(tws_clock_debug, "twsclock", 0, "tws audio packet grid");
    g_once_init_leave(&once, 1);
  }
}

void AudioClock::packet(GstClockTime pts) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return;
  if (decoded_.empty()) {
    recent_.push_back(int64_t(pts));
    if (recent_.size() > kRecent) recent_.pop_front();
  } else if (pts_.size() < kPackets && int64_t(pts) >= decoded_.front().first) {
    pts_.push_back(int64_t(pts));
  }
}

void AudioClock::decoded(GstClockTime pts, GstClockTime end, int rate) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!GST_CLOCK_TIME_IS_VALID(pts) || !GST_CLOCK_TIME_IS_VALID(end) || rate <= 0) return;
  if (decoded_.empty()) {
    decoded_end_ = int64_t(end);
    rate_ = rate;
    // The packets the decoder took ahead of its first buffer, from that buffer on.
    for (int64_t t : recent_)
      if (t >= int64_t(pts) && pts_.size() < kPackets) pts_.push_back(t);
    recent_.clear();
  }
  if (decoded_.size() < kMaxDecoded) decoded_.emplace_back(int64_t(pts), int64_t(end));
}

void AudioClock::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  recent_.clear();
  pts_.clear();
  decoded_.clear();
  decoded_end_ = -1;
  rate_ = 0;
}

bool AudioClock::settled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pts_.size() >= kPackets;
}

size_t AudioClock::packets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pts_.size();
}

int AudioClock::decoded_rate() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rate_;
}

int64_t AudioClock::first_decoded_end() const {
  std::lock_guard<std::mutex> lock(mu_);
  return decoded_end_;
}

int64_t AudioClock::correction(int64_t boundary) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (pts_.size() < 4 || boundary < 0 || rate_ <= 0) return 0;
  const int64_t c = fixed_frames(boundary);
  return c != INT64_MIN ? c : sized_frames(boundary);
}

// Frames of one size: the packets' spacing gives it. INT64_MIN: not one size.
int64_t AudioClock::fixed_frames(int64_t boundary) const {
  // The first packet after a flush may be clamped (a negative time made 0): left out.
  const size_t n = pts_.size() - 1;
  const double spacing = double(pts_.back() - pts_[1]) / double(n - 1);      // ns per packet
  const int64_t guess = std::llround(spacing * rate_ / double(GST_SECOND));  // samples
  // The rounding of the timestamps makes the mean spacing a sample or two off: the frame
  // size is the whole number of samples near it that leaves the least spread.
  int64_t frame = 0, spread = INT64_MAX;
  std::vector<int64_t> origin;
  auto origins = [&](int64_t f) {
    std::vector<int64_t> o;
    for (size_t k = 1; k < pts_.size(); ++k)
      o.push_back(pts_[k] - int64_t(gst_util_uint64_scale_round(guint64(k) * guint64(f), GST_SECOND,
                                                                guint64(rate_))));
    return o;
  };
  for (int64_t f = std::max<int64_t>(1, guess - 3); f <= guess + 3; ++f) {
    std::vector<int64_t> o = origins(f);
    const auto [lo, hi] = std::minmax_element(o.begin(), o.end());
    if (*hi - *lo < spread) {
      spread = *hi - *lo;
      frame = f;
      origin = std::move(o);
    }
  }
  GST_DEBUG("%zu packets, %" G_GINT64_FORMAT " samples a frame, spread %" G_GINT64_FORMAT " ns",
            pts_.size(), frame, spread);
  if (frame <= 0 || spread > kMaxSpread) return INT64_MIN;  // frames of varying size, or a gap
  // Rounding leaves the true origin within the spread; the middle of it is the estimate
  // (for rounding errors spread evenly, closer than the middle: about 1/N of the spread).
  const auto [lo, hi] = std::minmax_element(origin.begin(), origin.end());
  const int64_t middle = *lo + (*hi - *lo) / 2;
  // The nearest boundary of the estimated grid is where `boundary` belongs.
  const int64_t frame_ns =
      int64_t(gst_util_uint64_scale_round(guint64(frame), GST_SECOND, guint64(rate_)));
  const double k = std::round(double(boundary - middle) / double(frame_ns));
  const int64_t grid =
      middle + int64_t(gst_util_uint64_scale_round(guint64(std::llabs(int64_t(k))) * guint64(frame),
                                                   GST_SECOND, guint64(rate_))) *
                   (k < 0 ? -1 : 1);
  const int64_t c = grid - boundary;
  return std::llabs(c) <= kMaxCorrection ? c : 0;
}

// Frames of varying size, decoded buffers stamped with their packets' times: the buffers'
// lengths (exact sample counts) place the packets. The run of decoded buffers that start where
// a packet does (the first after a seek may be clipped) is what counts.
int64_t AudioClock::sized_frames(int64_t boundary) const {
  std::vector<int64_t> starts(pts_.begin() + 1, pts_.end());
  std::sort(starts.begin(), starts.end());
  size_t first = 0;
  while (first < decoded_.size() &&
         !std::binary_search(starts.begin(), starts.end(), decoded_[first].first))
    ++first;
  std::vector<int64_t> origin;
  std::vector<int64_t> elapsed{0};  // length of the run before each buffer, and after the last
  for (size_t i = first; i < decoded_.size(); ++i) {
    const auto [pts, end] = decoded_[i];
    if (origin.size() < kPackets - 1) {
      if (!std::binary_search(starts.begin(), starts.end(), pts)) break;
      origin.push_back(pts - elapsed.back());
    }
    elapsed.push_back(elapsed.back() + (end - pts));
  }
  if (origin.size() < 16) return 0;
  const auto [lo, hi] = std::minmax_element(origin.begin(), origin.end());
  GST_DEBUG("%zu decoded buffers on packets, spread %" G_GINT64_FORMAT " ns", origin.size(),
            *hi - *lo);
  if (*hi - *lo > kMaxSpread) return 0;
  const int64_t middle = *lo + (*hi - *lo) / 2;
  // `boundary` is the end of one of the decoded buffers: its true place is the grid's.
  for (size_t i = first; i < decoded_.size() && i - first + 1 < elapsed.size(); ++i) {
    if (std::llabs(decoded_[i].second - boundary) > 1000) continue;
    const int64_t c = middle + elapsed[i - first + 1] - boundary;
    return std::llabs(c) <= kMaxCorrection ? c : 0;
  }
  return 0;
}

}  // namespace tws
