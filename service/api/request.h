// SPDX-License-Identifier: LGPL-2.1-or-later
// The GenerateVideoPlaylist request (API.md "HTTP", POST /v1/playlists): parsed and validated
// before anything is probed or written. Every error names its field by its full path, e.g.
// "Targets[0].Duration: must be between 5 and 15".
#pragma once

#include <string>
#include <vector>

#include "pipelines/geometry.h"
#include "pipelines/plan.h"
#include "pipelines/target.h"
#include "service/core/errors.h"
#include "service/core/uri.h"

namespace tws {

struct VideoRequest {
  std::string codec = "h264";
  int crf = -1;  // -1: Bitrate given (CRF 23 when neither is)
  int bitrate = 0, max_bitrate = 0, buffer_size = 0;
  Rate frame_rate;            // invalid: the source's
  ResolutionSpec resolution;  // 0x0: the source's
  ScaleType scale_type = ScaleType::kStretch;
  std::string pixel_format = "yuv420p";
  int bframes = -1, refs = -1, rotation = 0;  // -1: the x264/x265 preset's
  bool adaptive_resolution = true, adaptive_bitrate = true, adaptive_frame_rate = true;
  bool disabled = false;  // DisableVideo
};

struct AudioRequest {
  std::string codec = "aac";
  int bitrate = 128000;
  int sample_rate = 44100;
  int channels = 0;  // 0: min(source, 2)
  // Audio.Stream: indexes among the source's audio streams, in the order given; empty: the
  // first; all_streams: every one (a value >= 100).
  std::vector<int> streams;
  bool all_streams = false;
  bool disabled = false;  // DisableAudio
};

// Targets[].Subtitle.Stream: which subtitle streams inside the source become renditions.
struct SubtitleRequest {
  std::vector<int> streams;  // indexes among the source's subtitle streams
  bool all_streams = true;   // the default: every text subtitle stream
};

struct TargetRequest {
  ObjectUri uri;  // the prefix: the playlist is uri.key + ".m3u8"
  double duration = 10;
  std::vector<double> initial_segments;
  double initial_transcode = 30;  // seconds; <0: all
  int transcode_ahead = 0;        // segments (default: enough for 120 s)
  bool has_video = false;
  VideoRequest video;
  bool has_audio = false;
  AudioRequest audio;
  bool has_subtitle = false;  // a Subtitle object was given
  SubtitleRequest subtitle;
};

// SourceSubtitles[]: a WebVTT, SRT or ASS/SSA file in a bucket.
struct SourceSubtitle {
  ObjectUri uri;
  std::string language;  // "" unknown
};

struct PlaylistRequest {
  ObjectUri source;
  bool has_master = false;
  ObjectUri master;                              // key ends with ".m3u8"
  double source_start = 0, source_duration = 0;  // 0 duration: to the end
  bool skip_existing = false;                    // OverwritePolicy
  std::vector<SourceSubtitle> subtitles;
  std::vector<TargetRequest> targets;
  std::string tags, user_data;  // Tags (a JSON object, as text) and UserData, kept as given
};

bool parse_playlist_request(const std::string& json, PlaylistRequest* request, std::string* error);
// The same with the Code a client gets: InvalidURI when a URI field does not parse (a path
// leaving its bucket, another scheme ...), else InvalidArgument; the message names the field.
bool parse_playlist_request(const std::string& json, PlaylistRequest* request, Failure* failure);

// A FrameRate number as a Rate: 25 -> 25/1, 29.97 -> 30000/1001, 23.976 -> 24000/1001,
// 59.94 -> 60000/1001, else rounded to 1/1000.
Rate frame_rate_from_number(double fps);
// "25", "29.97", "23.976": at most 3 decimals, no trailing zeros.
std::string frame_rate_text(const Rate& rate);

}  // namespace tws
