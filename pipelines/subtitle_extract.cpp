// SPDX-License-Identifier: LGPL-2.1-or-later
// Cues of one text subtitle stream for one window of media time:
//
//   rangesrc ! parsebin ! [ssaparse] ! appsink (text/x-raw)
//
// parsebin only demuxes and parses: nothing is decoded, the other streams go to fakesinks.
// (decodebin3 with only a sparse text stream selected never reached EOS after the seek in
// GStreamer 1.22.)
// After preroll the chain is sought, with a stop, to the window less the lookback, so a
// segment reads only its stretch of the source; the cues come back from the appsink on the
// streaming thread and are turned into Cue on the caller's thread once the chain is at EOS.
#include "pipelines/subtitle_extract.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>

#include "common/gref.h"
#include "pipelines/frame_grid.h"
#include "pipelines/pipeline_util.h"

GST_DEBUG_CATEGORY_STATIC(tws_subs_debug);
#define GST_CAT_DEFAULT tws_subs_debug

namespace tws {
namespace {

constexpr gint64 kTimeoutUs = 60 * G_USEC_PER_SEC;  // the whole extraction, preroll included
constexpr gint64 kPollNs = 10 * GST_MSECOND;
constexpr int64_t kOpenCueNs = 5 * GST_SECOND;  // longest cue without a duration

// A buffer as the demuxer or parser gave it, on the window's media timeline.
struct RawCue {
  int64_t start = 0;
  int64_t duration = -1;  // -1: none given
  std::string text;
};

class Extractor {
 public:
  explicit Extractor(const SubtitleWindow& window)
      : window_(window), source_start_ns_(int64_t(window.source_start * GST_SECOND + 0.5)) {}
  ~Extractor();
  bool run(std::vector<Cue>* cues, MediaError* error);

 private:
  bool build(std::string* error);
  void note_collection(GstStreamCollection* collection);
  bool wanted(GstPad* pad);
  void on_parsed_pad(GstPad* pad);
  GstFlowReturn on_sample(GstAppSink* sink);
  void fail(const std::string& message) { fail(MediaError::reason(message)); }
  void fail(MediaError error);
  // Pops bus errors until `done` holds, the chain fails or the deadline passes.
  bool wait(const std::function<bool()>& done, const char* what, MediaError* error);
  std::vector<Cue> cues() const;

  const SubtitleWindow& window_;
  const int64_t source_start_ns_;
  const gint64 deadline_ = g_get_monotonic_time() + kTimeoutUs;
  GRef<GstElement> pipeline_, parsebin_;
  std::mutex streams_mutex_;           // guards text_ids_ and text_pads_
  std::vector<std::string> text_ids_;  // the collection's text streams, in order
  int text_pads_ = 0;                  // text pads seen (when no collection came first)

  std::atomic<bool> linked_{false};  // the appsink is linked (set on a streaming thread)
  std::atomic<bool> eos_{false};
  std::atomic<bool> failed_{false};
  std::mutex mutex_;  // guards error_ and raw_
  MediaError error_;  // the first failure
  std::vector<RawCue> raw_;
};

Extractor::~Extractor() {
  if (!pipeline_) return;
  // Joins the streaming threads, which call back into this object.
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
}

void Extractor::fail(MediaError error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_.message.empty()) error_ = std::move(error);
  failed_ = true;
}

bool Extractor::build(std::string* error) {
  pipeline_ = adopt_ref(gst_pipeline_new("subtitles"));
  // Held (sunk) until the bin has them, so a failure between the two leaks nothing.
  GRef<GstElement> src = make_element("rangesrc", nullptr, error);
  parsebin_ = make_element("parsebin", nullptr, error);
  if (!src || !parsebin_) return false;
  g_object_set(src.get(), "location", window_.source.c_str(), nullptr);
  gst_bin_add_many(GST_BIN(pipeline_.get()), src.get(), parsebin_.get(), nullptr);
  if (!gst_element_link(src.get(), parsebin_.get())) {
    *error = "cannot link the source";
    return false;
  }
  g_signal_connect(parsebin_.get(), "pad-added",
                   G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer self) {
                     static_cast<Extractor*>(self)->on_parsed_pad(pad);
                   }),
                   this);
  g_signal_connect(parsebin_.get(), "no-more-pads", G_CALLBACK(+[](GstElement*, gpointer self) {
                     auto* x = static_cast<Extractor*>(self);
                     if (x->linked_) return;
                     std::lock_guard<std::mutex> lock(x->streams_mutex_);
                     x->fail("no subtitle stream " + std::to_string(x->window_.stream) +
                             " (the source has " + std::to_string(x->text_pads_) + ")");
                   }),
                   this);
  // Synchronously, on the thread that posts it: the collection (source order of the streams)
  // must be known when parsebin exposes the pads.
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  gst_bus_set_sync_handler(
      bus.get(),
      [](GstBus*, GstMessage* msg, gpointer self) {
        if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_STREAM_COLLECTION) {
          GstStreamCollection* collection = nullptr;
          gst_message_parse_stream_collection(msg, &collection);
          if (collection) {
            static_cast<Extractor*>(self)->note_collection(collection);
            gst_object_unref(collection);
          }
        }
        return GST_BUS_PASS;
      },
      this, nullptr);
  return true;
}

void Extractor::note_collection(GstStreamCollection* collection) {
  std::lock_guard<std::mutex> lock(streams_mutex_);
  text_ids_.clear();
  for (guint i = 0; i < gst_stream_collection_get_size(collection); ++i) {
    GstStream* stream = gst_stream_collection_get_stream(collection, i);
    if (gst_stream_get_stream_type(stream) & GST_STREAM_TYPE_TEXT)
      text_ids_.emplace_back(gst_stream_get_stream_id(stream));
  }
  // The collection lists every stream of the source, before its pads come.
  if (window_.stream >= int(text_ids_.size()))
    fail("no subtitle stream " + std::to_string(window_.stream) + " (the source has " +
         std::to_string(text_ids_.size()) + ")");
}

// Whether `pad` carries the window's text stream: its place among the collection's text
// streams, or among the text pads in the order they came.
bool Extractor::wanted(GstPad* pad) {
  GRef<GstStream> stream = adopt_ref(gst_pad_get_stream(pad));
  GRef<GstCaps> caps = adopt_ref(gst_pad_get_current_caps(pad));
  const char* name = caps && gst_caps_get_size(caps.get()) > 0
                         ? gst_structure_get_name(gst_caps_get_structure(caps.get(), 0))
                         : "";
  const bool typed_text =
      stream && (gst_stream_get_stream_type(stream.get()) & GST_STREAM_TYPE_TEXT);
  const bool text =
      typed_text || g_str_has_prefix(name, "text/") || g_str_has_prefix(name, "application/x-ss") ||
      g_str_has_prefix(name, "application/x-as") || g_str_has_prefix(name, "subpicture/");
  if (!text) return false;
  std::lock_guard<std::mutex> lock(streams_mutex_);
  const int order = text_pads_++;
  if (stream && !text_ids_.empty()) {
    const gchar* id = gst_stream_get_stream_id(stream.get());
    for (size_t i = 0; i < text_ids_.size(); ++i)
      if (id && text_ids_[i] == id) return int(i) == window_.stream;
  }
  return order == window_.stream;
}

void Extractor::on_parsed_pad(GstPad* pad) {
  if (wanted(pad) && !linked_.exchange(true)) {
    GstElement* sink = gst_element_factory_make("appsink", nullptr);
    GRef<GstCaps> caps = adopt_ref(gst_caps_new_empty_simple("text/x-raw"));
    g_object_set(sink, "caps", caps.get(), "sync", FALSE, "enable-last-sample", FALSE, nullptr);
    GstAppSinkCallbacks callbacks{};
    callbacks.eos = [](GstAppSink*, gpointer self) { static_cast<Extractor*>(self)->eos_ = true; };
    callbacks.new_sample = [](GstAppSink* appsink, gpointer self) {
      return static_cast<Extractor*>(self)->on_sample(appsink);
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, this, nullptr);
    gst_bin_add(GST_BIN(pipeline_.get()), sink);
    GstElement* first = sink;
    GRef<GstCaps> current = adopt_ref(gst_pad_get_current_caps(pad));
    const char* name = current && gst_caps_get_size(current.get()) > 0
                           ? gst_structure_get_name(gst_caps_get_structure(current.get(), 0))
                           : "";
    if (g_str_equal(name, "application/x-ass") || g_str_equal(name, "application/x-ssa")) {
      // ASS/SSA dialogue lines to pango markup.
      first = gst_element_factory_make("ssaparse", nullptr);
      if (!first) return fail("no ssaparse element (gst-plugins-base subparse)");
      gst_bin_add(GST_BIN(pipeline_.get()), first);
      gst_element_link(first, sink);
      gst_element_sync_state_with_parent(sink);
    }
    gst_element_sync_state_with_parent(first);
    GRef<GstPad> sinkpad = adopt_ref(gst_element_get_static_pad(first, "sink"));
    if (gst_pad_link(pad, sinkpad.get()) != GST_PAD_LINK_OK) {
      // Bitmap subtitles (PGS, DVD, DVB) have no text in them.
      GUnique<gchar> desc(current ? gst_caps_to_string(current.get()) : g_strdup("unknown"));
      fail("subtitle stream " + std::to_string(window_.stream) + " is not text (" + desc.get() +
           ")");
    }
    return;
  }
  // Every other stream, parsed only, is dropped before its sink: a sink holding a buffer in
  // PAUSED would block the demuxer before the sparse text stream prerolled.
  gst_pad_add_probe(
      pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; }, nullptr, nullptr);
  GstElement* fake = gst_element_factory_make("fakesink", nullptr);
  g_object_set(fake, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(pipeline_.get()), fake);
  gst_element_sync_state_with_parent(fake);
  GRef<GstPad> sinkpad = adopt_ref(gst_element_get_static_pad(fake, "sink"));
  gst_pad_link(pad, sinkpad.get());
}

GstFlowReturn Extractor::on_sample(GstAppSink* appsink) {
  GRef<GstSample> sample = adopt_ref(gst_app_sink_pull_sample(appsink));
  if (!sample) return GST_FLOW_OK;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  RawCue cue;
  if (!media_time(sample.get(), source_start_ns_, &cue.start)) return GST_FLOW_OK;
  // A source that could not be sought is read from its start and has no stop: end here.
  if (cue.start >= window_.end_ns) {
    eos_ = true;
    return GST_FLOW_EOS;
  }
  if (GST_BUFFER_DURATION_IS_VALID(buffer)) cue.duration = int64_t(GST_BUFFER_DURATION(buffer));
  MappedBuffer map(buffer, GST_MAP_READ);
  if (!map) return GST_FLOW_OK;
  std::string bytes(reinterpret_cast<const char*>(map.data()), map.size());
  bytes = bytes.substr(0, bytes.find('\0'));  // some muxers store a terminating NUL
  // utf8 (qtdemux's mov_text) is plain text: escaped, it is markup like the rest, and a
  // literal '<' or '&' stays text in WebVTT.
  const GstStructure* s = gst_caps_get_structure(gst_sample_get_caps(sample.get()), 0);
  const gchar* format = s ? gst_structure_get_string(s, "format") : nullptr;
  if (!format || g_strcmp0(format, "pango-markup") != 0) {
    GUnique<gchar> escaped(g_markup_escape_text(bytes.data(), gssize(bytes.size())));
    bytes = escaped.get();
  }
  cue.text = cue_text_from_markup(bytes);
  if (cue.text.empty()) return GST_FLOW_OK;  // mov_text writes empty samples between cues
  std::lock_guard<std::mutex> lock(mutex_);
  raw_.push_back(std::move(cue));
  return GST_FLOW_OK;
}

bool Extractor::wait(const std::function<bool()>& done, const char* what, MediaError* error) {
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  while (!failed_ && !done()) {
    GRef<GstMessage> msg =
        adopt_ref(gst_bus_timed_pop_filtered(bus.get(), kPollNs, GST_MESSAGE_ERROR));
    if (msg)
      fail(MediaError::from_message(msg.get()));
    else if (g_get_monotonic_time() > deadline_)
      fail(std::string("timed out ") + what);
  }
  if (!failed_) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  *error = error_;
  return false;
}

// The window's cues from what the appsink got: open durations closed, clipped to media
// time 0, sorted.
std::vector<Cue> Extractor::cues() const {
  std::vector<RawCue> raw = raw_;
  std::stable_sort(raw.begin(), raw.end(),
                   [](const RawCue& a, const RawCue& b) { return a.start < b.start; });
  std::vector<Cue> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    Cue cue;
    cue.start_ns = raw[i].start;
    if (raw[i].duration >= 0) {
      cue.end_ns = raw[i].start + raw[i].duration;
    } else {
      cue.end_ns = raw[i].start + kOpenCueNs;
      for (size_t j = i + 1; j < raw.size(); ++j)
        if (raw[j].start > raw[i].start) {
          cue.end_ns = std::min(cue.end_ns, raw[j].start);
          break;
        }
    }
    if (cue.end_ns <= 0 || cue.end_ns <= window_.start_ns || cue.start_ns >= window_.end_ns)
      continue;
    cue.start_ns = std::max<int64_t>(0, cue.start_ns);
    if (cue.end_ns <= cue.start_ns) continue;
    cue.text = raw[i].text;
    out.push_back(std::move(cue));
  }
  std::stable_sort(out.begin(), out.end(), [](const Cue& a, const Cue& b) {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.end_ns < b.end_ns;
  });
  return out;
}

bool Extractor::run(std::vector<Cue>* cues, MediaError* error) {
  if (window_.end_ns <= window_.start_ns || window_.stream < 0) {
    *error = MediaError::reason("empty subtitle window or negative stream index");
    return false;
  }
  std::string why;
  if (!build(&why)) {
    *error = MediaError::reason(why);
    return false;
  }
  GstElement* pipeline = pipeline_.get();
  if (gst_element_set_state(pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
    GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline)));
    GRef<GstMessage> msg = adopt_ref(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    *error =
        msg ? MediaError::from_message(msg.get()) : MediaError::reason("cannot open the source");
    return false;
  }
  // A seek needs the appsink linked and prerolled (a first cue, or the gap the demuxer sends
  // for a sparse stream). Preroll reads only the head of the source.
  auto prerolled = [&] {
    const GstStateChangeReturn ret = gst_element_get_state(pipeline, nullptr, nullptr, 0);
    if (ret == GST_STATE_CHANGE_FAILURE) {
      GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline)));
      GRef<GstMessage> msg = adopt_ref(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
      fail(msg ? MediaError::from_message(msg.get())
               : MediaError::reason("cannot read the source"));
    }
    return linked_ && ret == GST_STATE_CHANGE_SUCCESS;
  };
  if (!wait(prerolled, "opening the subtitle stream", error)) return false;

  const int64_t from = std::max<int64_t>(0, window_.start_ns - kSubtitleLookbackNs);
  const int64_t start = std::max<int64_t>(0, source_start_ns_ + from);
  const int64_t stop = source_start_ns_ + window_.end_ns;
  // Accurate: the demuxer starts at the keyframe before, and the cues are filtered by PTS
  // anyway; the stop makes the demuxer end the stream at the window's end.
  if (!gst_element_seek(pipeline, 1.0, GST_FORMAT_TIME,
                        GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                        GST_SEEK_TYPE_SET, start, GST_SEEK_TYPE_SET, stop > 0 ? stop : 0))
    GST_WARNING("seek to %" GST_TIME_FORMAT " failed: reading from the start",
                GST_TIME_ARGS(start));
  {
    // Nothing is rendered before PLAYING; this only drops a stale EOS.
    std::lock_guard<std::mutex> lock(mutex_);
    raw_.clear();
    eos_ = false;
  }
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    fail("cannot start reading the subtitles");
  if (!wait([&] { return eos_.load(); }, "reading the subtitles", error)) return false;
  gst_element_set_state(pipeline, GST_STATE_NULL);
  std::lock_guard<std::mutex> lock(mutex_);
  *cues = this->cues();
  return true;
}

}  // namespace

bool extract_subtitle_cues(const SubtitleWindow& window, std::vector<Cue>* cues,
                           std::string* error) {
  MediaError failure;
  const bool ok = extract_subtitle_cues(window, cues, &failure);
  if (!ok) *error = failure.message;
  return ok;
}

bool extract_subtitle_cues(const SubtitleWindow& window, std::vector<Cue>* cues,
                           MediaError* error) {
  static std::once_flag debug_once;
  std::call_once(debug_once, [] {
    GST_DEBUG_CATEGORY_INIT(tws_subs_debug, "twssubs", 0, "tws subtitle extraction");
  });
  cues->clear();
  Extractor extractor(window);
  return extractor.run(cues, error);
}

bool is_text_subtitle_codec(const std::string& caps_name) {
  static const char* const kText[] = {
      "text/x-raw",                  // SRT/UTF-8 in Matroska, mov_text/tx3g in MP4
      "application/x-ass",           // ASS in Matroska (ssaparse)
      "application/x-ssa",           // SSA in Matroska (ssaparse)
      "application/x-subtitle-vtt",  // WebVTT in Matroska (subparse)
  };
  for (const char* name : kText)
    if (caps_name == name) return true;
  return false;
}

}  // namespace tws
