// SPDX-License-Identifier: LGPL-2.1-or-later
// Text subtitle streams inside a source (SRT/ASS in Matroska, mov_text in MP4, ...) read as
// cues with GStreamer: rangesrc -> parsebin -> [ssaparse] -> appsink, the other streams only
// parsed and dropped, for one window of media time, so making one WebVTT segment reads only
// that part of the source.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/media_error.h"
#include "pipelines/subtitle_cues.h"

namespace tws {

struct SubtitleWindow {
  std::string source;       // rangesrc location
  int stream = 0;           // index among the source's text subtitle streams (0 = first)
  double source_start = 0;  // seconds of source time that are media time 0 (the clip start)
  int64_t start_ns = 0, end_ns = 0;  // media time range whose cues are wanted
};

// How far before the window the source is read, so a cue that started earlier and still
// shows is found.
constexpr int64_t kSubtitleLookbackNs = 10'000'000'000;

// Every cue of the stream that overlaps [start_ns, end_ns) of media time (source time minus
// source_start; cues before media time 0 are dropped, one across 0 starts at 0). A cue
// without a duration lasts until the next one, at most 5 s. Blocks until done (bounded by
// the window: the pipeline stops at end_ns). False with a one-line reason.
bool extract_subtitle_cues(const SubtitleWindow& window, std::vector<Cue>* cues, MediaError* error);
// The same with the error's one-line message only.
bool extract_subtitle_cues(const SubtitleWindow& window, std::vector<Cue>* cues,
                           std::string* error);

// Whether a subtitle stream with this caps name (SubtitleStreamInfo.codec: the discoverer's
// caps, before any decoder) becomes text/x-raw in decodebin3, so extract_subtitle_cues can
// read it. Measured with GStreamer 1.22: SRT in Matroska and mov_text (tx3g) in MP4 are
// reported as "text/x-raw" (the demuxers already give text), ASS/SSA in Matroska as
// "application/x-ass" / "application/x-ssa" (ssaparse), WebVTT in Matroska as
// "application/x-subtitle-vtt" (subparse). Bitmap subtitles (subpicture/x-pgs, x-dvd,
// x-dvb) and closed captions are not text.
bool is_text_subtitle_codec(const std::string& caps_name);

}  // namespace tws
