// SPDX-License-Identifier: LGPL-2.1-or-later
// A target's normalised transcode settings: what the pipeline needs to make its segments.
// Filled from the request (service/api/request.cpp) and the probe; stored in the playlist record.
#pragma once

#include <string>

#include "pipelines/plan.h"

namespace tws {

enum class ScaleType { kStretch, kFit, kFill, kCrop };

struct VideoTarget {
  std::string codec = "h264";  // "h264" | "h265"
  int crf = -1;                // -1: use bitrate
  int bitrate = 0;             // bits/s, 0: use crf
  int max_bitrate = 0;         // bits/s, 0: none
  int buffer_size = 0;         // bits, 0: encoder default
  int width = 0, height = 0;   // output size (resolved, even); the picture inside for kFill
  int picture_width = 0, picture_height = 0;  // kFill: the scaled picture before padding
  ScaleType scale_type = ScaleType::kStretch;
  Rate frame_rate;  // output frame rate (resolved)
  std::string pixel_format = "yuv420p";
  int bframes = -1;         // -1: the preset's
  int refs = -1;            // -1: the preset's
  int rotation = 0;         // extra clockwise rotation requested by the target
  int source_rotation = 0;  // clockwise rotation the source's orientation tag asks for
  std::string preset = "veryfast";
};

struct AudioTarget {
  std::string codec = "aac";
  int bitrate = 128000;  // bits/s
  int sample_rate = 44100;
  int channels = 2;
  int stream = 0;  // index among the source's audio streams
};

}  // namespace tws
