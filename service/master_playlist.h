// A simple master playlist over a request's video renditions (#EXT-X-STREAM-INF with
// relative URIs). Audio/subtitle renditions come with a later issue.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/plan.h"
#include "pipelines/target.h"

namespace tws {

struct MasterVariant {
  std::string playlist_key;  // the rendition's media playlist
  int64_t bandwidth = 0;     // peak bits/s, as HLS wants
  int width = 0, height = 0;
  Rate frame_rate;
  std::string codecs;
};

// A variant for a rendition with video (and optionally audio): BANDWIDTH from MaxBitrate,
// Bitrate, or an estimate for CRF.
MasterVariant make_variant(const std::string& playlist_key, const VideoTarget& video,
                           const AudioTarget* audio);

// `to_key` as a URI relative to the object `from_key` ("a/m.m3u8", "a/b/x.m3u8" -> "b/x.m3u8";
// "a/m.m3u8", "c/x.m3u8" -> "../c/x.m3u8"), each segment percent-encoded.
std::string relative_uri(const std::string& from_key, const std::string& to_key);

std::string master_playlist_text(const std::string& master_key,
                                 const std::vector<MasterVariant>& variants);

}  // namespace tws
