// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/audio_pacer.h"

#include <chrono>

namespace tws {

void AudioPacer::video_reached(int64_t end) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (end <= video_end_) return;
    video_end_ = end;
  }
  changed_.notify_all();
}

void AudioPacer::video_ended() { stop(); }

void AudioPacer::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
  }
  changed_.notify_all();
}

int64_t AudioPacer::wait_for_video(int64_t pts) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (open_ || pts <= video_end_ + lead_) return 0;
  const auto began = std::chrono::steady_clock::now();
  changed_.wait(lock, [&] { return open_ || pts <= video_end_ + lead_; });
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              began)
      .count();
}

void AudioPacer::attach(GstPad* video_in, GstPad* audio_in) {
  gst_pad_add_probe(
      video_in, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        auto* self = static_cast<AudioPacer*>(data);
        if (GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info); b && GST_BUFFER_PTS_IS_VALID(b)) {
          const GstClockTime d = GST_BUFFER_DURATION_IS_VALID(b) ? GST_BUFFER_DURATION(b) : 0;
          self->video_reached(int64_t(GST_BUFFER_PTS(b) + d));
        } else if (GstEvent* e = GST_PAD_PROBE_INFO_EVENT(info);
                   e && GST_EVENT_TYPE(e) == GST_EVENT_EOS) {
          self->video_ended();
        }
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
  gst_pad_add_probe(
      audio_in, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
        if (GST_BUFFER_PTS_IS_VALID(b))
          static_cast<AudioPacer*>(data)->wait_for_video(int64_t(GST_BUFFER_PTS(b)));
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
}

}  // namespace tws
