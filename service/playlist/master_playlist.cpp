// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playlist/master_playlist.h"

#include <glib.h>

#include <cmath>
#include <sstream>

#include "pipelines/codec_level.h"
#include "service/core/uri.h"

namespace tws {
namespace {

std::vector<std::string> split(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const auto slash = key.find('/', start);
    parts.push_back(key.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

// A quoted-string attribute value: HLS allows no '"' or line break inside.
std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) out += (c == '"' || c == '\n' || c == '\r') ? '\'' : c;
  return out + "\"";
}

}  // namespace

int64_t estimated_video_peak(const VideoTarget& video) {
  if (video.max_bitrate) return video.max_bitrate;
  if (video.bitrate) return int64_t(video.bitrate) * 5 / 4;
  // CRF: 0.1 bit per pixel, generous for CRF 23 and above; the served master is refined from
  // the real segment sizes once they exist (master_bandwidth.h).
  return std::llround(double(video.width) * video.height * video.frame_rate.value() * 0.1);
}

int64_t estimated_video_average(const VideoTarget& video) {
  if (video.bitrate) return video.bitrate;
  return estimated_video_peak(video) * 2 / 3;
}

int64_t with_ts_overhead(int64_t bits_per_second) { return bits_per_second * 105 / 100; }

MasterVariant make_variant(const std::string& playlist_key, const VideoTarget& video,
                           const AudioTarget* audio, const AudioTarget* group_audio) {
  MasterVariant v;
  v.playlist_key = playlist_key;
  v.width = video.width;
  v.height = video.height;
  v.frame_rate = video.frame_rate;
  const AudioTarget* sound = audio ? audio : group_audio;
  const int64_t audio_rate = sound ? sound->bitrate : 0;
  v.bandwidth = with_ts_overhead(estimated_video_peak(video) + audio_rate);
  v.average_bandwidth = with_ts_overhead(estimated_video_average(video) + audio_rate);
  v.codecs = video_codecs_string(video);
  if (sound) v.codecs += ",mp4a.40.2";
  v.audio_group = group_audio != nullptr;
  return v;
}

std::string relative_uri(const std::string& from_key, const std::string& to_key) {
  std::vector<std::string> from = split(from_key), to = split(to_key);
  from.pop_back();  // the directory the URI is relative to
  size_t common = 0;
  while (common < from.size() && common + 1 < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (size_t i = common; i < from.size(); ++i) out += "../";
  for (size_t i = common; i < to.size(); ++i) {
    out += percent_encode_path(to[i]);
    if (i + 1 < to.size()) out += '/';
  }
  return out;
}

std::string master_playlist_text(const std::string& master_key,
                                 const std::vector<MasterVariant>& variants,
                                 const std::vector<MasterMedia>& media) {
  std::ostringstream out;
  out << "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const MasterMedia& m : media) {
    out << "#EXT-X-MEDIA:TYPE=" << (m.subtitles ? "SUBTITLES" : "AUDIO")
        << ",GROUP-ID=" << quoted(m.subtitles ? kSubtitleGroup : kAudioGroup)
        << ",NAME=" << quoted(m.name);
    if (!m.language.empty()) out << ",LANGUAGE=" << quoted(m.language);
    out << ",DEFAULT=" << (m.is_default ? "YES" : "NO") << ",AUTOSELECT=YES";
    if (!m.subtitles && m.channels > 0) out << ",CHANNELS=" << quoted(std::to_string(m.channels));
    out << ",URI=" << quoted(relative_uri(master_key, m.playlist_key)) << "\n";
  }
  for (const MasterVariant& v : variants) {
    out << "#EXT-X-STREAM-INF:BANDWIDTH=" << v.bandwidth;
    if (v.average_bandwidth > 0) out << ",AVERAGE-BANDWIDTH=" << v.average_bandwidth;
    if (v.width > 0) {
      char rate[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd(rate, sizeof rate, "%.3f", v.frame_rate.value());
      out << ",RESOLUTION=" << v.width << "x" << v.height << ",FRAME-RATE=" << rate;
    }
    out << ",CODECS=" << quoted(v.codecs);
    if (v.audio_group) out << ",AUDIO=" << quoted(kAudioGroup);
    if (v.subtitle_group) out << ",SUBTITLES=" << quoted(kSubtitleGroup);
    out << "\n" << relative_uri(master_key, v.playlist_key) << "\n";
  }
  return out.str();
}

}  // namespace tws
