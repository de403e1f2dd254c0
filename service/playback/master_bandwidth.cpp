// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playback/master_bandwidth.h"

#include <glib.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "service/playback/playback_path.h"
#include "service/playlist/playlist_file.h"
#include "service/playlist/playlist_signing.h"
#include "service/storage/open_storage.h"
#include "service/storage/storage.h"
#include "service/transcode/produce.h"

namespace tws {
namespace {

// The value of attribute `name` in an attribute list ("A=1,URI=\"x,y\""), quotes removed.
std::string attribute(const std::string& list, const std::string& name) {
  size_t i = 0;
  while (i < list.size()) {
    const size_t eq = list.find('=', i);
    if (eq == std::string::npos) return "";
    const std::string key = list.substr(i, eq - i);
    size_t end = eq + 1;
    std::string value;
    if (end < list.size() && list[end] == '"') {
      const size_t close = list.find('"', end + 1);
      const size_t length = close == std::string::npos ? std::string::npos : close - end - 1;
      value = list.substr(end + 1, length);
      end = close == std::string::npos ? list.size() : close + 1;
    } else {
      const size_t comma = list.find(',', end);
      value = list.substr(end, comma == std::string::npos ? std::string::npos : comma - end);
      end = comma == std::string::npos ? list.size() : comma;
    }
    if (key == name) return value;
    i = end < list.size() && list[end] == ',' ? end + 1 : end;
  }
  return "";
}

// The line with attribute `name`'s (unquoted, numeric) value set to `value`.
std::string with_attribute(const std::string& line, const std::string& name, int64_t value) {
  const std::string key = name + "=";
  size_t at = line.find(':');
  while (at != std::string::npos) {
    at = line.find(key, at);
    if (at == std::string::npos) return line;
    if (line[at - 1] == ':' || line[at - 1] == ',') break;
    at += key.size();
  }
  const size_t start = at + key.size();
  const size_t end = std::min(line.find(',', start), line.size());
  return line.substr(0, start) + std::to_string(value) + line.substr(end);
}

}  // namespace

MeasuredRate measure_rendition(const Config& config, const ObjectUri& playlist, int limit) {
  MeasuredRate m;
  StoredPlaylist p;
  Failure failure;
  if (!load_stored_playlist(config, playlist, &p, &failure)) return m;
  auto storage = open_bucket(config, playlist.bucket, &failure);
  if (!storage) return m;
  m.total = int(p.plan.segments.size());
  const std::string ext = segment_extension(p.record);
  const std::string first = segment_key(p.prefix_key, p.record.token, 0, ext.c_str());
  const std::string prefix = first.substr(0, first.size() - ext.size() - 1);  // "...-<token>-"
  std::vector<std::string> keys;
  StorageError error;
  if (storage->list(prefix, &keys, &error) != StorageStatus::kOk) return m;
  double bits = 0, seconds = 0;
  for (const std::string& key : keys) {
    SegmentName name;
    if (m.known >= limit || !parse_segment_key(key, &name) || name.prefix_key != p.prefix_key ||
        name.token != p.record.token || name.index >= m.total)
      continue;
    ObjectStat st;
    if (storage->stat(key, &st, &error) != StorageStatus::kOk) continue;
    const double extinf = p.plan.segments[size_t(name.index)].extinf;
    if (!(extinf > 0)) continue;
    m.peak = std::max(m.peak, int64_t(double(st.size) * 8 / extinf + 0.5));
    bits += double(st.size) * 8;
    seconds += extinf;
    ++m.known;
  }
  if (seconds > 0) m.average = int64_t(bits / seconds + 0.5);
  return m;
}

std::string refine_master_bandwidth(const Config& config, const ObjectUri& master,
                                    const std::string& text) {
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
  }
  // Audio groups: id -> renditions' measures (DEFAULT first).
  std::map<std::string, std::vector<MeasuredRate>> groups;
  for (const std::string& line : lines) {
    if (line.rfind("#EXT-X-MEDIA:", 0) != 0) continue;
    const std::string attrs = line.substr(13);
    if (attribute(attrs, "TYPE") != "AUDIO") continue;
    ObjectUri uri;
    if (!resolve_playlist_reference(master, attribute(attrs, "URI"), &uri)) continue;
    auto& group = groups[attribute(attrs, "GROUP-ID")];
    const MeasuredRate m = measure_rendition(config, uri);
    if (attribute(attrs, "DEFAULT") == "YES")
      group.insert(group.begin(), m);
    else
      group.push_back(m);
  }
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i].rfind("#EXT-X-STREAM-INF:", 0) != 0) continue;
    const std::string attrs = lines[i].substr(18);
    size_t uri_line = i + 1;
    while (uri_line < lines.size() && (lines[uri_line].empty() || lines[uri_line][0] == '#'))
      ++uri_line;
    ObjectUri uri;
    if (uri_line >= lines.size() || !resolve_playlist_reference(master, lines[uri_line], &uri))
      continue;
    MeasuredRate total = measure_rendition(config, uri);
    if (total.known == 0) continue;
    bool complete = total.complete(), known = true;
    const std::string group_id = attribute(attrs, "AUDIO");
    if (!group_id.empty()) {
      const auto& group = groups[group_id];
      if (group.empty()) continue;
      int64_t audio_peak = 0;
      for (const MeasuredRate& a : group) {
        known = known && a.known > 0;
        complete = complete && a.complete();
        audio_peak = std::max(audio_peak, a.peak);
      }
      if (!known) continue;
      total.peak += audio_peak;
      total.average += group.front().average;
    }
    const int64_t estimate = g_ascii_strtoll(attribute(attrs, "BANDWIDTH").c_str(), nullptr, 10);
    lines[i] = with_attribute(lines[i], "BANDWIDTH",
                              complete ? total.peak : std::max(estimate, total.peak));
    lines[i] = with_attribute(lines[i], "AVERAGE-BANDWIDTH", total.average);
  }
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

}  // namespace tws
