// SPDX-License-Identifier: LGPL-2.1-or-later
// The media playlist hlssegsink writes (RFC 8216): one entry per segment still listed, each
// with its exact duration.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace tws {

enum class PlaylistType { kNone, kEvent, kVod };

struct PlaylistEntry {
  std::string uri;       // as written in the playlist (relative to it, or absolute)
  uint64_t duration_ns;  // media duration of the segment
};

struct MediaPlaylist {
  PlaylistType type = PlaylistType::kNone;
  uint64_t media_sequence = 0;  // of entries.front()
  std::deque<PlaylistEntry> entries;
  // EXT-X-TARGETDURATION is at least this (seconds), and at least every listed EXTINF rounded
  // up, so no EXTINF rounded to the nearest integer exceeds it (RFC 8216, 4.3.3.1).
  unsigned min_target_duration = 1;
  bool ended = false;  // EXT-X-ENDLIST

  unsigned target_duration() const;
  std::string render() const;
};

// "#EXTINF" value: seconds with 6 decimals ("4.004000").
std::string format_extinf_ns(uint64_t duration_ns);

}  // namespace tws
