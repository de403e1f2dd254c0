// SPDX-License-Identifier: LGPL-2.1-or-later
// Small helpers shared by the per-request pipelines: element creation with clear errors,
// exact time conversions on the output grids, encoder set-up.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>

#include "common/gref.h"
#include "pipelines/plan.h"
#include "pipelines/segment_job.h"
#include "pipelines/target.h"

namespace tws {

// Loads the plugins of the elements segment jobs and probes use (demuxers, decoders, encoders,
// converters, typefinders), so that a service's first request does not pay for loading them.
// Returns how many features were loaded.
int preload_pipeline_plugins();

// A new element, owned (its floating reference sunk: gst_bin_add takes a reference of its
// own, and an element never added goes with the GRef), or empty with *error set.
GRef<GstElement> make_element(const char* factory, const char* name, std::string* error);

// Links src's "src" pad to a new request pad of `mux` from pad template `templ`.
bool link_to_request_pad(GstElement* src, GstElement* mux, const char* templ);

// A non-live, blocking, TIME-format appsrc holding at most `max_bytes`.
void configure_appsrc(GstElement* appsrc, GstCaps* caps, guint64 max_bytes);

// How a segment's encoder trades speed for compression.
enum class EncoderMode {
  kNormal,
  // The first segments of a stream (its InitialSegments), which a player waits for at
  // start-up: x264 looks ahead 3 frames instead of the preset's 10-60 and splits each frame
  // into slices across threads instead of encoding frames in parallel, so the first frame
  // comes out a few frames after it went in (the same B-frames and reference structure);
  // it searches motion as kWaited does. Segments 0-2 of the start-up bench (6 s, 1080p to
  // 720p veryfast): 15 % less CPU, 11 % more bytes.
  kQuickStart,
  // A segment a client waits for that was not made ahead (a seek, a cold request): x264
  // looks ahead 5 frames and searches motion with the diamond at subpel level 1. On a 1080p
  // to 720p veryfast CRF 23 segment: 31 % less time, 7 % more bytes, PSNR 0.2 dB lower.
  kWaited,
  // A seek hint's draft (segment_job.h SegmentJob::draft): the preset's headers (profile,
  // CABAC, 8x8 transform, references, B-frames, weighted prediction: the draft and the rest
  // of its segment decode as one stream), with no look-ahead, macroblock tree, adaptive
  // quantization, scene-cut or adaptive B-frame analysis or deblocking, the diamond at
  // full-pel, no partitions or trellis, and a quantizer 12 higher (a quarter of the bitrate in
  // ABR). Its frames are one still picture (SegmentJob::draft): mostly skipped macroblocks.
  kDraft,
};

// x264enc / x265enc set up from the target (CRF or bitrate, VBV, B-frames, refs, preset),
// with the GOP left open until the next forced IDR at a segment boundary. The modes change
// x264's settings only (x265 encodes every segment alike but a draft, which takes the
// higher quantizer and the faster search too).
GRef<GstElement> make_video_encoder(const VideoTarget& video, const Plan& plan, EncoderMode mode,
                                    std::string* error);

// How many segments from the start are made with quick_start settings.
int quick_start_segments(const Plan& plan);

uint64_t frames_to_ns(int64_t frames, const Rate& rate);
uint64_t samples_to_ns(int64_t samples, int rate);
// Exact decimal seconds, e.g. "2.002000000" (the hlssegmux boundary format).
std::string ns_to_seconds(uint64_t ns);

// The fields of hlssegmux's "hlssegmux-segment-end" event.
SegmentReport report_from_structure(const GstStructure* s);

}  // namespace tws
