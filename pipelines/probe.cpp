// SPDX-License-Identifier: LGPL-2.1-or-later
// Probing a source: GstDiscoverer for the streams and duration, then a cheap check that the
// end of the file is really there (a truncated upload often still has a complete header).
#include "pipelines/probe.h"

#include "pipelines/media_only.h"

#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/gref.h"
#include "pipelines/pipeline_util.h"

GST_DEBUG_CATEGORY_STATIC(tws_probe_debug);
#define GST_CAT_DEFAULT tws_probe_debug

namespace tws {
namespace {

constexpr GstClockTime kProbeTimeout = 30 * GST_SECOND;
// GstDiscoverer 1.22 now and then stalls for good on a source it reads in a moment the next
// time (a cut MP4 one run in six, an AIFF one in four: its demuxer task paused, nothing on its
// bus): a short timeout and another try with a discoverer of its own, rather than one long
// wait. Two tries on one discoverer still failed an AIFF probe once in 1001.
constexpr GstClockTime kDiscoverTimeout = 8 * GST_SECOND;
constexpr int kDiscoverTries = 3;

std::string to_uri(const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  GUnique<gchar> uri(gst_filename_to_uri(location.c_str(), nullptr));
  return uri ? uri.get() : location;
}

std::string caps_name(GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return "";
  return gst_structure_get_name(gst_caps_get_structure(caps, 0));
}

// image-orientation tag: "rotate-90", "flip-rotate-0", ...
void read_orientation(const GstTagList* tags, VideoStreamInfo* v) {
  gchar* value = nullptr;
  if (!tags || !gst_tag_list_get_string(tags, GST_TAG_IMAGE_ORIENTATION, &value)) return;
  GUnique<gchar> owned(value);
  std::string o = value;
  if (o.rfind("flip-", 0) == 0) {
    v->flip = true;
    o = o.substr(5);
  }
  if (o == "rotate-90") v->rotation = 90;
  if (o == "rotate-180") v->rotation = 180;
  if (o == "rotate-270") v->rotation = 270;
}

std::string tag_string(const GstTagList* tags, const char* tag) {
  gchar* value = nullptr;
  if (!tags || !gst_tag_list_get_string(tags, tag, &value)) return "";
  GUnique<gchar> owned(value);
  return value;
}

std::string language(const GstTagList* tags) { return tag_string(tags, GST_TAG_LANGUAGE_CODE); }

void fill_streams(GstDiscovererInfo* dinfo, SourceInfo* info) {
  GList* list = gst_discoverer_info_get_stream_list(dinfo);
  for (GList* l = list; l; l = l->next) {
    auto* s = static_cast<GstDiscovererStreamInfo*>(l->data);
    GRef<GstCaps> caps = adopt_ref(gst_discoverer_stream_info_get_caps(s));
    const GstTagList* tags = gst_discoverer_stream_info_get_tags(s);
    if (GST_IS_DISCOVERER_VIDEO_INFO(s)) {
      auto* vi = GST_DISCOVERER_VIDEO_INFO(s);
      if (gst_discoverer_video_info_is_image(vi)) continue;
      VideoStreamInfo v;
      v.codec = caps_name(caps.get());
      v.width = int(gst_discoverer_video_info_get_width(vi));
      v.height = int(gst_discoverer_video_info_get_height(vi));
      v.par_n = int(gst_discoverer_video_info_get_par_num(vi));
      v.par_d = int(gst_discoverer_video_info_get_par_denom(vi));
      if (v.par_n <= 0 || v.par_d <= 0) v.par_n = v.par_d = 1;
      int fn = int(gst_discoverer_video_info_get_framerate_num(vi));
      int fd = int(gst_discoverer_video_info_get_framerate_denom(vi));
      if (fn > 0 && fd > 0) v.frame_rate = Rate{fn, fd};
      v.interlaced = gst_discoverer_video_info_is_interlaced(vi);
      v.depth = int(gst_discoverer_video_info_get_depth(vi));
      v.bitrate = gst_discoverer_video_info_get_bitrate(vi);
      if (v.bitrate == 0) v.bitrate = gst_discoverer_video_info_get_max_bitrate(vi);
      read_orientation(tags, &v);
      if (v.width > 0 && v.height > 0) info->video.push_back(v);
    } else if (GST_IS_DISCOVERER_AUDIO_INFO(s)) {
      auto* ai = GST_DISCOVERER_AUDIO_INFO(s);
      AudioStreamInfo a;
      a.codec = caps_name(caps.get());
      a.sample_rate = int(gst_discoverer_audio_info_get_sample_rate(ai));
      a.channels = int(gst_discoverer_audio_info_get_channels(ai));
      a.bitrate = gst_discoverer_audio_info_get_bitrate(ai);
      const gchar* lang = gst_discoverer_audio_info_get_language(ai);
      a.language = lang ? lang : language(tags);
      a.title = tag_string(tags, GST_TAG_TITLE);
      info->audio.push_back(a);
    } else if (GST_IS_DISCOVERER_SUBTITLE_INFO(s)) {
      SubtitleStreamInfo t;
      t.codec = caps_name(caps.get());
      const gchar* lang =
          gst_discoverer_subtitle_info_get_language(GST_DISCOVERER_SUBTITLE_INFO(s));
      t.language = lang ? lang : language(tags);
      t.title = tag_string(tags, GST_TAG_TITLE);
      info->subtitles.push_back(t);
    } else if (GST_IS_DISCOVERER_CONTAINER_INFO(s) && info->container.empty()) {
      info->container = caps_name(caps.get());
    }
  }
  gst_discoverer_stream_info_list_free(list);
}

// The demuxed (not decoded) streams of a source, one queue and fakesink each, with the span of
// packet times seen: the first (at preroll) and the latest end.
class PacketReader {
 public:
  explicit PacketReader(const std::string& location) {
    std::string error;
    pipeline_ = adopt_ref(gst_pipeline_new("probe-end"));
    GRef<GstElement> owned_src = make_element("rangesrc", nullptr, &error);
    GstElement* src = owned_src.get();
    GRef<GstElement> owned_parse = make_element("parsebin", nullptr, &error);
    GstElement* parse = owned_parse.get();
    if (!src || !parse) return;
    g_object_set(src, "location", location.c_str(), nullptr);
    gst_bin_add_many(GST_BIN(pipeline_.get()), src, parse, nullptr);
    gst_element_link(src, parse);
    g_signal_connect(parse, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer data) {
                       static_cast<PacketReader*>(data)->add_stream(pad);
                     }),
                     this);
    bus_ = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  }
  ~PacketReader() {
    if (pipeline_ && !abandoned_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
  bool ok() const { return bus_.get() != nullptr; }
  GstElement* pipeline() const { return pipeline_.get(); }
  GstBus* bus() const { return bus_.get(); }
  // A pipeline stuck inside a call into it cannot be stopped: it is left as it is (the probe
  // runs in a worker process of its own, which exits).
  void abandon() {
    abandoned_ = true;
    static_cast<void>(pipeline_.release());
  }
  void restart_counts() {
    buffers_ = 0;
    latest_end_ = -1;
  }
  int buffers() const { return buffers_; }
  int64_t first() const { return first_; }
  int64_t latest_end() const { return latest_end_; }

 private:
  void add_stream(GstPad* pad) {
    // A queue per stream, unbounded: the demuxer's one thread must not block on one sink's
    // preroll (or a full queue, after a seek back to a keyframe a GOP away) while the others
    // wait for data.
    GstElement* queue = gst_element_factory_make("queue", nullptr);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", guint64(0),
                 nullptr);
    g_object_set(sink, "sync", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(pipeline_.get()), queue, sink, nullptr);
    gst_element_link(queue, sink);
    gst_element_sync_state_with_parent(sink);
    gst_element_sync_state_with_parent(queue);
    GRef<GstPad> sinkpad = adopt_ref(gst_element_get_static_pad(sink, "sink"));
    GRef<GstPad> queuepad = adopt_ref(gst_element_get_static_pad(queue, "sink"));
    gst_pad_add_probe(
        sinkpad.get(), GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad*, GstPadProbeInfo* info, gpointer d) {
          static_cast<PacketReader*>(d)->seen(GST_PAD_PROBE_INFO_BUFFER(info));
          return GST_PAD_PROBE_OK;
        },
        this, nullptr);
    gst_pad_link(pad, queuepad.get());
  }
  void seen(GstBuffer* b) {
    buffers_++;
    if (!GST_BUFFER_PTS_IS_VALID(b)) return;
    const int64_t pts = int64_t(GST_BUFFER_PTS(b));
    const int64_t end =
        pts + (GST_BUFFER_DURATION_IS_VALID(b) ? int64_t(GST_BUFFER_DURATION(b)) : 0);
    int64_t f = first_.load();
    while ((f < 0 || pts < f) && !first_.compare_exchange_weak(f, pts)) {
    }
    int64_t l = latest_end_.load();
    while (end > l && !latest_end_.compare_exchange_weak(l, end)) {
    }
  }

  GRef<GstElement> pipeline_;
  GRef<GstBus> bus_;
  bool abandoned_ = false;
  std::atomic<int> buffers_{0};
  std::atomic<int64_t> first_{-1}, latest_end_{-1};
};

// Runs `seek` on a thread of its own and waits for it at most `timeout`: a demuxer can block a
// seek for good (dvdemux forwarding it upstream while a sink waits for preroll). nullopt: it
// did not return.
std::optional<bool> seek_within(GstElement* pipeline, gint64 target, GstSeekFlags flags,
                                std::chrono::seconds timeout) {
  struct Call {
    std::mutex mu;
    std::condition_variable done;
    std::optional<bool> result;
  };
  auto call = std::make_shared<Call>();
  GRef<GstElement> held = add_ref(pipeline);
  std::thread([call, held, target, flags] {
    const bool ok = gst_element_seek_simple(held.get(), GST_FORMAT_TIME, flags, target);
    std::lock_guard<std::mutex> lock(call->mu);
    call->result = ok;
    call->done.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(call->mu);
  call->done.wait_for(lock, timeout, [&] { return call->result.has_value(); });
  return call->result;
}

// Checks that the end of the source is there and learns where its media really ends: the
// demuxed streams are sought to a second before the duration the discoverer gave and read to
// their end. A source whose demuxer cannot seek (RealMedia without an index) is read from the
// start instead. Where the packets end differs from that duration by more than a second, the
// packets win: a cut upload (a header that promises more than the file holds) becomes the
// playable prefix it is; a fragmented MP4, whose first estimate counts only the fragments
// indexed up front, gets its whole length.
// `error` with its message led by `what`.
MediaError prefixed(const char* what, MediaError error) {
  error.message = what + error.message;
  return error;
}

bool check_end(const std::string& location, SourceInfo* info, MediaError* error) {
  constexpr auto kSeekTimeout = std::chrono::seconds(10);
  auto reader = std::make_unique<PacketReader>(location);
  if (!reader->ok()) {
    *error = MediaError::reason("cannot read the source");
    return false;
  }
  // Prerolled (ASYNC_DONE) once every stream delivered its first packet or a gap.
  gst_element_set_state(reader->pipeline(), GST_STATE_PAUSED);
  {
    GRef<GstMessage> msg = adopt_ref(gst_bus_timed_pop_filtered(
        reader->bus(), kProbeTimeout, GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_ASYNC_DONE)));
    if (!msg || GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      *error = msg ? prefixed("unreadable: ", MediaError::from_message(msg.get()))
                   : MediaError::reason("timed out reading the source");
      return false;
    }
  }
  const int64_t first = reader->first();
  const gint64 target = gint64(std::max(0.0, info->duration - 1.0) * GST_SECOND);
  const std::optional<bool> sought =
      seek_within(reader->pipeline(), target,
                  GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT), kSeekTimeout);
  if (!sought) {
    GST_WARNING("the seek to the end of %s did not return in %d s: reading it from the start",
                location.c_str(), int(kSeekTimeout.count()));
    reader->abandon();
  }
  if (!sought || !*sought) {
    // No seeking: the whole source, from its start, in a pipeline of its own (the demuxer may
    // have left this one flushing, or stuck).
    reader = std::make_unique<PacketReader>(location);
    if (!reader->ok()) {
      *error = MediaError::reason("cannot read the source");
      return false;
    }
  }
  reader->restart_counts();
  gst_element_set_state(reader->pipeline(), GST_STATE_PLAYING);
  GRef<GstMessage> msg = adopt_ref(gst_bus_timed_pop_filtered(
      reader->bus(), kProbeTimeout, GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)));
  if (!msg) {
    *error = MediaError::reason("timed out reading the end of the source");
    return false;
  }
  if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
    *error = prefixed("truncated or corrupt: ", MediaError::from_message(msg.get()));
    return false;
  }
  if (reader->buffers() == 0) {
    *error = MediaError::reason("truncated: no media near the end");
    return false;
  }
  const int64_t start = sought && *sought ? first : reader->first();
  if (start >= 0 && reader->latest_end() > start) {
    const double found = double(reader->latest_end() - start) / GST_SECOND;
    if (std::fabs(found - info->duration) > 1.0) {
      GST_INFO("media ends at %.3f s, the header said %.3f s: taking the media", found,
               info->duration);
      if (found < 0.5) {
        *error = MediaError::reason("truncated: less than half a second of media");
        return false;
      }
      info->duration = found;
    }
  }
  return true;
}

}  // namespace

bool probe_source(const std::string& location, SourceInfo* info, MediaError* error) {
  static gsize debug_once = 0;
  if (g_once_init_enter(&debug_once)) {
    GST_DEBUG_CATEGORY_INIT(tws_probe_debug, "twsprobe", 0, "tws source probe");
    g_once_init_leave(&debug_once, 1);
  }
  *info = SourceInfo{};
  info->uri = location;
  GError* err = nullptr;
  GRef<GstDiscovererInfo> dinfo;
  GUnique<GError> owned_err;
  GstDiscovererResult result = GST_DISCOVERER_ERROR;
  GRef<GstDiscoverer> discoverer;  // the try's own; the one that answered is asked again below
  for (int attempt = 0; attempt < kDiscoverTries; ++attempt) {
    err = nullptr;
    discoverer = adopt_ref(gst_discoverer_new(kDiscoverTimeout, &err));
    if (!discoverer) {
      *error = err ? prefixed("cannot probe: ", MediaError::from_gerror(err))
                   : MediaError::reason("cannot probe: no discoverer");
      if (err) g_error_free(err);
      return false;
    }
    dinfo =
        adopt_ref(gst_discoverer_discover_uri(discoverer.get(), to_uri(location).c_str(), &err));
    owned_err.reset(err);
    result = dinfo ? gst_discoverer_info_get_result(dinfo.get()) : GST_DISCOVERER_ERROR;
    if (result != GST_DISCOVERER_TIMEOUT) break;
    GST_WARNING("the discoverer timed out on %s (try %d of %d)", location.c_str(), attempt + 1,
                kDiscoverTries);
  }
  if (result == GST_DISCOVERER_TIMEOUT) {
    *error = MediaError::reason("timed out probing the source");
    return false;
  }
  if (result == GST_DISCOVERER_MISSING_PLUGINS) {
    *error = MediaError::reason("unsupported format (no decoder for it)");
    const gchar** missing = gst_discoverer_info_get_missing_elements_installer_details(dinfo.get());
    for (const gchar** m = missing; m && *m; ++m)
      if (names_manifest_type(*m)) *error = MediaError::reason(kNotMediaReason);
    return false;
  }
  if (result != GST_DISCOVERER_OK || !dinfo) {
    *error = owned_err
                 ? prefixed("not a readable media file: ", MediaError::from_gerror(owned_err.get()))
                 : MediaError::reason("not a readable media file: unreadable");
    return false;
  }
  fill_streams(dinfo.get(), info);
  // A sparse subtitle stream's tags (its language) reach the discoverer only when they come
  // before it is done, which they do not always (about one probe in five of a short MKV or
  // MP4): another look fills in what the first one missed.
  for (int retry = 0; retry < 2; ++retry) {
    const bool missing =
        std::any_of(info->subtitles.begin(), info->subtitles.end(),
                    [](const SubtitleStreamInfo& t) { return t.language.empty(); });
    if (!missing) break;
    GError* again_err = nullptr;
    GRef<GstDiscovererInfo> again = adopt_ref(
        gst_discoverer_discover_uri(discoverer.get(), to_uri(location).c_str(), &again_err));
    GUnique<GError> owned_again(again_err);
    if (!again || gst_discoverer_info_get_result(again.get()) != GST_DISCOVERER_OK) break;
    SourceInfo other;
    fill_streams(again.get(), &other);
    if (other.subtitles.size() != info->subtitles.size()) break;
    for (size_t i = 0; i < other.subtitles.size(); ++i)
      if (info->subtitles[i].language.empty())
        info->subtitles[i].language = other.subtitles[i].language;
  }
  const GstClockTime duration = gst_discoverer_info_get_duration(dinfo.get());
  if (info->video.empty() && info->audio.empty()) {
    *error = MediaError::reason("no audio or video stream");
    return false;
  }
  if (!GST_CLOCK_TIME_IS_VALID(duration) || duration == 0) {
    *error = MediaError::reason("unknown or zero duration");
    return false;
  }
  info->duration = double(duration) / GST_SECOND;
  return check_end(location, info, error);
}

bool probe_source(const std::string& location, SourceInfo* info, std::string* error) {
  MediaError media;
  if (probe_source(location, info, &media)) return true;
  *error = media.message;
  return false;
}

std::string source_info_to_json(const SourceInfo& info) {
  GRef<JsonBuilder> b = adopt_ref(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "URI");
  json_builder_add_string_value(b.get(), info.uri.c_str());
  json_builder_set_member_name(b.get(), "Container");
  json_builder_add_string_value(b.get(), info.container.c_str());
  json_builder_set_member_name(b.get(), "Duration");
  json_builder_add_double_value(b.get(), info.duration);
  json_builder_set_member_name(b.get(), "Size");
  json_builder_add_int_value(b.get(), gint64(info.size));
  json_builder_set_member_name(b.get(), "VideoStreams");
  json_builder_begin_array(b.get());
  for (const VideoStreamInfo& v : info.video) {
    json_builder_begin_object(b.get());
    auto member_int = [&](const char* name, gint64 value) {
      json_builder_set_member_name(b.get(), name);
      json_builder_add_int_value(b.get(), value);
    };
    json_builder_set_member_name(b.get(), "Codec");
    json_builder_add_string_value(b.get(), v.codec.c_str());
    member_int("Width", v.width);
    member_int("Height", v.height);
    member_int("DisplayWidth", v.display_width());
    member_int("DisplayHeight", v.display_height());
    json_builder_set_member_name(b.get(), "PixelAspectRatio");
    json_builder_add_string_value(
        b.get(), (std::to_string(v.par_n) + ":" + std::to_string(v.par_d)).c_str());
    json_builder_set_member_name(b.get(), "FrameRate");
    json_builder_add_string_value(
        b.get(),
        v.frame_rate.valid()
            ? (std::to_string(v.frame_rate.num) + "/" + std::to_string(v.frame_rate.den)).c_str()
            : "");
    member_int("Rotation", v.rotation);
    member_int("BitDepth", v.depth);
    member_int("Bitrate", v.bitrate);
    json_builder_set_member_name(b.get(), "Interlaced");
    json_builder_add_boolean_value(b.get(), v.interlaced);
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_set_member_name(b.get(), "AudioStreams");
  json_builder_begin_array(b.get());
  for (const AudioStreamInfo& a : info.audio) {
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "Codec");
    json_builder_add_string_value(b.get(), a.codec.c_str());
    json_builder_set_member_name(b.get(), "SampleRate");
    json_builder_add_int_value(b.get(), a.sample_rate);
    json_builder_set_member_name(b.get(), "Channels");
    json_builder_add_int_value(b.get(), a.channels);
    json_builder_set_member_name(b.get(), "Bitrate");
    json_builder_add_int_value(b.get(), a.bitrate);
    json_builder_set_member_name(b.get(), "Language");
    json_builder_add_string_value(b.get(), a.language.c_str());
    json_builder_set_member_name(b.get(), "Title");
    json_builder_add_string_value(b.get(), a.title.c_str());
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_set_member_name(b.get(), "SubtitleStreams");
  json_builder_begin_array(b.get());
  for (const SubtitleStreamInfo& t : info.subtitles) {
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "Codec");
    json_builder_add_string_value(b.get(), t.codec.c_str());
    json_builder_set_member_name(b.get(), "Language");
    json_builder_add_string_value(b.get(), t.language.c_str());
    json_builder_set_member_name(b.get(), "Title");
    json_builder_add_string_value(b.get(), t.title.c_str());
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  GRef<JsonGenerator> gen = adopt_ref(json_generator_new());
  JsonNode* node = json_builder_get_root(b.get());
  json_generator_set_root(gen.get(), node);
  json_generator_set_pretty(gen.get(), TRUE);
  GUnique<gchar> text(json_generator_to_data(gen.get(), nullptr));
  json_node_unref(node);
  return text.get();
}

}  // namespace tws
