// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/codec_level.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace tws {
namespace {

struct H264Level {
  int idc;
  int64_t max_mbps, max_fs, max_dpb_mbs, max_kbps;  // max_kbps: Main/Baseline (High: x1.25)
};

// H.264 (2019) Table A-1.
constexpr H264Level kH264Levels[] = {
    {10, 1485, 99, 396, 64},
    {11, 3000, 396, 900, 192},
    {12, 6000, 396, 2376, 384},
    {13, 11880, 396, 2376, 768},
    {20, 11880, 396, 2376, 2000},
    {21, 19800, 792, 4752, 4000},
    {22, 20250, 1620, 8100, 4000},
    {30, 40500, 1620, 8100, 10000},
    {31, 108000, 3600, 18000, 14000},
    {32, 216000, 5120, 20480, 20000},
    {40, 245760, 8192, 32768, 20000},
    {41, 245760, 8192, 32768, 50000},
    {42, 522240, 8704, 34816, 50000},
    {50, 589824, 22080, 110400, 135000},
    {51, 983040, 36864, 184320, 240000},
    {52, 2073600, 36864, 184320, 240000},
    {60, 4177920, 139264, 696320, 240000},
    {61, 8355840, 139264, 696320, 480000},
    {62, 16711680, 139264, 696320, 800000},
};

struct H265Level {
  int idc;                                      // level x 30
  int64_t max_luma_ps, max_luma_sps, max_kbps;  // Main tier
};

// H.265 (2019) Tables A.8 and A.9, Main tier.
constexpr H265Level kH265Levels[] = {
    {30, 36864, 552960, 128},
    {60, 122880, 3686400, 1500},
    {63, 245760, 7372800, 3000},
    {90, 552960, 16588800, 6000},
    {93, 983040, 33177600, 10000},
    {120, 2228224, 66846720, 12000},
    {123, 2228224, 133693440, 20000},
    {150, 8912896, 267386880, 25000},
    {153, 8912896, 534773760, 40000},
    {156, 8912896, 1069547520, 60000},
    {180, 35651584, 1069547520, 60000},
    {183, 35651584, 2139095040, 120000},
    {186, 35651584, 4278190080, 240000},
};

// The peak rate the level must allow: MaxBitrate (or a CBR Bitrate with headroom); CRF
// without VBV has no promised peak.
int64_t peak_kbps(const VideoTarget& v) {
  if (v.max_bitrate > 0) return v.max_bitrate / 1000;
  if (v.bitrate > 0) return int64_t(v.bitrate) * 5 / 4 / 1000;
  return 0;
}

}  // namespace

int video_level_idc(const VideoTarget& v) {
  const double fps = v.frame_rate.valid() ? v.frame_rate.value() : 25.0;
  if (v.codec == "h265") {
    const int64_t ps = int64_t(v.width) * v.height;
    const auto sps = int64_t(std::ceil(double(ps) * fps));
    for (const H265Level& l : kH265Levels) {
      const double side = std::sqrt(double(l.max_luma_ps) * 8);
      if (ps <= l.max_luma_ps && sps <= l.max_luma_sps && v.width <= side && v.height <= side &&
          peak_kbps(v) <= l.max_kbps)
        return l.idc;
    }
    return kH265Levels[std::size(kH265Levels) - 1].idc;
  }
  const int64_t mbs_w = (v.width + 15) / 16, mbs_h = (v.height + 15) / 16;
  const int64_t fs = mbs_w * mbs_h;
  const auto mbps = int64_t(std::ceil(double(fs) * fps));
  // Frames the decoder keeps: the references plus one for the B-pyramid x264 uses by default.
  const int64_t dpb_frames = (v.refs > 0 ? v.refs : 3) + 1;
  const bool high = video_profile_idc(v) == 100;
  for (const H264Level& l : kH264Levels) {
    const double side = std::sqrt(double(l.max_fs) * 8);
    const int64_t max_kbps = high ? l.max_kbps * 5 / 4 : l.max_kbps;
    if (fs <= l.max_fs && mbps <= l.max_mbps && mbs_w <= side && mbs_h <= side &&
        fs * dpb_frames <= l.max_dpb_mbs && peak_kbps(v) <= max_kbps)
      return l.idc;
  }
  return kH264Levels[std::size(kH264Levels) - 1].idc;
}

int video_profile_idc(const VideoTarget& v) {
  if (v.codec == "h265") return 1;
  return v.preset == "ultrafast" ? 66 : 100;
}

std::string video_codecs_string(const VideoTarget& v) {
  char buf[32];
  if (v.codec == "h265") {
    std::snprintf(buf, sizeof buf, "hvc1.1.6.L%d.90", video_level_idc(v));
    return buf;
  }
  const int profile = video_profile_idc(v);
  // constraint_set0/1 as x264 writes them for (Constrained) Baseline; none for High.
  const int constraints = profile == 66 ? 0xc0 : 0x00;
  std::snprintf(buf, sizeof buf, "avc1.%02x%02x%02x", profile, constraints, video_level_idc(v));
  return buf;
}

std::string level_option(const VideoTarget& v) {
  const int idc = video_level_idc(v);
  char buf[16];
  if (v.codec == "h265")
    std::snprintf(buf, sizeof buf, "%d.%d", idc / 30, (idc % 30) / 3);
  else
    std::snprintf(buf, sizeof buf, "%d.%d", idc / 10, idc % 10);
  return buf;
}

}  // namespace tws
