// SPDX-License-Identifier: LGPL-2.1-or-later
// What `tws probe` learns about a source: its streams and duration. Filled by probe.cpp,
// used to validate a target, plan it and choose output sizes and rates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/plan.h"

namespace tws {

struct VideoStreamInfo {
  std::string codec;          // caps name, e.g. "video/x-h264"
  int width = 0, height = 0;  // coded size in pixels
  int par_n = 1, par_d = 1;   // pixel aspect ratio
  Rate frame_rate;            // {0,1} when unknown/variable
  bool interlaced = false;
  int depth = 8;        // bits per component
  int rotation = 0;     // clockwise degrees from the image-orientation tag: 0/90/180/270
  bool flip = false;    // the tag asks for a horizontal flip
  int64_t bitrate = 0;  // bits/s, 0 unknown

  // Display size: square pixels, rotation applied.
  int display_width() const;
  int display_height() const;
};

struct AudioStreamInfo {
  std::string codec;
  int sample_rate = 0;
  int channels = 0;
  int64_t bitrate = 0;
  std::string language;  // ISO 639 code from tags, "" unknown
  std::string title;     // the stream's title tag, "" none
};

struct SubtitleStreamInfo {
  std::string codec;  // caps name, e.g. "text/x-raw", "application/x-ass"
  std::string language;
  std::string title;
};

struct SourceInfo {
  std::string uri;
  std::string container;  // caps name of the container
  double duration = 0;    // seconds (rebased: starts at 0)
  uint64_t size = 0;      // bytes
  std::string identity;   // ETag, or "mtime:<ns>" for files: changes when the object does
  std::vector<VideoStreamInfo> video;
  std::vector<AudioStreamInfo> audio;
  std::vector<SubtitleStreamInfo> subtitles;
};

}  // namespace tws
