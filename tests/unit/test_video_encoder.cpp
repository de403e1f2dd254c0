// SPDX-License-Identifier: LGPL-2.1-or-later
// make_video_encoder: the rate control a target asks for is the one the encoder runs with,
// read back from the settings x264/x265 write into the stream (their "options:" SEI) and
// from the size of what comes out of a source no encoder can squeeze (noise).
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>

#include "common/gref.h"
#include "pipelines/pipeline_util.h"
#include "pipelines/plan.h"

namespace tws {
namespace {

constexpr int kFrames = 50;  // 2 s at 25 fps

struct Encoded {
  std::string bytes;    // the elementary stream
  std::string options;  // the encoder's settings line, from "options:"/"rc=" to the line's end
};

// 2 s of 320x240 noise through the encoder made for `v`; false when the pipeline fails.
bool encode_noise(const VideoTarget& v, Encoded* out) {
  PlanInput in;
  in.duration = 2;
  in.frame_rate = Rate{25, 1};
  in.segment_length = 2;
  Plan plan;
  std::string error;
  if (!make_plan(in, &plan, &error)) return false;
  GRef<GstElement> owned_enc = make_video_encoder(v, plan, EncoderMode::kNormal, &error);
  if (!owned_enc) return false;
  GstElement* enc = owned_enc.get();
  GRef<GstElement> pipeline = adopt_ref(gst_pipeline_new(nullptr));
  GstElement* src = gst_element_factory_make("videotestsrc", nullptr);
  GstElement* raw = gst_element_factory_make("capsfilter", nullptr);
  GstElement* coded = gst_element_factory_make("capsfilter", nullptr);
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  gst_util_set_object_arg(G_OBJECT(src), "pattern", "snow");
  g_object_set(src, "num-buffers", kFrames, nullptr);
  GRef<GstCaps> raw_caps = adopt_ref(gst_caps_from_string(
      "video/x-raw,format=I420,width=320,height=240,framerate=25/1,pixel-aspect-ratio=1/1"));
  GRef<GstCaps> coded_caps =
      adopt_ref(gst_caps_from_string(v.codec == "h265" ? "video/x-h265,stream-format=byte-stream"
                                                       : "video/x-h264,stream-format=byte-stream"));
  g_object_set(raw, "caps", raw_caps.get(), nullptr);
  g_object_set(coded, "caps", coded_caps.get(), nullptr);
  g_object_set(sink, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline.get()), src, raw, enc, coded, sink, nullptr);
  if (!gst_element_link_many(src, raw, enc, coded, sink, nullptr)) return false;
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  while (GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 60 * GST_SECOND)) {
    GstMapInfo map;
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      out->bytes.append(reinterpret_cast<const char*>(map.data), map.size);
      gst_buffer_unmap(buffer, &map);
    }
    gst_sample_unref(sample);
  }
  const bool ok = gst_app_sink_is_eos(GST_APP_SINK(sink));
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  const size_t at = out->bytes.find(" rc=");
  if (at != std::string::npos) {
    const size_t end = out->bytes.find_first_of(std::string("\n\x80\0", 3), at);
    out->options = out->bytes.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  return ok;
}

VideoTarget crf_target(const char* codec, int crf) {
  VideoTarget v;
  v.codec = codec;
  v.crf = crf;
  v.width = 320;
  v.height = 240;
  v.frame_rate = Rate{25, 1};
  v.preset = "ultrafast";
  return v;
}

// Bits allowed in 2 s under a VBV of peak `rate` and buffer `buffer`, with 10 % slack.
size_t vbv_bound_bytes(int rate, int buffer) { return size_t((2.0 * rate + buffer) * 1.1 / 8); }

TEST(VideoEncoder, CrfAloneHasNoPeakRate) {
  // x264enc caps CRF at its own bitrate property (2048 kbit/s) unless told otherwise.
  Encoded e;
  ASSERT_TRUE(encode_noise(crf_target("h264", 18), &e));
  ASSERT_FALSE(e.options.empty()) << "no x264 settings in the stream";
  EXPECT_NE(e.options.find("rc=crf"), std::string::npos) << e.options;
  EXPECT_NE(e.options.find("crf=18.0"), std::string::npos) << e.options;
  EXPECT_EQ(e.options.find("vbv_maxrate"), std::string::npos) << e.options;
  // Noise at CRF 18 is far above 2048 kbit/s: nothing held it back.
  EXPECT_GT(e.bytes.size(), vbv_bound_bytes(2048000, 1228800)) << e.bytes.size();
}

TEST(VideoEncoder, CrfWithMaxBitrateKeepsThePeakAndBuffer) {
  VideoTarget v = crf_target("h264", 18);
  v.max_bitrate = 300000;
  v.buffer_size = 300000;
  Encoded e;
  ASSERT_TRUE(encode_noise(v, &e));
  EXPECT_NE(e.options.find("rc=crf"), std::string::npos) << e.options;
  EXPECT_NE(e.options.find("vbv_maxrate=300 vbv_bufsize=300 "), std::string::npos) << e.options;
  EXPECT_LE(e.bytes.size(), vbv_bound_bytes(v.max_bitrate, v.buffer_size));

  v.buffer_size = 0;  // default buffer: twice the peak
  Encoded d;
  ASSERT_TRUE(encode_noise(v, &d));
  EXPECT_NE(d.options.find("vbv_maxrate=300 vbv_bufsize=600 "), std::string::npos) << d.options;
}

TEST(VideoEncoder, BitrateWithBufferSize) {
  VideoTarget v = crf_target("h264", -1);
  v.bitrate = 400000;
  v.buffer_size = 1200000;
  Encoded e;
  ASSERT_TRUE(encode_noise(v, &e));
  // x264 names ABR whose peak is its average "cbr".
  EXPECT_NE(e.options.find("rc=cbr"), std::string::npos) << e.options;
  EXPECT_NE(e.options.find("bitrate=400 "), std::string::npos) << e.options;
  EXPECT_NE(e.options.find("vbv_maxrate=400 vbv_bufsize=1200 "), std::string::npos) << e.options;
  EXPECT_LE(e.bytes.size(), vbv_bound_bytes(v.bitrate, v.buffer_size));
}

TEST(VideoEncoder, H265CrfWithMaxBitrate) {
  VideoTarget v = crf_target("h265", 20);
  v.max_bitrate = 300000;
  Encoded e;
  ASSERT_TRUE(encode_noise(v, &e));
  EXPECT_NE(e.options.find("rc=crf crf=20.0"), std::string::npos) << e.options;
  EXPECT_NE(e.options.find("vbv-maxrate=300 vbv-bufsize=600 "), std::string::npos) << e.options;
  EXPECT_LE(e.bytes.size(), vbv_bound_bytes(v.max_bitrate, 2 * v.max_bitrate));
}

}  // namespace
}  // namespace tws
