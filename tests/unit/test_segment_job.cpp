// Segment jobs end to end inside the process: a generated source, its plan, segments made
// alone and as a run; every segment must pass check_segment and start with PAT and an IDR.
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "common/gref.h"
#include "launch_to_eos.h"
#include "pipelines/probe.h"
#include "pipelines/segment_job.h"

namespace tws {
namespace {

// 6 s of 320x240 25 fps H.264 (keyframes every 2 s) + a 440 Hz tone in AAC, in MP4.
std::string make_source() {
  static std::string path;
  if (!path.empty()) return path;
  gchar* dir = g_dir_make_tmp("tws-job-XXXXXX", nullptr);
  path = std::string(dir) + "/source.mp4";
  g_free(dir);
  std::string launch =
      "videotestsrc num-buffers=150 pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 "
      "! x264enc key-int-max=50 bframes=2 ! h264parse ! mp4mux name=m ! filesink location=" +
      path +
      " audiotestsrc num-buffers=259 freq=440 samplesperbuffer=1024 ! "
      "audio/x-raw,rate=44100,channels=2 ! avenc_aac ! aacparse ! m.";
  EXPECT_TRUE(launch_to_eos(launch)) << launch;
  return path;
}

SegmentJob make_job(const SourceInfo& info, int first, int last) {
  SegmentJob job;
  job.source = info.uri;
  job.has_video = true;
  job.video.width = 160;
  job.video.height = 120;
  job.video.frame_rate = Rate{25, 1};
  job.video.crf = 30;
  job.has_audio = true;
  job.audio.bitrate = 64000;
  PlanInput in;
  in.duration = info.duration;
  in.frame_rate = job.video.frame_rate;
  in.segment_length = 2;
  in.initial_segments = {1};
  in.audio_rate = 44100;
  std::string error;
  EXPECT_TRUE(make_plan(in, &job.plan, &error)) << error;
  job.first = first;
  job.last = last;
  return job;
}

struct Collected {
  std::map<int, std::vector<uint8_t>> bytes;
  std::vector<SegmentReport> reports;
};

bool run(const SegmentJob& job, Collected* out, std::string* error) {
  SegmentSink sink;
  sink.begin = [&](int k) { out->bytes[k].clear(); };
  sink.data = [&](int k, const uint8_t* d, size_t n) {
    out->bytes[k].insert(out->bytes[k].end(), d, d + n);
    return true;
  };
  sink.end = [&](const SegmentReport& r) { out->reports.push_back(r); };
  return run_segment_job(job, sink, error);
}

TEST(SegmentJob, ProbeFindsStreamsAndDuration) {
  SourceInfo info;
  std::string error;
  ASSERT_TRUE(probe_source(make_source(), &info, &error)) << error;
  ASSERT_EQ(info.video.size(), 1u);
  ASSERT_EQ(info.audio.size(), 1u);
  EXPECT_NEAR(info.duration, 6.0, 0.1);
  EXPECT_EQ(info.video[0].width, 320);
}

TEST(SegmentJob, EverySegmentAloneAndAsOneRunChecksOut) {
  SourceInfo info;
  std::string error;
  ASSERT_TRUE(probe_source(make_source(), &info, &error)) << error;
  SegmentJob all = make_job(info, 0, 0);
  const int count = int(all.plan.segments.size());
  ASSERT_GE(count, 3);
  all.last = count - 1;
  Collected run_all;
  ASSERT_TRUE(run(all, &run_all, &error)) << error;
  ASSERT_EQ(int(run_all.reports.size()), count);
  for (int k = 0; k < count; ++k) {
    const SegmentReport& r = run_all.reports[k];
    EXPECT_EQ(r.index, k);
    EXPECT_TRUE(check_segment(all, r, &error)) << error;
    ASSERT_GE(run_all.bytes[k].size(), 188u);
    EXPECT_EQ(run_all.bytes[k][0], 0x47);
    EXPECT_EQ(run_all.bytes[k][1] & 0x1f, 0);  // PAT first
    EXPECT_EQ(run_all.bytes[k][2], 0);
    SegmentJob one = make_job(info, k, k);
    Collected alone;
    ASSERT_TRUE(run(one, &alone, &error)) << "segment " << k << ": " << error;
    ASSERT_EQ(alone.reports.size(), 1u);
    EXPECT_TRUE(check_segment(one, alone.reports[0], &error)) << error;
    EXPECT_EQ(alone.reports[0].video_frames, r.video_frames);
    EXPECT_EQ(alone.reports[0].audio_samples, r.audio_samples);
  }
}

// The source's B-frames are not references (x264enc: no B-pyramid) and its keyframes are 2 s
// apart, so every segment not starting on a keyframe has some to drop before its start
// (that the decoder's output stays the same is tested in test_preroll_filter.cpp).
TEST(SegmentJob, UnreferencedPrerollFramesDroppedUndecoded) {
  SourceInfo info;
  std::string error;
  ASSERT_TRUE(probe_source(make_source(), &info, &error)) << error;
  const int count = int(make_job(info, 0, 0).plan.segments.size());
  int64_t total = 0;
  for (int k = 0; k < count; ++k) {
    SegmentJob skipping = make_job(info, k, k);
    std::atomic<int64_t> dropped{0};
    skipping.preroll_dropped = &dropped;
    SegmentJob whole = make_job(info, k, k);
    whole.decode_whole_preroll = true;
    Collected a, b;
    ASSERT_TRUE(run(skipping, &a, &error)) << "segment " << k << ": " << error;
    ASSERT_TRUE(run(whole, &b, &error)) << "segment " << k << ": " << error;
    ASSERT_EQ(a.reports.size(), 1u);
    ASSERT_EQ(b.reports.size(), 1u);
    EXPECT_TRUE(check_segment(skipping, a.reports[0], &error)) << error;
    EXPECT_EQ(a.reports[0].video_frames, b.reports[0].video_frames);
    EXPECT_EQ(a.reports[0].audio_samples, b.reports[0].audio_samples);
    if (skipping.plan.segments[k].first_frame % 50 == 0) {
      EXPECT_EQ(dropped.load(), 0) << "segment " << k << " starts on a keyframe";
    }
    total += dropped.load();
  }
  EXPECT_GT(total, 0);
}

TEST(SegmentJob, MissingSourceFailsWithAReason) {
  SourceInfo info;
  std::string error;
  EXPECT_FALSE(probe_source("/nonexistent/file.mp4", &info, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace tws
