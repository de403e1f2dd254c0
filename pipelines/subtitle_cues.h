// SPDX-License-Identifier: LGPL-2.1-or-later
// Subtitle cues: read from WebVTT, SubRip (SRT) and ASS/SSA text, and written out as the
// WebVTT segments of a subtitle rendition (DESIGN.md "Naming": MASTER-sub-<n>-<token>-<k>.vtt),
// one per planned segment, on the same boundaries as the video.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tws {

// PTS of media time 0 in every tws MPEG-TS segment (hlssegmux's default pts-offset), in
// 90 kHz ticks: WebVTT segments map LOCAL 0 to it (X-TIMESTAMP-MAP).
constexpr int64_t kTsPtsOffset90k = 900000;

struct Cue {
  int64_t start_ns = 0, end_ns = 0;  // end > start
  std::string text;  // WebVTT cue text: lines joined by '\n', only <b> <i> <u> markup kept
};

enum class SubtitleFormat { kUnknown, kWebVtt, kSrt, kAss };

// Recognises the format from the text itself (a BOM is allowed): "WEBVTT" header; SRT's
// "1\n00:00:01,000 --> ..."; ASS/SSA's [Script Info] / [Events] with "Dialogue:" lines.
SubtitleFormat detect_subtitle_format(const std::string& text);

// Parses a whole subtitle file. Cues come back sorted by start; cues with end <= start are
// dropped. False with a one-line reason (unknown format, no cue, a malformed timing line
// with its line number) in *error.
bool parse_subtitles(const std::string& text, std::vector<Cue>* cues, std::string* error);

// Text of a GStreamer text buffer (pango-markup or utf8) as WebVTT cue text: <span> and
// other tags dropped, <b>/<i>/<u> kept, entities as they are, blank lines removed.
std::string cue_text_from_markup(const std::string& markup);

// One WebVTT segment covering media time [start_ns, end_ns): the header with
// X-TIMESTAMP-MAP=MPEGTS:<kTsPtsOffset90k>,LOCAL:00:00:00.000 and every cue that overlaps
// the range, with its own (unclipped) times, so a cue across a boundary shows in both
// segments. An empty range of cues still gives a valid file (header only).
std::string webvtt_segment(const std::vector<Cue>& cues, int64_t start_ns, int64_t end_ns);

// "HH:MM:SS.mmm", as WebVTT writes times.
std::string webvtt_time(int64_t ns);

}  // namespace tws
