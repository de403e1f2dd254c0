// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-hlssegsink
 * @title: hlssegsink
 *
 * hlssegsink writes HLS: MPEG-TS segments to #GstHlsSegSink:location and a media playlist to
 * #GstHlsSegSink:playlist-location, in the manner of hlssink2. It is a bin around
 * #GstHlsSegMux (named "mux") that takes encoded H.264/H.265 (byte-stream, one access unit
 * per buffer) on its "video" pad and ADTS AAC on its "audio" pad; either may be left out.
 * Each pad goes through an unbounded queue inside the bin, so one demuxer or decodebin may
 * feed both pads without a queue of the user's.
 *
 * Segments are cut every #GstHlsSegSink:target-duration seconds, or at the explicit
 * #GstHlsSegSink:boundaries, at the first keyframe at or after each cut time (see
 * hlssegmux; #GstHlsSegSink:strict asks for exact boundaries and fails otherwise). Each
 * playlist entry's EXTINF is the exact media duration of its segment (microseconds), and
 * EXT-X-TARGETDURATION is the longest EXTINF rounded up (at least target-duration for the
 * "none" and "event" playlist types, whose playlist is rewritten after every segment).
 * EXT-X-ENDLIST is written at EOS.
 *
 * Locations are local paths, file:// URIs or s3://BUCKET/KEY objects (credentials from the
 * #GstHlsSegSink:access-key-id and #GstHlsSegSink:secret-access-key properties, else the
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment; endpoint and region likewise, or
 * from the URI's ?endpoint=URL&region=NAME). Every file appears whole or not at all: a local
 * file is written under a hidden temporary name beside it and renamed, an S3 object is one
 * PUT. On an error, a flush or a stop, the segment being written is dropped, so nothing
 * partial is left behind; the segments already listed and their playlist stay.
 *
 * The playlist names a segment by its path relative to the playlist's folder when it lies in
 * it or below it, else by #GstHlsSegSink:playlist-root followed by the file name, else (a
 * local file) by its file:// URI.
 *
 * With #GstHlsSegSink:max-files (playlist type "none" only), the playlist lists the latest
 * max-files segments and older segment files are deleted after the playlist no longer
 * names them: a rolling live window.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=300 ! video/x-raw,framerate=30/1 ! \
 *     x264enc ! h264parse ! hls.video \
 *   audiotestsrc num-buffers=430 ! avenc_aac ! aacparse ! hls.audio \
 *   hlssegsink name=hls target-duration=4 playlist-type=vod \
 *     location=out/seg%05d.ts playlist-location=out/index.m3u8
 * ]| Writes 10 s of test video and tone as 4 s segments out/seg00000.ts .. and a VOD
 * playlist out/index.m3u8.
 * |[
 * gst-launch-1.0 rangesrc location=in.mov ! qtdemux name=d \
 *   d.video_0 ! h264parse ! hls.video  d.audio_0 ! aacparse ! hls.audio \
 *   hlssegsink name=hls location=s3://media/hls/seg%05d.ts \
 *     playlist-location=s3://media/hls/index.m3u8 endpoint=http://127.0.0.1:9000
 * ]| Repackages an H.264/AAC MOV into HLS on S3 without re-encoding, cutting at the first
 * keyframe after every 10 s.
 */
#include "gsthlssegsink.h"

#include <gst/base/gstbasesink.h>
#include <gst/video/video.h>

#include <memory>
#include <mutex>
#include <optional>

#include "common/gref.h"
#include "elements.h"
#include "hlssegmux/gsthlssegmux.h"
#include "media_playlist.h"
#include "output_object.h"

GST_DEBUG_CATEGORY_STATIC(gst_hls_seg_sink_debug);
#define GST_CAT_DEFAULT gst_hls_seg_sink_debug

using tws::adopt_ref;
using tws::GRef;
using tws::PlaylistType;

namespace {

constexpr const char* DEFAULT_LOCATION = "segment%05d.ts";
constexpr const char* DEFAULT_PLAYLIST_LOCATION = "playlist.m3u8";
constexpr guint DEFAULT_TARGET_DURATION = 10;
constexpr guint DEFAULT_MAX_FILES = 0;

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_PLAYLIST_LOCATION,
  PROP_PLAYLIST_ROOT,
  PROP_PLAYLIST_TYPE,
  PROP_TARGET_DURATION,
  PROP_BOUNDARIES,
  PROP_MAX_FILES,
  PROP_STRICT,
  PROP_ENDPOINT,
  PROP_REGION,
  PROP_ACCESS_KEY_ID,
  PROP_SECRET_ACCESS_KEY,
};

GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("video/x-h264, stream-format = (string) byte-stream, alignment = (string) au; "
                    "video/x-h265, stream-format = (string) byte-stream, alignment = (string) au"));

GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("audio/mpeg, mpegversion = (int) 4, stream-format = (string) adts"));

struct Settings {
  std::string location = DEFAULT_LOCATION;
  std::string playlist_location = DEFAULT_PLAYLIST_LOCATION;
  std::string playlist_root;
  PlaylistType type = PlaylistType::kNone;
  guint target_duration = DEFAULT_TARGET_DURATION;
  guint max_files = DEFAULT_MAX_FILES;
  tws::s3::Overrides s3;
};

// What the writer does between start() and stop(): its streaming thread only.
struct Run {
  Settings settings;
  std::optional<tws::ObjectOutput> output;
  std::unique_ptr<tws::ObjectWriter> current;  // the segment being written
  guint current_index = 0;
  guint next_index = 0;
  tws::MediaPlaylist playlist;
  std::deque<std::string> listed;  // segment locations of playlist.entries
};

}  // namespace

// ---------------------------------------------------------------------------------------
// The writer: the bin's sink, not registered as a factory of its own.

#define GST_TYPE_HLS_SEG_WRITER (gst_hls_seg_writer_get_type())
G_DECLARE_FINAL_TYPE(GstHlsSegWriter, gst_hls_seg_writer, GST, HLS_SEG_WRITER, GstBaseSink)

struct GstHlsSegSinkPrivate {
  std::mutex lock;  // settings
  Settings settings;
  GstElement* mux = nullptr;  // children of the bin
  GstHlsSegWriter* writer = nullptr;
};

struct _GstHlsSegSink {
  GstBin parent;
  GstHlsSegSinkPrivate* priv;
};

struct GstHlsSegWriterPrivate {
  GstHlsSegSink* owner = nullptr;  // the bin holding this writer
  GRef<GCancellable> cancel;       // cancelled by unlock() to end a blocking S3 request
  std::unique_ptr<Run> run;        // from start() to stop()
};

struct _GstHlsSegWriter {
  GstBaseSink parent;
  GstHlsSegWriterPrivate* priv;
};

G_DEFINE_TYPE(GstHlsSegWriter, gst_hls_seg_writer, GST_TYPE_BASE_SINK)

namespace {

#define WRITER_ERROR(w, kind, text, detail)                               \
  GST_ELEMENT_ERROR(w, RESOURCE, kind, ("%s", std::string(text).c_str()), \
                    ("%s", std::string(detail).c_str()))

bool write_playlist(GstHlsSegWriter* w) {
  Run& run = *w->priv->run;
  std::string error;
  if (!run.output->put(run.settings.playlist_location, run.playlist.render(), &error)) {
    WRITER_ERROR(w, WRITE, "Could not write the playlist " + run.settings.playlist_location, error);
    return false;
  }
  return true;
}

bool begin_segment(GstHlsSegWriter* w, guint index) {
  Run& run = *w->priv->run;
  if (run.current) {
    GST_WARNING_OBJECT(w, "segment %u not closed before segment %u; dropped", run.current_index,
                       index);
    run.current.reset();
  }
  std::string location = tws::format_index(run.settings.location, index);
  std::string error;
  run.current = run.output->create(location, &error);
  if (!run.current) {
    WRITER_ERROR(w, OPEN_WRITE, "Could not write segment " + location, error);
    return false;
  }
  run.current_index = index;
  run.next_index = index + 1;
  GST_DEBUG_OBJECT(w, "segment %u -> %s", index, location.c_str());
  return true;
}

bool end_segment(GstHlsSegWriter* w, const GstStructure* s) {
  Run& run = *w->priv->run;
  gint index = 0;
  guint64 duration = 0;
  if (!gst_structure_get_int(s, "index", &index) ||
      !gst_structure_get_uint64(s, "duration", &duration))
    return true;
  if (!run.current || run.current_index != static_cast<guint>(index)) {
    GST_WARNING_OBJECT(w, "end of segment %d that was not being written", index);
    return true;
  }
  std::string location = tws::format_index(run.settings.location, run.current_index);
  std::string error;
  bool ok = run.current->commit(&error);
  run.current.reset();
  if (!ok) {
    WRITER_ERROR(w, WRITE, "Could not write segment " + location, error);
    return false;
  }
  std::string uri = tws::segment_uri(location, run.settings.playlist_location,
                                     run.settings.playlist_root, &error);
  run.playlist.entries.push_back({uri, duration});
  run.listed.push_back(location);
  GST_INFO_OBJECT(w, "segment %d written: %s, %" GST_TIME_FORMAT, index, location.c_str(),
                  GST_TIME_ARGS(duration));

  std::deque<std::string> dropped;
  const guint max_files = run.settings.max_files;
  if (run.settings.type == PlaylistType::kNone && max_files > 0) {
    while (run.playlist.entries.size() > max_files) {
      run.playlist.entries.pop_front();
      run.playlist.media_sequence++;
      dropped.push_back(std::move(run.listed.front()));
      run.listed.pop_front();
    }
  }
  if (run.settings.type != PlaylistType::kVod && !write_playlist(w)) return false;
  // Removed once the playlist no longer names them.
  for (const std::string& old : dropped) {
    if (!run.output->remove(old, &error))
      GST_ELEMENT_WARNING(w, RESOURCE, WRITE, ("Could not delete %s", old.c_str()),
                          ("%s", error.c_str()));
  }
  return true;
}

// Why the settings cannot work (checked by the bin before its children start), or "".
std::string settings_problem(const Settings& s) {
  std::string why;
  if (!tws::check_index_pattern(s.location, &why)) return why;
  if (tws::segment_uri(tws::format_index(s.location, 0), s.playlist_location, s.playlist_root, &why)
          .empty())
    return why;
  return "";
}

gboolean writer_start(GstBaseSink* sink) {
  GstHlsSegWriter* w = GST_HLS_SEG_WRITER(sink);
  GstHlsSegSinkPrivate* priv = w->priv->owner->priv;
  auto run = std::make_unique<Run>();
  {
    std::lock_guard lock(priv->lock);
    run->settings = priv->settings;
  }
  const Settings& s = run->settings;
  w->priv->cancel = adopt_ref(g_cancellable_new());
  run->output.emplace(s.s3, w->priv->cancel.get());
  run->playlist.type = s.type;
  run->playlist.min_target_duration = s.type == PlaylistType::kVod ? 1 : s.target_duration;
  w->priv->run = std::move(run);
  return TRUE;
}

gboolean writer_stop(GstBaseSink* sink) {
  GST_HLS_SEG_WRITER(sink)->priv->run.reset();  // drops the segment being written
  return TRUE;
}

gboolean writer_unlock(GstBaseSink* sink) {
  GstHlsSegWriterPrivate* priv = GST_HLS_SEG_WRITER(sink)->priv;
  if (priv->cancel) g_cancellable_cancel(priv->cancel.get());
  return TRUE;
}

gboolean writer_unlock_stop(GstBaseSink* sink) {
  GstHlsSegWriterPrivate* priv = GST_HLS_SEG_WRITER(sink)->priv;
  if (priv->cancel) g_cancellable_reset(priv->cancel.get());
  return TRUE;
}

GstFlowReturn writer_render(GstBaseSink* sink, GstBuffer* buffer) {
  GstHlsSegWriter* w = GST_HLS_SEG_WRITER(sink);
  Run& run = *w->priv->run;
  if (!run.current && !begin_segment(w, run.next_index)) return GST_FLOW_ERROR;
  tws::MappedBuffer map(buffer, GST_MAP_READ);
  std::string error;
  if (!map || !run.current->append(map.data(), map.size(), &error)) {
    WRITER_ERROR(
        w, WRITE,
        "Could not write segment " + tws::format_index(run.settings.location, run.current_index),
        error.empty() ? "could not map a buffer" : error);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

gboolean writer_event(GstBaseSink* sink, GstEvent* event) {
  GstHlsSegWriter* w = GST_HLS_SEG_WRITER(sink);
  bool ok = true;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CUSTOM_DOWNSTREAM: {
      guint count = 0;
      if (gst_video_event_is_force_key_unit(event)) {
        if (gst_video_event_parse_downstream_force_key_unit(event, nullptr, nullptr, nullptr,
                                                            nullptr, &count))
          ok = begin_segment(w, count);
      } else if (gst_event_has_name(event, "hlssegmux-segment-end")) {
        ok = end_segment(w, gst_event_get_structure(event));
      }
      break;
    }
    case GST_EVENT_EOS:
      w->priv->run->current.reset();
      w->priv->run->playlist.ended = true;
      ok = write_playlist(w);
      break;
    case GST_EVENT_FLUSH_STOP:
      w->priv->run->current.reset();
      break;
    default:
      break;
  }
  if (!ok) {
    gst_event_unref(event);
    return FALSE;
  }
  return GST_BASE_SINK_CLASS(gst_hls_seg_writer_parent_class)->event(sink, event);
}

}  // namespace

static void gst_hls_seg_writer_finalize(GObject* object) {
  GstHlsSegWriter* w = GST_HLS_SEG_WRITER(object);
  delete w->priv;
  w->priv = nullptr;
  G_OBJECT_CLASS(gst_hls_seg_writer_parent_class)->finalize(object);
}

static void gst_hls_seg_writer_init(GstHlsSegWriter* w) {
  w->priv = new GstHlsSegWriterPrivate();
  gst_base_sink_set_sync(GST_BASE_SINK(w), FALSE);
}

static void gst_hls_seg_writer_class_init(GstHlsSegWriterClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass* sink_class = GST_BASE_SINK_CLASS(klass);
  gobject_class->finalize = gst_hls_seg_writer_finalize;
  static GstStaticPadTemplate sink_template =
      GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                              GST_STATIC_CAPS("video/mpegts, systemstream = (boolean) true"));
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(element_class, "HLS segment writer", "Sink",
                                        "Writes hlssegmux's segments and their playlist (inside "
                                        "hlssegsink)",
                                        "tws authors");
  sink_class->start = writer_start;
  sink_class->stop = writer_stop;
  sink_class->unlock = writer_unlock;
  sink_class->unlock_stop = writer_unlock_stop;
  sink_class->render = writer_render;
  sink_class->event = writer_event;
}

// ---------------------------------------------------------------------------------------
// The bin

GType gst_hls_seg_sink_playlist_type_get_type(void) {
  static gsize type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(PlaylistType::kNone),
       "No EXT-X-PLAYLIST-TYPE: rewritten after every segment (live, or a rolling window with "
       "max-files)",
       "none"},
      {static_cast<gint>(PlaylistType::kEvent),
       "EVENT: rewritten after every segment, segments are only ever added", "event"},
      {static_cast<gint>(PlaylistType::kVod), "VOD: written once, at EOS", "vod"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstHlsSegSinkPlaylistType", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

G_DEFINE_TYPE(GstHlsSegSink, gst_hls_seg_sink, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(hlssegsink, "hlssegsink", GST_RANK_NONE, GST_TYPE_HLS_SEG_SINK)

static GstPad* gst_hls_seg_sink_request_new_pad(GstElement* element, GstPadTemplate* templ,
                                                const gchar* /*name*/, const GstCaps* /*caps*/) {
  GstHlsSegSink* self = GST_HLS_SEG_SINK(element);
  const gchar* name = GST_PAD_TEMPLATE_NAME_TEMPLATE(templ);
  if (GRef<GstPad> existing = adopt_ref(gst_element_get_static_pad(element, name))) {
    GST_WARNING_OBJECT(self, "only one %s pad is supported", name);
    return nullptr;
  }
  // An unbounded queue before each muxer pad: the muxer waits for both streams, and one
  // demuxer thread often feeds both.
  GRef<GstElement> queue = adopt_ref(gst_element_factory_make("queue", nullptr));
  if (!queue) return nullptr;
  g_object_set(queue.get(), "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
               guint64{0}, nullptr);
  GRef<GstPad> mux_pad = adopt_ref(gst_element_request_pad_simple(self->priv->mux, name));
  if (!mux_pad) return nullptr;
  gst_bin_add(GST_BIN(self), queue.get());
  GRef<GstPad> queue_src = adopt_ref(gst_element_get_static_pad(queue.get(), "src"));
  GRef<GstPad> queue_sink = adopt_ref(gst_element_get_static_pad(queue.get(), "sink"));
  gst_pad_link(queue_src.get(), mux_pad.get());
  GstPad* ghost = gst_ghost_pad_new_from_template(name, queue_sink.get(), templ);
  g_object_set_data_full(G_OBJECT(ghost), "hlssegsink-queue", gst_object_ref(queue.get()),
                         gst_object_unref);
  gst_element_sync_state_with_parent(queue.get());
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(element, ghost);
  return ghost;
}

static void gst_hls_seg_sink_release_pad(GstElement* element, GstPad* pad) {
  GstHlsSegSink* self = GST_HLS_SEG_SINK(element);
  auto* queue = static_cast<GstElement*>(g_object_get_data(G_OBJECT(pad), "hlssegsink-queue"));
  if (queue) {
    GRef<GstPad> queue_src = adopt_ref(gst_element_get_static_pad(queue, "src"));
    GRef<GstPad> mux_pad = adopt_ref(gst_pad_get_peer(queue_src.get()));
    gst_element_set_state(queue, GST_STATE_NULL);
    if (mux_pad) gst_element_release_request_pad(self->priv->mux, mux_pad.get());
    gst_bin_remove(GST_BIN(self), queue);
  }
  gst_element_remove_pad(element, pad);
}

static GstStateChangeReturn gst_hls_seg_sink_change_state(GstElement* element,
                                                          GstStateChange transition) {
  GstHlsSegSink* self = GST_HLS_SEG_SINK(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    std::string why;
    {
      std::lock_guard lock(self->priv->lock);
      why = settings_problem(self->priv->settings);
    }
    if (!why.empty()) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid locations"), ("%s", why.c_str()));
      return GST_STATE_CHANGE_FAILURE;
    }
  }
  return GST_ELEMENT_CLASS(gst_hls_seg_sink_parent_class)->change_state(element, transition);
}

static void gst_hls_seg_sink_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  GstHlsSegSink* self = GST_HLS_SEG_SINK(object);
  GstHlsSegSinkPrivate* priv = self->priv;
  auto text = [value] {
    const gchar* v = g_value_get_string(value);
    return std::string(v ? v : "");
  };
  std::lock_guard lock(priv->lock);
  Settings& s = priv->settings;
  switch (prop_id) {
    case PROP_LOCATION:
      s.location = text();
      break;
    case PROP_PLAYLIST_LOCATION:
      s.playlist_location = text();
      break;
    case PROP_PLAYLIST_ROOT:
      s.playlist_root = text();
      break;
    case PROP_PLAYLIST_TYPE:
      s.type = static_cast<PlaylistType>(g_value_get_enum(value));
      break;
    case PROP_TARGET_DURATION:
      s.target_duration = g_value_get_uint(value);
      g_object_set(priv->mux, "segment-duration", guint64{s.target_duration} * GST_SECOND, nullptr);
      break;
    case PROP_BOUNDARIES:
      g_object_set_property(G_OBJECT(priv->mux), "boundaries", value);
      break;
    case PROP_MAX_FILES:
      s.max_files = g_value_get_uint(value);
      break;
    case PROP_STRICT:
      g_object_set_property(G_OBJECT(priv->mux), "strict", value);
      break;
    case PROP_ENDPOINT:
      s.s3.endpoint = text();
      break;
    case PROP_REGION:
      s.s3.region = text();
      break;
    case PROP_ACCESS_KEY_ID:
      s.s3.access_key_id = text();
      break;
    case PROP_SECRET_ACCESS_KEY:
      s.s3.secret_access_key = text();
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_hls_seg_sink_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  GstHlsSegSink* self = GST_HLS_SEG_SINK(object);
  GstHlsSegSinkPrivate* priv = self->priv;
  std::lock_guard lock(priv->lock);
  const Settings& s = priv->settings;
  auto text = [value](const std::string& v) {
    g_value_set_string(value, v.empty() ? nullptr : v.c_str());
  };
  switch (prop_id) {
    case PROP_LOCATION:
      text(s.location);
      break;
    case PROP_PLAYLIST_LOCATION:
      text(s.playlist_location);
      break;
    case PROP_PLAYLIST_ROOT:
      text(s.playlist_root);
      break;
    case PROP_PLAYLIST_TYPE:
      g_value_set_enum(value, static_cast<gint>(s.type));
      break;
    case PROP_TARGET_DURATION:
      g_value_set_uint(value, s.target_duration);
      break;
    case PROP_BOUNDARIES:
      g_object_get_property(G_OBJECT(priv->mux), "boundaries", value);
      break;
    case PROP_MAX_FILES:
      g_value_set_uint(value, s.max_files);
      break;
    case PROP_STRICT:
      g_object_get_property(G_OBJECT(priv->mux), "strict", value);
      break;
    case PROP_ENDPOINT:
      text(s.s3.endpoint);
      break;
    case PROP_REGION:
      text(s.s3.region);
      break;
    case PROP_ACCESS_KEY_ID:
      text(s.s3.access_key_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_hls_seg_sink_finalize(GObject* object) {
  GstHlsSegSink* self = GST_HLS_SEG_SINK(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_hls_seg_sink_parent_class)->finalize(object);
}

static void gst_hls_seg_sink_init(GstHlsSegSink* self) {
  self->priv = new GstHlsSegSinkPrivate();
  GstHlsSegSinkPrivate* priv = self->priv;
  priv->mux = GST_ELEMENT(g_object_new(GST_TYPE_HLS_SEG_MUX, "name", "mux", nullptr));
  g_object_set(priv->mux, "segment-duration", guint64{DEFAULT_TARGET_DURATION} * GST_SECOND,
               nullptr);
  priv->writer =
      GST_HLS_SEG_WRITER(g_object_new(GST_TYPE_HLS_SEG_WRITER, "name", "writer", nullptr));
  priv->writer->priv->owner = self;
  gst_bin_add_many(GST_BIN(self), priv->mux, GST_ELEMENT(priv->writer), nullptr);
  gst_element_link(priv->mux, GST_ELEMENT(priv->writer));
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SINK);
}

static void gst_hls_seg_sink_class_init(GstHlsSegSinkClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_hls_seg_sink_debug, "hlssegsink", 0, "HLS segment sink");

  gobject_class->set_property = gst_hls_seg_sink_set_property;
  gobject_class->get_property = gst_hls_seg_sink_get_property;
  gobject_class->finalize = gst_hls_seg_sink_finalize;

  constexpr auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  GST_PARAM_MUTABLE_READY);
  auto string_prop = [gobject_class](guint id, const char* name, const char* nick,
                                     const char* blurb, const char* def) {
    g_object_class_install_property(gobject_class, id,
                                    g_param_spec_string(name, nick, blurb, def, flags));
  };
  string_prop(PROP_LOCATION, "location", "Segment location",
              "Where segment N is written: a path, file:// URI or s3://BUCKET/KEY with exactly "
              "one %d, %u or %05d-style conversion for N (%% for a literal %)",
              DEFAULT_LOCATION);
  string_prop(PROP_PLAYLIST_LOCATION, "playlist-location", "Playlist location",
              "Where the media playlist is written: a path, file:// URI or s3://BUCKET/KEY",
              DEFAULT_PLAYLIST_LOCATION);
  string_prop(PROP_PLAYLIST_ROOT, "playlist-root", "Playlist root",
              "URI prefix of the segments in the playlist, followed by '/' and the segment's "
              "file name (empty: the segment's path relative to the playlist's folder)",
              nullptr);
  g_object_class_install_property(
      gobject_class, PROP_PLAYLIST_TYPE,
      g_param_spec_enum("playlist-type", "Playlist type",
                        "EXT-X-PLAYLIST-TYPE of the playlist, and when it is written",
                        GST_TYPE_HLS_SEG_SINK_PLAYLIST_TYPE, static_cast<gint>(PlaylistType::kNone),
                        flags));
  g_object_class_install_property(
      gobject_class, PROP_TARGET_DURATION,
      g_param_spec_uint("target-duration", "Target duration",
                        "Segment length in seconds when boundaries is empty (cut at the first "
                        "keyframe at or after each multiple); also the least "
                        "EXT-X-TARGETDURATION of the none and event playlist types",
                        1, 86400, DEFAULT_TARGET_DURATION, flags));
  string_prop(PROP_BOUNDARIES, "boundaries", "Boundaries",
              "Explicit segment boundaries in seconds of media time, separated by commas "
              "(\"0,2,4,10\": 3 segments; empty: every target-duration seconds, no end)",
              nullptr);
  g_object_class_install_property(
      gobject_class, PROP_MAX_FILES,
      g_param_spec_uint("max-files", "Max files",
                        "With playlist-type none: how many of the latest segments the playlist "
                        "lists; older segment files are deleted once it no longer names them (0: "
                        "list and keep every segment; event and vod always do)",
                        0, G_MAXUINT, DEFAULT_MAX_FILES, flags));
  g_object_class_install_property(
      gobject_class, PROP_STRICT,
      g_param_spec_boolean("strict", "Strict",
                           "Cut exactly at the boundaries and fail when a segment does not "
                           "start with a keyframe (FALSE: cut at the next keyframe)",
                           FALSE, flags));
  string_prop(PROP_ENDPOINT, "endpoint", "S3 endpoint",
              "S3 endpoint URL for s3:// locations (empty: the location's ?endpoint=, else "
              "AWS_ENDPOINT_URL, else AWS for the region)",
              nullptr);
  string_prop(PROP_REGION, "region", "S3 region",
              "S3 region for s3:// locations (empty: the location's ?region=, else AWS_REGION, "
              "else us-east-1)",
              nullptr);
  string_prop(PROP_ACCESS_KEY_ID, "access-key-id", "S3 access key ID",
              "S3 access key ID for s3:// locations (empty: the keys the application "
              "registered for the endpoint and bucket, else AWS_ACCESS_KEY_ID)",
              nullptr);
  g_object_class_install_property(
      gobject_class, PROP_SECRET_ACCESS_KEY,
      g_param_spec_string("secret-access-key", "S3 secret access key",
                          "S3 secret access key for s3:// locations, used with access-key-id "
                          "(write-only; empty: the keys the application registered for the "
                          "endpoint and bucket, else AWS_SECRET_ACCESS_KEY)",
                          nullptr,
                          static_cast<GParamFlags>(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));

  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_element_class_set_static_metadata(
      element_class, "HLS segment sink", "Sink/Muxer",
      "Writes H.264/H.265 and AAC as HLS (MPEG-TS segments and a media playlist) to files or "
      "S3",
      "tws authors");
  element_class->request_new_pad = gst_hls_seg_sink_request_new_pad;
  element_class->release_pad = gst_hls_seg_sink_release_pad;
  element_class->change_state = gst_hls_seg_sink_change_state;
  gst_type_mark_as_plugin_api(GST_TYPE_HLS_SEG_SINK_PLAYLIST_TYPE,
                              static_cast<GstPluginAPIFlags>(0));
}
