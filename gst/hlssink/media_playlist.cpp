// SPDX-License-Identifier: LGPL-2.1-or-later
#include "media_playlist.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace tws {

namespace {
constexpr uint64_t kSecond = 1000000000;
}  // namespace

std::string format_extinf_ns(uint64_t duration_ns) {
  // Rounded to the microsecond, written without floating point.
  uint64_t us = (duration_ns + 500) / 1000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
  return buf;
}

unsigned MediaPlaylist::target_duration() const {
  uint64_t longest = 0;
  for (const PlaylistEntry& e : entries) longest = std::max(longest, e.duration_ns);
  // Whole seconds, rounded up from the microseconds written in EXTINF.
  uint64_t us = (longest + 500) / 1000;
  auto seconds = static_cast<unsigned>((us + 999999) / 1000000);
  return std::max({seconds, min_target_duration, 1u});
}

std::string MediaPlaylist::render() const {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target_duration()) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(media_sequence) + "\n";
  if (type == PlaylistType::kEvent) out += "#EXT-X-PLAYLIST-TYPE:EVENT\n";
  if (type == PlaylistType::kVod) out += "#EXT-X-PLAYLIST-TYPE:VOD\n";
  for (const PlaylistEntry& e : entries)
    out += "#EXTINF:" + format_extinf_ns(e.duration_ns) + ",\n" + e.uri + "\n";
  if (ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace tws
