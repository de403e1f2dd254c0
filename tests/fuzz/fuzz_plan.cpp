// SPDX-License-Identifier: LGPL-2.1-or-later
// libFuzzer target: the segment plan (pipelines/plan.cpp), a pure function of the target's
// inputs. Whatever plan is made must hold its promises: segments in order, contiguous on both
// grids, audio boundaries on the AAC grid, none empty, EXTINF matching the frames, the last
// piece at least 1 s unless it is the only one, TARGETDURATION = ceil(max EXTINF).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "pipelines/plan.h"

namespace {

template <typename T>
T take(const uint8_t*& data, size_t& size) {
  T v{};
  const size_t n = size < sizeof v ? size : sizeof v;
  std::memcpy(&v, data, n);
  data += n;
  size -= n;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tws::PlanInput in;
  in.duration = double(take<uint32_t>(data, size) % 40000000) / 1000.0;  // up to 11 h
  const uint8_t kind = take<uint8_t>(data, size);
  if (kind & 1)
    in.frame_rate = {int(take<uint16_t>(data, size) % 240001),
                     int(take<uint16_t>(data, size) % 1002)};
  if (kind & 2) in.audio_rate = int(take<uint32_t>(data, size) % 200000);
  in.segment_length = double(take<uint8_t>(data, size) % 20);
  const int initial = take<uint8_t>(data, size) % 8;
  for (int i = 0; i < initial; ++i)
    in.initial_segments.push_back(double(take<uint8_t>(data, size) % 20) / 2);

  tws::Plan plan;
  std::string error;
  if (!tws::make_plan(in, &plan, &error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  if (plan.segments.empty()) __builtin_trap();
  double longest = 0;
  for (size_t k = 0; k < plan.segments.size(); ++k) {
    const tws::PlannedSegment& s = plan.segments[k];
    if (s.index != int(k) || s.end_ns <= s.start_ns || s.extinf <= 0) __builtin_trap();
    if (plan.has_video()) {
      if (s.end_frame <= s.first_frame) __builtin_trap();
      if (k > 0 && s.first_frame != plan.segments[k - 1].end_frame) __builtin_trap();
      const double frames = double(s.end_frame - s.first_frame);
      if (std::fabs(s.extinf - frames * in.frame_rate.den / in.frame_rate.num) > 1e-6)
        __builtin_trap();
    }
    if (plan.has_audio()) {
      if (s.first_sample % tws::kAacFrame || s.end_sample % tws::kAacFrame) __builtin_trap();
      if (k > 0 && s.first_sample != plan.segments[k - 1].end_sample) __builtin_trap();
    }
    if (k > 0 && s.start_ns != plan.segments[k - 1].end_ns) __builtin_trap();
    longest = std::max(longest, s.extinf);
  }
  if (plan.segments.front().first_frame != 0 || plan.segments.front().first_sample != 0)
    __builtin_trap();
  if (plan.target_duration != int(std::ceil(longest - 1e-9))) __builtin_trap();
  return 0;
}
