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
  if (broken_ || pts_.size() >= kPackets) return;
  if (!GST_CLOCK_TIME_IS_VALID(pts)) {
    broken_ = true;
    return;
  }
  pts_.push_back(int64_t(pts));
}

void AudioClock::decoded(GstClockTime pts, GstClockTime end, int rate) {
  std::lock_guard<std::mutex> lock(mu_);
  if (decoded_end_ >= 0 || !GST_CLOCK_TIME_IS_VALID(pts) || !GST_CLOCK_TIME_IS_VALID(end) ||
      rate <= 0)
    return;
  decoded_end_ = int64_t(end);
  rate_ = rate;
}

void AudioClock::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  pts_.clear();
  broken_ = false;
  decoded_end_ = -1;
  rate_ = 0;
}

bool AudioClock::settled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broken_ || pts_.size() >= kPackets;
}

size_t AudioClock::packets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broken_ ? 0 : pts_.size();
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
  // The first packet after a flush may be clamped (a negative time made 0): left out.
  if (broken_ || pts_.size() < 4 || boundary < 0 || rate_ <= 0) return 0;
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
  if (frame <= 0 || spread > kMaxSpread) return 0;  // frames of varying size, or a gap
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

}  // namespace tws
