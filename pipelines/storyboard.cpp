// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/storyboard.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "common/gref.h"
#include "pipelines/pipeline_util.h"

namespace tws {
namespace {

constexpr GstClockTime kPollNs = 100 * GST_MSECOND;
// A keyframe is kept when it is at least this share of the interval after the last one kept,
// so keyframes a little closer than the interval (1.96 s of a "2 s" GOP) are not skipped.
constexpr int64_t kIntervalSlackNum = 3, kIntervalSlackDen = 4;

struct Tile {
  int64_t time_ns = 0;
  GRef<GstSample> picture;  // RGB, tile size
};

// Reads the keyframes of the first video stream, scaled to tiles, into tiles_.
class KeyframeReader {
 public:
  explicit KeyframeReader(const StoryboardRequest& r) : req_(r) {}

  bool run(std::vector<Tile>* tiles, MediaError* error);

 private:
  bool build(std::string* error);
  void on_pad(GstPad* pad);
  GstFlowReturn on_sample(GstAppSink* sink);
  bool wait(const std::function<bool()>& done, const char* what);
  void fail(const std::string& why) { fail(MediaError::reason(why)); }
  void fail(MediaError error) {
    std::lock_guard lock(mutex_);
    if (error_.message.empty()) error_ = std::move(error);
    failed_ = true;
  }

  const StoryboardRequest& req_;
  GRef<GstElement> pipeline_;
  GstElement* decoder_ = nullptr;  // in pipeline_
  std::mutex mutex_;
  bool linked_ = false;      // mutex_
  bool failed_ = false;      // mutex_
  bool done_ = false;        // mutex_: past the end of the window
  MediaError error_;         // mutex_: the first failure
  std::vector<Tile> tiles_;  // mutex_
  int64_t deadline_us_ = 0;
};

bool KeyframeReader::build(std::string* error) {
  pipeline_ = adopt_ref(gst_pipeline_new("storyboard"));
  GRef<GstElement> src = make_element("rangesrc", "source", error);
  GRef<GstElement> dec = make_element("decodebin", "decode", error);
  if (!src || !dec) return false;
  g_object_set(src.get(), "location", req_.source.c_str(), nullptr);
  decoder_ = dec.get();
  gst_bin_add_many(GST_BIN(pipeline_.get()), src.get(), dec.get(), nullptr);
  if (!gst_element_link(src.get(), dec.get())) {
    *error = "cannot link the source to its decoder";
    return false;
  }
  g_signal_connect(dec.get(), "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer self) {
                     static_cast<KeyframeReader*>(self)->on_pad(pad);
                   }),
                   this);
  return true;
}

void KeyframeReader::on_pad(GstPad* pad) {
  GRef<GstCaps> caps = adopt_ref(gst_pad_get_current_caps(pad));
  if (!caps) caps = adopt_ref(gst_pad_query_caps(pad, nullptr));
  const char* media = gst_caps_get_size(caps.get())
                          ? gst_structure_get_name(gst_caps_get_structure(caps.get(), 0))
                          : "";
  GstBin* bin = GST_BIN(pipeline_.get());
  bool take = false;
  {
    std::lock_guard lock(mutex_);
    take = g_str_has_prefix(media, "video/") && !linked_;
    if (take) linked_ = true;
  }
  if (!take) {
    // Audio, a second video, subtitles: drained, never waited for.
    GstElement* fake = gst_element_factory_make("fakesink", nullptr);
    g_object_set(fake, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(bin, fake);
    gst_element_sync_state_with_parent(fake);
    GRef<GstPad> sinkpad = adopt_ref(gst_element_get_static_pad(fake, "sink"));
    gst_pad_link(pad, sinkpad.get());
    return;
  }
  // The picture upright (the orientation tag), square pixels, tile_width wide: videoscale
  // picks the height that keeps the display aspect.
  std::string error;
  GRef<GstElement> flip = make_element("videoflip", nullptr, &error);
  GRef<GstElement> convert = make_element("videoconvert", nullptr, &error);
  GRef<GstElement> scale = make_element("videoscale", nullptr, &error);
  GRef<GstElement> filter = make_element("capsfilter", nullptr, &error);
  GRef<GstElement> sink = make_element("appsink", nullptr, &error);
  if (!flip || !convert || !scale || !filter || !sink) return fail(error);
  gst_util_set_object_arg(G_OBJECT(flip.get()), "video-direction", "auto");
  GRef<GstCaps> want = adopt_ref(
      gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "RGB", "width", G_TYPE_INT,
                          req_.tile_width, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr));
  g_object_set(filter.get(), "caps", want.get(), nullptr);
  g_object_set(sink.get(), "sync", FALSE, "max-buffers", 4u, nullptr);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = [](GstAppSink* s, gpointer self) {
    return static_cast<KeyframeReader*>(self)->on_sample(s);
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, this, nullptr);
  gst_bin_add_many(bin, flip.get(), convert.get(), scale.get(), filter.get(), sink.get(), nullptr);
  if (!gst_element_link_many(flip.get(), convert.get(), scale.get(), filter.get(), sink.get(),
                             nullptr))
    return fail("cannot scale the video to thumbnails");
  for (GstElement* e : {sink.get(), filter.get(), scale.get(), convert.get(), flip.get()})
    gst_element_sync_state_with_parent(e);
  GRef<GstPad> sinkpad = adopt_ref(gst_element_get_static_pad(flip.get(), "sink"));
  if (gst_pad_link(pad, sinkpad.get()) != GST_PAD_LINK_OK) fail("cannot link the video stream");
}

GstFlowReturn KeyframeReader::on_sample(GstAppSink* appsink) {
  GRef<GstSample> sample = adopt_ref(gst_app_sink_pull_sample(appsink));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  const GstSegment* segment = gst_sample_get_segment(sample.get());
  if (!buffer || !segment || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_FLOW_OK;
  guint64 stream = 0;
  int sign =
      gst_segment_to_stream_time_full(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer), &stream);
  if (sign == 0) return GST_FLOW_OK;
  int64_t t = (sign > 0 ? int64_t(stream) : -int64_t(stream)) - req_.source_start_ns;
  std::lock_guard lock(mutex_);
  if (t >= req_.duration_ns) {
    done_ = true;
    return GST_FLOW_EOS;
  }
  t = std::max<int64_t>(t, 0);
  if (!tiles_.empty() &&
      t < tiles_.back().time_ns + req_.interval_ns * kIntervalSlackNum / kIntervalSlackDen)
    return GST_FLOW_OK;
  tiles_.push_back({t, std::move(sample)});
  return GST_FLOW_OK;
}

bool KeyframeReader::wait(const std::function<bool()>& done, const char* what) {
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (failed_) return false;
    }
    if (done()) return true;
    GRef<GstMessage> msg = adopt_ref(gst_bus_timed_pop_filtered(
        bus.get(), kPollNs, GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)));
    if (msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      fail(MediaError::from_message(msg.get()));
    } else if (msg) {
      std::lock_guard lock(mutex_);
      done_ = true;
    } else if (g_get_monotonic_time() > deadline_us_) {
      fail(std::string("timed out ") + what);
    }
  }
}

bool KeyframeReader::run(std::vector<Tile>* tiles, MediaError* error) {
  deadline_us_ = g_get_monotonic_time() + req_.timeout_ns / 1000;
  std::string why;
  bool ok = build(&why);
  if (!ok) fail(why);
  GstElement* pipeline = pipeline_.get();
  if (ok && gst_element_set_state(pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    fail("cannot open the source");
  auto prerolled = [&] {
    GstStateChangeReturn ret = gst_element_get_state(pipeline, nullptr, nullptr, 0);
    if (ret == GST_STATE_CHANGE_FAILURE) fail("cannot read the source");
    std::lock_guard lock(mutex_);
    return done_ || ret == GST_STATE_CHANGE_SUCCESS;
  };
  ok = ok && wait(prerolled, "opening the source");
  {
    std::lock_guard lock(mutex_);
    if (ok && !linked_ && !failed_) {
      error_ = MediaError::reason("the source has no video stream");
      failed_ = true;
    }
    ok = ok && !failed_;
    tiles_.clear();  // what the preroll let through is read again after the seek
    done_ = false;
  }
  if (ok) {
    // Key units only: the demuxer skips from keyframe to keyframe (where it has an index)
    // and the decoder drops every other frame. A source that cannot seek is read from its
    // start instead, every frame decoded and the interval applied.
    const auto flags =
        GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_TRICKMODE |
                     GST_SEEK_FLAG_TRICKMODE_KEY_UNITS | GST_SEEK_FLAG_TRICKMODE_NO_AUDIO);
    const int64_t start = std::max<int64_t>(0, req_.source_start_ns);
    if (!gst_element_seek(pipeline, 1.0, GST_FORMAT_TIME, flags, GST_SEEK_TYPE_SET, start,
                          GST_SEEK_TYPE_SET, req_.source_start_ns + req_.duration_ns))
      g_debug("storyboard: %s cannot seek; reading every frame", req_.source.c_str());
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    ok = wait(
        [&] {
          std::lock_guard lock(mutex_);
          return done_;
        },
        "reading keyframes");
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  std::lock_guard lock(mutex_);
  if (!ok || failed_) {
    *error = error_;
    return false;
  }
  if (tiles_.empty()) {
    *error = MediaError::reason("no picture in the source's video stream");
    return false;
  }
  *tiles = std::move(tiles_);
  return true;
}

// Tiles into one RGB sprite, then JPEG.
bool encode_sprite(const std::vector<Tile>& tiles, size_t first, size_t count, int columns,
                   int tile_w, int tile_h, std::string* jpeg, std::string* error) {
  const int cols = int(std::min<size_t>(count, size_t(columns)));
  const int rows = int((count + size_t(columns) - 1) / size_t(columns));
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, guint(cols * tile_w),
                            guint(rows * tile_h));
  GRef<GstBuffer> sprite = adopt_ref(gst_buffer_new_allocate(nullptr, info.size, nullptr));
  GstVideoFrame out;
  if (!gst_video_frame_map(&out, &info, sprite.get(), GST_MAP_WRITE)) {
    *error = "cannot map a sprite";
    return false;
  }
  auto* dst = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&out, 0));
  const int dst_stride = GST_VIDEO_FRAME_PLANE_STRIDE(&out, 0);
  memset(dst, 0, size_t(dst_stride) * size_t(rows * tile_h));
  for (size_t i = 0; i < count; ++i) {
    const Tile& tile = tiles[first + i];
    GstVideoInfo tinfo;
    if (!gst_video_info_from_caps(&tinfo, gst_sample_get_caps(tile.picture.get()))) continue;
    GstVideoFrame in;
    if (!gst_video_frame_map(&in, &tinfo, gst_sample_get_buffer(tile.picture.get()), GST_MAP_READ))
      continue;
    const int x = int(i % size_t(columns)) * tile_w, y = int(i / size_t(columns)) * tile_h;
    const int w = std::min(tile_w, int(GST_VIDEO_FRAME_WIDTH(&in)));
    const int h = std::min(tile_h, int(GST_VIDEO_FRAME_HEIGHT(&in)));
    const auto* src = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&in, 0));
    const int src_stride = GST_VIDEO_FRAME_PLANE_STRIDE(&in, 0);
    for (int row = 0; row < h; ++row)
      memcpy(dst + size_t(y + row) * size_t(dst_stride) + size_t(x) * 3,
             src + size_t(row) * size_t(src_stride), size_t(w) * 3);
    gst_video_frame_unmap(&in);
  }
  gst_video_frame_unmap(&out);
  GRef<GstCaps> caps = adopt_ref(gst_video_info_to_caps(&info));
  GRef<GstSample> raw = adopt_ref(gst_sample_new(sprite.get(), caps.get(), nullptr, nullptr));
  GRef<GstCaps> to = adopt_ref(gst_caps_new_empty_simple("image/jpeg"));
  GError* raw_error = nullptr;
  GRef<GstSample> encoded =
      adopt_ref(gst_video_convert_sample(raw.get(), to.get(), 30 * GST_SECOND, &raw_error));
  GUnique<GError> err(raw_error);
  if (!encoded) {
    *error = std::string("cannot encode a sprite as JPEG: ") + (err ? err->message : "timeout");
    return false;
  }
  MappedBuffer map(gst_sample_get_buffer(encoded.get()), GST_MAP_READ);
  if (!map) {
    *error = "cannot map a JPEG sprite";
    return false;
  }
  jpeg->assign(reinterpret_cast<const char*>(map.data()), map.size());
  return true;
}

std::string vtt_time(int64_t ns) {
  const int64_t ms = (std::max<int64_t>(ns, 0) + 500000) / 1000000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
                ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
  return buf;
}

}  // namespace

bool make_storyboard(const StoryboardRequest& request, Storyboard* out, std::string* error) {
  MediaError failure;
  const bool ok = make_storyboard(request, out, &failure);
  if (!ok) *error = failure.message;
  return ok;
}

bool make_storyboard(const StoryboardRequest& request, Storyboard* out, MediaError* error) {
  if (request.tile_width < 16 || request.tile_width > 1920 || request.columns < 1 ||
      request.rows < 1 || request.duration_ns <= 0 || request.interval_ns <= 0) {
    *error = MediaError::reason("invalid storyboard request");
    return false;
  }
  std::vector<Tile> tiles;
  KeyframeReader reader(request);
  if (!reader.run(&tiles, error)) return false;
  GstVideoInfo first;
  if (!gst_video_info_from_caps(&first, gst_sample_get_caps(tiles[0].picture.get()))) {
    *error = MediaError::reason("thumbnail caps without a size");
    return false;
  }
  Storyboard board;
  board.tile_width = int(GST_VIDEO_INFO_WIDTH(&first));
  board.tile_height = int(GST_VIDEO_INFO_HEIGHT(&first));
  const size_t per_sprite = size_t(request.columns) * size_t(request.rows);
  for (size_t first_tile = 0; first_tile < tiles.size(); first_tile += per_sprite) {
    const size_t count = std::min(per_sprite, tiles.size() - first_tile);
    std::string jpeg, why;
    if (!encode_sprite(tiles, first_tile, count, request.columns, board.tile_width,
                       board.tile_height, &jpeg, &why)) {
      *error = MediaError::reason(why);
      return false;
    }
    const int sprite = int(board.sprites.size());
    for (size_t i = 0; i < count; ++i)
      board.thumbnails.push_back({tiles[first_tile + i].time_ns, sprite,
                                  int(i % size_t(request.columns)) * board.tile_width,
                                  int(i / size_t(request.columns)) * board.tile_height});
    board.sprites.push_back(std::move(jpeg));
  }
  *out = std::move(board);
  return true;
}

std::string storyboard_vtt(const Storyboard& board, int64_t duration_ns,
                           const std::function<std::string(int)>& sprite_uri) {
  std::string out = "WEBVTT\n";
  for (size_t i = 0; i < board.thumbnails.size(); ++i) {
    const Thumbnail& t = board.thumbnails[i];
    const int64_t start = i == 0 ? 0 : t.time_ns;
    const int64_t end =
        i + 1 < board.thumbnails.size() ? board.thumbnails[i + 1].time_ns : duration_ns;
    if (end <= start) continue;
    out += "\n" + vtt_time(start) + " --> " + vtt_time(end) + "\n" + sprite_uri(t.sprite) +
           "#xywh=" + std::to_string(t.x) + "," + std::to_string(t.y) + "," +
           std::to_string(board.tile_width) + "," + std::to_string(board.tile_height) + "\n";
  }
  return out;
}

}  // namespace tws
