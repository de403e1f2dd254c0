// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/downmix.h"

namespace tws {

namespace {

constexpr float kMinus3dB = 0.70710678f;

// Gains into (left, right) of one input position; false when it has no place in the table.
bool gains(GstAudioChannelPosition p, float* left, float* right) {
  *left = *right = 0.0f;
  switch (p) {
    case GST_AUDIO_CHANNEL_POSITION_FRONT_LEFT:
    case GST_AUDIO_CHANNEL_POSITION_WIDE_LEFT:
      *left = 1.0f;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_RIGHT:
    case GST_AUDIO_CHANNEL_POSITION_WIDE_RIGHT:
      *right = 1.0f;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_CENTER:
    case GST_AUDIO_CHANNEL_POSITION_MONO:
      *left = *right = kMinus3dB;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_LEFT_OF_CENTER:
      *left = 1.0f;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_RIGHT_OF_CENTER:
      *right = 1.0f;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_REAR_LEFT:
    case GST_AUDIO_CHANNEL_POSITION_SIDE_LEFT:
    case GST_AUDIO_CHANNEL_POSITION_SURROUND_LEFT:
      *left = kMinus3dB;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_REAR_RIGHT:
    case GST_AUDIO_CHANNEL_POSITION_SIDE_RIGHT:
    case GST_AUDIO_CHANNEL_POSITION_SURROUND_RIGHT:
      *right = kMinus3dB;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_REAR_CENTER:
      *left = *right = 0.5f;
      return true;
    case GST_AUDIO_CHANNEL_POSITION_LFE1:
    case GST_AUDIO_CHANNEL_POSITION_LFE2:
      return true;  // left out, as ITU-R BS.775 and ffmpeg do
    default:
      return false;  // top and bottom layers, none: audioconvert decides
  }
}

}  // namespace

std::vector<std::vector<float>> stereo_downmix(const GstAudioInfo& in, int out_channels) {
  const int n = GST_AUDIO_INFO_CHANNELS(&in);
  if (out_channels != 2 || n <= 2 || GST_AUDIO_INFO_IS_UNPOSITIONED(&in)) return {};
  std::vector<std::vector<float>> m(2, std::vector<float>(size_t(n), 0.0f));
  for (int c = 0; c < n; ++c) {
    float l = 0, r = 0;
    if (!gains(in.position[c], &l, &r)) return {};
    m[0][size_t(c)] = l;
    m[1][size_t(c)] = r;
  }
  return m;
}

void set_mix_matrix(GstElement* audioconvert, const std::vector<std::vector<float>>& matrix) {
  GValue rows = G_VALUE_INIT;
  g_value_init(&rows, GST_TYPE_ARRAY);
  for (const auto& row : matrix) {
    GValue r = G_VALUE_INIT;
    g_value_init(&r, GST_TYPE_ARRAY);
    for (float gain : row) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, G_TYPE_FLOAT);
      g_value_set_float(&v, gain);
      gst_value_array_append_and_take_value(&r, &v);
    }
    gst_value_array_append_and_take_value(&rows, &r);
  }
  g_object_set_property(G_OBJECT(audioconvert), "mix-matrix", &rows);
  g_value_unset(&rows);
}

}  // namespace tws
