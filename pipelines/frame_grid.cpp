// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/frame_grid.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cstring>

#include "pipelines/pipeline_util.h"

GST_DEBUG_CATEGORY_STATIC(tws_grid_debug);
#define GST_CAT_DEFAULT tws_grid_debug

namespace tws {
namespace {
void init_debug() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(tws_grid_debug, "twsgrid", 0, "tws output grids (frames, samples)");
    g_once_init_leave(&once, 1);
  }
}
}  // namespace

bool media_time(GstSample* sample, int64_t source_start_ns, int64_t* t) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  const GstSegment* segment = gst_sample_get_segment(sample);
  if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer)) return false;
  guint64 pts = GST_BUFFER_PTS(buffer);
  int64_t stream = int64_t(pts);
  if (segment && segment->format == GST_FORMAT_TIME) {
    guint64 abs = 0;
    const int sign = gst_segment_to_stream_time_full(segment, GST_FORMAT_TIME, pts, &abs);
    if (sign == 0) return false;
    stream = sign > 0 ? int64_t(abs) : -int64_t(abs);
  }
  *t = stream - source_start_ns;
  return true;
}

GstPadProbeReturn force_key_units(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* grid = static_cast<FrameGrid*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (grid->key_pts_.count(GST_BUFFER_PTS(buffer))) {
    GstClockTime t = GST_BUFFER_PTS(buffer);
    gst_pad_push_event(pad, gst_video_event_new_downstream_force_key_unit(t, t, t, TRUE, 0));
  }
  return GST_PAD_PROBE_OK;
}

FrameGrid::FrameGrid(const SegmentJob& job, GstElement* appsrc)
    : rate_(job.plan.input.frame_rate),
      next_(job.plan.segments[job.first].first_frame),
      end_(job.plan.segments[job.last].end_frame),
      source_start_ns_(int64_t(job.source_start * GST_SECOND + 0.5)),
      appsrc_(appsrc),
      still_(job.draft) {
  for (int k = job.first + 1; k <= job.last; ++k)
    key_pts_.insert(frames_to_ns(job.plan.segments[k].first_frame, rate_));
  GRef<GstPad> pad = adopt_ref(gst_element_get_static_pad(appsrc, "src"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, force_key_units, this, nullptr);
}

void FrameGrid::emit(GstBuffer* frame) {
  // The held frame, once nothing else refers to it, goes out itself (the grid keeps a
  // reference in case it fills the next slot too). A copy would share its memory, and a pool
  // discards a buffer whose memory is still shared when it comes back: each frame would then
  // cost a fresh allocation, page faults included.
  GstBuffer* out;
  if (frame == held_.get() && gst_buffer_is_writable(frame)) {
    out = held_.release();
    held_ = add_ref(out);
  } else {
    out = gst_buffer_copy(frame);  // shares the frame's memory
  }
  GST_BUFFER_PTS(out) = frames_to_ns(next_, rate_);
  GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(out) = frames_to_ns(next_ + 1, rate_) - GST_BUFFER_PTS(out);
  GST_BUFFER_OFFSET(out) = guint64(next_);
  GST_BUFFER_FLAG_UNSET(out, GST_BUFFER_FLAG_DISCONT);
  gst_app_src_push_buffer(GST_APP_SRC(appsrc_), out);
  ++next_;
  if (done()) end_stream();
}

void FrameGrid::end_stream() {
  if (ended_) return;
  ended_ = true;
  gst_app_src_end_of_stream(GST_APP_SRC(appsrc_));
}

bool FrameGrid::push(GstSample* sample) {
  if (done()) return false;
  int64_t t = 0;
  if (!media_time(sample, source_start_ns_, &t)) return true;
  GstBuffer* frame = gst_sample_get_buffer(sample);
  if (still_) {
    // The first frame at or after the grid's start (within half a frame) is the picture.
    held_ = add_ref(frame);
    if (t + int64_t(frames_to_ns(1, rate_) / 2) < int64_t(frames_to_ns(next_, rate_))) return true;
    finish();
    return false;
  }
  // Output frame f shows the latest decoded frame at or before its slot time plus half a
  // frame: a frame past that closes the slot with the frame held before it.
  while (!done()) {
    const int64_t slot = int64_t(frames_to_ns(next_, rate_));
    const int64_t half = int64_t(frames_to_ns(1, rate_) / 2);
    if (t <= slot + half) break;
    emit(held_ ? held_.get() : frame);
  }
  held_ = add_ref(frame);
  return !done();
}

bool FrameGrid::finish() {
  if (!held_ && !done()) return false;
  while (!done()) emit(held_.get());
  end_stream();
  return true;
}

SampleGrid::SampleGrid(const SegmentJob& job, GstElement* appsrc, int64_t preroll)
    : rate_(job.audio.sample_rate),
      channels_(job.audio.channels),
      start_(std::max<int64_t>(0, job.plan.segments[job.first].first_sample - preroll)),
      next_(start_),
      end_(job.plan.segments[job.last].end_sample + kAudioPostroll),
      source_start_ns_(int64_t(job.source_start * GST_SECOND + 0.5)),
      tolerance_(job.audio.sample_rate / 25),  // 40 ms, as audio sinks' alignment threshold
      appsrc_(appsrc) {
  init_debug();
}

void SampleGrid::emit(GstBuffer* buffer, int64_t skip, int64_t count) {
  const gsize frame_bytes = gsize(channels_) * sizeof(float);
  GstBuffer* out = gst_buffer_copy_region(buffer, GST_BUFFER_COPY_MEMORY, gsize(skip) * frame_bytes,
                                          gsize(count) * frame_bytes);
  GST_BUFFER_PTS(out) = samples_to_ns(next_, rate_);
  GST_BUFFER_DURATION(out) = samples_to_ns(next_ + count, rate_) - GST_BUFFER_PTS(out);
  GST_BUFFER_OFFSET(out) = guint64(next_);
  GST_BUFFER_OFFSET_END(out) = guint64(next_ + count);
  gst_app_src_push_buffer(GST_APP_SRC(appsrc_), out);
  next_ += count;
  if (done()) end_stream();
}

void SampleGrid::emit_silence(int64_t count) {
  count = std::min(count, end_ - next_);
  if (count <= 0) return;
  const gsize bytes = gsize(count) * gsize(channels_) * sizeof(float);
  GstBuffer* silence = gst_buffer_new_allocate(nullptr, bytes, nullptr);
  gst_buffer_memset(silence, 0, 0, bytes);
  emit(silence, 0, count);
  gst_buffer_unref(silence);
}

void SampleGrid::end_stream() {
  if (ended_) return;
  ended_ = true;
  gst_app_src_end_of_stream(GST_APP_SRC(appsrc_));
}

bool SampleGrid::push(GstSample* sample) {
  if (done()) return false;
  if (!started_ && clock_) {
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (!clock_->settled() && waiting_samples_ < int64_t(rate_) * kClockWaitSeconds && buffer) {
      waiting_.push_back(add_ref(sample));
      waiting_samples_ += int64_t(gst_buffer_get_size(buffer) / (gsize(channels_) * sizeof(float)));
      return true;
    }
    if (!release_waiting()) return false;
  }
  return place(sample);
}

bool SampleGrid::release_waiting() {
  std::vector<GRef<GstSample>> waiting = std::move(waiting_);
  waiting_.clear();
  waiting_samples_ = 0;
  for (const GRef<GstSample>& s : waiting)
    if (!place(s.get())) return false;
  return !done();
}

bool SampleGrid::place(GstSample* sample) {
  if (done()) return false;
  int64_t t = 0;
  if (!media_time(sample, source_start_ns_, &t)) return true;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  const int64_t n = int64_t(gst_buffer_get_size(buffer) / (gsize(channels_) * sizeof(float)));
  // Until the first sample is placed, the clock may still be learning the grid. Without a
  // resampler the buffer is the decoder's own (its end a frame boundary of the decoder's
  // timeline); a resampler's timeline is anchored at the decoder's first buffer.
  if (!started_ && clock_) {
    const int64_t boundary =
        clock_->decoded_rate() == rate_
            ? int64_t(GST_BUFFER_PTS(buffer) +
                      gst_util_uint64_scale_round(guint64(n), GST_SECOND, guint64(rate_)))
            : clock_->first_decoded_end();
    correction_ = clock_->correction(boundary);
  }
  t += correction_;
  int64_t first = int64_t(gst_util_uint64_scale_round(uint64_t(std::abs(t)), rate_, GST_SECOND));
  if (t < 0) first = -first;
  // Small timestamp jitter is taken as contiguous; a real gap gets silence, an overlap is cut.
  if (started_ && std::abs(first - next_) <= tolerance_) first = next_;
  if (first > next_) {
    emit_silence(first - next_);
    started_ = true;
  }
  const int64_t skip = std::min(n, std::max<int64_t>(0, next_ - first));
  const int64_t count = std::min(n - skip, end_ - next_);
  if (count > 0) {
    if (!started_)
      GST_DEBUG("audio starts with the decoded buffer at %" GST_STIME_FORMAT
                " (corrected by %" G_GINT64_FORMAT " ns onto the codec's grid, from %zu packets)",
                GST_STIME_ARGS(t), correction_, clock_ ? clock_->packets() : size_t(0));
    emit(buffer, skip, count);
    started_ = true;
  }
  return !done();
}

void SampleGrid::finish() {
  release_waiting();
  emit_silence(end_ - next_);
  end_stream();
}

}  // namespace tws
