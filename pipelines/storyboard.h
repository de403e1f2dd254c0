// SPDX-License-Identifier: LGPL-2.1-or-later
// Trick-play thumbnails: small pictures of the source's keyframes, tiled into sprite JPEGs,
// and the WebVTT storyboard that tells a player which tile shows which time
// ("sprite.jpg#xywh=x,y,w,h", as video.js, JW Player and Vidstack read it).
//
// Only keyframes are decoded: the source is read with a key-unit trick-mode seek, so
// demuxers with an index (MP4, Matroska, AVI) jump from keyframe to keyframe and decoders
// drop everything else. A 10-minute 1080p source with a keyframe every 2 s costs a few
// hundred picture decodes, not 15000.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipelines/media_error.h"

namespace tws {

struct StoryboardRequest {
  std::string source;                // rangesrc location
  int64_t source_start_ns = 0;       // media time 0 in the source (SourceStartTime)
  int64_t duration_ns = 0;           // media time covered: [0, duration)
  int tile_width = 160;              // px; the height follows the display aspect (even)
  int64_t interval_ns = 2000000000;  // at most one thumbnail per interval (keyframes closer
                                     // together are skipped)
  int columns = 10;                  // tiles per sprite row
  int rows = 10;                     // tile rows per sprite
  int64_t timeout_ns = 120000000000;
};

struct Thumbnail {
  int64_t time_ns = 0;  // media time of the keyframe shown
  int sprite = 0;       // index into Storyboard::sprites
  int x = 0, y = 0;     // tile position in the sprite, px
};

struct Storyboard {
  int tile_width = 0, tile_height = 0;
  std::vector<Thumbnail> thumbnails;  // in time order
  std::vector<std::string> sprites;   // JPEG bytes
};

// False with *error: the GStreamer error that ended it, or a reason (no video stream, a
// timeout).
bool make_storyboard(const StoryboardRequest& request, Storyboard* out, MediaError* error);
// The same with the error's one-line message only.
bool make_storyboard(const StoryboardRequest& request, Storyboard* out, std::string* error);

// The WebVTT storyboard: one cue per thumbnail, from its time (0 for the first) to the next
// one's (duration_ns for the last), pointing at sprite_uri(sprite index) with #xywh.
std::string storyboard_vtt(const Storyboard& board, int64_t duration_ns,
                           const std::function<std::string(int)>& sprite_uri);

}  // namespace tws
