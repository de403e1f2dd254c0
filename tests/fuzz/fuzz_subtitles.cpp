// SPDX-License-Identifier: LGPL-2.1-or-later
// libFuzzer target: subtitle files as uploaded (SourceSubtitles): WebVTT, SRT or ASS/SSA
// detected from the text and parsed (pipelines/subtitle_cues.cpp), then written as WebVTT
// segments. Cues come out with start <= end, and what is written parses again.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/subtitle_cues.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<tws::Cue> cues;
  std::string error;
  if (!tws::parse_subtitles(text, &cues, &error)) return 0;
  for (const tws::Cue& c : cues)
    if (c.end_ns < c.start_ns) __builtin_trap();
  const std::string vtt = tws::webvtt_segment(cues, 0, INT64_MAX / 2);
  std::vector<tws::Cue> again;
  if (!cues.empty() && (!tws::parse_subtitles(vtt, &again, &error) || again.size() != cues.size()))
    __builtin_trap();
  return 0;
}
