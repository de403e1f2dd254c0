// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/pipeline_util.h"

#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <cstdio>

#include "common/gref.h"
#include "pipelines/codec_level.h"

namespace tws {

int preload_pipeline_plugins() {
  static const char* const kFactories[] = {
      "rangesrc",          "hlssegmux",     "decodebin3",    "parsebin",
      "typefind",          "qtdemux",       "matroskademux", "avdec_h264",
      "avdec_aac",         "h264parse",     "h265parse",     "aacparse",
      "mpegaudioparse",    "x264enc",       "avenc_aac",     "videoconvert",
      "videoconvertscale", "deinterlace",   "videoflip",     "videobox",
      "capsfilter",        "queue",         "appsrc",        "appsink",
      "audioconvert",      "audioresample", "fakesink",      "multiqueue",
      "uridecodebin",      "decodebin",     "videoscale",    "jpegenc"};
  int loaded = 0;
  for (const char* name : kFactories) {
    GRef<GstElementFactory> factory = adopt_ref(gst_element_factory_find(name));
    if (!factory) continue;
    GRef<GstPluginFeature> feature =
        adopt_ref(gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory.get())));
    loaded += feature ? 1 : 0;
  }
  // Every typefinder lives in one plugin; decodebin3 runs them on each new source.
  if (GRef<GstPlugin> typefinders = adopt_ref(gst_plugin_load_by_name("typefindfunctions")))
    ++loaded;
  return loaded;
}

GRef<GstElement> make_element(const char* factory, const char* name, std::string* error) {
  GRef<GstElement> element = adopt_ref(gst_element_factory_make(factory, name));
  if (!element && error)
    *error =
        std::string("missing GStreamer element '") + factory + "' (see scripts/install-deps.sh)";
  return element;
}

bool link_to_request_pad(GstElement* src, GstElement* mux, const char* templ) {
  GRef<GstPad> sink = adopt_ref(gst_element_request_pad_simple(mux, templ));
  GRef<GstPad> src_pad = adopt_ref(gst_element_get_static_pad(src, "src"));
  return sink && src_pad && gst_pad_link(src_pad.get(), sink.get()) == GST_PAD_LINK_OK;
}

void configure_appsrc(GstElement* appsrc, GstCaps* caps, guint64 max_bytes) {
  g_object_set(appsrc, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", TRUE, "max-bytes",
               max_bytes, "caps", caps, "stream-type", GST_APP_STREAM_TYPE_STREAM, nullptr);
}

int quick_start_segments(const Plan& plan) {
  return int(std::min(plan.input.initial_segments.size(), plan.segments.size()));
}

// x264enc's VBV buffer as milliseconds of the peak rate (its vbv-buf-capacity, 1-10000 ms).
static void set_vbv_buffer(GstElement* x264enc, int64_t buffer_bits, int64_t peak_bits_per_s) {
  const int64_t ms = std::clamp<int64_t>(buffer_bits * 1000 / peak_bits_per_s, 1, 10000);
  g_object_set(x264enc, "vbv-buf-capacity", guint(ms), nullptr);
}

GRef<GstElement> make_video_encoder(const VideoTarget& target, const Plan& plan, EncoderMode mode,
                                    std::string* error) {
  // A draft: a quantizer 12 higher (about a quarter of the bits) or a quarter of the bitrate.
  constexpr int kDraftQuantizer = 12;
  VideoTarget v = target;
  if (mode == EncoderMode::kDraft) {
    if (v.bitrate > 0) v.bitrate = std::max(64000, v.bitrate / 4);
    v.crf = std::min(51, (v.crf < 0 ? (v.codec == "h265" ? 28 : 23) : v.crf) + kDraftQuantizer);
  }
  const bool h265 = v.codec == "h265";
  GRef<GstElement> owned = make_element(h265 ? "x265enc" : "x264enc", nullptr, error);
  if (!owned) return owned;
  GstElement* enc = owned.get();
  // The longest segment is one GOP at most: IDRs come from the forced key units at the
  // boundaries (and scene cuts inside a segment).
  int64_t longest = 1;
  for (const PlannedSegment& s : plan.segments)
    longest = std::max(longest, s.end_frame - s.first_frame);
  gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", v.preset.c_str());
  g_object_set(enc, "key-int-max", guint(longest), nullptr);
  std::string options;
  auto add = [&](const std::string& o) { options += (options.empty() ? "" : ":") + o; };
  // The VBV buffer: BufferSize, or twice the peak rate.
  const int64_t buffer_bits = v.buffer_size > 0 ? v.buffer_size : 2 * int64_t(v.max_bitrate);
  // The level the master playlist announces (codec_level.h), not the one x264/x265 guess.
  add((h265 ? "level-idc=" : "level=") + level_option(v));
  if (!h265) {
    // x264enc sets x264's VBV itself after its option-string, from its own properties:
    // peak = the bitrate property (2048 kbit/s unless set, also in CRF mode), buffer =
    // vbv-buf-capacity ms of it. So the VBV goes through those; a buffer of 0 turns it off.
    if (v.bitrate > 0) {
      // ABR: x264enc's peak is the average rate (stricter than a MaxBitrate above it).
      gst_util_set_object_arg(G_OBJECT(enc), "pass", "cbr");
      g_object_set(enc, "bitrate", guint(std::max(1, v.bitrate / 1000)), nullptr);
      if (buffer_bits > 0) set_vbv_buffer(enc, buffer_bits, v.bitrate);
    } else {
      gst_util_set_object_arg(G_OBJECT(enc), "pass", "qual");
      g_object_set(enc, "quantizer", guint(std::clamp(v.crf < 0 ? 23 : v.crf, 0, 50)), nullptr);
      if (v.max_bitrate > 0) {
        g_object_set(enc, "bitrate", guint(std::max(1, v.max_bitrate / 1000)), nullptr);
        set_vbv_buffer(enc, buffer_bits, v.max_bitrate);
      } else {
        g_object_set(enc, "vbv-buf-capacity", guint(0), nullptr);  // CRF alone: no peak
      }
    }
    // Only what the target sets: x264enc passes the preset's values for the rest.
    if (v.bframes >= 0) g_object_set(enc, "bframes", guint(v.bframes), nullptr);
    if (v.refs >= 1) g_object_set(enc, "ref", guint(v.refs), nullptr);
    // ultrafast and superfast search less already and look ahead 0 frames.
    const bool searches = v.preset != "ultrafast" && v.preset != "superfast";
    if (mode == EncoderMode::kQuickStart) add("rc-lookahead=3:sliced-threads=1");
    if (mode == EncoderMode::kQuickStart && searches) add("me=dia:subme=1");
    if (mode == EncoderMode::kWaited && searches) add("rc-lookahead=5:me=dia:subme=1");
    if (mode == EncoderMode::kDraft)
      add("rc-lookahead=0:me=dia:subme=0:partitions=none:trellis=0:mbtree=0:aq-mode=0:b-adapt=0:"
          "scenecut=0:nf=1");
    g_object_set(enc, "option-string", options.c_str(), nullptr);
  } else {
    if (v.bitrate > 0)
      g_object_set(enc, "bitrate", guint(std::max(1, v.bitrate / 1000)), nullptr);
    else
      add("crf=" + std::to_string(v.crf < 0 ? 28 : v.crf));
    if (v.max_bitrate > 0) add("vbv-maxrate=" + std::to_string(v.max_bitrate / 1000));
    if (buffer_bits > 0) add("vbv-bufsize=" + std::to_string(buffer_bits / 1000));
    if (v.bframes >= 0) add("bframes=" + std::to_string(v.bframes));
    if (v.refs >= 1) add("ref=" + std::to_string(v.refs));
    if (mode == EncoderMode::kDraft) add("me=dia:subme=0");  // x265: look-ahead >= B-frames
    add("repeat-headers=1");
    g_object_set(enc, "option-string", options.c_str(), nullptr);
  }
  return owned;
}

uint64_t frames_to_ns(int64_t frames, const Rate& rate) {
  return gst_util_uint64_scale(uint64_t(frames), GST_SECOND * uint64_t(rate.den),
                               uint64_t(rate.num));
}

uint64_t samples_to_ns(int64_t samples, int rate) {
  return gst_util_uint64_scale(uint64_t(samples), GST_SECOND, uint64_t(rate));
}

std::string ns_to_seconds(uint64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llu.%09llu", (unsigned long long)(ns / GST_SECOND),
                (unsigned long long)(ns % GST_SECOND));
  return buf;
}

SegmentReport report_from_structure(const GstStructure* s) {
  SegmentReport r;
  gint index = 0;
  guint64 bytes = 0, frames = 0, samples = 0;
  gboolean key = FALSE;
  gst_structure_get_int(s, "index", &index);
  gst_structure_get_uint64(s, "bytes", &bytes);
  gst_structure_get_uint64(s, "video-frames", &frames);
  gst_structure_get_uint64(s, "audio-samples", &samples);
  gst_structure_get_boolean(s, "keyframe", &key);
  r.index = index;
  r.bytes = bytes;
  r.video_frames = int64_t(frames);
  r.audio_samples = int64_t(samples);
  r.starts_with_keyframe = key;
  return r;
}

}  // namespace tws
