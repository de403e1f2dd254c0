// SPDX-License-Identifier: LGPL-2.1-or-later
// Segment jobs end to end inside the process: a generated source, its plan, segments made
// alone and as a run; every segment must pass check_segment and start with PAT and an IDR.
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <atomic>
#include <map>
#include <mutex>
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

// A segment made as GOPs in parallel (segment_split.h) checks out as the same segment made in
// one pass: frames and samples as planned, a keyframe first, one PAT.
TEST(SegmentJob, SegmentMadeAsParallelGopsChecksOut) {
  SourceInfo info;
  std::string error;
  ASSERT_TRUE(probe_source(make_source(), &info, &error)) << error;
  SegmentJob one = make_job(info, 2, 2);
  Collected whole;
  ASSERT_TRUE(run(one, &whole, &error)) << error;
  SegmentJob split = one;
  split.chunks = 2;
  Collected parts;
  ASSERT_TRUE(run(split, &parts, &error)) << error;
  ASSERT_EQ(parts.reports.size(), 1u);
  const SegmentReport& r = parts.reports[0];
  EXPECT_EQ(r.index, 2);
  EXPECT_TRUE(check_segment(split, r, &error)) << error;
  EXPECT_EQ(r.video_frames, whole.reports[0].video_frames);
  EXPECT_EQ(r.audio_samples, whole.reports[0].audio_samples);
  const std::vector<uint8_t>& ts = parts.bytes[2];
  EXPECT_EQ(r.bytes, ts.size());
  ASSERT_EQ(ts.size() % 188, 0u);
  int pats = 0;
  for (size_t off = 0; off < ts.size(); off += 188)
    pats += ts[off + 1] == 0x40 && ts[off + 2] == 0;  // PID 0, payload unit start
  EXPECT_EQ(pats, 1);
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

// A file `name` in a directory of its own, both removed when it goes out of scope.
struct TempFile {
  std::string dir, path;
  explicit TempFile(const char* name) {
    GUnique<gchar> made(g_dir_make_tmp("tws-job-test-XXXXXX", nullptr));
    dir = made.get();
    path = dir + "/" + name;
  }
  ~TempFile() {
    g_unlink(path.c_str());
    g_rmdir(dir.c_str());
  }
};

// Luma standard deviation in the middle of the first picture of TS bytes (their borders left
// out); -1 when they do not decode.
double first_picture_luma_sd(const std::vector<uint8_t>& ts) {
  const TempFile file("segment.ts");
  const std::string& path = file.path;
  if (!g_file_set_contents(path.c_str(), reinterpret_cast<const gchar*>(ts.data()),
                           gssize(ts.size()), nullptr))
    return -1;
  const std::string launch = "filesrc location=" + path +
                             " ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! "
                             "video/x-raw,format=GRAY8 ! appsink name=out sync=false";
  GRef<GstElement> pipeline = adopt_ref(gst_parse_launch(launch.c_str(), nullptr));
  if (!pipeline) return -1;
  GRef<GstElement> sink = adopt_ref(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  double sd = -1;
  if (GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 30 * GST_SECOND)) {
    GstVideoInfo info;
    GstVideoFrame frame;
    if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample)) &&
        gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
      const int w = GST_VIDEO_FRAME_WIDTH(&frame), h = GST_VIDEO_FRAME_HEIGHT(&frame);
      const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
      const auto* y = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
      double sum = 0, sum2 = 0, n = 0;
      for (int row = h / 8; row < h - h / 8; ++row)
        for (int col = w / 8; col < w - w / 8; ++col, ++n) {
          sum += y[row * stride + col];
          sum2 += double(y[row * stride + col]) * y[row * stride + col];
        }
      sd = std::sqrt(std::max(0.0, sum2 / n - (sum / n) * (sum / n)));
      gst_video_frame_unmap(&frame);
    }
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return sd;
}

// The first element of the bin made by `factory`, or null.
GstElement* element_made_by(GstBin* bin, const char* factory) {
  GstElement* found = nullptr;
  GstIterator* it = gst_bin_iterate_elements(bin);
  GValue item = G_VALUE_INIT;
  while (!found && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    if (g_strcmp0(GST_OBJECT_NAME(gst_element_get_factory(e)), factory) == 0) found = e;
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

// The audio encoder keeps in step with the video encoder (audio_pacer.h): at every audio
// buffer it takes, the video encoder has taken the frames up to 250 ms (the lead) before it,
// give or take a frame. Free, the audio would run seconds ahead (its appsrc holds 3 s).
TEST(SegmentJob, AudioEncoderKeepsInStepWithTheVideoEncoder) {
  SourceInfo info;
  std::string error;
  ASSERT_TRUE(probe_source(make_source(), &info, &error)) << error;
  for (int first : {0, 1}) {
    SegmentJob job = make_job(info, first, int(make_job(info, 0, 0).plan.segments.size()) - 1);
    struct Watch {
      std::mutex mutex;
      int64_t video_end = -1;     // end of the last frame the video encoder took (ns)
      int64_t ahead = INT64_MIN;  // the furthest audio went past it
      int audio_buffers = 0;
    } watch;
    watch.video_end = int64_t(job.plan.segments[first].first_frame) * GST_SECOND / 25;
    job.inspect_encode = [&watch](GstBin* encode) {
      GstElement* video = element_made_by(encode, "x264enc");
      GstElement* audio = element_made_by(encode, "audioconvert");
      ASSERT_TRUE(video && audio);
      GRef<GstPad> video_in = adopt_ref(gst_element_get_static_pad(video, "sink"));
      GRef<GstPad> audio_in = adopt_ref(gst_element_get_static_pad(audio, "sink"));
      gst_pad_add_probe(
          video_in.get(), GST_PAD_PROBE_TYPE_BUFFER,
          [](GstPad*, GstPadProbeInfo* info, gpointer data) {
            auto* w = static_cast<Watch*>(data);
            GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
            std::lock_guard<std::mutex> lock(w->mutex);
            w->video_end =
                std::max<int64_t>(w->video_end, GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b));
            return GST_PAD_PROBE_OK;
          },
          &watch, nullptr);
      gst_pad_add_probe(
          audio_in.get(), GST_PAD_PROBE_TYPE_BUFFER,
          [](GstPad*, GstPadProbeInfo* info, gpointer data) {
            auto* w = static_cast<Watch*>(data);
            GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
            std::lock_guard<std::mutex> lock(w->mutex);
            w->ahead = std::max<int64_t>(w->ahead, int64_t(GST_BUFFER_PTS(b)) - w->video_end);
            w->audio_buffers++;
            return GST_PAD_PROBE_OK;
          },
          &watch, nullptr);
    };
    Collected out;
    ASSERT_TRUE(run(job, &out, &error)) << error;
    for (const SegmentReport& r : out.reports) EXPECT_TRUE(check_segment(job, r, &error)) << error;
    EXPECT_GT(watch.audio_buffers, 100);
    EXPECT_LE(watch.ahead, 250 * GST_MSECOND + GST_SECOND / 25) << "first segment " << first;
  }
}

// A 1-pixel checkerboard scaled to 2/3 has no detail left to show: a filter as wide as the
// ratio makes it an even grey. A fixed 2-tap filter makes a pattern of its own (aliasing),
// which costs bits and shows as moire (luma SD about 9 against about 1).
TEST(SegmentJob, DownscaleDoesNotAlias) {
  const TempFile file("checkers.mp4");
  const std::string& path = file.path;
  ASSERT_TRUE(
      launch_to_eos("videotestsrc num-buffers=25 pattern=checkers-1 ! "
                    "video/x-raw,width=360,height=240,framerate=25/1 ! x264enc "
                    "pass=quant quantizer=4 ! h264parse ! mp4mux ! filesink location=" +
                    path));
  SourceInfo info;
  std::string error;
  ASSERT_TRUE(probe_source(path, &info, &error)) << error;
  SegmentJob job = make_job(info, 0, 0);
  job.has_audio = false;
  job.video.width = 240;
  job.video.height = 160;
  job.video.crf = 10;
  Collected out;
  ASSERT_TRUE(run(job, &out, &error)) << error;
  const double sd = first_picture_luma_sd(out.bytes[0]);
  ASSERT_GE(sd, 0) << "the segment does not decode";
  EXPECT_LT(sd, 4.0);
}

TEST(SegmentJob, MissingSourceFailsWithAReason) {
  SourceInfo info;
  std::string error;
  EXPECT_FALSE(probe_source("/nonexistent/file.mp4", &info, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace tws
