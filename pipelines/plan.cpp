// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tws {
namespace {

constexpr uint64_t kSecond = 1000000000ull;

// Round-half-up of num / den for non-negative integers.
int64_t div_round(int64_t num, int64_t den) { return (2 * num + den) / (2 * den); }

uint64_t scale(uint64_t v, uint64_t num, uint64_t den) {
  // v * num / den without overflow for the ranges used here (v * num < 2^64 / 1e3).
  return static_cast<uint64_t>((static_cast<unsigned __int128>(v) * num) / den);
}

// Nominal boundaries in seconds: 0, i0, i0+i1, ..., then every L, strictly below D.
std::vector<double> nominal_boundaries(const PlanInput& in) {
  std::vector<double> b{0.0};
  double t = 0;
  for (double len : in.initial_segments) {
    t += len;
    if (t >= in.duration) break;
    b.push_back(t);
  }
  if (t < in.duration) {
    for (t += in.segment_length; t < in.duration; t += in.segment_length) b.push_back(t);
  }
  return b;
}

// Merges a last piece shorter than one second into the segment before it and removes
// boundaries that collapsed onto each other on the grid. `units` is the grid rate per second.
void tidy(std::vector<int64_t>* edges, double units_per_second) {
  std::vector<int64_t> out;
  for (int64_t e : *edges)
    if (out.empty() || e > out.back()) out.push_back(e);
  if (out.size() > 2 && (out.back() - out[out.size() - 2]) < units_per_second) {
    int64_t end = out.back();
    out.pop_back();
    out.back() = end;
  }
  *edges = std::move(out);
}

}  // namespace

uint64_t PlannedSegment::video_start_ns(const Rate& r) const {
  return r.valid() ? scale(first_frame, kSecond * r.den, r.num) : 0;
}

uint64_t PlannedSegment::audio_start_ns(int rate) const {
  return rate > 0 ? scale(first_sample, kSecond, rate) : 0;
}

bool make_plan(const PlanInput& in, Plan* plan, std::string* error) {
  *plan = Plan{};
  plan->input = in;
  if (!(in.duration > 0) || !std::isfinite(in.duration)) {
    *error = "the source has no duration";
    return false;
  }
  if (!in.frame_rate.valid() && in.audio_rate <= 0) {
    *error = "the target has neither video nor audio";
    return false;
  }
  if (!(in.segment_length > 0)) {
    *error = "segment length must be positive";
    return false;
  }
  const std::vector<double> nominal = nominal_boundaries(in);
  const Rate r = in.frame_rate;
  const int64_t s = in.audio_rate;

  std::vector<int64_t> edges;  // video frames, or audio samples for audio-only targets
  if (r.valid()) {
    for (double b : nominal) edges.push_back(std::llround(b * r.num / r.den));
    edges.push_back(std::max<int64_t>(1, std::llround(in.duration * r.num / r.den)));
    tidy(&edges, r.value());
  } else {
    for (double b : nominal) edges.push_back(std::llround(b * s / kAacFrame) * kAacFrame);
    edges.push_back(
        std::max<int64_t>(kAacFrame, std::llround(in.duration * s / kAacFrame) * kAacFrame));
    tidy(&edges, double(s));
  }

  double max_extinf = 0;
  for (size_t k = 0; k + 1 < edges.size(); ++k) {
    PlannedSegment seg;
    seg.index = static_cast<int>(k);
    if (r.valid()) {
      seg.first_frame = edges[k];
      seg.end_frame = edges[k + 1];
      seg.extinf = double(seg.end_frame - seg.first_frame) * r.den / r.num;
      seg.start_ns = seg.video_start_ns(r);
      seg.end_ns = scale(seg.end_frame, kSecond * r.den, r.num);
      if (s > 0) {
        // A_k = round(F_k / R * S / 1024) * 1024, exactly.
        auto grid = [&](int64_t f) {
          return div_round(f * r.den * s, int64_t(r.num) * kAacFrame) * kAacFrame;
        };
        seg.first_sample = grid(seg.first_frame);
        seg.end_sample = grid(seg.end_frame);
      }
    } else {
      seg.first_sample = edges[k];
      seg.end_sample = edges[k + 1];
      seg.extinf = double(seg.end_sample - seg.first_sample) / s;
      seg.start_ns = seg.audio_start_ns(s);
      seg.end_ns = scale(seg.end_sample, kSecond, s);
    }
    max_extinf = std::max(max_extinf, seg.extinf);
    plan->segments.push_back(seg);
  }
  plan->target_duration = static_cast<int>(std::ceil(max_extinf - 1e-9));
  return true;
}

std::string format_extinf(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  return buf;
}

}  // namespace tws
