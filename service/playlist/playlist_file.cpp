// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playlist/playlist_file.h"

#include <glib.h>

#include <sstream>

#include "service/core/json_text.h"
#include "service/core/uri.h"
#include "service/playlist/token.h"

namespace tws {

std::string playlist_key_for_prefix(const std::string& prefix_key) { return prefix_key + ".m3u8"; }

std::string prefix_of_playlist_key(const std::string& playlist_key) {
  if (!g_str_has_suffix(playlist_key.c_str(), ".m3u8") || playlist_key.size() <= 5) return "";
  return playlist_key.substr(0, playlist_key.size() - 5);
}

std::string segment_file_name(const std::string& prefix_key, const std::string& token, int index,
                              const char* extension) {
  const auto slash = prefix_key.rfind('/');
  const std::string name = slash == std::string::npos ? prefix_key : prefix_key.substr(slash + 1);
  return name + "-" + token + "-" + std::to_string(index) + extension;
}

std::string segment_key(const std::string& prefix_key, const std::string& token, int index,
                        const char* extension) {
  const auto slash = prefix_key.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : prefix_key.substr(0, slash + 1);
  return dir + segment_file_name(prefix_key, token, index, extension);
}

const char* segment_extension(const PlaylistRecord& record) {
  return record.has_subtitle ? ".vtt" : ".ts";
}

std::string media_playlist_text(const std::string& prefix_key, const PlaylistRecord& record,
                                const Plan& plan) {
  JsonNodePtr json = record_to_json(record);
  std::ostringstream out;
  out << "#EXTM3U\n"
      << "#EXT-X-VERSION:3\n"
      << "#EXT-X-TARGETDURATION:" << plan.target_duration << "\n"
      << "#EXT-X-MEDIA-SEQUENCE:0\n"
      << "#EXT-X-PLAYLIST-TYPE:VOD\n"
      << kRecordPrefix << canonical_json(json.get()) << "\n";
  for (const PlannedSegment& s : plan.segments) {
    out << "#EXTINF:" << format_extinf(s.extinf) << ",\n"
        << percent_encode_path(
               segment_file_name(prefix_key, record.token, s.index, segment_extension(record)))
        << "\n";
  }
  out << "#EXT-X-ENDLIST\n";
  return out.str();
}

bool parse_media_playlist(const std::string& text, PlaylistRecord* record, std::string* error) {
  if (text.rfind("#EXTM3U", 0) != 0) {
    *error = "not an HLS playlist";
    return false;
  }
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(kRecordPrefix, 0) != 0) continue;
    std::string why;
    JsonNodePtr json = json_from_text(line.substr(std::string(kRecordPrefix).size()), &why);
    if (!json) {
      *error = "the playlist record is not JSON: " + why;
      return false;
    }
    PlaylistRecord r;
    if (!record_from_json(json.get(), &r, &why)) {
      *error = "bad playlist record: " + why;
      return false;
    }
    if (!is_token(r.token) || compute_token(r) != r.token) {
      *error = "the playlist record does not match its token";
      return false;
    }
    *record = std::move(r);
    return true;
  }
  *error = "not a tws playlist (no record line)";
  return false;
}

}  // namespace tws
