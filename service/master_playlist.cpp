#include "service/master_playlist.h"

#include <glib.h>

#include <cmath>
#include <sstream>

#include "service/uri.h"

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

}  // namespace

MasterVariant make_variant(const std::string& playlist_key, const VideoTarget& video,
                           const AudioTarget* audio) {
  MasterVariant v;
  v.playlist_key = playlist_key;
  v.width = video.width;
  v.height = video.height;
  v.frame_rate = video.frame_rate;
  int64_t video_peak = video.max_bitrate;
  if (!video_peak && video.bitrate) video_peak = int64_t(video.bitrate) * 5 / 4;
  if (!video_peak)  // CRF: a generous estimate, 0.1 bit per pixel
    video_peak = std::llround(double(video.width) * video.height * video.frame_rate.value() * 0.1);
  const int64_t audio_rate = audio ? audio->bitrate : 0;
  v.bandwidth = (video_peak + audio_rate) * 105 / 100;  // MPEG-TS overhead
  v.codecs = video.codec == "h265" ? "hvc1.1.6.L120.90" : "avc1.640028";
  if (audio) v.codecs += ",mp4a.40.2";
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
                                 const std::vector<MasterVariant>& variants) {
  std::ostringstream out;
  out << "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const MasterVariant& v : variants) {
    char rate[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(rate, sizeof rate, "%.3f", v.frame_rate.value());
    out << "#EXT-X-STREAM-INF:BANDWIDTH=" << v.bandwidth << ",RESOLUTION=" << v.width << "x"
        << v.height << ",FRAME-RATE=" << rate << ",CODECS=\"" << v.codecs << "\"\n"
        << relative_uri(master_key, v.playlist_key) << "\n";
  }
  return out.str();
}

}  // namespace tws
