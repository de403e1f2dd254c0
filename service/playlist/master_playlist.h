// SPDX-License-Identifier: LGPL-2.1-or-later
// The master playlist of a request (MasterURI): one #EXT-X-STREAM-INF per video rendition,
// #EXT-X-MEDIA for audio renditions (group "audio") and subtitle renditions (group "subs"),
// every URI relative to the master.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/plan.h"
#include "pipelines/target.h"

namespace tws {

inline constexpr const char* kAudioGroup = "audio";
inline constexpr const char* kSubtitleGroup = "subs";

struct MasterVariant {
  std::string playlist_key;  // the rendition's media playlist
  int64_t bandwidth = 0;     // peak bits/s, as HLS wants (its audio rendition's included)
  int64_t average_bandwidth = 0;
  int width = 0, height = 0;  // 0: an audio-only variant
  Rate frame_rate;
  std::string codecs;
  bool audio_group = false, subtitle_group = false;
};

struct MasterMedia {       // #EXT-X-MEDIA
  bool subtitles = false;  // TYPE=SUBTITLES, else TYPE=AUDIO
  std::string playlist_key;
  std::string name, language;  // language "" unknown
  int channels = 0;            // audio
  bool is_default = false;
};

// Estimated peak and average bits/s of a rendition before any segment exists: MaxBitrate,
// Bitrate, or for CRF a generous bits-per-pixel guess; AAC at its bitrate; MPEG-TS overhead.
int64_t estimated_video_peak(const VideoTarget& video);
int64_t estimated_video_average(const VideoTarget& video);
int64_t with_ts_overhead(int64_t bits_per_second);

// A variant for a rendition with video and optionally its own audio (`audio`), or with the
// audio group's renditions (`group_audio`: the highest of them; null without).
MasterVariant make_variant(const std::string& playlist_key, const VideoTarget& video,
                           const AudioTarget* audio, const AudioTarget* group_audio);

// `to_key` as a URI relative to the object `from_key` ("a/m.m3u8", "a/b/x.m3u8" -> "b/x.m3u8";
// "a/m.m3u8", "c/x.m3u8" -> "../c/x.m3u8"), each segment percent-encoded.
std::string relative_uri(const std::string& from_key, const std::string& to_key);

std::string master_playlist_text(const std::string& master_key,
                                 const std::vector<MasterVariant>& variants,
                                 const std::vector<MasterMedia>& media);

}  // namespace tws
