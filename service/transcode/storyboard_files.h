// SPDX-License-Identifier: LGPL-2.1-or-later
// Trick-play storyboards of a media playlist, stored next to it like its segments:
//   PREFIX-<token>-storyboard.vtt        the WebVTT storyboard (one cue per thumbnail)
//   PREFIX-<token>-storyboard-<n>.jpg    its sprites, 10 x 10 thumbnails 160 px wide each
// made from the source's keyframes (pipelines/storyboard.h) in a media worker, the first time
// a player asks for either; made again when one is deleted. The sprites are stored before
// the WebVTT, so a stored WebVTT means its sprites were stored.
#pragma once

#include <string>
#include <vector>

#include "service/core/config.h"
#include "service/core/errors.h"
#include "service/playlist/stored_playlist.h"

namespace tws {

// The comment line that names a media playlist's storyboard as served (playback.cpp).
inline constexpr const char* kStoryboardTag = "#TWS-STORYBOARD:";

struct StoryboardName {
  std::string prefix_key;  // the target: its playlist is prefix_key + ".m3u8"
  std::string token;
  int sprite = -1;  // -1: the WebVTT
};

// "dir/name-<32 hex>-storyboard.vtt" or "...-storyboard-<n>.jpg"; false for any other key.
bool parse_storyboard_key(const std::string& key, StoryboardName* name);
std::string storyboard_vtt_key(const std::string& prefix_key, const std::string& token);
std::string storyboard_sprite_key(const std::string& prefix_key, const std::string& token,
                                  int sprite);

// Whether a playlist has a storyboard: a target with video.
bool has_storyboard(const PlaylistRecord& record);

// Makes the storyboard of `playlist` and stores it (sprites, then the WebVTT); *vtt is its
// text, *stored the keys written. One thumbnail per source keyframe, at most one per
// max(2 s, duration / 300).
bool make_storyboard_files(const Config& config, const StoredPlaylist& playlist, std::string* vtt,
                           std::vector<std::string>* stored, Failure* failure);

}  // namespace tws
