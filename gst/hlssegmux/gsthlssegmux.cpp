// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-hlssegmux
 * @title: hlssegmux
 *
 * hlssegmux muxes encoded H.264 or H.265 video (byte-stream, one access unit per buffer) and
 * ADTS AAC audio into MPEG-TS HLS segments, cut at planned boundaries given in media (stream)
 * time (#GstHlsSegMux:boundaries, or every #GstHlsSegMux:segment-duration). Each segment
 * starts with PAT + PMT and a keyframe, every PID restarts its continuity counter, and every
 * PTS/DTS is the media time plus #GstHlsSegMux:pts-offset, so segments made by separate runs
 * concatenate into one stream.
 *
 * Video frame f belongs to planned segment i when b_i - d/2 <= pts(f) < b_i+1 - d/2 (d: the
 * frame duration). Audio is cut on its own grid: the video cut rounded to a whole AAC frame
 * (or #GstHlsSegMux:audio-boundaries), with half an AAC frame of tolerance. Video and audio
 * before the first boundary or after the last are dropped.
 *
 * ## Keyframes
 *
 * At each video segment event hlssegmux asks upstream for a keyframe at every boundary (an
 * upstream force-key-unit event at the boundary's running time less half a frame), which an
 * encoder such as x264enc honours. Streams taken as they come (a demuxer's, or an encoder
 * whose keyframes fall elsewhere) are cut by the keyframes they have:
 *
 * - #GstHlsSegMux:strict FALSE (the default): a segment starts at the first keyframe at or
 *   after its boundary; the delta frames before it stay in the segment before. A segment that
 *   starts on its boundary reports the boundary as its start; one that starts later reports
 *   the keyframe's media PTS. Its duration is the next segment's start less its own (the last:
 *   up to the end of its last frame), so the durations add up to the media's. The audio
 *   follows the cut. A boundary with no keyframe before the next boundary merges two planned
 *   segments into one. Indices count the segments written, from #GstHlsSegMux:first-index,
 *   always consecutive, so they are not the plan's index once segments have merged.
 * - #GstHlsSegMux:strict TRUE: segments start exactly on the boundaries and carry the plan's
 *   index (first-index + i); a segment whose first video frame is not a keyframe is an error
 *   (STREAM MUX, "segment N does not start with a keyframe"). For encoders told the
 *   boundaries, as the tws service does.
 *
 * GStreamer before 1.27 cannot force keyframes in the frames an encoder holds before its
 * first output frame (x264enc with its default look-ahead: about 40 frames; see
 * request_key_units_for_segment() in the source), so boundaries in that first stretch get no
 * keyframe: the default merges those segments; for exact boundaries there (strict), use an
 * encoder without look-ahead (x264enc tune=zerolatency).
 *
 * Before the first byte of each segment a downstream force-key-unit event (count = segment
 * index) is pushed, so `multifilesink next-file=key-unit-event` writes one file per segment.
 * After the last byte, a serialized custom downstream event and an element message, named
 * "hlssegmux-segment-end" and "hlssegmux-segment", carry index (int), start and duration
 * (guint64, nanoseconds of media time: a playlist's EXTINF), bytes, video-frames,
 * audio-samples and keyframe.
 *
 * Queue each branch after a demuxer: hlssegmux takes both streams in media time order.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=250 ! video/x-raw,framerate=25/1 ! \
 *     x264enc key-int-max=50 ! h264parse ! mux.video \
 *   audiotestsrc num-buffers=450 ! avenc_aac ! aacparse ! mux.audio \
 *   hlssegmux name=mux boundaries=0,2,4,6,10 strict=true ! \
 *     multifilesink next-file=key-unit-event location=seg-%05d.ts
 * ]| Writes four segments seg-00000.ts .. seg-00003.ts of 2, 2, 2 and 4 seconds.
 * |[
 * gst-launch-1.0 filesrc location=in.mov ! qtdemux name=d \
 *   d.video_0 ! queue ! h264parse ! mux.video d.audio_0 ! queue ! aacparse ! mux.audio \
 *   hlssegmux name=mux ! multifilesink next-file=key-unit-event location=seg-%05d.ts
 * ]| Cuts an H.264 + AAC file without re-encoding, about every 10 seconds, at its keyframes.
 */

#include "gsthlssegmux.h"

#include <gst/video/video.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>

#include "common/gref.h"
#include "elements.h"
#include "ts_writer.h"

GST_DEBUG_CATEGORY_STATIC(gst_hls_seg_mux_debug);
#define GST_CAT_DEFAULT gst_hls_seg_mux_debug

using tws::adopt_ref;
using tws::GRef;
using tws::GUnique;
using tws::TsWriter;

namespace {

using Wide = __int128;

constexpr const char* DEFAULT_BOUNDARIES = "";
constexpr const char* DEFAULT_AUDIO_BOUNDARIES = "";
constexpr guint64 DEFAULT_SEGMENT_DURATION = 10 * GST_SECOND;
constexpr guint DEFAULT_FIRST_INDEX = 0;
constexpr guint64 DEFAULT_PTS_OFFSET = 10 * GST_SECOND;
constexpr gboolean DEFAULT_STRICT = FALSE;

constexpr int64_t kAacFrameSamples = 1024;
constexpr int64_t kFallbackHalfFrame = GST_MSECOND;
// Boundaries of the unbounded (segment-duration) plan that get an upstream keyframe request
// ahead of the segment being written.
constexpr int64_t kKeyUnitRequestsAhead = 32;

enum {
  PROP_0,
  PROP_BOUNDARIES,
  PROP_AUDIO_BOUNDARIES,
  PROP_SEGMENT_DURATION,
  PROP_FIRST_INDEX,
  PROP_PTS_OFFSET,
  PROP_STRICT,
};

GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/mpegts, systemstream = (boolean) true, packetsize = (int) 188"));

GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("video/x-h264, stream-format = (string) byte-stream, alignment = (string) au; "
                    "video/x-h265, stream-format = (string) byte-stream, alignment = (string) au"));

GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("audio/mpeg, mpegversion = (int) 4, stream-format = (string) adts"));

// One access unit or one ADTS frame, with its place in the plan.
struct Frame {
  GRef<GstBuffer> buffer;
  int64_t media_pts = 0;  // ns, stream time (may be negative before the segment start)
  int64_t media_dts = 0;
  int64_t duration = 0;  // ns
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  // Output segment (0-based, first-index not added): the plan index when strict; else the
  // ordinal of the cut it follows. kUnplaced: audio waiting for the video to place the cut.
  int64_t segment = 0;
  bool keyframe = true;
};

constexpr int64_t kUnplaced = -1;

// Where output segment `ordinal` starts. Strict: on every planned boundary. Otherwise at the
// first keyframe at or after a planned boundary (video), or on the plan once the video can
// cut no more (audio only, or after the video's end).
struct Cut {
  int64_t ordinal = 0;
  int64_t plan_index = 0;  // the latest planned boundary at or before the cut
  int64_t start = 0;       // media time, ns, as reported
  bool on_plan = true;     // start is boundary plan_index (audio cut on the plan's grid)
};

struct Stream {
  GstAggregatorPad* pad = nullptr;  // a child of the element; set under the object lock
  bool video = false;
  std::deque<Frame> queue;    // frames taken from the pad, inside the plan, not yet written
  int64_t last_segment = -1;  // Frame::segment of the latest frame placed
  int64_t last_plan = -1;     // planned segment of the latest video frame taken (not strict)
  int64_t max_pts = std::numeric_limits<int64_t>::min();  // video frames taken
  int64_t last_half = 0;  // half the duration of the latest video frame taken
  bool past_end = false;  // a frame past the plan's end was taken: nothing more to take
  int64_t taken_upto = std::numeric_limits<int64_t>::min();  // media PTS of the latest buffer
  // From caps.
  TsWriter::VideoCodec codec = TsWriter::VideoCodec::kNone;
  int64_t caps_frame_duration = -1;
  uint32_t rate = 0;
  // Video: the latest parameter sets seen in the stream (Annex B, start codes included),
  // put in front of a segment's first keyframe when the encoder did not repeat them.
  std::vector<uint8_t> parameter_sets;

  void reset() {
    queue.clear();
    parameter_sets.clear();
    last_segment = -1;
    last_plan = -1;
    max_pts = std::numeric_limits<int64_t>::min();
    last_half = 0;
    past_end = false;
    taken_upto = std::numeric_limits<int64_t>::min();
  }
};

struct Settings {
  std::string boundaries = DEFAULT_BOUNDARIES;
  std::string audio_boundaries = DEFAULT_AUDIO_BOUNDARIES;
  guint64 segment_duration = DEFAULT_SEGMENT_DURATION;
  guint first_index = DEFAULT_FIRST_INDEX;
  guint64 pts_offset = DEFAULT_PTS_OFFSET;
  bool strict = DEFAULT_STRICT;
};

// Upstream key-unit requests: sent from the aggregator's thread and the video pad's.
struct KeyUnitRequests {
  std::mutex lock;
  std::map<int64_t, GstClockTime> sent;  // boundary index -> running time asked for
};

// The segment being written (GstHlsSegMuxPrivate::seg, empty between segments: before the
// first frame, and after close_segment() until the next frame opens the next one).
struct OpenSegment {
  int64_t index = 0;  // Frame::segment of its frames (first-index not added)
  Cut cut;
  guint64 bytes = 0;
  guint64 video_frames = 0;
  guint64 audio_frames = 0;
  bool keyframe = true;
  bool first_buffer = true;
  int64_t media_end = std::numeric_limits<int64_t>::min();  // end of the latest frame, ns
};

}  // namespace

struct GstHlsSegMuxPrivate {
  // Settings: GST_OBJECT_LOCK; read into the plan in start().
  Settings settings;

  // Streaming state: the aggregator's source thread only.
  Stream video;
  Stream audio;
  std::vector<uint64_t> bounds;        // ns; empty: every segment_duration from 0, no end
  std::vector<uint64_t> audio_bounds;  // ns; empty: derived from bounds
  guint64 segment_duration = DEFAULT_SEGMENT_DURATION;
  guint first_index = DEFAULT_FIRST_INDEX;
  guint64 pts_offset = DEFAULT_PTS_OFFSET;
  bool strict = DEFAULT_STRICT;
  std::vector<uint8_t> out;  // packets of the buffer being built
  TsWriter writer{&out};
  std::optional<OpenSegment> seg;
  // Not strict: the cuts placed and not yet written past, consecutive ordinals.
  std::deque<Cut> cuts;

  // Any thread (its own lock).
  KeyUnitRequests requests;

  int64_t num_segments() const {
    return bounds.empty() ? std::numeric_limits<int64_t>::max() / 4
                          : static_cast<int64_t>(bounds.size()) - 1;
  }
  int64_t video_boundary(int64_t i) const {
    return bounds.empty() ? i * static_cast<int64_t>(segment_duration)
                          : static_cast<int64_t>(bounds[i]);
  }
  // Audio boundary i in units of 1/(rate * 1e9) s, exact.
  Wide audio_boundary_scaled(int64_t i, uint32_t rate) const {
    if (!audio_bounds.empty()) return Wide(audio_bounds[i]) * rate;
    return Wide(tws::audio_boundary_samples(video_boundary(i), rate)) * GST_SECOND;
  }
  // Media time where segment i starts, as reported downstream.
  int64_t segment_start(int64_t i) const {
    if (!video.pad && audio.rate > 0) {
      Wide scaled = audio_boundary_scaled(i, audio.rate);
      return static_cast<int64_t>((scaled + audio.rate / 2) / audio.rate);
    }
    return video_boundary(i);
  }
  // Strict: the plan's segment `ordinal`. Otherwise the cut placed for it, if any.
  std::optional<Cut> cut(int64_t ordinal) const {
    if (strict) return Cut{ordinal, ordinal, segment_start(ordinal), true};
    if (cuts.empty() || ordinal < cuts.front().ordinal || ordinal > cuts.back().ordinal)
      return std::nullopt;
    return cuts[static_cast<size_t>(ordinal - cuts.front().ordinal)];
  }
  // Audio cut of `c` in units of 1/(rate * 1e9) s: the plan's audio grid for a cut on the
  // plan, else the cut rounded to a whole AAC frame.
  Wide audio_cut_scaled(const Cut& c, uint32_t rate) const {
    if (c.on_plan) return audio_boundary_scaled(c.plan_index, rate);
    return Wide(tws::audio_boundary_samples(static_cast<uint64_t>(std::max<int64_t>(c.start, 0)),
                                            rate)) *
           GST_SECOND;
  }
  // The planned segment after those the latest cut's video covers.
  int64_t next_plan_index(const Cut& c) const {
    return std::max(c.plan_index, video.last_plan) + 1;
  }
  void reset_streaming() {
    video.reset();
    audio.reset();
    out.clear();
    writer = TsWriter(&out);
    seg.reset();
    cuts.clear();
    std::lock_guard<std::mutex> guard(requests.lock);
    requests.sent.clear();
  }
};

struct _GstHlsSegMux {
  GstAggregator parent;
  GstHlsSegMuxPrivate* priv;
};

G_DEFINE_TYPE(GstHlsSegMux, gst_hls_seg_mux, GST_TYPE_AGGREGATOR)
GST_ELEMENT_REGISTER_DEFINE(hlssegmux, "hlssegmux", GST_RANK_NONE, GST_TYPE_HLS_SEG_MUX)

// ---------------------------------------------------------------------------------------
// Plan helpers (public in gsthlssegmux.h for the unit tests)

namespace tws {

std::optional<std::vector<uint64_t>> parse_boundaries(const std::string& text) {
  std::vector<uint64_t> values;
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && g_ascii_isspace(text[i])) i++;
  };
  skip_spaces();
  if (i == text.size()) return values;
  for (;;) {
    skip_spaces();
    uint64_t seconds = 0;
    size_t digits = 0;
    while (i < text.size() && g_ascii_isdigit(text[i])) {
      if (seconds > (std::numeric_limits<uint64_t>::max() / GST_SECOND) / 10) return std::nullopt;
      seconds = seconds * 10 + static_cast<uint64_t>(text[i] - '0');
      i++;
      digits++;
    }
    uint64_t frac = 0;
    size_t frac_digits = 0;
    if (i < text.size() && text[i] == '.') {
      i++;
      while (i < text.size() && g_ascii_isdigit(text[i])) {
        if (++frac_digits > 9) return std::nullopt;
        frac = frac * 10 + static_cast<uint64_t>(text[i] - '0');
        i++;
      }
      if (frac_digits == 0 && digits == 0) return std::nullopt;
    } else if (digits == 0) {
      return std::nullopt;
    }
    for (size_t k = frac_digits; k < 9; k++) frac *= 10;
    uint64_t ns = seconds * GST_SECOND + frac;
    if (!values.empty() && ns <= values.back()) return std::nullopt;
    values.push_back(ns);
    skip_spaces();
    if (i == text.size()) break;
    if (text[i] != ',') return std::nullopt;
    i++;
  }
  return values;
}

uint64_t audio_boundary_samples(uint64_t ns, uint32_t rate) {
  const Wide frame = Wide(kAacFrameSamples) * GST_SECOND;
  Wide frames = (Wide(ns) * rate + frame / 2) / frame;
  return static_cast<uint64_t>(frames * kAacFrameSamples);
}

}  // namespace tws

// ---------------------------------------------------------------------------------------
// Segment placement

namespace {

// k with thr(k) <= x < thr(k + 1); -1 before thr(0); last at or after thr(last).
template <typename Thr>
int64_t locate(Wide x, int64_t hint, int64_t last, Thr thr) {
  if (x < thr(0)) return -1;
  int64_t k = std::clamp<int64_t>(hint, 0, last);
  while (k > 0 && x < thr(k)) k--;
  while (k < last && x >= thr(k + 1)) k++;
  return k;
}

// Half a video frame: the tolerance of a video boundary.
int64_t half_frame(const Frame& f) { return f.duration > 0 ? f.duration / 2 : kFallbackHalfFrame; }

bool media_time(const GstSegment& segment, GstClockTime ts, int64_t* out) {
  guint64 st = 0;
  int sign = gst_segment_to_stream_time_full(&segment, GST_FORMAT_TIME, ts, &st);
  if (sign == 0) return false;
  *out = sign > 0 ? static_cast<int64_t>(st) : -static_cast<int64_t>(st);
  return true;
}

GstSegment pad_segment(GstAggregatorPad* pad) {
  GST_OBJECT_LOCK(pad);
  GstSegment segment = pad->segment;
  GST_OBJECT_UNLOCK(pad);
  return segment;
}

// The planned segment of a frame (by video or audio thresholds); -1 before the plan,
// num_segments() at or past its end. Never before the stream's previous frame (B-frames
// around a boundary that is not on an IDR would otherwise split a GOP).
int64_t planned_segment(GstHlsSegMuxPrivate* priv, const Stream& s, const Frame& f,
                        int64_t previous) {
  const int64_t last = priv->num_segments();
  int64_t hint = std::max<int64_t>(previous, 0);
  if (priv->bounds.empty() && priv->segment_duration > 0)
    hint = std::max<int64_t>(0, f.media_pts / static_cast<int64_t>(priv->segment_duration));
  int64_t k;
  if (s.video) {
    k = locate(Wide(f.media_pts) + half_frame(f), hint, last,
               [priv](int64_t i) { return Wide(priv->video_boundary(i)); });
  } else {
    const uint32_t rate = s.rate;
    k = locate(Wide(f.media_pts) * rate + Wide(kAacFrameSamples / 2) * GST_SECOND, hint, last,
               [priv, rate](int64_t i) { return priv->audio_boundary_scaled(i, rate); });
  }
  return previous >= 0 ? std::max(k, previous) : k;
}

// Strict: places a frame in the plan; false when it falls outside it (and is dropped).
bool place_on_plan(GstHlsSegMuxPrivate* priv, Stream& s, Frame& f) {
  int64_t k = planned_segment(priv, s, f, s.last_segment);
  if (k < 0) return false;
  s.last_segment = k;
  if (k >= priv->num_segments()) {
    s.past_end = true;
    return false;
  }
  f.segment = k;
  return true;
}

// Not strict: places a video frame, cutting at the first keyframe of a later planned segment
// (a delta frame stays in the segment before it); false when it is dropped (outside the plan,
// or a delta frame before the first keyframe).
bool place_video(GstHlsSegMuxPrivate* priv, Stream& s, Frame& f) {
  int64_t k = planned_segment(priv, s, f, s.last_plan);
  if (k < 0) return false;
  if (k >= priv->num_segments()) {
    s.past_end = true;
    return false;
  }
  const int64_t previous_plan = s.last_plan;
  s.last_plan = k;
  s.max_pts = std::max(s.max_pts, f.media_pts);
  s.last_half = half_frame(f);
  const Cut* current = priv->cuts.empty() ? nullptr : &priv->cuts.back();
  if (current && (k <= current->plan_index || !f.keyframe)) {
    f.segment = current->ordinal;
    s.last_segment = f.segment;
    return true;
  }
  if (!f.keyframe) {
    GST_LOG("dropping a delta frame at %" GST_STIME_FORMAT " before the first keyframe",
            GST_STIME_ARGS(f.media_pts));
    return false;
  }
  // The keyframe opens planned segment k when it is its first frame: the cut is the plan's.
  Cut c;
  c.ordinal = current ? current->ordinal + 1 : 0;
  c.plan_index = k;
  c.on_plan = previous_plan < k;
  c.start = c.on_plan ? priv->video_boundary(k) : f.media_pts;
  GST_DEBUG("cut %" G_GINT64_FORMAT " at %" GST_STIME_FORMAT " (planned segment %" G_GINT64_FORMAT
            "%s)",
            c.ordinal, GST_STIME_ARGS(c.start), k, c.on_plan ? "" : ", late");
  priv->cuts.push_back(c);
  f.segment = c.ordinal;
  s.last_segment = f.segment;
  return true;
}

// No more video frames will be taken (none, or after its end or past the plan).
bool video_finished(GstHlsSegMuxPrivate* priv) {
  const Stream& v = priv->video;
  return !v.pad || v.past_end ||
         (gst_aggregator_pad_is_eos(v.pad) && !gst_aggregator_pad_has_buffer(v.pad));
}

enum class Next { kCut, kNone, kUnknown };

// Not strict: cut `ordinal` when placed. Once the video can place no more, the plan's
// boundaries cut the rest (audio only). kNone: the plan ends before it.
Next find_cut(GstHlsSegMuxPrivate* priv, int64_t ordinal, Cut* out) {
  for (;;) {
    if (auto c = priv->cut(ordinal)) {
      *out = *c;
      return Next::kCut;
    }
    if (!priv->cuts.empty() && ordinal < priv->cuts.front().ordinal) return Next::kUnknown;
    if (!video_finished(priv)) return Next::kUnknown;
    Cut c;
    c.ordinal = priv->cuts.empty() ? 0 : priv->cuts.back().ordinal + 1;
    c.plan_index = priv->cuts.empty() ? 0 : priv->next_plan_index(priv->cuts.back());
    if (c.plan_index >= priv->num_segments()) return Next::kNone;
    c.start = priv->segment_start(c.plan_index);
    priv->cuts.push_back(c);
  }
}

// Not strict, video still coming: the earliest audio cut (scaled) the video can still place
// after cut `c`, the latest one.
Wide earliest_next_audio_cut(GstHlsSegMuxPrivate* priv, const Cut& c, uint32_t rate) {
  constexpr Wide kNever = std::numeric_limits<Wide>::max();
  const int64_t last = priv->num_segments();
  // On the plan: at the first frame of a planned segment the video has not reached yet.
  int64_t k = priv->next_plan_index(c);
  Wide on_plan = k < last ? priv->audio_boundary_scaled(k, rate) : kNever;
  // Late: at a keyframe after every frame taken (a keyframe is displayed after the frames
  // decoded before it) and in a later planned segment.
  if (c.plan_index + 1 >= last) return on_plan;
  int64_t at =
      std::max(priv->video.max_pts, priv->video_boundary(c.plan_index + 1) - priv->video.last_half);
  Wide late =
      Wide(tws::audio_boundary_samples(static_cast<uint64_t>(std::max<int64_t>(at, 0)), rate)) *
      GST_SECOND;
  return std::min(on_plan, late);
}

enum class Placed { kYes, kDrop, kWait };

// Not strict: places the audio frame at the head of the queue by the cuts around it.
Placed place_audio(GstHlsSegMuxPrivate* priv, Stream& s, Frame& f) {
  const Wide t = Wide(f.media_pts) * s.rate + Wide(kAacFrameSamples / 2) * GST_SECOND;
  int64_t j = s.last_segment;
  if (!priv->cuts.empty()) j = std::max(j, priv->cuts.front().ordinal - 1);
  for (;;) {
    Cut next;
    Next found = find_cut(priv, j + 1, &next);
    if (found == Next::kCut && t >= priv->audio_cut_scaled(next, s.rate)) {
      j++;
      continue;
    }
    if (found == Next::kUnknown && (j < 0 || priv->cuts.empty() ||
                                    t >= earliest_next_audio_cut(priv, priv->cuts.back(), s.rate)))
      return Placed::kWait;
    break;
  }
  // Before the first cut, or in a segment already written.
  if (j < 0 || (priv->seg && j < priv->seg->index)) return Placed::kDrop;
  f.segment = j;
  s.last_segment = j;
  return Placed::kYes;
}

// Not strict: whether an audio frame is inside the plan (placed later, by the cuts).
bool audio_in_plan(GstHlsSegMuxPrivate* priv, Stream& s, Frame& f) {
  const Wide t = Wide(f.media_pts) * s.rate + Wide(kAacFrameSamples / 2) * GST_SECOND;
  if (t < priv->audio_boundary_scaled(0, s.rate)) return false;
  if (!priv->bounds.empty() && t >= priv->audio_boundary_scaled(priv->num_segments(), s.rate)) {
    s.past_end = true;
    return false;
  }
  f.segment = kUnplaced;
  return true;
}

bool place(GstHlsSegMuxPrivate* priv, Stream& s, Frame& f) {
  if (priv->strict) return place_on_plan(priv, s, f);
  return s.video ? place_video(priv, s, f) : audio_in_plan(priv, s, f);
}

// Takes one buffer from the pad into the queue (its frames placed, or dropped); false when the
// pad has none.
bool take(GstHlsSegMux* self, Stream& s) {
  GstHlsSegMuxPrivate* priv = self->priv;
  {
    GRef<GstBuffer> buf = adopt_ref(gst_aggregator_pad_pop_buffer(s.pad));
    if (!buf) return false;
    GstSegment segment = pad_segment(s.pad);
    GstClockTime pts = GST_BUFFER_PTS(buf.get());
    GstClockTime dts = GST_BUFFER_DTS(buf.get());
    if (!GST_CLOCK_TIME_IS_VALID(pts)) pts = dts;
    int64_t media_pts = 0;
    if (!GST_CLOCK_TIME_IS_VALID(pts) || segment.format != GST_FORMAT_TIME ||
        !media_time(segment, pts, &media_pts)) {
      GST_WARNING_OBJECT(s.pad, "dropping buffer without a usable timestamp: %" GST_PTR_FORMAT,
                         buf.get());
      return true;
    }
    GstClockTime running_time = gst_segment_to_running_time(&segment, GST_FORMAT_TIME, pts);
    s.taken_upto = media_pts;

    if (s.video) {
      Frame f;
      f.media_pts = media_pts;
      f.media_dts = GST_CLOCK_TIME_IS_VALID(dts)
                        ? media_pts - (static_cast<int64_t>(pts) - static_cast<int64_t>(dts))
                        : media_pts;
      f.duration = GST_BUFFER_DURATION_IS_VALID(buf.get())
                       ? static_cast<int64_t>(GST_BUFFER_DURATION(buf.get()))
                       : s.caps_frame_duration;
      f.running_time = running_time;
      f.keyframe = !GST_BUFFER_FLAG_IS_SET(buf.get(), GST_BUFFER_FLAG_DELTA_UNIT);
      f.buffer = std::move(buf);
      if (place(priv, s, f))
        s.queue.push_back(std::move(f));
      else
        GST_LOG_OBJECT(s.pad, "dropping video frame at %" GST_STIME_FORMAT " outside the plan",
                       GST_STIME_ARGS(media_pts));
      return true;
    }

    // Audio: one frame per ADTS header.
    std::vector<std::pair<gsize, gsize>> frames;  // offset, size
    {
      tws::MappedBuffer map(buf.get(), GST_MAP_READ);
      if (!map) return true;
      if (s.rate == 0) s.rate = TsWriter::adts_sample_rate(map.data(), map.size());
      gsize offset = 0;
      while (offset < map.size()) {
        gsize n = TsWriter::adts_frame_size(map.data() + offset, map.size() - offset);
        if (n == 0 || n > map.size() - offset) n = map.size() - offset;
        frames.emplace_back(offset, n);
        offset += n;
      }
    }
    if (s.rate == 0) {
      GST_WARNING_OBJECT(s.pad, "dropping audio: unknown sample rate");
      return true;
    }
    for (size_t j = 0; j < frames.size(); j++) {
      Frame f;
      int64_t shift = static_cast<int64_t>(
          gst_util_uint64_scale_round(j * kAacFrameSamples, GST_SECOND, s.rate));
      f.media_pts = media_pts + shift;
      f.media_dts = f.media_pts;
      f.duration =
          static_cast<int64_t>(gst_util_uint64_scale_round(kAacFrameSamples, GST_SECOND, s.rate));
      f.running_time = GST_CLOCK_TIME_IS_VALID(running_time) ? running_time + shift : running_time;
      f.buffer = frames.size() == 1
                     ? buf
                     : adopt_ref(gst_buffer_copy_region(buf.get(), GST_BUFFER_COPY_MEMORY,
                                                        frames[j].first, frames[j].second));
      if (place(priv, s, f))
        s.queue.push_back(std::move(f));
      else
        GST_LOG_OBJECT(s.pad, "dropping audio frame at %" GST_STIME_FORMAT " outside the plan",
                       GST_STIME_ARGS(f.media_pts));
    }
  }
  return true;
}

// Takes buffers from the pads, from the stream taken least far first, until that stream's pad
// is empty: both are consumed in media time order whatever the buffer sizes (a demuxer feeding
// both never waits on one while the other runs dry), and frames wait in the queues, not on
// the pads (audio waiting for the video's next keyframe holds nothing upstream).
void fill(GstHlsSegMux* self) {
  GstHlsSegMuxPrivate* priv = self->priv;
  for (;;) {
    Stream* behind = nullptr;
    for (Stream* s : {&priv->video, &priv->audio}) {
      if (!s->pad || s->past_end ||
          (gst_aggregator_pad_is_eos(s->pad) && !gst_aggregator_pad_has_buffer(s->pad)))
        continue;
      if (!behind || s->taken_upto < behind->taken_upto) behind = s;
    }
    if (!behind || !take(self, *behind)) return;
  }
}

// A stream that cannot contribute anything more to the plan.
bool stream_done(const Stream& s) {
  if (!s.pad) return true;
  if (!s.queue.empty()) return false;
  return gst_aggregator_pad_is_eos(s.pad) || s.past_end;
}

// Running time of media time `media` on `segment` (NONE when outside it).
GstClockTime running_time_on(const GstSegment& segment, int64_t media, GstClockTime* position) {
  *position = GST_CLOCK_TIME_NONE;
  if (media < 0 || segment.format != GST_FORMAT_TIME) return GST_CLOCK_TIME_NONE;
  guint64 pos = 0;
  if (gst_segment_position_from_stream_time_full(&segment, GST_FORMAT_TIME, media, &pos) != 1)
    return GST_CLOCK_TIME_NONE;
  *position = pos;
  return gst_segment_to_running_time(&segment, GST_FORMAT_TIME, pos);
}

// Running time of media time `media` on the pad's segment (NONE when outside it).
GstClockTime running_time_of(GstAggregatorPad* pad, int64_t media, GstClockTime* position) {
  *position = GST_CLOCK_TIME_NONE;
  if (!pad) return GST_CLOCK_TIME_NONE;
  return running_time_on(pad_segment(pad), media, position);
}

// Asks upstream for a keyframe at each boundary in [from, to] of the plan, once per running
// time: at the running time on `segment` of the boundary less half a frame (`half`), where the
// first frame of the segment may be (an encoder forces the first frame at or after the time
// asked for); false when a request was not delivered.
bool request_key_units(GstHlsSegMux* self, GstPad* pad, const GstSegment& segment, int64_t half,
                       int64_t from, int64_t to) {
  GstHlsSegMuxPrivate* priv = self->priv;
  KeyUnitRequests& requests = priv->requests;
  if (!priv->bounds.empty()) to = std::min<int64_t>(to, priv->num_segments());
  bool delivered = true;
  for (int64_t b = std::max<int64_t>(from, 0); b <= to; b++) {
    GstClockTime position;
    GstClockTime rt = running_time_on(segment, priv->video_boundary(b) - half, &position);
    // Running time 0 is the first frame, a keyframe anyway; asked for once frames have gone
    // in, an encoder would force its next frame instead.
    if (!GST_CLOCK_TIME_IS_VALID(rt) || rt == 0) continue;
    {
      std::lock_guard<std::mutex> guard(requests.lock);
      auto it = requests.sent.find(b);
      if (it != requests.sent.end() && it->second == rt) continue;
    }
    GST_DEBUG_OBJECT(self, "requesting a keyframe upstream at running time %" GST_TIME_FORMAT,
                     GST_TIME_ARGS(rt));
    // all-headers FALSE: h264parse/h265parse keep an all-headers request as their pending
    // event, replacing (and freeing) the one before without a lock while their streaming
    // thread reads it: requests sent here, from the muxer's threads, then crash the parser
    // now and then. Parameter sets come with every IDR anyway (x264/x265 repeat them, and the
    // parsers' config-interval=-1 as tws sets it).
    if (gst_pad_push_event(pad, gst_video_event_new_upstream_force_key_unit(
                                    rt, FALSE, priv->first_index + static_cast<guint>(b)))) {
      std::lock_guard<std::mutex> guard(requests.lock);
      requests.sent[b] = rt;
    } else {
      delivered = false;
    }
  }
  return delivered;
}

// At each video segment event, from the thread that brings it (the encoder's, with its first
// output frame), before that thread can feed the encoder another frame: every boundary of a
// bounded plan, some ahead of an unbounded one. Not earlier: GStreamer before 1.27 matches
// requests against the running time of frames on the encoder's *output* segment, unknown
// until its first output frame; x264enc's 1000-hour minimum PTS then makes every frame before
// it look 1000 hours late, so a request pending then fires on the next frame and the encoder
// ignores every later one (fixed upstream by "videoencoder: Use the correct segment and buffer
// timestamp in the chain function"). Boundaries in the frames an encoder with look-ahead holds
// at that moment (x264enc defaults: about 40 frames) get no keyframe: the cut moves to the
// next keyframe (or fails, with strict).
void request_key_units_for_segment(GstHlsSegMux* self, GstAggregatorPad* pad, GstEvent* event) {
  GstHlsSegMuxPrivate* priv = self->priv;
  GstSegment segment;
  gst_event_copy_segment(event, &segment);
  int64_t to = priv->bounds.empty() ? kKeyUnitRequestsAhead : priv->num_segments();
  // The caps event came first and is stored on the pad (the aggregator's thread may not have
  // handled it yet).
  int64_t half = kFallbackHalfFrame;
  GRef<GstCaps> caps = adopt_ref(gst_pad_get_current_caps(GST_PAD(pad)));
  gint n = 0, d = 0;
  if (caps &&
      gst_structure_get_fraction(gst_caps_get_structure(caps.get(), 0), "framerate", &n, &d) &&
      n > 0 && d > 0)
    half = static_cast<int64_t>(gst_util_uint64_scale_int(GST_SECOND, d, n)) / 2;
  request_key_units(self, GST_PAD(pad), segment, half, 0, to);
}

GstFlowReturn push_out(GstHlsSegMux* self, GstClockTime running_time) {
  GstHlsSegMuxPrivate* priv = self->priv;
  if (priv->out.empty()) return GST_FLOW_OK;
  auto* data = new std::vector<uint8_t>(std::move(priv->out));
  priv->out = std::vector<uint8_t>();
  priv->out.reserve(data->size());
  priv->seg->bytes += data->size();
  GstBuffer* buf = gst_buffer_new_wrapped_full(
      GST_MEMORY_FLAG_READONLY, data->data(), data->size(), 0, data->size(), data,
      [](gpointer p) { delete static_cast<std::vector<uint8_t>*>(p); });
  GST_BUFFER_PTS(buf) = running_time;
  if (priv->seg->first_buffer)
    priv->seg->first_buffer = false;
  else
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  return gst_aggregator_finish_buffer(GST_AGGREGATOR(self), buf);
}

// Where the open segment ends: the next cut, else the next planned boundary.
int64_t segment_end(GstHlsSegMuxPrivate* priv, const OpenSegment& seg) {
  if (priv->strict) return priv->segment_start(seg.index + 1);
  if (auto next = priv->cut(seg.index + 1)) return next->start;
  return priv->segment_start(priv->next_plan_index(seg.cut));
}

void close_segment(GstHlsSegMux* self, bool at_eos) {
  GstHlsSegMuxPrivate* priv = self->priv;
  if (!priv->seg) return;
  OpenSegment& seg = *priv->seg;
  int64_t start = seg.cut.start;
  int64_t duration = segment_end(priv, seg) - start;
  if (at_eos && seg.media_end > start) duration = std::min(duration, seg.media_end - start);
  int index = static_cast<int>(priv->first_index + seg.index);

  GST_INFO_OBJECT(self,
                  "segment %d done: start %" GST_TIME_FORMAT " duration %" GST_TIME_FORMAT
                  " %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                  " video frames, %" G_GUINT64_FORMAT " audio frames",
                  index, GST_TIME_ARGS(start), GST_TIME_ARGS(duration), seg.bytes, seg.video_frames,
                  seg.audio_frames);
  GstStructure* s = gst_structure_new(
      "hlssegmux-segment-end", "index", G_TYPE_INT, index, "start", G_TYPE_UINT64,
      static_cast<guint64>(start), "duration", G_TYPE_UINT64, static_cast<guint64>(duration),
      "bytes", G_TYPE_UINT64, seg.bytes, "video-frames", G_TYPE_UINT64, seg.video_frames,
      "audio-samples", G_TYPE_UINT64, seg.audio_frames * kAacFrameSamples, "keyframe",
      G_TYPE_BOOLEAN, seg.keyframe, nullptr);
  GstStructure* msg = gst_structure_copy(s);
  gst_structure_set_name(msg, "hlssegmux-segment");
  gst_pad_push_event(GST_AGGREGATOR_SRC_PAD(self),
                     gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s));
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), msg));
  priv->seg.reset();
}

void open_segment(GstHlsSegMux* self, int64_t index, Stream& by) {
  GstHlsSegMuxPrivate* priv = self->priv;
  while (!priv->cuts.empty() && priv->cuts.front().ordinal < index) priv->cuts.pop_front();
  priv->seg.emplace();
  priv->seg->index = index;
  priv->seg->cut = *priv->cut(index);  // placed with the frame that opens it

  const int64_t start = priv->seg->cut.start;
  const guint count = priv->first_index + static_cast<guint>(index);
  GstClockTime position;
  GstClockTime rt = running_time_of(by.pad, start, &position);
  GST_INFO_OBJECT(self,
                  "segment %u starts at %" GST_TIME_FORMAT " (running time %" GST_TIME_FORMAT
                  ", planned segment %" G_GINT64_FORMAT ")",
                  count, GST_TIME_ARGS(start), GST_TIME_ARGS(rt), priv->seg->cut.plan_index);
  gst_pad_push_event(GST_AGGREGATOR_SRC_PAD(self), gst_video_event_new_downstream_force_key_unit(
                                                       position, start, rt, TRUE, count));

  if (priv->bounds.empty() && priv->video.pad) {
    const int64_t plan_index = priv->seg->cut.plan_index;
    {
      std::lock_guard<std::mutex> guard(priv->requests.lock);
      auto& sent = priv->requests.sent;
      sent.erase(sent.begin(), sent.lower_bound(plan_index));
    }
    const int64_t d = priv->video.caps_frame_duration;
    request_key_units(self, GST_PAD(priv->video.pad), pad_segment(priv->video.pad),
                      d > 0 ? d / 2 : kFallbackHalfFrame, plan_index + 1,
                      plan_index + kKeyUnitRequestsAhead);
  }

  priv->writer.configure(priv->video.pad ? priv->video.codec : TsWriter::VideoCodec::kNone,
                         priv->audio.pad != nullptr);
  priv->writer.begin_segment();
}

guint64 to_90k(GstHlsSegMuxPrivate* priv, int64_t media) {
  int64_t t = media + static_cast<int64_t>(priv->pts_offset);
  if (t < 0) t = 0;
  return gst_util_uint64_scale_round(static_cast<guint64>(t), 9, GST_SECOND / 10000);
}

struct Nal {
  size_t begin;  // start code included
  size_t end;
  int type;
};

std::vector<Nal> split_nals(const uint8_t* d, size_t n, bool hevc) {
  std::vector<Nal> nals;
  size_t i = 0;
  while (i + 3 <= n) {
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
      size_t begin = (i > 0 && d[i - 1] == 0) ? i - 1 : i;
      if (!nals.empty()) nals.back().end = begin;
      int type = -1;
      if (i + 3 < n) type = hevc ? (d[i + 3] >> 1) & 0x3F : d[i + 3] & 0x1F;
      nals.push_back({begin, n, type});
      i += 3;
    } else {
      i++;
    }
  }
  return nals;
}

bool is_parameter_set(int type, bool hevc) {
  return hevc ? (type >= 32 && type <= 34) : (type == 7 || type == 8);
}

// Caches the parameter sets of a keyframe; false when it has none.
bool update_parameter_sets(Stream& s, const uint8_t* d, size_t n, bool hevc) {
  std::vector<uint8_t> sets;
  for (const Nal& nal : split_nals(d, n, hevc)) {
    if (!is_parameter_set(nal.type, hevc)) continue;
    if (d[nal.begin + 2] == 1) sets.push_back(0);  // 4-byte start codes throughout
    sets.insert(sets.end(), d + nal.begin, d + nal.end);
  }
  if (sets.empty()) return false;
  s.parameter_sets = std::move(sets);
  return true;
}

// The access unit with `sets` after its access unit delimiter (or first, without one).
std::vector<uint8_t> insert_parameter_sets(const std::vector<uint8_t>& sets, const uint8_t* d,
                                           size_t n, bool hevc) {
  auto nals = split_nals(d, n, hevc);
  size_t at = 0;
  if (!nals.empty() && nals[0].type == (hevc ? 35 : 9)) at = nals[0].end;
  std::vector<uint8_t> out;
  out.reserve(n + sets.size());
  out.insert(out.end(), d, d + at);
  out.insert(out.end(), sets.begin(), sets.end());
  out.insert(out.end(), d + at, d + n);
  return out;
}

GstFlowReturn write_frame(GstHlsSegMux* self, Stream& s, Frame& f) {
  GstHlsSegMuxPrivate* priv = self->priv;
  OpenSegment& seg = *priv->seg;  // opened for f by the caller
  tws::MappedBuffer map(f.buffer.get(), GST_MAP_READ);
  if (!map) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, (nullptr), ("could not map a buffer"));
    return GST_FLOW_ERROR;
  }
  if (s.video) {
    if (seg.video_frames == 0 && !f.keyframe) {
      seg.keyframe = false;
      GST_ELEMENT_ERROR(self, STREAM, MUX,
                        ("segment %d does not start with a keyframe",
                         static_cast<int>(priv->first_index + seg.index)),
                        ("first video frame at %" GST_STIME_FORMAT
                         " is a delta unit (strict: strict=false cuts at the next keyframe "
                         "instead; an encoder with look-ahead makes no keyframe on request "
                         "before its first output frame in GStreamer < 1.27)",
                         GST_STIME_ARGS(f.media_pts)));
      return GST_FLOW_ERROR;
    }
    std::vector<uint8_t> with_headers;
    const uint8_t* data = map.data();
    size_t size = map.size();
    if (f.keyframe) {
      const bool hevc = s.codec == TsWriter::VideoCodec::kH265;
      bool first_of_segment = seg.video_frames == 0;
      if (!update_parameter_sets(s, data, size, hevc) && first_of_segment &&
          !s.parameter_sets.empty()) {
        with_headers = insert_parameter_sets(s.parameter_sets, data, size, hevc);
        data = with_headers.data();
        size = with_headers.size();
      }
    }
    priv->writer.write_video(data, size, to_90k(priv, f.media_pts), to_90k(priv, f.media_dts),
                             f.keyframe);
    seg.video_frames++;
  } else {
    priv->writer.write_audio(map.data(), map.size(), to_90k(priv, f.media_pts));
    seg.audio_frames++;
  }
  if (s.video || !priv->video.pad)
    seg.media_end = std::max(seg.media_end, f.media_pts + std::max<int64_t>(f.duration, 0));
  return push_out(self, f.running_time);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// GstAggregator

namespace {

enum class Step { kWrite, kWait, kDone };

// The stream whose head frame goes out next: the lowest (segment, DTS), video first on a tie.
// Audio waiting for the video's next cut waits behind the video.
Step next_frame(GstHlsSegMuxPrivate* priv, Stream** next) {
  Stream* streams[] = {&priv->video, &priv->audio};
  for (;;) {
    bool all_done = true;
    for (Stream* s : streams) {
      if (stream_done(*s)) continue;
      all_done = false;
      if (s->queue.empty()) return Step::kWait;  // not yet known what comes next on this pad
    }
    if (all_done) return Step::kDone;
    Stream& audio = priv->audio;
    if (priv->strict || audio.queue.empty() || audio.queue.front().segment != kUnplaced) break;
    Placed placed = place_audio(priv, audio, audio.queue.front());
    if (placed == Placed::kDrop) {
      GST_LOG("dropping audio frame at %" GST_STIME_FORMAT " before the segment it belongs to",
              GST_STIME_ARGS(audio.queue.front().media_pts));
      audio.queue.pop_front();
      continue;
    }
    break;
  }
  Stream* best = nullptr;
  for (Stream* s : streams) {
    if (s->queue.empty() || s->queue.front().segment == kUnplaced) continue;
    const Frame& f = s->queue.front();
    if (!best || f.segment < best->queue.front().segment ||
        (f.segment == best->queue.front().segment && f.media_dts < best->queue.front().media_dts))
      best = s;
  }
  if (!best) return Step::kWait;  // audio waits for a video frame not yet taken
  *next = best;
  return Step::kWrite;
}

}  // namespace

static GstFlowReturn gst_hls_seg_mux_aggregate(GstAggregator* agg, gboolean timeout) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(agg);
  GstHlsSegMuxPrivate* priv = self->priv;
  fill(self);

  bool wrote = false;
  for (;;) {
    Stream* best = nullptr;
    switch (next_frame(priv, &best)) {
      case Step::kWait:
        // A live timeout writes nothing either.
        GST_LOG_OBJECT(self, "waiting for data%s", timeout ? " (timeout)" : "");
        return wrote ? GST_FLOW_OK : GST_AGGREGATOR_FLOW_NEED_DATA;
      case Step::kDone:
        close_segment(self, true);
        GST_DEBUG_OBJECT(self, "all streams done");
        return GST_FLOW_EOS;
      case Step::kWrite:
        break;
    }
    Frame f = std::move(best->queue.front());
    best->queue.pop_front();
    if (!priv->seg || priv->seg->index != f.segment) {
      close_segment(self, false);
      open_segment(self, f.segment, *best);
    }
    GstFlowReturn ret = write_frame(self, *best, f);
    if (ret != GST_FLOW_OK) return ret;
    wrote = true;
  }
}

static gboolean gst_hls_seg_mux_sink_event(GstAggregator* agg, GstAggregatorPad* pad,
                                           GstEvent* event) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(agg);
  GstHlsSegMuxPrivate* priv = self->priv;
  const bool is_video = pad == priv->video.pad;
  Stream& s = is_video ? priv->video : priv->audio;

  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps;
      gst_event_parse_caps(event, &caps);
      GstStructure* st = gst_caps_get_structure(caps, 0);
      if (is_video) {
        s.codec = gst_structure_has_name(st, "video/x-h265") ? TsWriter::VideoCodec::kH265
                                                             : TsWriter::VideoCodec::kH264;
        gint n = 0, d = 0;
        s.caps_frame_duration = -1;
        if (gst_structure_get_fraction(st, "framerate", &n, &d) && n > 0 && d > 0)
          s.caps_frame_duration = static_cast<int64_t>(gst_util_uint64_scale_int(GST_SECOND, d, n));
        if (priv->seg && priv->writer.video_codec() != TsWriter::VideoCodec::kNone &&
            priv->writer.video_codec() != s.codec)
          GST_WARNING_OBJECT(self, "video codec changed; new PMT at the next segment");
      } else {
        gint rate = 0;
        if (gst_structure_get_int(st, "rate", &rate) && rate > 0)
          s.rate = static_cast<uint32_t>(rate);
      }
      GST_DEBUG_OBJECT(pad, "caps %" GST_PTR_FORMAT, caps);
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      // Parsers answer our upstream key-unit requests with downstream ones; the segment
      // starts are ours to announce.
      if (gst_video_event_is_force_key_unit(event)) {
        gst_event_unref(event);
        return TRUE;
      }
      break;
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS(gst_hls_seg_mux_parent_class)->sink_event(agg, pad, event);
}

static GstFlowReturn gst_hls_seg_mux_sink_event_pre_queue(GstAggregator* agg, GstAggregatorPad* pad,
                                                          GstEvent* event) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(agg);
  // The first boundary too: the video may start before it.
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT && pad == self->priv->video.pad)
    request_key_units_for_segment(self, pad, event);
  return GST_AGGREGATOR_CLASS(gst_hls_seg_mux_parent_class)->sink_event_pre_queue(agg, pad, event);
}

static GstFlowReturn gst_hls_seg_mux_flush(GstAggregator* agg) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(agg);
  GST_DEBUG_OBJECT(self, "flush: starting over");
  self->priv->reset_streaming();
  return GST_AGGREGATOR_CLASS(gst_hls_seg_mux_parent_class)->flush(agg);
}

static gboolean gst_hls_seg_mux_start(GstAggregator* agg) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(agg);
  GstHlsSegMuxPrivate* priv = self->priv;
  GST_OBJECT_LOCK(self);
  Settings settings = priv->settings;
  GST_OBJECT_UNLOCK(self);

  auto bounds = tws::parse_boundaries(settings.boundaries);
  auto audio_bounds = tws::parse_boundaries(settings.audio_boundaries);
  if (!bounds || !audio_bounds) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("invalid boundaries"),
                      ("boundaries \"%s\", audio-boundaries \"%s\": expected increasing "
                       "seconds separated by commas",
                       settings.boundaries.c_str(), settings.audio_boundaries.c_str()));
    return FALSE;
  }
  if (bounds->size() == 1 || (!audio_bounds->empty() && audio_bounds->size() != bounds->size())) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("invalid boundaries"),
                      ("need at least two boundaries, and as many audio-boundaries as "
                       "boundaries"));
    return FALSE;
  }
  if (bounds->empty() && settings.segment_duration == 0) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("segment-duration is 0"),
                      ("set boundaries or a segment-duration"));
    return FALSE;
  }
  priv->bounds = std::move(*bounds);
  priv->audio_bounds = std::move(*audio_bounds);
  priv->segment_duration = settings.segment_duration;
  priv->first_index = settings.first_index;
  priv->pts_offset = settings.pts_offset;
  priv->strict = settings.strict;
  priv->reset_streaming();
  return TRUE;
}

static gboolean gst_hls_seg_mux_stop(GstAggregator* agg) {
  GST_HLS_SEG_MUX(agg)->priv->reset_streaming();
  return TRUE;
}

static GstAggregatorPad* gst_hls_seg_mux_create_new_pad(GstAggregator* agg, GstPadTemplate* templ,
                                                        const gchar* /*req_name*/,
                                                        const GstCaps* /*caps*/) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(agg);
  const gchar* name = GST_PAD_TEMPLATE_NAME_TEMPLATE(templ);
  const bool video = g_strcmp0(name, "video") == 0;
  if (!video && g_strcmp0(name, "audio") != 0) return nullptr;

  GST_OBJECT_LOCK(self);
  Stream& s = video ? self->priv->video : self->priv->audio;
  if (s.pad) {
    GST_OBJECT_UNLOCK(self);
    GST_WARNING_OBJECT(self, "only one %s pad is supported", name);
    return nullptr;
  }
  auto* pad = GST_AGGREGATOR_PAD(g_object_new(GST_TYPE_AGGREGATOR_PAD, "name", name, "direction",
                                              GST_PAD_SINK, "template", templ, nullptr));
  s.pad = pad;
  s.video = video;
  GST_OBJECT_UNLOCK(self);
  return pad;
}

static void gst_hls_seg_mux_release_pad(GstElement* element, GstPad* pad) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(element);
  GST_OBJECT_LOCK(self);
  for (Stream* s : {&self->priv->video, &self->priv->audio}) {
    if (GST_PAD(s->pad) == pad) {
      s->pad = nullptr;
      s->reset();
    }
  }
  GST_OBJECT_UNLOCK(self);
  GST_ELEMENT_CLASS(gst_hls_seg_mux_parent_class)->release_pad(element, pad);
}

// ---------------------------------------------------------------------------------------
// GObject

static void gst_hls_seg_mux_set_property(GObject* object, guint prop_id, const GValue* value,
                                         GParamSpec* pspec) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(object);
  Settings& settings = self->priv->settings;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_BOUNDARIES: {
      const gchar* v = g_value_get_string(value);
      settings.boundaries = v ? v : "";
      break;
    }
    case PROP_AUDIO_BOUNDARIES: {
      const gchar* v = g_value_get_string(value);
      settings.audio_boundaries = v ? v : "";
      break;
    }
    case PROP_SEGMENT_DURATION:
      settings.segment_duration = g_value_get_uint64(value);
      break;
    case PROP_FIRST_INDEX:
      settings.first_index = g_value_get_uint(value);
      break;
    case PROP_PTS_OFFSET:
      settings.pts_offset = g_value_get_uint64(value);
      break;
    case PROP_STRICT:
      settings.strict = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_hls_seg_mux_get_property(GObject* object, guint prop_id, GValue* value,
                                         GParamSpec* pspec) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(object);
  const Settings& settings = self->priv->settings;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_BOUNDARIES:
      g_value_set_string(value, settings.boundaries.c_str());
      break;
    case PROP_AUDIO_BOUNDARIES:
      g_value_set_string(value, settings.audio_boundaries.c_str());
      break;
    case PROP_SEGMENT_DURATION:
      g_value_set_uint64(value, settings.segment_duration);
      break;
    case PROP_FIRST_INDEX:
      g_value_set_uint(value, settings.first_index);
      break;
    case PROP_PTS_OFFSET:
      g_value_set_uint64(value, settings.pts_offset);
      break;
    case PROP_STRICT:
      g_value_set_boolean(value, settings.strict);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_hls_seg_mux_finalize(GObject* object) {
  GstHlsSegMux* self = GST_HLS_SEG_MUX(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_hls_seg_mux_parent_class)->finalize(object);
}

static void gst_hls_seg_mux_init(GstHlsSegMux* self) { self->priv = new GstHlsSegMuxPrivate(); }

static void gst_hls_seg_mux_class_init(GstHlsSegMuxClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstAggregatorClass* agg_class = GST_AGGREGATOR_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_hls_seg_mux_debug, "hlssegmux", 0, "HLS segment muxer");

  gobject_class->set_property = gst_hls_seg_mux_set_property;
  gobject_class->get_property = gst_hls_seg_mux_get_property;
  gobject_class->finalize = gst_hls_seg_mux_finalize;

  constexpr auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_BOUNDARIES,
      g_param_spec_string("boundaries", "Boundaries",
                          "Segment boundaries in seconds of media (stream) time, separated by "
                          "commas, up to 9 decimals (\"0,2,4,6,16\": N+1 values give N "
                          "segments; without strict, a segment starts at the first keyframe at "
                          "or after its boundary). Empty: a segment every segment-duration from "
                          "0, no end",
                          DEFAULT_BOUNDARIES, flags));
  g_object_class_install_property(
      gobject_class, PROP_AUDIO_BOUNDARIES,
      g_param_spec_string("audio-boundaries", "Audio boundaries",
                          "Audio cut times in seconds of media time, as many as boundaries, for "
                          "segments that start on their boundary. Empty: each boundary rounded "
                          "to the nearest whole AAC frame (1024 samples); a segment that starts "
                          "at a later keyframe cuts the audio at that keyframe so rounded",
                          DEFAULT_AUDIO_BOUNDARIES, flags));
  g_object_class_install_property(
      gobject_class, PROP_SEGMENT_DURATION,
      g_param_spec_uint64("segment-duration", "Segment duration",
                          "Segment length in nanoseconds when boundaries is empty (0 is "
                          "invalid then)",
                          0, G_MAXUINT64, DEFAULT_SEGMENT_DURATION, flags));
  g_object_class_install_property(
      gobject_class, PROP_FIRST_INDEX,
      g_param_spec_uint("first-index", "First index",
                        "Index of the first segment, as reported in events and messages; the "
                        "next ones follow consecutively (strict: the plan's index + first-index)",
                        0, G_MAXINT, DEFAULT_FIRST_INDEX, flags));
  g_object_class_install_property(
      gobject_class, PROP_PTS_OFFSET,
      g_param_spec_uint64("pts-offset", "PTS offset",
                          "Nanoseconds added to every media time written as PTS/DTS, so DTS "
                          "never goes negative (0: PTS = media time)",
                          0, G_MAXUINT64 / 2, DEFAULT_PTS_OFFSET, flags));
  g_object_class_install_property(
      gobject_class, PROP_STRICT,
      g_param_spec_boolean(
          "strict", "Strict",
          "TRUE: cut exactly at the boundaries, segment indices are the plan's, and a segment "
          "whose first video frame is not a keyframe is an error (for an encoder told the "
          "boundaries). FALSE: cut at the first keyframe at or after each boundary, a boundary "
          "with no keyframe before the next one merges two segments, and indices count the "
          "segments written",
          DEFAULT_STRICT, flags));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &video_template,
                                                       GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &audio_template,
                                                       GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata(
      element_class, "HLS segment muxer", "Codec/Muxer",
      "Muxes H.264/H.265 and AAC into MPEG-TS HLS segments cut at planned boundaries",
      "tws authors");

  element_class->release_pad = gst_hls_seg_mux_release_pad;
  agg_class->aggregate = gst_hls_seg_mux_aggregate;
  agg_class->sink_event = gst_hls_seg_mux_sink_event;
  agg_class->sink_event_pre_queue = gst_hls_seg_mux_sink_event_pre_queue;
  agg_class->flush = gst_hls_seg_mux_flush;
  agg_class->start = gst_hls_seg_mux_start;
  agg_class->stop = gst_hls_seg_mux_stop;
  agg_class->create_new_pad = gst_hls_seg_mux_create_new_pad;
}
