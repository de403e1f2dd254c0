// SPDX-License-Identifier: LGPL-2.1-or-later
// A segment cut into GOPs made in parallel: how many chunks (segment_chunks), where they are
// cut (split_plan), and the MPEG-TS join of the chunks (TsJoin).
#include <glib.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "hlssegmux/ts_writer.h"
#include "pipelines/segment_split.h"
#include "pipelines/ts_join.h"

namespace tws {
namespace {

Plan make_test_plan(double duration, double length, std::vector<double> initial,
                    bool video = true) {
  PlanInput in;
  in.duration = duration;
  if (video) in.frame_rate = Rate{25, 1};
  in.segment_length = length;
  in.initial_segments = std::move(initial);
  in.audio_rate = 44100;
  Plan plan;
  std::string error;
  EXPECT_TRUE(make_plan(in, &plan, &error)) << error;
  return plan;
}

TEST(SegmentChunks, OneChunkOnTwoCoresTwoSecondsAtLeastElsewhere) {
  const Plan plan = make_test_plan(60, 10, {});
  EXPECT_EQ(segment_chunks(plan, 1, 1), 1);
  EXPECT_EQ(segment_chunks(plan, 1, 2), 1);
  EXPECT_EQ(segment_chunks(plan, 1, 4), 2);   // a chunk per 2 cores
  EXPECT_EQ(segment_chunks(plan, 1, 16), 5);  // 10 s: at most 5 chunks of 2 s
  const Plan short_segments = make_test_plan(60, 3, {});
  EXPECT_EQ(segment_chunks(short_segments, 1, 16), 1);  // 3 s: no two chunks of 2 s
  const Plan audio_only = make_test_plan(60, 10, {}, false);
  EXPECT_EQ(segment_chunks(audio_only, 1, 16), 1);
  EXPECT_EQ(segment_chunks(plan, 99, 16), 1);
}

TEST(SegmentChunks, CoresFromTheEnvironment) {
  g_setenv("TWS_CORES", "7", TRUE);
  EXPECT_EQ(available_cores(), 7);
  g_setenv("TWS_CORES", "seven", TRUE);
  EXPECT_EQ(available_cores(), int(g_get_num_processors()));
  g_unsetenv("TWS_CORES");
  EXPECT_EQ(available_cores(), int(g_get_num_processors()));
}

TEST(SplitPlan, ChunksCoverTheSegmentOnBothGrids) {
  const Plan plan = make_test_plan(60, 10, {2, 2});
  for (int k : {0, 3}) {
    const PlannedSegment& s = plan.segments[k];
    const int n = k == 0 ? 2 : 4;
    const Plan sub = split_plan(plan, k, n);
    ASSERT_EQ(int(sub.segments.size()), n);
    EXPECT_EQ(sub.segments.front().first_frame, s.first_frame);
    EXPECT_EQ(sub.segments.back().end_frame, s.end_frame);
    EXPECT_EQ(sub.segments.front().first_sample, s.first_sample);
    EXPECT_EQ(sub.segments.back().end_sample, s.end_sample);
    EXPECT_EQ(sub.segments.front().start_ns, s.start_ns);
    EXPECT_EQ(sub.segments.back().end_ns, s.end_ns);
    double extinf = 0;
    for (int i = 0; i < n; ++i) {
      const PlannedSegment& c = sub.segments[i];
      EXPECT_EQ(c.index, i);
      EXPECT_GT(c.end_frame, c.first_frame);
      EXPECT_GT(c.end_sample, c.first_sample);
      EXPECT_EQ(c.first_sample % kAacFrame, 0);
      EXPECT_EQ(c.end_sample % kAacFrame, 0);
      extinf += c.extinf;
      if (i + 1 < n) {
        EXPECT_EQ(c.end_frame, sub.segments[i + 1].first_frame);
        EXPECT_EQ(c.end_sample, sub.segments[i + 1].first_sample);
        EXPECT_EQ(c.end_ns, sub.segments[i + 1].start_ns);
        // The audio cut is the AAC frame nearest the video cut.
        const double video_cut = double(c.end_frame) / 25.0;
        EXPECT_LE(std::abs(double(c.end_sample) / 44100.0 - video_cut), 512.0 / 44100.0 + 1e-9);
      }
    }
    EXPECT_NEAR(extinf, s.extinf, 1e-9);
    // The chunks of a quick-start segment are quick-start segments (their x264 settings).
    EXPECT_EQ(int(sub.input.initial_segments.size()), k == 0 ? n : 0);
  }
  // Frames as equal as they go: 250 frames in 3 chunks.
  const Plan three = split_plan(plan, 3, 3);
  EXPECT_EQ(three.segments[0].end_frame - three.segments[0].first_frame, 83);
  EXPECT_EQ(three.segments[1].end_frame - three.segments[1].first_frame, 83);
  EXPECT_EQ(three.segments[2].end_frame - three.segments[2].first_frame, 84);
}

struct Packet {
  uint16_t pid;
  uint8_t cc;
  bool payload;
  bool discontinuity;
};

std::vector<Packet> packets(const std::vector<uint8_t>& ts) {
  std::vector<Packet> out;
  EXPECT_EQ(ts.size() % 188, 0u);
  for (size_t off = 0; off + 188 <= ts.size(); off += 188) {
    const uint8_t* p = ts.data() + off;
    EXPECT_EQ(p[0], 0x47);
    const int afc = (p[3] >> 4) & 3;
    out.push_back({uint16_t(((p[1] & 0x1f) << 8) | p[2]), uint8_t(p[3] & 0x0f), bool(afc & 1),
                   (afc & 2) && p[4] > 0 && (p[5] & 0x80)});
  }
  return out;
}

// A part as hlssegmux writes a segment: PAT, PMT, then video and audio PES.
std::vector<uint8_t> make_part(uint64_t start90k, int frames) {
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kH264, true);
  w.begin_segment();
  std::vector<uint8_t> au(1000, 0x11);
  const uint8_t idr[] = {0, 0, 0, 1, 0x65};
  std::copy(std::begin(idr), std::end(idr), au.begin());
  // 7 frames with ADTS headers: a valid AAC frame of 100 bytes.
  std::vector<uint8_t> adts(100, 0);
  const uint8_t header[] = {0xFF, 0xF1, 0x50, 0x80, 0x0C, 0x9F, 0xFC};
  std::copy(std::begin(header), std::end(header), adts.begin());
  for (int i = 0; i < frames; ++i) {
    w.write_video(au.data(), au.size(), start90k + i * 3600, start90k + i * 3600, i == 0);
    w.write_audio(adts.data(), adts.size(), start90k + i * 3600);
  }
  return out;
}

TEST(SeekHint, CutsAtTheFrameShownAtTheHintWhenTheDraftPays) {
  // [2, 2] then 10 s segments: segment 3 is 14-24 s, frames 350-600 at 25 fps.
  const Plan plan = make_test_plan(60, 10, {2, 2});
  EXPECT_EQ(hint_cut_frame(plan, 3, 20.0), 500);
  EXPECT_EQ(hint_cut_frame(plan, 3, 20.039), 500);  // the frame shown at 20.039 s
  EXPECT_EQ(hint_cut_frame(plan, 3, 23.99), 599);   // the last frame: a draft of all but one
  EXPECT_EQ(hint_cut_frame(plan, 3, 15.0), 375);    // 1 s in: the least that pays
  EXPECT_EQ(hint_cut_frame(plan, 3, 14.96), 0);     // under 1 s in
  EXPECT_EQ(hint_cut_frame(plan, 3, 24.0), 0);      // the next segment's
  EXPECT_EQ(hint_cut_frame(plan, 3, 10.0), 0);      // before the segment
  EXPECT_EQ(hint_cut_frame(plan, 3, -1), 0);        // none
  EXPECT_EQ(hint_cut_frame(plan, 3, std::nan("")), 0);
  EXPECT_EQ(hint_cut_frame(plan, 1, 3.5), 0);  // a quick-start segment (2-4 s)
  EXPECT_EQ(hint_cut_frame(plan, 99, 20), 0);  // out of the plan
  const Plan audio_only = make_test_plan(60, 10, {}, false);
  EXPECT_EQ(hint_cut_frame(audio_only, 1, 15), 0);

  // The draft and the rest: the plan's segment on both grids, cut at the hint's frame.
  const Plan sub = split_plan_at(plan, 3, {hint_cut_frame(plan, 3, 20.0)});
  ASSERT_EQ(sub.segments.size(), 2u);
  EXPECT_EQ(sub.segments[0].first_frame, 350);
  EXPECT_EQ(sub.segments[0].end_frame, 500);
  EXPECT_EQ(sub.segments[1].first_frame, 500);
  EXPECT_EQ(sub.segments[1].end_frame, 600);
  EXPECT_EQ(sub.segments[0].first_sample, plan.segments[3].first_sample);
  EXPECT_EQ(sub.segments[1].end_sample, plan.segments[3].end_sample);
  EXPECT_EQ(sub.segments[0].end_sample, sub.segments[1].first_sample);
  EXPECT_EQ(sub.segments[0].end_sample % kAacFrame, 0);
  EXPECT_LE(std::abs(double(sub.segments[0].end_sample) / 44100.0 - 20.0), 512.0 / 44100.0);
  EXPECT_NEAR(sub.segments[0].extinf, 6.0, 1e-9);
  EXPECT_NEAR(sub.segments[1].extinf, 4.0, 1e-9);
  EXPECT_EQ(sub.target_duration, 6);
  EXPECT_TRUE(sub.input.initial_segments.empty());
}

TEST(TsJoin, OnePatAndPmtCountersGoOnNoDiscontinuityInside) {
  const std::vector<std::vector<uint8_t>> parts = {make_part(0, 5), make_part(18000, 7),
                                                   make_part(43200, 3)};
  std::vector<uint8_t> joined;
  TsJoin join([&](const uint8_t* d, size_t n) {
    joined.insert(joined.end(), d, d + n);
    return true;
  });
  size_t psi_in_later_parts = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    join.begin_part();
    // Written in pieces that split packets anywhere.
    for (size_t off = 0; off < parts[i].size(); off += 100)
      ASSERT_TRUE(join.write(parts[i].data() + off, std::min<size_t>(100, parts[i].size() - off)));
    ASSERT_TRUE(join.end_part());
    if (i > 0)
      for (const Packet& p : packets(parts[i])) psi_in_later_parts += p.pid == 0 || p.pid == 0x1000;
  }
  ASSERT_EQ(psi_in_later_parts, 4u);  // each later part came with its PAT and PMT
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  EXPECT_EQ(joined.size(), total - psi_in_later_parts * 188);
  EXPECT_EQ(join.bytes_out(), joined.size());

  std::map<uint16_t, int> count, last_cc;
  const std::vector<Packet> out = packets(joined);
  for (size_t i = 0; i < out.size(); ++i) {
    const Packet& p = out[i];
    if (p.pid == 0 || p.pid == 0x1000) {
      EXPECT_LT(i, 2u) << "PSI packet at " << i;
    }
    const bool first = count[p.pid]++ == 0;
    // Only the stream's first packet of a PID says "discontinuity" (as one segment would).
    EXPECT_EQ(p.discontinuity, first) << "packet " << i;
    if (!first && p.payload) {
      EXPECT_EQ(p.cc, (last_cc[p.pid] + 1) % 16) << "packet " << i;
    }
    last_cc[p.pid] = p.cc;
  }
  EXPECT_EQ(count[0], 1);
  EXPECT_EQ(count[0x1000], 1);
  EXPECT_GT(count[0x100], 15);  // the counters wrapped
}

TEST(TsJoin, RefusesWhatIsNotTs) {
  TsJoin join([](const uint8_t*, size_t) { return true; });
  std::vector<uint8_t> junk(188, 0x20);
  EXPECT_FALSE(join.write(junk.data(), junk.size()));
  EXPECT_FALSE(join.error().empty());
  TsJoin half([](const uint8_t*, size_t) { return true; });
  std::vector<uint8_t> part = make_part(0, 1);
  ASSERT_TRUE(half.write(part.data(), 100));
  EXPECT_FALSE(half.end_part());
  TsJoin refused([](const uint8_t*, size_t) { return false; });
  EXPECT_FALSE(refused.write(part.data(), part.size()));
}

}  // namespace
}  // namespace tws
