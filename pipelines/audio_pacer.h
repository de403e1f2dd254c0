// SPDX-License-Identifier: LGPL-2.1-or-later
// Keeps a segment job's audio encoder in step with its video encoder.
//
// The audio of a job decodes and encodes much faster than its video, and left alone it runs
// ahead as far as its queues let it: a whole 2 s segment's audio (about 60 ms of CPU with
// ffmpeg's AAC encoder) before the first video frame is out, when the viewer waits for that
// frame and the CPU is scarce. The muxer writes in timestamp order, so audio beyond the video
// is of no use yet. The pacer holds the audio encoder's input until the video encoder has taken
// the frames up to `lead` before it (output timeline, both); the video's end of stream, or
// stop(), lets it run freely. The audio decode side has a pipeline of its own (segment_job.cpp),
// so holding the audio never holds the video back; it only waits for it.
#pragma once

#include <gst/gst.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tws {

class AudioPacer {
 public:
  // Audio up to start + lead goes at once (the encoder's pre-roll before the job's first
  // segment, and its first frames): `start` is the job's first video frame (ns, output time).
  AudioPacer(int64_t start, int64_t lead) : video_end_(start), lead_(lead) {}
  AudioPacer(const AudioPacer&) = delete;
  AudioPacer& operator=(const AudioPacer&) = delete;

  // Probes on the video encoder's sink pad (buffers, end of stream) and on the first sink pad
  // of the audio encode chain (buffers: they wait there). Both outlive the pads' streaming.
  void attach(GstPad* video_in, GstPad* audio_in);

  // The video encoder took media up to `end` (ns), or everything (ended()).
  void video_reached(int64_t end);
  void video_ended();
  // Blocks while audio at `pts` (ns) would be more than the lead ahead of the video, unless
  // the pacer is open. Returns how long it waited (ns), for tests.
  int64_t wait_for_video(int64_t pts);
  // For good: releases a waiting thread and never holds again (teardown).
  void stop();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t video_end_;  // guarded by mutex_
  bool open_ = false;  // guarded by mutex_
  const int64_t lead_;
};

}  // namespace tws
