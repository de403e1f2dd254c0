// SPDX-License-Identifier: LGPL-2.1-or-later
// The segment plan (DESIGN.md "The segment plan"): boundaries on the output frame grid and on
// the AAC frame grid, EXTINF, TARGETDURATION, the last short piece, audio-only/video-only.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/plan.h"

namespace tws {
namespace {

PlanInput Input(double duration, Rate r, int audio_rate, double length = 10,
                std::vector<double> initial = {}) {
  PlanInput in;
  in.duration = duration;
  in.frame_rate = r;
  in.audio_rate = audio_rate;
  in.segment_length = length;
  in.initial_segments = std::move(initial);
  return in;
}

Plan MakeOk(const PlanInput& in) {
  Plan plan;
  std::string error;
  EXPECT_TRUE(make_plan(in, &plan, &error)) << error;
  return plan;
}

std::vector<int64_t> FrameEdges(const Plan& p) {
  std::vector<int64_t> e;
  for (const PlannedSegment& s : p.segments) e.push_back(s.first_frame);
  if (!p.segments.empty()) e.push_back(p.segments.back().end_frame);
  return e;
}

std::vector<int64_t> SampleEdges(const Plan& p) {
  std::vector<int64_t> e;
  for (const PlannedSegment& s : p.segments) e.push_back(s.first_sample);
  if (!p.segments.empty()) e.push_back(p.segments.back().end_sample);
  return e;
}

// A_k = round(F_k / R * S / 1024) * 1024 with exact rational arithmetic, ties up.
int64_t AacEdge(int64_t frame, Rate r, int64_t s) {
  const int64_t num = frame * r.den * s, den = int64_t(r.num) * 1024;
  return (2 * num + den) / (2 * den) * 1024;
}

// Checks what holds for every plan: contiguity, indices, grids, EXTINF, TARGETDURATION.
void CheckInvariants(const Plan& p) {
  ASSERT_FALSE(p.segments.empty());
  const Rate r = p.input.frame_rate;
  const int s = p.input.audio_rate;
  double max_extinf = 0;
  for (size_t k = 0; k < p.segments.size(); ++k) {
    const PlannedSegment& seg = p.segments[k];
    SCOPED_TRACE(::testing::Message() << "segment " << k);
    EXPECT_EQ(seg.index, int(k));
    if (k == 0) {
      EXPECT_EQ(seg.first_frame, 0);
      EXPECT_EQ(seg.first_sample, 0);
      EXPECT_EQ(seg.start_ns, 0u);
    } else {
      const PlannedSegment& prev = p.segments[k - 1];
      EXPECT_EQ(seg.first_frame, prev.end_frame);
      EXPECT_EQ(seg.first_sample, prev.end_sample);
      EXPECT_EQ(seg.start_ns, prev.end_ns);
    }
    EXPECT_LT(seg.start_ns, seg.end_ns);
    if (p.has_video()) {
      EXPECT_LT(seg.first_frame, seg.end_frame);
      EXPECT_DOUBLE_EQ(seg.extinf, double(seg.end_frame - seg.first_frame) * r.den / r.num);
      EXPECT_EQ(seg.start_ns, seg.video_start_ns(r));
    } else {
      EXPECT_EQ(seg.first_frame, 0);
      EXPECT_EQ(seg.end_frame, 0);
      EXPECT_LT(seg.first_sample, seg.end_sample);
      EXPECT_DOUBLE_EQ(seg.extinf, double(seg.end_sample - seg.first_sample) / s);
      EXPECT_EQ(seg.start_ns, seg.audio_start_ns(s));
    }
    if (p.has_audio()) {
      EXPECT_EQ(seg.first_sample % kAacFrame, 0);
      EXPECT_EQ(seg.end_sample % kAacFrame, 0);
      if (p.has_video()) {
        EXPECT_EQ(seg.first_sample, AacEdge(seg.first_frame, r, s));
        EXPECT_EQ(seg.end_sample, AacEdge(seg.end_frame, r, s));
      }
    } else {
      EXPECT_EQ(seg.first_sample, 0);
      EXPECT_EQ(seg.end_sample, 0);
    }
    max_extinf = std::max(max_extinf, seg.extinf);
  }
  EXPECT_EQ(p.target_duration, int(std::ceil(max_extinf - 1e-9)));
  EXPECT_GE(double(p.target_duration) + 1e-9, max_extinf);
}

// ---- video frame grids ----

TEST(Plan, Fps25) {
  const Plan p = MakeOk(Input(60, {25, 1}, 48000));
  CheckInvariants(p);
  EXPECT_EQ(FrameEdges(p), (std::vector<int64_t>{0, 250, 500, 750, 1000, 1250, 1500}));
  for (const PlannedSegment& s : p.segments) EXPECT_EQ(format_extinf(s.extinf), "10.000000");
  EXPECT_EQ(p.target_duration, 10);
  // 250 frames = 10 s = 468.75 AAC frames per segment: 469, 937.5 -> 938 (tie up), 1406.25 ...
  EXPECT_EQ(SampleEdges(p), (std::vector<int64_t>{0, 469 * 1024, 938 * 1024, 1406 * 1024,
                                                  1875 * 1024, 2344 * 1024, 2813 * 1024}));
  EXPECT_EQ(p.segments[1].start_ns, 10000000000u);
  EXPECT_EQ(p.segments[1].audio_start_ns(48000), uint64_t(469) * 1024 * 1000000000 / 48000);
  EXPECT_TRUE(p.has_video());
  EXPECT_TRUE(p.has_audio());
}

TEST(Plan, Fps24) {
  const Plan p = MakeOk(Input(60, {24, 1}, 44100, 6));
  CheckInvariants(p);
  std::vector<int64_t> want;
  for (int k = 0; k <= 10; ++k) want.push_back(144 * k);
  EXPECT_EQ(FrameEdges(p), want);
  EXPECT_EQ(p.target_duration, 6);
  // 6 s at 44100 Hz = 258.398 AAC frames -> 258.
  EXPECT_EQ(p.segments[0].end_sample, 258 * 1024);
  EXPECT_EQ(p.segments.back().end_sample, AacEdge(1440, {24, 1}, 44100));
}

TEST(Plan, Fps2997Boundaries) {
  const Rate r{30000, 1001};
  const Plan p = MakeOk(Input(60, r, 48000));
  CheckInvariants(p);
  // F_k = round(10 k * 29.97003): 299.7, 599.4, 899.1, 1198.8, 1498.5015, end 1798.2
  EXPECT_EQ(FrameEdges(p), (std::vector<int64_t>{0, 300, 599, 899, 1199, 1499, 1798}));
  EXPECT_EQ(format_extinf(p.segments[0].extinf), "10.010000");  // 300 frames
  EXPECT_EQ(format_extinf(p.segments[1].extinf), "9.976633");   // 299 frames
  EXPECT_EQ(format_extinf(p.segments[2].extinf), "10.010000");
  EXPECT_EQ(p.target_duration, 11);                 // ceil(10.01)
  EXPECT_EQ(p.segments[1].start_ns, 10010000000u);  // 300 * 1001 / 30000 s, exact
  // Every boundary stays within half a frame of the nominal one.
  for (size_t k = 0; k < p.segments.size(); ++k)
    EXPECT_LE(std::abs(double(p.segments[k].first_frame) * 1001 / 30000 - 10.0 * k),
              0.5 * 1001 / 30000 + 1e-9);
}

TEST(Plan, ExtinfSumsToFrameCountOverRate) {
  for (Rate r : {Rate{25, 1}, Rate{24, 1}, Rate{30000, 1001}, Rate{24000, 1001}, Rate{60, 1}}) {
    for (double d : {60.0, 61.3, 3599.97, 7.04}) {
      SCOPED_TRACE(::testing::Message() << r.num << "/" << r.den << " D=" << d);
      const Plan p = MakeOk(Input(d, r, 48000, 6, {2, 2}));
      CheckInvariants(p);
      double sum = 0;
      for (const PlannedSegment& s : p.segments) {
        const std::string text = format_extinf(s.extinf);
        const size_t dot = text.find('.');
        ASSERT_NE(dot, std::string::npos);
        EXPECT_EQ(text.size() - dot - 1, 6u) << text;
        sum += std::stod(text);
      }
      const int64_t frames = p.segments.back().end_frame;
      EXPECT_EQ(frames, std::max<int64_t>(1, std::llround(d * r.num / r.den)));
      EXPECT_NEAR(sum, double(frames) * r.den / r.num, 0.5e-6 * p.segments.size() + 1e-9);
    }
  }
}

TEST(Plan, FormatExtinf) {
  EXPECT_EQ(format_extinf(10), "10.000000");
  EXPECT_EQ(format_extinf(1.52), "1.520000");
  EXPECT_EQ(format_extinf(299.0 * 1001 / 30000), "9.976633");
  EXPECT_EQ(format_extinf(1001.0 / 24000), "0.041708");
}

// ---- InitialSegments and the last piece ----

TEST(Plan, InitialSegmentsThenLength) {
  const Plan p = MakeOk(Input(60, {25, 1}, 48000, 10, {2, 2, 2}));
  CheckInvariants(p);
  // Seconds 0,2,4,6,16,26,36,46,56 and the end 60: the last piece (4 s) stays.
  EXPECT_EQ(FrameEdges(p),
            (std::vector<int64_t>{0, 50, 100, 150, 400, 650, 900, 1150, 1400, 1500}));
  ASSERT_EQ(p.segments.size(), 9u);
  EXPECT_EQ(format_extinf(p.segments[0].extinf), "2.000000");
  EXPECT_EQ(format_extinf(p.segments[3].extinf), "10.000000");
  EXPECT_EQ(format_extinf(p.segments[8].extinf), "4.000000");
  EXPECT_EQ(p.target_duration, 10);
}

TEST(Plan, InitialSegmentsLongerThanTheSource) {
  // D = 5: boundaries 0, 2, 4; the last piece 4..5 is exactly 1 s and stays.
  Plan p = MakeOk(Input(5, {25, 1}, 48000, 10, {2, 2, 2}));
  CheckInvariants(p);
  EXPECT_EQ(FrameEdges(p), (std::vector<int64_t>{0, 50, 100, 125}));
  // D = 4.5: the last piece (0.5 s) joins the one before.
  p = MakeOk(Input(4.5, {25, 1}, 48000, 10, {2, 2, 2}));
  CheckInvariants(p);
  EXPECT_EQ(FrameEdges(p), (std::vector<int64_t>{0, 50, 113}));  // 112.5 -> 113
  // D = 6 exactly: no empty segment at the end.
  p = MakeOk(Input(6, {25, 1}, 48000, 10, {2, 2, 2}));
  CheckInvariants(p);
  EXPECT_EQ(FrameEdges(p), (std::vector<int64_t>{0, 50, 100, 150}));
}

TEST(Plan, ShortLastPieceJoinsThePreviousSegment) {
  const Plan p = MakeOk(Input(60.5, {25, 1}, 48000));
  CheckInvariants(p);
  ASSERT_EQ(p.segments.size(), 6u);
  EXPECT_EQ(p.segments.back().first_frame, 1250);
  EXPECT_EQ(p.segments.back().end_frame, 1513);  // round(60.5 * 25) = 1512.5 -> 1513
  EXPECT_EQ(format_extinf(p.segments.back().extinf), "10.520000");
  EXPECT_EQ(p.target_duration, 11);
}

TEST(Plan, OneSecondLastPieceStays) {
  const Plan p = MakeOk(Input(61, {25, 1}, 48000));
  CheckInvariants(p);
  ASSERT_EQ(p.segments.size(), 7u);
  EXPECT_EQ(p.segments.back().end_frame - p.segments.back().first_frame, 25);
  EXPECT_EQ(p.target_duration, 10);
}

TEST(Plan, LessThanAFrameOverABoundary) {
  // 20.01 s at 25 fps ends on frame 500: no empty segment.
  const Plan p = MakeOk(Input(20.01, {25, 1}, 48000));
  CheckInvariants(p);
  EXPECT_EQ(FrameEdges(p), (std::vector<int64_t>{0, 250, 500}));
}

TEST(Plan, ShortSourceIsOneSegment) {
  Plan p = MakeOk(Input(1.5, {25, 1}, 48000));
  CheckInvariants(p);
  ASSERT_EQ(p.segments.size(), 1u);
  EXPECT_EQ(p.segments[0].end_frame, 38);  // 37.5 -> 38
  EXPECT_EQ(format_extinf(p.segments[0].extinf), "1.520000");
  EXPECT_EQ(p.target_duration, 2);
  // With a 1 s initial segment, the 0.5 s rest joins it: still one segment.
  p = MakeOk(Input(1.5, {25, 1}, 48000, 10, {1}));
  CheckInvariants(p);
  ASSERT_EQ(p.segments.size(), 1u);
  // Shorter than a second: still one segment.
  p = MakeOk(Input(0.3, {25, 1}, 0));
  CheckInvariants(p);
  ASSERT_EQ(p.segments.size(), 1u);
  EXPECT_EQ(p.segments[0].end_frame, 8);  // 7.5 -> 8
  EXPECT_EQ(p.target_duration, 1);
}

// ---- audio on the AAC grid ----

TEST(Plan, AudioTieRoundsUp) {
  // 25 fps, 48000 Hz: frame 4 = 0.16 s = 7680 samples = 7.5 AAC frames -> 8.
  const Plan p = MakeOk(Input(20, {25, 1}, 48000, 10, {0.16}));
  CheckInvariants(p);
  ASSERT_GE(p.segments.size(), 2u);
  EXPECT_EQ(p.segments[1].first_frame, 4);
  EXPECT_EQ(p.segments[0].end_sample, 8 * 1024);
  EXPECT_EQ(p.segments[1].first_sample, 8 * 1024);
  // Frame 12 = 23040 samples = 22.5 AAC frames -> 23.
  EXPECT_EQ(AacEdge(12, {25, 1}, 48000), 23 * 1024);
}

TEST(Plan, AudioGridExactForManyRates) {
  for (int s : {8000, 22050, 32000, 44100, 48000, 96000})
    for (Rate r : {Rate{25, 1}, Rate{30000, 1001}, Rate{50, 1}, Rate{24000, 1001}}) {
      SCOPED_TRACE(::testing::Message() << s << " Hz " << r.num << "/" << r.den);
      const Plan p = MakeOk(Input(123.4, r, s, 4, {1, 1}));
      CheckInvariants(p);
      // Audio stays within half an AAC frame of the video edge.
      for (const PlannedSegment& seg : p.segments) {
        const double video_t = double(seg.first_frame) * r.den / r.num;
        EXPECT_LE(std::abs(double(seg.first_sample) / s - video_t), 512.0 / s + 1e-9);
      }
    }
}

TEST(Plan, AudioOnly) {
  const Plan p = MakeOk(Input(60, {0, 1}, 48000));
  CheckInvariants(p);
  EXPECT_FALSE(p.has_video());
  EXPECT_TRUE(p.has_audio());
  // round(10 k * 48000 / 1024) = round(468.75 k)
  EXPECT_EQ(SampleEdges(p), (std::vector<int64_t>{0, 469 * 1024, 938 * 1024, 1406 * 1024,
                                                  1875 * 1024, 2344 * 1024, 2813 * 1024}));
  EXPECT_EQ(format_extinf(p.segments[0].extinf), "10.005333");  // 480256 / 48000
  EXPECT_EQ(p.target_duration, 11);
  EXPECT_EQ(p.segments[1].start_ns, uint64_t(469) * 1024 * 1000000000 / 48000);
  double sum = 0;
  for (const PlannedSegment& s : p.segments) sum += s.extinf;
  EXPECT_NEAR(sum, 2813.0 * 1024 / 48000, 1e-9);
}

TEST(Plan, AudioOnly44100WithShortLastPiece) {
  const Plan p = MakeOk(Input(30.4, {0, 1}, 44100));
  CheckInvariants(p);
  ASSERT_EQ(p.segments.size(), 3u);                      // 0, 10, 20; the 0.4 s rest joins the last
  EXPECT_EQ(p.segments[1].first_sample, 431 * 1024);     // 430.66 -> 431
  EXPECT_EQ(p.segments.back().end_sample, 1309 * 1024);  // 30.4*44100/1024 = 1309.2
}

TEST(Plan, VideoOnly) {
  const Plan p = MakeOk(Input(45, {25, 1}, 0));
  CheckInvariants(p);
  EXPECT_TRUE(p.has_video());
  EXPECT_FALSE(p.has_audio());
  EXPECT_EQ(FrameEdges(p), (std::vector<int64_t>{0, 250, 500, 750, 1000, 1125}));
  for (const PlannedSegment& s : p.segments) {
    EXPECT_EQ(s.first_sample, 0);
    EXPECT_EQ(s.end_sample, 0);
  }
}

// ---- properties ----

TEST(Plan, Deterministic) {
  const PlanInput in = Input(3599.97, {30000, 1001}, 44100, 6, {2, 2, 2});
  const Plan a = MakeOk(in), b = MakeOk(in);
  ASSERT_EQ(a.segments.size(), b.segments.size());
  EXPECT_EQ(a.target_duration, b.target_duration);
  for (size_t k = 0; k < a.segments.size(); ++k) {
    const PlannedSegment &x = a.segments[k], &y = b.segments[k];
    EXPECT_EQ(x.index, y.index);
    EXPECT_EQ(x.first_frame, y.first_frame);
    EXPECT_EQ(x.end_frame, y.end_frame);
    EXPECT_EQ(x.first_sample, y.first_sample);
    EXPECT_EQ(x.end_sample, y.end_sample);
    EXPECT_EQ(x.start_ns, y.start_ns);
    EXPECT_EQ(x.end_ns, y.end_ns);
    EXPECT_EQ(format_extinf(x.extinf), format_extinf(y.extinf));
  }
}

TEST(Plan, RenditionsShareNominalBoundaries) {
  // Two renditions at different rates: each boundary lands within one frame of the other.
  const Plan a = MakeOk(Input(120, {25, 1}, 48000, 6, {2}));
  const Plan b = MakeOk(Input(120, {30000, 1001}, 48000, 6, {2}));
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t k = 0; k < a.segments.size(); ++k)
    EXPECT_LE(std::abs(double(a.segments[k].start_ns) - double(b.segments[k].start_ns)), 1e9 / 25);
}

TEST(Plan, LongSourceNoDrift) {
  // 10 hours at 29.97: the last boundary is still on round(b * R).
  const Rate r{30000, 1001};
  const Plan p = MakeOk(Input(36000, r, 48000, 6));
  CheckInvariants(p);
  ASSERT_EQ(p.segments.size(), 6000u);
  EXPECT_EQ(p.segments.back().first_frame, std::llround(35994.0 * 30000 / 1001));
  EXPECT_EQ(p.segments.back().end_frame, std::llround(36000.0 * 30000 / 1001));
}

// ---- errors ----

TEST(Plan, Errors) {
  Plan p;
  std::string error;
  EXPECT_FALSE(make_plan(Input(0, {25, 1}, 48000), &p, &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(make_plan(Input(-3, {25, 1}, 48000), &p, &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(make_plan(Input(NAN, {25, 1}, 48000), &p, &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(make_plan(Input(INFINITY, {25, 1}, 48000), &p, &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(make_plan(Input(60, {0, 1}, 0), &p, &error));  // no streams
  EXPECT_FALSE(error.empty());
  EXPECT_TRUE(p.segments.empty());
  error.clear();
  EXPECT_FALSE(make_plan(Input(60, {25, 0}, 0), &p, &error));  // invalid rate, no audio
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(make_plan(Input(60, {25, 1}, 48000, 0), &p, &error));  // zero segment length
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace tws
