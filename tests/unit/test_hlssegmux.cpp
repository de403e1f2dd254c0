// SPDX-License-Identifier: LGPL-2.1-or-later
// hlssegmux: boundary parsing, and real encode pipelines checked event by event, then by
// ffprobe/ffmpeg on the segments written.
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/gref.h"
#include "hlssegmux/gsthlssegmux.h"

using tws::adopt_ref;
using tws::GRef;
using tws::GUnique;

namespace {

struct SegmentSeen {
  guint key_unit_count = 0;
  std::vector<uint8_t> bytes;
  bool ended = false;
  int index = -1;
  guint64 start = 0, duration = 0, end_bytes = 0, video_frames = 0, audio_samples = 0;
  gboolean keyframe = FALSE;
};

struct Capture {
  std::mutex lock;
  std::vector<SegmentSeen> segments;
  bool bytes_outside_segment = false;
  int messages = 0;
  std::string error;
};

GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer user_data) {
  auto* cap = static_cast<Capture*>(user_data);
  std::lock_guard<std::mutex> guard(cap->lock);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (cap->segments.empty() || cap->segments.back().ended) {
      cap->bytes_outside_segment = true;
      return GST_PAD_PROBE_OK;
    }
    tws::MappedBuffer map(buf, GST_MAP_READ);
    auto& bytes = cap->segments.back().bytes;
    bytes.insert(bytes.end(), map.data(), map.data() + map.size());
    return GST_PAD_PROBE_OK;
  }
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (gst_video_event_is_force_key_unit(event)) {
    gboolean all_headers;
    guint count;
    gst_video_event_parse_downstream_force_key_unit(event, nullptr, nullptr, nullptr, &all_headers,
                                                    &count);
    SegmentSeen seg;
    seg.key_unit_count = count;
    cap->segments.push_back(seg);
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM &&
             gst_event_has_name(event, "hlssegmux-segment-end")) {
    const GstStructure* s = gst_event_get_structure(event);
    if (cap->segments.empty()) {
      cap->bytes_outside_segment = true;
      return GST_PAD_PROBE_OK;
    }
    SegmentSeen& seg = cap->segments.back();
    seg.ended = true;
    gst_structure_get(s, "index", G_TYPE_INT, &seg.index, "start", G_TYPE_UINT64, &seg.start,
                      "duration", G_TYPE_UINT64, &seg.duration, "bytes", G_TYPE_UINT64,
                      &seg.end_bytes, "video-frames", G_TYPE_UINT64, &seg.video_frames,
                      "audio-samples", G_TYPE_UINT64, &seg.audio_samples, "keyframe",
                      G_TYPE_BOOLEAN, &seg.keyframe, nullptr);
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn drop_upstream_key_units(GstPad*, GstPadProbeInfo* info, gpointer) {
  return gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info)) ? GST_PAD_PROBE_DROP
                                                                           : GST_PAD_PROBE_OK;
}

// Runs `launch` (which has "appsink name=sink") to EOS or error.
// `setup` runs on the pipeline before it plays.
void run_pipeline(const std::string& launch, Capture* cap, bool block_key_unit_requests = false,
                  const std::function<void(GstElement*)>& setup = {}) {
  GError* err = nullptr;
  auto pipeline = adopt_ref(gst_parse_launch(launch.c_str(), &err));
  GUnique<GError> err_guard(err);
  ASSERT_TRUE(pipeline) << (err ? err->message : "");
  ASSERT_EQ(err, nullptr) << err->message;
  if (setup) setup(pipeline.get());

  auto sink = adopt_ref(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  ASSERT_TRUE(sink);
  auto sinkpad = adopt_ref(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_add_probe(
      sinkpad.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_data, cap, nullptr);
  if (block_key_unit_requests) {
    auto parse = adopt_ref(gst_bin_get_by_name(GST_BIN(pipeline.get()), "parse"));
    ASSERT_TRUE(parse);
    auto srcpad = adopt_ref(gst_element_get_static_pad(parse.get(), "src"));
    gst_pad_add_probe(srcpad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, drop_upstream_key_units,
                      nullptr, nullptr);
  }

  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  auto bus = adopt_ref(gst_element_get_bus(pipeline.get()));
  for (;;) {
    auto msg = adopt_ref(gst_bus_timed_pop_filtered(
        bus.get(), 60 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT)));
    if (!msg) {
      ADD_FAILURE() << "timeout";
      break;
    }
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ELEMENT) {
      if (gst_message_has_name(msg.get(), "hlssegmux-segment")) cap->messages++;
      continue;
    }
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      GError* e = nullptr;
      gst_message_parse_error(msg.get(), &e, nullptr);
      GUnique<GError> guard(e);
      cap->error = e->message;
    }
    break;
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
}

std::string av_launch(const std::string& mux_props, int video_frames, int audio_buffers,
                      int key_int_max = 1000) {
  return "videotestsrc num-buffers=" + std::to_string(video_frames) +
         " ! video/x-raw,framerate=25/1,width=160,height=120"
         " ! x264enc speed-preset=ultrafast bframes=2 key-int-max=" +
         std::to_string(key_int_max) +
         " ! h264parse name=parse ! mux.video"
         " audiotestsrc num-buffers=" +
         std::to_string(audio_buffers) +
         " samplesperbuffer=1024 ! audio/x-raw,rate=44100,channels=2"
         " ! avenc_aac ! aacparse ! mux.audio"
         " hlssegmux name=mux " +
         mux_props + " ! appsink name=sink sync=false wait-on-eos=false drop=true max-buffers=1";
}

std::string shell(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

std::string write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return path;
}

bool have_ffmpeg() { return std::system("ffprobe -version >/dev/null 2>&1") == 0; }

double probe_start(const std::string& path, const char* stream) {
  std::string out = shell(std::string("ffprobe -v error -select_streams ") + stream +
                          " -show_entries stream=start_time -of csv=p=0 " + path);
  return out.empty() ? -1 : std::stod(out);
}

bool first_video_packet_is_key(const std::string& path) {
  std::string flags = shell(
      "ffprobe -v error -select_streams v -show_entries packet=flags -read_intervals %+#1 "
      "-of csv=p=0 " +
      path);
  return flags.substr(0, 1) == "K";
}

// 0-based expected audio boundary in samples of a boundary in seconds at 44.1 kHz.
uint64_t aac_grid(double seconds) {
  return tws::audio_boundary_samples(uint64_t(seconds * 1e9), 44100);
}

}  // namespace

TEST(HlsSegMuxPlan, ParsesBoundariesExactly) {
  auto b = tws::parse_boundaries("0, 2,4.5,30.000000001,40.1");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (std::vector<uint64_t>{0, 2000000000, 4500000000, 30000000001, 40100000000}));
  EXPECT_TRUE(tws::parse_boundaries("")->empty());
  EXPECT_FALSE(tws::parse_boundaries("1,1"));
  EXPECT_FALSE(tws::parse_boundaries("2,1"));
  EXPECT_FALSE(tws::parse_boundaries("0,-1"));
  EXPECT_FALSE(tws::parse_boundaries("0,1.0000000001"));
  EXPECT_FALSE(tws::parse_boundaries("0,,1"));
  EXPECT_FALSE(tws::parse_boundaries("0,1x"));
}

TEST(HlsSegMuxPlan, AudioGridRoundsHalfUp) {
  EXPECT_EQ(tws::audio_boundary_samples(0, 44100), 0u);
  EXPECT_EQ(tws::audio_boundary_samples(2 * GST_SECOND, 44100), 86u * 1024);    // 86.13
  EXPECT_EQ(tws::audio_boundary_samples(10 * GST_SECOND, 44100), 431u * 1024);  // 430.66
  EXPECT_EQ(tws::audio_boundary_samples(10 * GST_SECOND, 48000), 469u * 1024);  // 468.75
  // 32 ms at 48 kHz is exactly 1.5 frames: half up.
  EXPECT_EQ(tws::audio_boundary_samples(32 * GST_MSECOND, 48000), 2u * 1024);
  EXPECT_EQ(tws::audio_boundary_samples(32 * GST_MSECOND - 1, 48000), 1u * 1024);
}

TEST(HlsSegMux, ParseLaunchPropertiesAndPads) {
  GError* err = nullptr;
  auto mux = adopt_ref(gst_parse_launch(
      "hlssegmux boundaries=0,1.5,3 first-index=4 pts-offset=0 segment-duration=2000000000 "
      "strict=true",
      &err));
  GUnique<GError> guard(err);
  ASSERT_TRUE(mux);
  gchar* boundaries = nullptr;
  guint first_index = 0;
  guint64 pts_offset = 1, duration = 0;
  gboolean strict = FALSE;
  g_object_get(mux.get(), "boundaries", &boundaries, "first-index", &first_index, "pts-offset",
               &pts_offset, "segment-duration", &duration, "strict", &strict, nullptr);
  GUnique<gchar> b(boundaries);
  EXPECT_STREQ(boundaries, "0,1.5,3");
  EXPECT_EQ(first_index, 4u);
  EXPECT_EQ(pts_offset, 0u);
  EXPECT_EQ(duration, 2 * GST_SECOND);
  EXPECT_TRUE(strict);

  auto video = adopt_ref(gst_element_request_pad_simple(mux.get(), "video"));
  ASSERT_TRUE(video);
  EXPECT_STREQ(GST_PAD_NAME(video.get()), "video");
  GstPadTemplate* templ = gst_element_get_pad_template(mux.get(), "video");
  EXPECT_FALSE(gst_element_request_pad(mux.get(), templ, nullptr, nullptr)) << "one video pad";
  auto audio = adopt_ref(gst_element_request_pad_simple(mux.get(), "audio"));
  ASSERT_TRUE(audio);
  gst_element_release_request_pad(mux.get(), video.get());
  gst_element_release_request_pad(mux.get(), audio.get());
}

TEST(HlsSegMux, CutsAudioVideoAtBoundaries) {
  Capture cap;
  // 6 s of video at 25 fps, 7 s of audio; GOPs longer than the run: keyframes at the
  // boundaries come only from the upstream key-unit requests.
  run_pipeline(av_launch("boundaries=0,2,4,6", 150, 300), &cap);
  ASSERT_EQ(cap.error, "");
  EXPECT_FALSE(cap.bytes_outside_segment);
  ASSERT_EQ(cap.segments.size(), 3u);
  EXPECT_EQ(cap.messages, 3);
  std::vector<uint8_t> concat;
  for (size_t i = 0; i < cap.segments.size(); i++) {
    const SegmentSeen& s = cap.segments[i];
    SCOPED_TRACE("segment " + std::to_string(i));
    EXPECT_EQ(s.key_unit_count, i);
    EXPECT_TRUE(s.ended);
    EXPECT_EQ(s.index, static_cast<int>(i));
    EXPECT_EQ(s.start, i * 2 * GST_SECOND);
    EXPECT_EQ(s.duration, 2 * GST_SECOND);
    EXPECT_EQ(s.end_bytes, s.bytes.size());
    EXPECT_EQ(s.video_frames, 50u);
    EXPECT_EQ(s.audio_samples, aac_grid(2.0 * (i + 1)) - aac_grid(2.0 * i));
    EXPECT_TRUE(s.keyframe);
    ASSERT_GE(s.bytes.size(), 188u * 2);
    EXPECT_EQ(s.bytes.size() % 188, 0u);
    // PAT first, then the PMT.
    EXPECT_EQ(s.bytes[0], 0x47);
    EXPECT_EQ(((s.bytes[1] & 0x1F) << 8) | s.bytes[2], 0);
    EXPECT_EQ(((s.bytes[189] & 0x1F) << 8) | s.bytes[190], 0x1000);
    concat.insert(concat.end(), s.bytes.begin(), s.bytes.end());

    if (!have_ffmpeg()) continue;
    std::string path = write_file("hlssegmux-seg" + std::to_string(i) + ".ts", s.bytes);
    EXPECT_NEAR(probe_start(path, "v"), 10.0 + 2.0 * i, 1e-6);
    EXPECT_NEAR(probe_start(path, "a"), 10.0 + aac_grid(2.0 * i) / 44100.0, 1e-4);
    EXPECT_TRUE(first_video_packet_is_key(path));
    std::remove(path.c_str());
  }
  if (!have_ffmpeg()) GTEST_SKIP() << "no ffmpeg: segment files not checked";
  std::string path = write_file("hlssegmux-concat.ts", concat);
  EXPECT_EQ(shell("ffmpeg -nostdin -v error -i " + path + " -f null - 2>&1"), "");
  std::string frames = shell(
      "ffprobe -v error -count_frames -select_streams v -show_entries "
      "stream=nb_read_frames -of csv=p=0 " +
      path);
  EXPECT_EQ(frames.substr(0, frames.find('\n')), "150");
  std::remove(path.c_str());
}

// The muxer's key-unit requests reach the parser from the muxer's threads. h264parse keeps an
// all-headers request as its pending event and replaces it without a lock while its streaming
// thread reads it (a crash now and then), so the requests leave the headers out; every
// segment still decodes alone (the parameter sets come with each IDR).
TEST(HlsSegMux, KeyUnitRequestsLeaveHeadersToTheParser) {
  struct Requests {
    std::mutex lock;
    int count = 0, all_headers = 0;
  } requests;
  Capture cap;
  run_pipeline(av_launch("boundaries=0,2,4,6", 150, 300), &cap, false, [&](GstElement* pipeline) {
    auto parse = adopt_ref(gst_bin_get_by_name(GST_BIN(pipeline), "parse"));
    auto pad = adopt_ref(gst_element_get_static_pad(parse.get(), "src"));
    gst_pad_add_probe(
        pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
        [](GstPad*, GstPadProbeInfo* info, gpointer data) {
          GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
          gboolean all_headers = FALSE;
          if (gst_video_event_is_force_key_unit(event) &&
              gst_video_event_parse_upstream_force_key_unit(event, nullptr, &all_headers,
                                                            nullptr)) {
            auto* r = static_cast<Requests*>(data);
            std::lock_guard<std::mutex> guard(r->lock);
            r->count++;
            r->all_headers += all_headers ? 1 : 0;
          }
          return GST_PAD_PROBE_OK;
        },
        &requests, nullptr);
  });
  ASSERT_EQ(cap.error, "");
  ASSERT_EQ(cap.segments.size(), 3u);
  EXPECT_GE(requests.count, 3);
  EXPECT_EQ(requests.all_headers, 0);
  if (!have_ffmpeg()) GTEST_SKIP() << "no ffmpeg: segments not decoded alone";
  for (size_t i = 0; i < cap.segments.size(); i++) {
    const std::string path =
        write_file("hlssegmux-alone" + std::to_string(i) + ".ts", cap.segments[i].bytes);
    EXPECT_EQ(shell("ffmpeg -nostdin -v error -i " + path + " -f null - 2>&1"), "")
        << "segment " << i;
    std::remove(path.c_str());
  }
}

TEST(HlsSegMux, DropsAudioBeforeFirstBoundaryAndAfterLast) {
  Capture cap;
  run_pipeline(av_launch("boundaries=2,4 first-index=5", 150, 300), &cap);
  ASSERT_EQ(cap.error, "");
  ASSERT_EQ(cap.segments.size(), 1u);
  const SegmentSeen& s = cap.segments[0];
  EXPECT_EQ(s.key_unit_count, 5u);
  EXPECT_EQ(s.index, 5);
  EXPECT_EQ(s.start, 2 * GST_SECOND);
  EXPECT_EQ(s.video_frames, 50u);
  EXPECT_EQ(s.audio_samples, aac_grid(4) - aac_grid(2));
  if (!have_ffmpeg()) return;
  std::string path = write_file("hlssegmux-drop.ts", s.bytes);
  EXPECT_NEAR(probe_start(path, "v"), 12.0, 1e-6);
  EXPECT_NEAR(probe_start(path, "a"), 10.0 + aac_grid(2) / 44100.0, 1e-4);
  std::remove(path.c_str());
}

TEST(HlsSegMux, StrictErrorWhenSegmentDoesNotStartWithKeyframe) {
  Capture cap;
  // One keyframe at 0 and none after (static picture: no scene cuts); the upstream
  // key-unit requests are dropped, so segment 1 starts mid-GOP.
  run_pipeline(av_launch("boundaries=0,2,4 strict=true", 100, 200), &cap, true);
  EXPECT_EQ(cap.error, "segment 1 does not start with a keyframe");
  ASSERT_GE(cap.segments.size(), 1u);
  EXPECT_TRUE(cap.segments[0].ended);
}

// Not strict, the same stream: no keyframe at 2 s, so the two planned segments merge into one
// segment 0 (indices stay consecutive) that ends where the media does.
TEST(HlsSegMux, MergesSegmentsWithoutKeyframe) {
  Capture cap;
  run_pipeline(av_launch("boundaries=0,2,4", 100, 200), &cap, true);
  ASSERT_EQ(cap.error, "");
  ASSERT_EQ(cap.segments.size(), 1u);
  const SegmentSeen& s = cap.segments[0];
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.key_unit_count, 0u);
  EXPECT_EQ(s.start, 0u);
  EXPECT_EQ(s.duration, 4 * GST_SECOND);
  EXPECT_EQ(s.video_frames, 100u);
  EXPECT_EQ(s.audio_samples, aac_grid(4));
  EXPECT_TRUE(s.keyframe);
}

// An already-encoded stream with a keyframe every 3 s (the requests are dropped, as a demuxer
// ignores them) and boundaries every 2 s: each segment starts at the first keyframe at or
// after its boundary (3, 6 on the plan, 9), reports that keyframe's time as its start and the
// next cut as its end, and the audio follows the cuts, so the segments still join.
TEST(HlsSegMux, CutsAtTheNextKeyframe) {
  Capture cap;
  run_pipeline(av_launch("boundaries=0,2,4,6,8,10 first-index=3", 250, 450, 75), &cap, true);
  ASSERT_EQ(cap.error, "");
  EXPECT_FALSE(cap.bytes_outside_segment);
  ASSERT_EQ(cap.segments.size(), 4u);
  const double starts[] = {0, 3, 6, 9, 10};
  guint64 total = 0;
  std::vector<uint8_t> concat;
  for (size_t i = 0; i < 4; i++) {
    const SegmentSeen& s = cap.segments[i];
    SCOPED_TRACE("segment " + std::to_string(i));
    EXPECT_EQ(s.index, static_cast<int>(3 + i)) << "consecutive from first-index";
    EXPECT_EQ(s.key_unit_count, 3 + i);
    EXPECT_EQ(s.start, guint64(starts[i] * GST_SECOND));
    EXPECT_EQ(s.duration, guint64((starts[i + 1] - starts[i]) * GST_SECOND));
    EXPECT_EQ(s.video_frames, guint64((starts[i + 1] - starts[i]) * 25));
    EXPECT_EQ(s.audio_samples, aac_grid(starts[i + 1]) - aac_grid(starts[i]));
    EXPECT_TRUE(s.keyframe);
    total += s.duration;
    concat.insert(concat.end(), s.bytes.begin(), s.bytes.end());
    if (!have_ffmpeg()) continue;
    std::string path = write_file("hlssegmux-late" + std::to_string(i) + ".ts", s.bytes);
    EXPECT_NEAR(probe_start(path, "v"), 10.0 + starts[i], 1e-6);
    EXPECT_NEAR(probe_start(path, "a"), 10.0 + aac_grid(starts[i]) / 44100.0, 1e-4);
    EXPECT_TRUE(first_video_packet_is_key(path));
    std::remove(path.c_str());
  }
  EXPECT_EQ(total, 10 * GST_SECOND);
  if (!have_ffmpeg()) GTEST_SKIP() << "no ffmpeg: segment files not checked";
  std::string path = write_file("hlssegmux-late-concat.ts", concat);
  EXPECT_EQ(shell("ffmpeg -nostdin -v error -i " + path + " -f null - 2>&1"), "");
  std::remove(path.c_str());
}

// The README recipe's case: boundaries 0.5 s apart on a 1.5 s clip, x264enc with its default
// look-ahead. The encoder takes the whole clip before its first output frame, when the
// key-unit requests go out (GStreamer < 1.27 cannot honour earlier ones: see
// request_key_units_for_segment()), so it makes no keyframe but the first: the segments merge
// into one valid segment. With a short look-ahead the requests make every boundary a keyframe,
// strict too.
TEST(HlsSegMux, ShortClipWithLookAheadEncoder) {
  auto launch = [](const std::string& x264, const std::string& mux) {
    return "videotestsrc num-buffers=37 ! video/x-raw,framerate=25/1,width=160,height=120"
           " ! x264enc key-int-max=100 " +
           x264 +
           " ! h264parse config-interval=-1 ! mux.video"
           " audiotestsrc num-buffers=66 samplesperbuffer=1024 ! audio/x-raw,rate=44100"
           " ! avenc_aac ! aacparse ! queue max-size-time=0 max-size-buffers=0 max-size-bytes=0"
           " ! mux.audio hlssegmux name=mux boundaries=0,0.5,1,1.5 " +
           mux + " ! appsink name=sink sync=false wait-on-eos=false drop=true max-buffers=1";
  };
  Capture merged;
  run_pipeline(launch("", ""), &merged);
  ASSERT_EQ(merged.error, "");
  ASSERT_GE(merged.segments.size(), 1u);
  guint64 end = 0;
  for (size_t i = 0; i < merged.segments.size(); i++) {
    const SegmentSeen& s = merged.segments[i];
    EXPECT_EQ(s.index, static_cast<int>(i));
    EXPECT_TRUE(s.keyframe);
    EXPECT_GT(s.video_frames, 0u);
    EXPECT_EQ(s.start, end);
    end = s.start + s.duration;
  }
  EXPECT_EQ(end, 1480 * GST_MSECOND) << "the last segment ends with the last frame";

  for (const char* mode : {"", "strict=true"}) {
    SCOPED_TRACE(mode);
    Capture cap;
    run_pipeline(launch("tune=zerolatency", mode), &cap);
    ASSERT_EQ(cap.error, "");
    ASSERT_EQ(cap.segments.size(), 3u);
    for (size_t i = 0; i < 3; i++) {
      const SegmentSeen& s = cap.segments[i];
      EXPECT_EQ(s.start, i * 500 * GST_MSECOND);
      EXPECT_GT(s.video_frames, 10u);
      if (!have_ffmpeg()) continue;
      std::string path = write_file("hlssegmux-short" + std::to_string(i) + ".ts", s.bytes);
      EXPECT_TRUE(first_video_packet_is_key(path));
      std::remove(path.c_str());
    }
  }
}

TEST(HlsSegMux, AudioOnlyOnTheAudioGrid) {
  Capture cap;
  run_pipeline(
      "audiotestsrc num-buffers=150 samplesperbuffer=1024 ! audio/x-raw,rate=44100"
      " ! avenc_aac ! aacparse ! mux.audio hlssegmux name=mux boundaries=0,1,2"
      " ! appsink name=sink sync=false wait-on-eos=false drop=true max-buffers=1",
      &cap);
  ASSERT_EQ(cap.error, "");
  ASSERT_EQ(cap.segments.size(), 2u);
  for (size_t i = 0; i < 2; i++) {
    const SegmentSeen& s = cap.segments[i];
    EXPECT_EQ(s.video_frames, 0u);
    EXPECT_TRUE(s.keyframe);
    EXPECT_EQ(s.audio_samples, aac_grid(i + 1.0) - aac_grid(double(i)));
    EXPECT_EQ(s.start, gst_util_uint64_scale_round(aac_grid(double(i)), GST_SECOND, 44100));
  }
}

TEST(HlsSegMux, VideoOnlyEverySegmentDurationUntilEos) {
  Capture cap;
  run_pipeline(
      "videotestsrc num-buffers=70 ! video/x-raw,framerate=25/1,width=160,height=120"
      " ! x264enc speed-preset=ultrafast key-int-max=1000 ! h264parse"
      " ! mux.video hlssegmux name=mux segment-duration=1000000000"
      " ! appsink name=sink sync=false wait-on-eos=false drop=true max-buffers=1",
      &cap);
  ASSERT_EQ(cap.error, "");
  ASSERT_EQ(cap.segments.size(), 3u);
  EXPECT_EQ(cap.segments[0].video_frames, 25u);
  EXPECT_EQ(cap.segments[1].video_frames, 25u);
  EXPECT_EQ(cap.segments[2].video_frames, 20u);
  EXPECT_EQ(cap.segments[2].duration, 800 * GST_MSECOND) << "the last segment ends at EOS";
  EXPECT_EQ(cap.segments[1].duration, GST_SECOND);
}

TEST(HlsSegMux, HevcSegmentsDecodeAlone) {
  if (!gst_registry_check_feature_version(gst_registry_get(), "x265enc", 1, 0, 0))
    GTEST_SKIP() << "no x265enc";
  Capture cap;
  // x265 writes VPS/SPS/PPS only at the first IDR: hlssegmux repeats them per segment.
  run_pipeline(
      "videotestsrc num-buffers=50 ! video/x-raw,framerate=25/1,width=160,height=120"
      " ! x265enc speed-preset=ultrafast key-int-max=1000 ! h265parse"
      " ! mux.video hlssegmux name=mux boundaries=0,1,2"
      " ! appsink name=sink sync=false wait-on-eos=false drop=true max-buffers=1",
      &cap);
  ASSERT_EQ(cap.error, "");
  ASSERT_EQ(cap.segments.size(), 2u);
  if (!have_ffmpeg()) return;
  for (size_t i = 0; i < 2; i++) {
    EXPECT_EQ(cap.segments[i].video_frames, 25u);
    std::string path =
        write_file("hlssegmux-hevc" + std::to_string(i) + ".ts", cap.segments[i].bytes);
    EXPECT_EQ(shell("ffmpeg -nostdin -v error -i " + path + " -f null - 2>&1"), "");
    EXPECT_NEAR(probe_start(path, "v"), 10.0 + i, 1e-6);
    std::remove(path.c_str());
  }
}
