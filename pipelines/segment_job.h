// SPDX-License-Identifier: LGPL-2.1-or-later
// Makes segments [first, last] of a target in one pass: rangesrc -> decode -> rotate/scale/
// rate -> encode -> hlssegmux, handing out each segment's bytes as they are produced
// (DESIGN.md "Producing segment k alone").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "pipelines/job_gate.h"
#include "pipelines/media_error.h"
#include "pipelines/plan.h"
#include "pipelines/target.h"

namespace tws {

struct SegmentJob {
  std::string source;       // rangesrc location
  double source_start = 0;  // seconds of source media time that are media time 0 of the target
  bool has_video = false;
  VideoTarget video;
  bool has_audio = false;
  AudioTarget audio;
  Plan plan;
  int first = 0, last = 0;  // inclusive
  // A client waits for segment `first`: it is encoded with faster settings
  // (EncoderMode::kWaited), the rest of the run as usual.
  bool waited = false;
  // Where the client waiting for segment `first` starts watching, in seconds on the target's
  // timeline (a seek's target: the segment request's `t`), or < 0 for none. A hint inside a
  // job of one video segment, far enough past its start (segment_split.h hint_cut_frame()),
  // makes the segment as two GOPs in parallel: a draft of the frames before the hint and the
  // rest from the hint on, at the waited-for quality.
  double hint = -1;
  // The frames are a draft (a seek hint's pre-roll, never shown to the viewer who sent it):
  // decoded from the source keyframe at or before the job's last frame, the frames before
  // that keyframe repeating its picture, encoded with EncoderMode::kDraft.
  bool draft = false;
  // Optional: the job waits here while it is held (a held job is not "stalled").
  std::shared_ptr<JobGate> gate;
  // Seconds without a buffer moving anywhere in the job before it is torn down as stalled.
  int stall_timeout = 60;
  // Pre-roll H.264 frames that no frame refers to are dropped undecoded (preroll_filter.h);
  // true decodes them all, as a decoder alone would (the output is the same).
  bool decode_whole_preroll = false;
  // Optional: counts the frames so dropped.
  std::atomic<int64_t>* preroll_dropped = nullptr;
  // Optional (tests): called with the encode side once it is built, before it runs.
  std::function<void(GstBin* encode)> inspect_encode;
  // Niceness of the job's threads (streaming threads, and the encoder's and decoder's own
  // threads they start); 0 leaves them as they are.
  int thread_nice = 0;
  // A job of one segment is made as this many GOPs encoded in parallel and joined
  // (segment_split.h: segment_chunks() picks it from the cores); 1 makes it in one pass.
  int chunks = 1;
};

// What the muxer saw of a finished segment; checked against the plan before publishing.
struct SegmentReport {
  int index = 0;
  uint64_t bytes = 0;
  int64_t video_frames = 0;
  int64_t audio_samples = 0;
  bool starts_with_keyframe = false;
};

// Callbacks run on a streaming thread, in order: begin(k), data(k, ...)*, end(report), then
// the next segment. Returning false from data() cancels the job.
struct SegmentSink {
  std::function<void(int index)> begin;
  std::function<bool(int index, const uint8_t* data, size_t size)> data;
  std::function<void(const SegmentReport& report)> end;
};

// Blocks until the job is done. Returns false with *error: the GStreamer error that ended it
// (its GError domain and code, the source server's HTTP status) or a reason of tws's own;
// *stalled (optional) tells a job torn down for want of progress from other failures.
bool run_segment_job(const SegmentJob& job, const SegmentSink& sink, MediaError* error,
                     bool* stalled = nullptr);
// The same with the error's one-line message only.
bool run_segment_job(const SegmentJob& job, const SegmentSink& sink, std::string* error,
                     bool* stalled = nullptr);

// Checks a finished segment against the plan: starts with a keyframe, frame and sample
// counts as planned. Returns false with the reason.
bool check_segment(const SegmentJob& job, const SegmentReport& report, std::string* error);

}  // namespace tws
