// SPDX-License-Identifier: LGPL-2.1-or-later
// The segment plan: where every segment of a target starts and ends, on the output video
// frame grid and on the AAC frame grid. A pure function of its inputs, so that every job,
// process and node that makes a segment of a target agrees on it (DESIGN.md "The segment plan").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tws {

// A rational rate (frames per second); {0, 1} means "no video".
struct Rate {
  int num = 0;
  int den = 1;
  bool valid() const { return num > 0 && den > 0; }
  double value() const { return valid() ? double(num) / den : 0.0; }
  bool operator==(const Rate&) const = default;
};

struct PlanInput {
  double duration = 0;                   // source duration D, seconds (after clipping)
  Rate frame_rate;                       // output frame rate R; invalid when there is no video
  double segment_length = 10;            // L, seconds
  std::vector<double> initial_segments;  // lengths of the first segments, seconds
  int audio_rate = 0;                    // output sample rate S; 0 when there is no audio
};

constexpr int64_t kAacFrame = 1024;  // samples per AAC frame

struct PlannedSegment {
  int index = 0;
  int64_t first_frame = 0, end_frame = 0;    // video: output frames [F_k, F_k+1)
  int64_t first_sample = 0, end_sample = 0;  // audio: samples [A_k, A_k+1), multiples of 1024
  double extinf = 0;                         // seconds

  // Media time of the segment's start/end in nanoseconds: the video grid when the target
  // has video, else the audio grid.
  uint64_t start_ns = 0, end_ns = 0;
  uint64_t video_start_ns(const Rate& r) const;
  uint64_t audio_start_ns(int rate) const;
};

struct Plan {
  PlanInput input;
  std::vector<PlannedSegment> segments;
  int target_duration = 0;  // ceil(max EXTINF)

  bool has_video() const { return input.frame_rate.valid(); }
  bool has_audio() const { return input.audio_rate > 0; }
};

// Returns false with *error set when the inputs cannot make a plan (no duration, no streams).
bool make_plan(const PlanInput& input, Plan* plan, std::string* error);

// "#EXTINF" value as written in playlists: 6 decimals.
std::string format_extinf(double seconds);

}  // namespace tws
