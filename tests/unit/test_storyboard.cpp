// SPDX-License-Identifier: LGPL-2.1-or-later
// Trick-play storyboards: thumbnails of the keyframes only, at the right times, tiled into
// JPEG sprites whose pictures are the source's at those times; the WebVTT that points at them.
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "common/gref.h"
#include "pipelines/storyboard.h"

namespace {

using tws::adopt_ref;
using tws::GRef;

constexpr int64_t kSecond = 1000000000;

// 8 s of 320x180 at 25 fps whose luma steps every second (16 + 24 * s), a keyframe every
// second, AAC audio beside it; empty when ffmpeg is missing.
std::string stepped_source(const char* name, const char* extra = "") {
  std::string path = std::string(g_get_tmp_dir()) + "/tws-storyboard-" + name;
  std::string cmd =
      "ffmpeg -nostdin -v error -y -f lavfi -i "
      "\"color=black:size=320x180:rate=25:duration=8,geq=lum='16+24*floor(T)':cb=128:cr=128\" "
      "-f lavfi -i sine=duration=8 -c:v libx264 -preset ultrafast -g 25 -keyint_min 25 "
      "-sc_threshold 0 -pix_fmt yuv420p -c:a aac " +
      std::string(extra) + " " + path + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? path : "";
}

// A JPEG decoded to RGB (appsrc ! jpegdec ! videoconvert ! appsink).
GRef<GstSample> decode_jpeg(const std::string& jpeg) {
  GError* error = nullptr;
  GRef<GstElement> p = adopt_ref(gst_parse_launch(
      "appsrc name=in caps=image/jpeg ! jpegdec ! videoconvert ! video/x-raw,format=RGB ! "
      "appsink name=out sync=false",
      &error));
  if (!p) {
    ADD_FAILURE() << error->message;
    g_clear_error(&error);
    return {};
  }
  GRef<GstElement> in = adopt_ref(gst_bin_get_by_name(GST_BIN(p.get()), "in"));
  GRef<GstElement> out = adopt_ref(gst_bin_get_by_name(GST_BIN(p.get()), "out"));
  gst_element_set_state(p.get(), GST_STATE_PLAYING);
  gst_app_src_push_buffer(GST_APP_SRC(in.get()), gst_buffer_new_memdup(jpeg.data(), jpeg.size()));
  gst_app_src_end_of_stream(GST_APP_SRC(in.get()));
  GRef<GstSample> sample =
      adopt_ref(gst_app_sink_try_pull_sample(GST_APP_SINK(out.get()), 10 * GST_SECOND));
  gst_element_set_state(p.get(), GST_STATE_NULL);
  if (!sample) ADD_FAILURE() << "the sprite does not decode as JPEG";
  return sample;
}

// Mean of the R channel of tile (x, y, w, h) in a JPEG sprite.
double tile_mean(const std::string& jpeg, int x, int y, int w, int h) {
  GRef<GstSample> out = decode_jpeg(jpeg);
  if (!out) return -1;
  GstVideoInfo info;
  gst_video_info_from_caps(&info, gst_sample_get_caps(out.get()));
  GstVideoFrame frame;
  gst_video_frame_map(&frame, &info, gst_sample_get_buffer(out.get()), GST_MAP_READ);
  const auto* d = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
  const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
  double sum = 0;
  int n = 0;
  for (int r = y + 2; r < y + h - 2; ++r)
    for (int c = x + 2; c < x + w - 2; ++c, ++n) sum += d[r * stride + c * 3];
  gst_video_frame_unmap(&frame);
  return n ? sum / n : -1;
}

// The gray level the source shows at second s, as RGB (full range from video range).
double expected_level(int s) { return (16 + 24 * s - 16) * 255.0 / 219.0; }

}  // namespace

TEST(Storyboard, OneThumbnailPerKeyframeWithTheSourcePicture) {
  std::string src = stepped_source("steps.mp4");
  if (src.empty()) GTEST_SKIP() << "no ffmpeg";
  tws::StoryboardRequest req;
  req.source = src;
  req.duration_ns = 8 * kSecond;
  req.interval_ns = kSecond;
  req.columns = 3;
  req.rows = 2;
  tws::Storyboard board;
  std::string error;
  ASSERT_TRUE(tws::make_storyboard(req, &board, &error)) << error;
  EXPECT_EQ(board.tile_width, 160);
  EXPECT_EQ(board.tile_height, 90);
  ASSERT_EQ(board.thumbnails.size(), 8u);
  ASSERT_EQ(board.sprites.size(), 2u);  // 6 tiles per sprite
  for (size_t i = 0; i < board.thumbnails.size(); ++i) {
    const tws::Thumbnail& t = board.thumbnails[i];
    EXPECT_NEAR(double(t.time_ns), double(i) * kSecond, 1e6) << "thumbnail " << i;
    EXPECT_EQ(t.sprite, int(i / 6));
    EXPECT_EQ(t.x, int(i % 3) * 160);
    EXPECT_EQ(t.y, int(i % 6 / 3) * 90);
    double mean = tile_mean(board.sprites[size_t(t.sprite)], t.x, t.y, 160, 90);
    EXPECT_NEAR(mean, expected_level(int(i)), 6) << "thumbnail " << i << " shows another time";
  }
  // The last sprite holds only the rows it needs.
  EXPECT_GT(tile_mean(board.sprites[1], 160, 0, 160, 90), 0);
}

TEST(Storyboard, IntervalAndClipWindow) {
  std::string src = stepped_source("steps.mkv");
  if (src.empty()) GTEST_SKIP() << "no ffmpeg";
  tws::StoryboardRequest req;
  req.source = src;
  req.source_start_ns = 3 * kSecond;  // a clip of source seconds 3..7
  req.duration_ns = 4 * kSecond;
  req.interval_ns = 2 * kSecond;
  tws::Storyboard board;
  std::string error;
  ASSERT_TRUE(tws::make_storyboard(req, &board, &error)) << error;
  ASSERT_EQ(board.thumbnails.size(), 2u);
  // ffmpeg's Matroska starts the video 23 ms in (the AAC priming).
  EXPECT_NEAR(double(board.thumbnails[0].time_ns), 0, 5e7);
  EXPECT_NEAR(double(board.thumbnails[1].time_ns), 2.0 * kSecond, 5e7);
  const tws::Thumbnail& t = board.thumbnails[1];
  EXPECT_NEAR(tile_mean(board.sprites[0], t.x, t.y, board.tile_width, board.tile_height),
              expected_level(5), 6);
}

TEST(Storyboard, NoVideoIsAClearError) {
  std::string path = std::string(g_get_tmp_dir()) + "/tws-storyboard-audio.m4a";
  if (std::system(("ffmpeg -nostdin -v error -y -f lavfi -i sine=duration=2 -c:a aac " + path +
                   " >/dev/null 2>&1")
                      .c_str()) != 0)
    GTEST_SKIP() << "no ffmpeg";
  tws::StoryboardRequest req;
  req.source = path;
  req.duration_ns = 2 * kSecond;
  req.timeout_ns = 30 * kSecond;
  tws::Storyboard board;
  std::string error;
  EXPECT_FALSE(tws::make_storyboard(req, &board, &error));
  EXPECT_NE(error.find("no video"), std::string::npos) << error;
}

TEST(Storyboard, WebVttCuesCoverTheDuration) {
  tws::Storyboard board;
  board.tile_width = 160;
  board.tile_height = 90;
  board.thumbnails = {{0, 0, 0, 0}, {2 * kSecond, 0, 160, 0}, {4000500000, 1, 0, 0}};
  std::string vtt = tws::storyboard_vtt(
      board, 5 * kSecond, [](int sprite) { return "thumbs-" + std::to_string(sprite) + ".jpg"; });
  EXPECT_EQ(vtt,
            "WEBVTT\n\n"
            "00:00:00.000 --> 00:00:02.000\nthumbs-0.jpg#xywh=0,0,160,90\n\n"
            "00:00:02.000 --> 00:00:04.001\nthumbs-0.jpg#xywh=160,0,160,90\n\n"
            "00:00:04.001 --> 00:00:05.000\nthumbs-1.jpg#xywh=0,0,160,90\n");
}
