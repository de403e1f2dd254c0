// SPDX-License-Identifier: LGPL-2.1-or-later
// The output grids of a segment job. FrameGrid turns decoded frames (any rate, any start)
// into exactly the planned output frames [F_first, F_end) at the target rate, repeating or
// dropping frames and padding the ends; SampleGrid turns decoded audio into one gapless run of
// samples from (A_first - pre-roll) to A_end, padding silence where the source has none.
// Both push to an appsrc of the encode pipeline with timestamps on the global timeline.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/gref.h"
#include "pipelines/audio_clock.h"
#include "pipelines/segment_job.h"

namespace tws {

// Media time of a sample's buffer on the target's timeline: stream time (the demuxer's rebased
// timeline, so a source whose first timestamp is not 0 still starts at 0) minus the clip start.
// False without a PTS or outside the segment.
bool media_time(GstSample* sample, int64_t source_start_ns, int64_t* t);

class FrameGrid {
 public:
  FrameGrid(const SegmentJob& job, GstElement* appsrc);
  // A decoded frame; returns false once the grid is complete (no more input wanted).
  bool push(GstSample* sample);
  // The decode side ended: repeats the last frame to the end of the grid and ends the stream.
  // Returns false when no frame was ever decoded.
  bool finish();
  bool done() const { return next_ >= end_; }

 private:
  void emit(GstBuffer* frame);
  void end_stream();

  Rate rate_;
  int64_t next_, end_;       // next output frame to fill; end of the grid
  int64_t source_start_ns_;  // source media time that is 0 on the output timeline
  GstElement* appsrc_;
  GRef<GstBuffer> held_;  // latest decoded frame not yet past its slot
  bool ended_ = false;
  bool still_ = false;          // a draft: the first frame decoded fills the whole grid
  std::set<uint64_t> key_pts_;  // PTS of frames that start a segment (after the first)
  friend GstPadProbeReturn force_key_units(GstPad*, GstPadProbeInfo*, gpointer);
};

// Samples fed past the job's last segment (then dropped by hlssegmux): the AAC encoder codes a
// frame only when it has the next one, so the last frame of the job sees its true successor,
// as the same frame does in the job of the next segment (a seamless join), not silence.
constexpr int64_t kAudioPostroll = 1024;

class SampleGrid {
 public:
  SampleGrid(const SegmentJob& job, GstElement* appsrc, int64_t preroll);
  // Places the decoded audio on the codec's grid (audio_clock.h): the first buffers are held
  // until the clock has settled (or kClockWait of audio went by: a source whose decoder the
  // clock does not see, raw PCM say, starts then with no correction).
  void set_clock(const AudioClock* clock) { clock_ = clock; }
  bool push(GstSample* sample);
  void finish();
  bool done() const { return next_ >= end_; }
  // First sample the grid wants (A_first minus pre-roll).
  int64_t start() const { return start_; }

 private:
  bool place(GstSample* sample);
  void emit(GstBuffer* buffer, int64_t skip, int64_t count);
  void emit_silence(int64_t count);
  void end_stream();
  bool release_waiting();

  static constexpr int kClockWaitSeconds = 4;

  int rate_, channels_;
  int64_t start_, next_, end_;
  int64_t source_start_ns_;
  int64_t tolerance_;  // timestamp jitter taken as contiguous, in samples
  GstElement* appsrc_;
  bool started_ = false, ended_ = false;
  const AudioClock* clock_ = nullptr;
  int64_t correction_ = 0;                // ns added to decoded timestamps (the clock's)
  std::vector<GRef<GstSample>> waiting_;  // decoded before the clock could tell
  int64_t waiting_samples_ = 0;
};

}  // namespace tws
