// SPDX-License-Identifier: LGPL-2.1-or-later
// What a playback request's path names: the object (`/bucket/key`, percent-encoded) and, for
// a segment, its target and index (`dir/name-<token>-<k>.ts`, playlist_file.h's naming).
#pragma once

#include <string>

#include "service/core/errors.h"
#include "service/core/uri.h"

namespace tws {

struct Config;

// Decodes and checks an HTTP path: kInvalidURI (bad encoding, bad key), kUnknownBucket.
bool parse_playback_path(const Config& config, const std::string& encoded_path, ObjectUri* uri,
                         Failure* failure);

struct SegmentName {
  std::string prefix_key;  // the target: its playlist is prefix_key + ".m3u8"
  std::string token;
  int index = 0;
  std::string extension;  // ".ts" or ".vtt"
};

// "dir/name-<32 hex>-<k>.ts" (or ".vtt") -> {"dir/name", token, k, ext}; false for any other key.
bool parse_segment_key(const std::string& key, SegmentName* name);

}  // namespace tws
