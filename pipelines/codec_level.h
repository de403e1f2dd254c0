// SPDX-License-Identifier: LGPL-2.1-or-later
// The H.264/H.265 level a target's stream is encoded at, and the RFC 6381 CODECS string a
// master playlist announces for it. The encoder is told the same level (x264/x265
// option-string), so the level in every SPS is the one the master lists.
#pragma once

#include <string>

#include "pipelines/target.h"

namespace tws {

// level_idc: H.264 level x 10 (40 = 4.0), H.265 level x 30 (120 = 4.0): the lowest level whose
// frame size, macroblock (luma sample) rate, frame buffer and bitrate limits hold the target.
int video_level_idc(const VideoTarget& video);

// profile_idc the encoder writes for the target: x264 with its 8x8 transform (every preset but
// ultrafast) writes High (100); ultrafast writes Constrained Baseline (66). H.265: Main (1).
int video_profile_idc(const VideoTarget& video);

// "avc1.64002a" / "hvc1.1.6.L120.90".
std::string video_codecs_string(const VideoTarget& video);

// The level as the encoder's option-string takes it: "4.2" (x264 level=, x265 level-idc=).
std::string level_option(const VideoTarget& video);

}  // namespace tws
