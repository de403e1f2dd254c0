#include "service/request.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "service/json_fields.h"
#include "service/json_text.h"

namespace tws {
namespace {

constexpr int kMaxTargets = 6;
constexpr int kMaxInitialSegments = 6;

std::string path_of(const std::string& base, const char* member) {
  return base.empty() ? member : base + "." + member;
}

bool in_range(double v, double lo, double hi) { return v >= lo && v <= hi; }

std::string number_text(double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%g", v);
  return buf;
}

// An integer member in [lo, hi].
bool int_field(const JsonFields& f, const char* member, int lo, int hi, int* value,
               std::string* error) {
  int64_t v = *value;
  if (!f.integer(member, &v, error)) return false;
  if (f.has(member) && (v < lo || v > hi)) {
    *error = f.name(member) + ": must be between " + std::to_string(lo) + " and " +
             std::to_string(hi);
    return false;
  }
  *value = int(v);
  return true;
}

// A string member that is one of `allowed` (compared without case); stored lower-case.
bool choice_field(const JsonFields& f, const char* member, const std::set<std::string>& allowed,
                  std::string* value, std::string* error) {
  std::string v = *value;
  if (!f.string(member, &v, error)) return false;
  for (char& c : v) c = g_ascii_tolower(c);
  if (!allowed.count(v)) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
    *error = f.name(member) + ": must be " + list;
    return false;
  }
  *value = v;
  return true;
}

bool option_field(const JsonFields& f, const char* member, bool* adaptive, std::string* error) {
  std::string v = *adaptive ? "adaptive" : "fixed";
  if (!choice_field(f, member, {"fixed", "adaptive"}, &v, error)) return false;
  *adaptive = v == "adaptive";
  return true;
}

bool uri_field(const JsonFields& f, const char* member, bool required, ObjectUri* uri,
               bool* present, std::string* error) {
  std::string text;
  if (!f.string(member, &text, error)) return false;
  *present = !text.empty();
  if (text.empty()) {
    if (required) *error = f.name(member) + ": required";
    return !required;
  }
  std::string why;
  if (!parse_object_uri(text, uri, &why)) {
    *error = f.name(member) + ": " + why;
    return false;
  }
  return true;
}

bool parse_video(JsonObject* video, const std::string& path, VideoRequest* v,
                 std::string* error) {
  JsonObject* tv = nullptr;
  if (!JsonFields(video, path).object("TranscodeVideo", &tv, error)) return false;
  if (!tv) {
    v->crf = 23;  // all defaults
    return true;
  }
  const std::string at = path_of(path, "TranscodeVideo");
  JsonFields f(tv, at);
  if (!choice_field(f, "Codec", {"h264", "h265"}, &v->codec, error)) return false;
  if (f.has("CRF") && f.has("Bitrate")) {
    *error = at + ": give CRF or Bitrate, not both";
    return false;
  }
  if (!int_field(f, "CRF", 0, 51, &v->crf, error) ||
      !int_field(f, "Bitrate", 10000, 200000000, &v->bitrate, error) ||
      !int_field(f, "MaxBitrate", 10000, 200000000, &v->max_bitrate, error) ||
      !int_field(f, "BufferSize", 10000, 400000000, &v->buffer_size, error) ||
      !int_field(f, "BFrames", 0, 16, &v->bframes, error) ||
      !int_field(f, "Refs", 1, 16, &v->refs, error) ||
      !int_field(f, "Rotation", 0, 270, &v->rotation, error))
    return false;
  if (v->rotation % 90 != 0) {
    *error = f.name("Rotation") + ": must be 0, 90, 180 or 270";
    return false;
  }
  if (v->crf < 0 && v->bitrate == 0) v->crf = 23;
  if (v->bitrate && v->max_bitrate && v->max_bitrate < v->bitrate) {
    *error = f.name("MaxBitrate") + ": must not be below Bitrate";
    return false;
  }
  double fps = 0;
  if (!f.number("FrameRate", &fps, error)) return false;
  if (f.has("FrameRate")) {
    if (!(fps > 0) || fps > 120) {
      *error = f.name("FrameRate") + ": must be above 0 and at most 120";
      return false;
    }
    v->frame_rate = frame_rate_from_number(fps);
  }
  std::string text, why;
  if (!f.string("Resolution", &text, error)) return false;
  if (!text.empty() && !parse_resolution(text, &v->resolution, &why)) {
    *error = f.name("Resolution") + ": " + why;
    return false;
  }
  text.clear();
  if (!f.string("ScaleType", &text, error)) return false;
  if (!text.empty() && !parse_scale_type(text, &v->scale_type, &why)) {
    *error = f.name("ScaleType") + ": " + why;
    return false;
  }
  return choice_field(f, "PixelFormat", {"yuv420p"}, &v->pixel_format, error) &&
         option_field(f, "ResolutionOption", &v->adaptive_resolution, error) &&
         option_field(f, "BitrateOption", &v->adaptive_bitrate, error) &&
         option_field(f, "FrameRateOption", &v->adaptive_frame_rate, error);
}

bool parse_audio(JsonObject* audio, const std::string& path, AudioRequest* a,
                 std::string* error) {
  JsonFields outer(audio, path);
  JsonObject* ta = nullptr;
  JsonArray* streams = nullptr;
  if (!outer.object("TranscodeAudio", &ta, error) || !outer.array("Stream", &streams, error))
    return false;
  if (streams) {
    std::set<int64_t> chosen;
    for (guint i = 0; i < json_array_get_length(streams); ++i) {
      double s = -1;
      if (!json_node_number(json_array_get_element(streams, i), &s) || s < 0 ||
          s != std::floor(s)) {
        *error = outer.name("Stream") + ": must be stream indexes (0 = the first)";
        return false;
      }
      chosen.insert(s >= 100 ? 0 : int64_t(s));  // >= 100: all; the first for now
    }
    if (chosen.size() > 1) {
      *error = outer.name("Stream") + ": one audio stream per target is supported yet";
      return false;
    }
    if (!chosen.empty()) a->stream = int(*chosen.begin());
  }
  if (!ta) return true;
  const std::string at = path_of(path, "TranscodeAudio");
  JsonFields f(ta, at);
  if (f.has("Quality")) {
    *error = f.name("Quality") + ": not supported yet; give Bitrate";
    return false;
  }
  if (!choice_field(f, "Codec", {"aac"}, &a->codec, error) ||
      !int_field(f, "Bitrate", 8000, 512000, &a->bitrate, error) ||
      !int_field(f, "SampleRate", 8000, 96000, &a->sample_rate, error) ||
      !int_field(f, "Channel", 1, 8, &a->channels, error))
    return false;
  static const std::set<int> kRates = {8000,  11025, 12000, 16000, 22050, 24000,
                                       32000, 44100, 48000, 64000, 88200, 96000};
  if (!kRates.count(a->sample_rate)) {
    *error = f.name("SampleRate") + ": must be a standard AAC rate (8000 ... 96000)";
    return false;
  }
  return true;
}

bool parse_target(JsonNode* node, const std::string& path, TargetRequest* t,
                  std::string* error) {
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    *error = path + ": must be an object";
    return false;
  }
  JsonFields f(json_node_get_object(node), path);
  bool present = false;
  if (!uri_field(f, "URI", true, &t->uri, &present, error)) return false;
  if (g_str_has_suffix(t->uri.key.c_str(), ".m3u8")) t->uri.key.resize(t->uri.key.size() - 5);
  if (t->uri.key.empty() || t->uri.key.back() == '/') {
    *error = f.name("URI") + ": must name a playlist prefix (oss://BUCKET/dir/name)";
    return false;
  }
  if (!f.number("Duration", &t->duration, error)) return false;
  if (!in_range(t->duration, 5, 15)) {
    *error = f.name("Duration") + ": must be between 5 and 15";
    return false;
  }
  JsonArray* initial = nullptr;
  if (!f.array("InitialSegments", &initial, error)) return false;
  if (initial && json_array_get_length(initial) > kMaxInitialSegments) {
    *error = f.name("InitialSegments") + ": at most 6 values";
    return false;
  }
  for (guint i = 0; initial && i < json_array_get_length(initial); ++i) {
    double s = 0;
    const std::string at = f.name("InitialSegments") + "[" + std::to_string(i) + "]";
    if (!json_node_number(json_array_get_element(initial, i), &s)) {
      *error = at + ": must be a number";
      return false;
    }
    if (!in_range(s, 1, t->duration)) {
      *error = at + ": must be between 1 and Duration (" + number_text(t->duration) + ")";
      return false;
    }
    t->initial_segments.push_back(s);
  }
  if (!f.number("InitialTranscode", &t->initial_transcode, error)) return false;
  t->transcode_ahead = int(std::ceil(120.0 / t->duration));
  if (!int_field(f, "TranscodeAhead", 0, 30, &t->transcode_ahead, error)) return false;

  JsonObject *video = nullptr, *audio = nullptr, *subtitle = nullptr;
  if (!f.object("Video", &video, error) || !f.object("Audio", &audio, error) ||
      !f.object("Subtitle", &subtitle, error))
    return false;
  if (subtitle) {
    *error = f.name("Subtitle") + ": subtitles are not supported yet";
    return false;
  }
  if (!video && !audio) {
    *error = path + ": needs Video or Audio";
    return false;
  }
  t->has_video = video != nullptr;
  t->has_audio = audio != nullptr;
  return (!video || parse_video(video, f.name("Video"), &t->video, error)) &&
         (!audio || parse_audio(audio, f.name("Audio"), &t->audio, error));
}

}  // namespace

bool parse_playlist_request(const std::string& json, PlaylistRequest* request,
                            std::string* error) {
  std::string why;
  JsonNodePtr root = json_from_text(json, &why);
  if (!root) {
    *error = "request body: invalid JSON: " + why;
    return false;
  }
  if (!JSON_NODE_HOLDS_OBJECT(root.get())) {
    *error = "request body: must be a JSON object";
    return false;
  }
  PlaylistRequest r;
  JsonFields f(json_node_get_object(root.get()), "");
  bool present = false;
  if (!uri_field(f, "SourceURI", true, &r.source, &present, error) ||
      !uri_field(f, "MasterURI", false, &r.master, &r.has_master, error))
    return false;
  if (r.has_master && !g_str_has_suffix(r.master.key.c_str(), ".m3u8")) r.master.key += ".m3u8";
  JsonArray* subtitles = nullptr;
  if (!f.array("SourceSubtitles", &subtitles, error)) return false;
  if (subtitles && json_array_get_length(subtitles) > 0) {
    *error = "SourceSubtitles: subtitles are not supported yet";
    return false;
  }
  if (!f.number("SourceStartTime", &r.source_start, error) ||
      !f.number("SourceDuration", &r.source_duration, error))
    return false;
  if (r.source_start < 0) {
    *error = "SourceStartTime: must not be negative";
    return false;
  }
  if (r.source_duration < 0) {
    *error = "SourceDuration: must not be negative";
    return false;
  }
  std::string policy = "overwrite";
  if (!choice_field(f, "OverwritePolicy", {"overwrite", "skip-existing"}, &policy, error))
    return false;
  r.skip_existing = policy == "skip-existing";

  JsonArray* targets = nullptr;
  if (!f.array("Targets", &targets, error)) return false;
  const guint n = targets ? json_array_get_length(targets) : 0;
  if (n < 1 || n > kMaxTargets) {
    *error = "Targets: must have 1 to 6 targets";
    return false;
  }
  for (guint i = 0; i < n; ++i) {
    const std::string path = "Targets[" + std::to_string(i) + "]";
    TargetRequest t;
    if (!parse_target(json_array_get_element(targets, i), path, &t, error)) return false;
    for (size_t j = 0; j < r.targets.size(); ++j) {
      if (r.targets[j].uri == t.uri) {
        *error = path + ".URI: the same as Targets[" + std::to_string(j) + "].URI";
        return false;
      }
    }
    if (r.has_master && t.uri.bucket != r.master.bucket) {
      *error = path + ".URI: must be in the MasterURI's bucket";
      return false;
    }
    if (r.has_master && t.uri.key + ".m3u8" == r.master.key) {
      *error = path + ".URI: its playlist would replace the master playlist";
      return false;
    }
    r.targets.push_back(std::move(t));
  }
  if (n > 1 && !r.has_master) {
    *error = "MasterURI: required with more than one target";
    return false;
  }
  *request = std::move(r);
  return true;
}

Rate frame_rate_from_number(double fps) {
  for (int base : {24, 30, 48, 60, 120}) {
    if (std::fabs(fps - base * 1000.0 / 1001.0) < 0.0005) return Rate{base * 1000, 1001};
  }
  if (std::fabs(fps - std::round(fps)) < 1e-9) return Rate{int(std::lround(fps)), 1};
  int num = std::max(1, int(std::lround(fps * 1000)));
  int den = 1000;
  const int g = std::gcd(num, den);
  return Rate{num / g, den / g};
}

std::string frame_rate_text(const Rate& rate) {
  if (!rate.valid()) return "";
  if (rate.num % rate.den == 0) return std::to_string(rate.num / rate.den);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.3f", rate.value());
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace tws
