// SPDX-License-Identifier: LGPL-2.1-or-later
// h264_access_unit_unreferenced on hand-made access units, length-prefixed and Annex B; the
// filter on a decoder after an accurate seek: the same frames, pixel for pixel, fewer decoded.
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "common/gref.h"
#include "launch_to_eos.h"
#include "pipelines/preroll_filter.h"

namespace tws {
namespace {

// One NAL unit: header byte (nal_ref_idc, type) and a few payload bytes.
std::vector<uint8_t> nal(int ref_idc, int type) {
  return {uint8_t((ref_idc << 5) | type), 0x88, 0x84, 0x21, 0xa0};
}

std::vector<uint8_t> avc(const std::vector<std::vector<uint8_t>>& nals, int length_size = 4) {
  std::vector<uint8_t> out;
  for (const auto& n : nals) {
    for (int i = length_size - 1; i >= 0; --i) out.push_back(uint8_t(n.size() >> (8 * i)));
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

std::vector<uint8_t> annex_b(const std::vector<std::vector<uint8_t>>& nals) {
  std::vector<uint8_t> out;
  for (const auto& n : nals) {
    out.insert(out.end(), {0, 0, 0, 1});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

bool unreferenced(const std::vector<uint8_t>& au, int length_size) {
  return h264_access_unit_unreferenced(au.data(), au.size(), length_size);
}

constexpr int kAud = 9, kSei = 6, kSlice = 1, kIdr = 5;

TEST(PrerollFilter, NonReferenceSlicesOnly) {
  EXPECT_TRUE(unreferenced(avc({nal(0, kAud), nal(0, kSei), nal(0, kSlice)}), 4));
  EXPECT_TRUE(unreferenced(avc({nal(0, kSlice), nal(0, kSlice)}, 2), 2));
  EXPECT_TRUE(unreferenced(annex_b({nal(0, kAud), nal(0, kSlice), nal(0, kSlice)}), 0));
}

TEST(PrerollFilter, AnyReferenceSliceKeepsTheFrame) {
  EXPECT_FALSE(unreferenced(avc({nal(2, kSlice)}), 4));
  EXPECT_FALSE(unreferenced(avc({nal(0, kSlice), nal(1, kSlice)}), 4));  // one slice refers
  EXPECT_FALSE(unreferenced(avc({nal(3, kIdr)}), 4));
  EXPECT_FALSE(unreferenced(annex_b({nal(0, kSei), nal(2, kSlice)}), 0));
  // A non-slice NAL unit with nal_ref_idc set (SPS, PPS) does not make a frame a reference,
  // but a frame with no slice at all is not dropped either.
  EXPECT_FALSE(unreferenced(avc({nal(3, 7), nal(3, 8)}), 4));
  EXPECT_FALSE(unreferenced(avc({nal(0, kSei)}), 4));
}

TEST(PrerollFilter, MalformedDataIsKept) {
  std::vector<uint8_t> au = avc({nal(0, kSlice)});
  au[3] = 200;  // the length runs past the end
  EXPECT_FALSE(unreferenced(au, 4));
  EXPECT_FALSE(unreferenced(std::vector<uint8_t>{0, 0}, 4));
  EXPECT_FALSE(unreferenced(std::vector<uint8_t>{}, 4));
  EXPECT_FALSE(unreferenced(std::vector<uint8_t>{1, 2, 3, 4, 5, 6}, 0));  // no start code
  EXPECT_FALSE(unreferenced(avc({std::vector<uint8_t>{}}), 4));           // a zero length
}

// Runs `launch` to EOS from PAUSED, after an accurate seek to `seek_ns`.
bool run_from(GstElement* pipeline, gint64 seek_ns) {
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  if (gst_element_get_state(pipeline, nullptr, nullptr, 30 * GST_SECOND) !=
      GST_STATE_CHANGE_SUCCESS)
    return false;
  if (!gst_element_seek_simple(pipeline, GST_FORMAT_TIME,
                               GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), seek_ns))
    return false;
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline)));
  GRef<GstMessage> msg = adopt_ref(gst_bus_timed_pop_filtered(
      bus.get(), 60 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS;
}

// (PTS, checksum) of every decoded frame after an accurate seek, with or without the filter.
std::vector<std::pair<GstClockTime, std::string>> decode_after_seek(const std::string& path,
                                                                    gint64 seek_ns, bool filter,
                                                                    int64_t* dropped) {
  std::vector<std::pair<GstClockTime, std::string>> frames;
  const std::string launch = "filesrc location=" + path +
                             " ! qtdemux ! h264parse ! avdec_h264 name=dec ! fakesink name=sink "
                             "sync=false";
  GRef<GstElement> pipeline = adopt_ref(gst_parse_launch(launch.c_str(), nullptr));
  if (!pipeline) return frames;
  std::atomic<int64_t> count{0};
  GRef<GstElement> dec = adopt_ref(gst_bin_get_by_name(GST_BIN(pipeline.get()), "dec"));
  if (filter) drop_unreferenced_preroll(dec.get(), &count);
  GRef<GstElement> sink = adopt_ref(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  GRef<GstPad> pad = adopt_ref(gst_element_get_static_pad(sink.get(), "sink"));
  // Frames after the seek's flush only (the pipeline prerolls from the start before it).
  struct Seen {
    std::vector<std::pair<GstClockTime, std::string>>* frames;
    bool flushed = false;
  } seen{&frames};
  gst_pad_add_probe(
      pad.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
        auto* seen = static_cast<Seen*>(data);
        if (info->type & GST_PAD_PROBE_TYPE_EVENT_FLUSH) {
          if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_FLUSH_STOP)
            seen->flushed = true;
          return GST_PAD_PROBE_OK;
        }
        if (!seen->flushed) return GST_PAD_PROBE_OK;
        GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        GstMapInfo map;
        if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
          gchar* sum = g_compute_checksum_for_data(G_CHECKSUM_SHA1, map.data, map.size);
          seen->frames->emplace_back(GST_BUFFER_PTS(buffer), sum);
          g_free(sum);
          gst_buffer_unmap(buffer, &map);
        }
        return GST_PAD_PROBE_OK;
      },
      &seen, nullptr);
  EXPECT_TRUE(run_from(pipeline.get(), seek_ns));
  *dropped = count.load();
  return frames;
}

// 4 s of 25 fps H.264, keyframes every 2 s, two B-frames between references (not references
// themselves: no B-pyramid), in MP4.
std::string make_bframe_source() {
  gchar* dir = g_dir_make_tmp("tws-preroll-XXXXXX", nullptr);
  const std::string path = std::string(dir) + "/b.mp4";
  g_free(dir);
  const std::string launch =
      "videotestsrc num-buffers=100 pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1"
      " ! x264enc key-int-max=50 bframes=2 b-pyramid=false ! h264parse ! mp4mux ! filesink "
      "location=" +
      path;
  EXPECT_TRUE(launch_to_eos(launch)) << launch;
  return path;
}

TEST(PrerollFilter, SameFramesAfterAnAccurateSeekFewerDecoded) {
  const std::string path = make_bframe_source();
  for (gint64 seek :
       {gint64(1500) * GST_MSECOND, gint64(3800) * GST_MSECOND, gint64(2000) * GST_MSECOND}) {
    int64_t dropped = -1, dropped_without = -1;
    auto with = decode_after_seek(path, seek, true, &dropped);
    auto without = decode_after_seek(path, seek, false, &dropped_without);
    ASSERT_FALSE(without.empty());
    EXPECT_EQ(with, without) << "seek to " << seek;
    EXPECT_EQ(dropped_without, 0);
    EXPECT_GE(without.front().first + 40 * GST_MSECOND, GstClockTime(seek));
    if (seek == gint64(2000) * GST_MSECOND) {
      EXPECT_EQ(dropped, 0) << "a seek to a keyframe has no pre-roll";
    } else {
      // Of the frames before the seek point since the keyframe, two in three are B-frames.
      EXPECT_GE(dropped, 5) << "seek to " << seek;
    }
  }
  g_unlink(path.c_str());
  GUnique<gchar> dir(g_path_get_dirname(path.c_str()));
  g_rmdir(dir.get());
}

}  // namespace
}  // namespace tws
