// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/api/resolve.h"

#include <algorithm>

#include "pipelines/geometry.h"

namespace tws {
namespace {

VideoTarget resolve_video(const VideoRequest& req, const VideoStreamInfo& src,
                          const std::string& preset) {
  VideoTarget v;
  v.codec = req.codec;
  v.crf = req.crf;
  v.bitrate = req.bitrate;
  v.max_bitrate = req.max_bitrate;
  v.buffer_size = req.buffer_size;
  if (req.adaptive_bitrate && src.bitrate > 0 && v.bitrate > src.bitrate) {
    v.bitrate = int(src.bitrate);
    if (v.max_bitrate && v.max_bitrate < v.bitrate) v.max_bitrate = v.bitrate;
  }
  // The target's requested rotation turns the source's display picture further.
  int src_w = src.display_width(), src_h = src.display_height();
  if (req.rotation % 180 != 0) std::swap(src_w, src_h);
  const OutputGeometry g =
      resolve_geometry(src_w, src_h, req.resolution, req.scale_type, req.adaptive_resolution);
  v.width = g.width;
  v.height = g.height;
  v.picture_width = g.picture_width;
  v.picture_height = g.picture_height;
  v.scale_type = req.scale_type;

  Rate rate = req.frame_rate.valid() ? req.frame_rate : src.frame_rate;
  if (req.frame_rate.valid() && req.adaptive_frame_rate && src.frame_rate.valid() &&
      src.frame_rate.value() < req.frame_rate.value())
    rate = src.frame_rate;
  v.frame_rate = rate.valid() ? rate : Rate{kDefaultFrameRate, 1};
  v.pixel_format = req.pixel_format;
  v.bframes = req.bframes;
  v.refs = req.refs;
  v.rotation = req.rotation;
  v.source_rotation = src.rotation;
  v.preset = preset;
  return v;
}

AudioTarget resolve_audio(const AudioRequest& req, const AudioStreamInfo& src) {
  AudioTarget a;
  a.codec = req.codec;
  a.bitrate = req.bitrate;
  a.sample_rate = req.sample_rate;
  a.channels = req.channels > 0 ? req.channels : (src.channels > 0 ? std::min(src.channels, 2) : 2);
  a.stream = req.streams.empty() ? 0 : req.streams.front();
  return a;
}

}  // namespace

std::vector<int> audio_streams_of(const TargetRequest& target, const SourceInfo& source) {
  if (!target.has_audio || source.audio.empty()) return {};
  if (target.audio.all_streams) {
    std::vector<int> all(source.audio.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = int(i);
    return all;
  }
  return target.audio.streams.empty() ? std::vector<int>{0} : target.audio.streams;
}

bool clipped_duration(const PlaylistRequest& request, const SourceInfo& source, double* duration,
                      std::string* error) {
  if (!(source.duration > 0)) {
    *error = "the source has no duration";
    return false;
  }
  if (request.source_start >= source.duration) {
    *error = "SourceStartTime: beyond the end of the source";
    return false;
  }
  double d = source.duration - request.source_start;
  if (request.source_duration > 0) d = std::min(d, request.source_duration);
  *duration = d;
  return true;
}

bool resolve_target(const PlaylistRequest& request, size_t index, const SourceInfo& source,
                    const std::string& preset, ResolvedTarget* out, std::string* error) {
  const TargetRequest& t = request.targets.at(index);
  const std::string path = "Targets[" + std::to_string(index) + "]";
  ResolvedTarget r;
  if (!clipped_duration(request, source, &r.plan.duration, error)) return false;
  r.has_video = t.has_video && !source.video.empty();
  if (r.has_video) r.video = resolve_video(t.video, source.video.front(), preset);
  r.has_audio = t.has_audio && !source.audio.empty();
  if (r.has_audio) {
    for (int s : t.audio.streams) {
      if (s >= int(source.audio.size())) {
        *error = path + ".Audio.Stream: " + std::to_string(s) +
                 " is out of range: the source has " + std::to_string(source.audio.size()) +
                 " audio stream(s)";
        return false;
      }
    }
    const int first = t.audio.streams.empty() ? 0 : t.audio.streams.front();
    r.audio = resolve_audio(t.audio, source.audio[size_t(first)]);
  }
  if (!r.has_video && !r.has_audio) {
    *error = path + ": the source has none of the streams the target asks for";
    return false;
  }
  if (r.has_video && (r.video.width <= 0 || r.video.height <= 0)) {
    *error = path + ".Video: cannot size the picture from the source";
    return false;
  }
  r.plan.frame_rate = r.has_video ? r.video.frame_rate : Rate{};
  r.plan.segment_length = t.duration;
  r.plan.initial_segments = t.initial_segments;
  r.plan.audio_rate = r.has_audio ? r.audio.sample_rate : 0;
  *out = std::move(r);
  return true;
}

}  // namespace tws
