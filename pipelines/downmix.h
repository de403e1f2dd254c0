// SPDX-License-Identifier: LGPL-2.1-or-later
// Downmix to stereo with the standard coefficients (ITU-R BS.775, ATSC A/52 Lo/Ro): each
// front channel to its side, centre and surrounds at -3 dB (0.7071) to their sides, a back
// centre at -6 dB to both, LFE left out. audioconvert's own matrix differs (LFE at full level
// in both channels, surrounds at -6 dB, everything scaled down to the sum of a row); this one
// keeps a stereo programme in a 5.1 file at its level, as ffmpeg's float downmix does.
#pragma once

#include <gst/audio/audio.h>

#include <vector>

namespace tws {

// Rows: output channels (left, right); columns: the input's channels in its own order. Empty
// when the input is not more than stereo, the output is not stereo, or a position is unknown
// (audioconvert's default mixing then applies).
std::vector<std::vector<float>> stereo_downmix(const GstAudioInfo& in, int out_channels);

// Sets `matrix` as audioconvert's "mix-matrix".
void set_mix_matrix(GstElement* audioconvert, const std::vector<std::vector<float>>& matrix);

}  // namespace tws
