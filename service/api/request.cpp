// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/api/request.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "service/core/json_fields.h"
#include "service/core/json_text.h"

namespace tws {
namespace {

constexpr int kMaxTargets = 6;
constexpr int kMaxInitialSegments = 6;
constexpr guint kMaxSourceSubtitles = 2;
constexpr size_t kMaxUserData = 1024;

std::string path_of(const std::string& base, const char* member) {
  return base.empty() ? member : base + "." + member;
}

// "out/a/master.m3u8" -> "out/a/" (what every target's key must start with).
std::string master_directory(const std::string& master_key) {
  const auto slash = master_key.rfind('/');
  return slash == std::string::npos ? "" : master_key.substr(0, slash + 1);
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
    *error =
        f.name(member) + ": must be between " + std::to_string(lo) + " and " + std::to_string(hi);
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

// Set by uri_field() when a URI does not parse: the request then fails with InvalidURI,
// not InvalidArgument (parse_playlist_request with a Failure). One parse runs on one thread.
thread_local bool t_bad_uri = false;

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
    t_bad_uri = true;
    return false;
  }
  return true;
}

bool parse_video(JsonObject* video, const std::string& path, VideoRequest* v, std::string* error) {
  JsonObject* tv = nullptr;
  const JsonFields outer(video, path);
  if (!outer.object("TranscodeVideo", &tv, error) ||
      !outer.boolean("DisableVideo", &v->disabled, error) || !outer.no_other_members(error))
    return false;
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
         option_field(f, "FrameRateOption", &v->adaptive_frame_rate, error) &&
         f.no_other_members(error);
}

// A Stream list: indexes (0 = the first), a value >= 100 meaning all; duplicates dropped.
bool stream_indexes(JsonArray* streams, const std::string& name, std::vector<int>* out, bool* all,
                    std::string* error) {
  out->clear();
  *all = false;
  const guint n = json_array_get_length(streams);
  if (n > 16) {
    *error = name + ": at most 16 values";
    return false;
  }
  for (guint i = 0; i < n; ++i) {
    double s = -1;
    if (!json_node_number(json_array_get_element(streams, i), &s) || s < 0 || s != std::floor(s)) {
      *error = name + ": must be stream indexes (0 = the first, >= 100 = all)";
      return false;
    }
    if (s >= 100)
      *all = true;
    else if (std::find(out->begin(), out->end(), int(s)) == out->end())
      out->push_back(int(s));
  }
  if (*all) out->clear();
  return true;
}

bool parse_audio(JsonObject* audio, const std::string& path, AudioRequest* a, std::string* error) {
  JsonFields outer(audio, path);
  JsonObject* ta = nullptr;
  JsonArray* streams = nullptr;
  if (!outer.object("TranscodeAudio", &ta, error) || !outer.array("Stream", &streams, error))
    return false;
  if (streams &&
      !stream_indexes(streams, outer.name("Stream"), &a->streams, &a->all_streams, error))
    return false;
  if (!outer.boolean("DisableAudio", &a->disabled, error) || !outer.no_other_members(error))
    return false;
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
  return f.no_other_members(error);
}

bool parse_target(JsonNode* node, const std::string& path, TargetRequest* t, std::string* error) {
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
    JsonArray* streams = nullptr;
    const JsonFields sf(subtitle, f.name("Subtitle"));
    if (!sf.array("Stream", &streams, error)) return false;
    if (streams && !stream_indexes(streams, sf.name("Stream"), &t->subtitle.streams,
                                   &t->subtitle.all_streams, error))
      return false;
    if (!sf.no_other_members(error)) return false;
    t->has_subtitle = true;
  }
  if (!f.no_other_members(error)) return false;
  if (!video && !audio) {
    *error = path + ": needs Video or Audio";
    return false;
  }
  if ((video && !parse_video(video, f.name("Video"), &t->video, error)) ||
      (audio && !parse_audio(audio, f.name("Audio"), &t->audio, error)))
    return false;
  t->has_video = video != nullptr && !t->video.disabled;
  t->has_audio = audio != nullptr && !t->audio.disabled;
  if (!t->has_video && !t->has_audio) {
    *error = path + ": DisableVideo and DisableAudio leave nothing to make";
    return false;
  }
  return true;
}

bool parse_source_subtitles(const JsonFields& f, std::vector<SourceSubtitle>* out,
                            std::string* error) {
  JsonArray* list = nullptr;
  if (!f.array("SourceSubtitles", &list, error)) return false;
  const guint n = list ? json_array_get_length(list) : 0;
  if (n > kMaxSourceSubtitles) {
    *error = "SourceSubtitles: at most 2 files";
    return false;
  }
  for (guint i = 0; i < n; ++i) {
    const std::string path = "SourceSubtitles[" + std::to_string(i) + "]";
    JsonNode* node = json_array_get_element(list, i);
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
      *error = path + ": must be an object";
      return false;
    }
    JsonFields sf(json_node_get_object(node), path);
    SourceSubtitle sub;
    bool present = false;
    if (!uri_field(sf, "URI", true, &sub.uri, &present, error) ||
        !sf.string("Language", &sub.language, error))
      return false;
    if (sub.language.size() > 16 ||
        !std::all_of(sub.language.begin(), sub.language.end(),
                     [](char c) { return g_ascii_isalnum(c) || c == '-'; })) {
      *error = sf.name("Language") + ": must be a language code such as \"eng\" or \"pt-BR\"";
      return false;
    }
    if (!sf.no_other_members(error)) return false;
    out->push_back(std::move(sub));
  }
  return true;
}

// Tags: an object of strings; UserData: a string. Both kept in the records as given.
bool parse_user_fields(JsonObject* root, PlaylistRequest* r, std::string* error) {
  const JsonFields f(root, "");
  if (!f.string("UserData", &r->user_data, error)) return false;
  if (r->user_data.size() > kMaxUserData) {
    *error = "UserData: at most 1024 bytes";
    return false;
  }
  JsonObject* tags = nullptr;
  if (!f.object("Tags", &tags, error)) return false;
  if (!tags) return true;
  if (json_object_get_size(tags) > 16) {
    *error = "Tags: at most 16 tags";
    return false;
  }
  GList* members = json_object_get_members(tags);
  for (GList* m = members; m; m = m->next) {
    JsonNode* v = json_object_get_member(tags, static_cast<const char*>(m->data));
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING ||
        strlen(static_cast<const char*>(m->data)) > 128 || strlen(json_node_get_string(v)) > 256) {
      *error = std::string("Tags.") + static_cast<const char*>(m->data) +
               ": must be a string of at most 256 bytes (names at most 128)";
      g_list_free(members);
      return false;
    }
  }
  g_list_free(members);
  r->tags = json_to_text(json_object_get_member(root, "Tags"), false);
  return true;
}

// The member of the request whose output would be the object `uri` (a playlist, a segment,
// a master or one of its renditions), or "".
std::string writer_of(const PlaylistRequest& r, const ObjectUri& uri) {
  const std::string& key = uri.key;
  // A segment key: PREFIX-<32 hex digits>-<k>.ts (or .vtt).
  const auto is_segment_of = [&key](const std::string& prefix) {
    if (!key.starts_with(prefix + "-")) return false;
    const std::string rest = key.substr(prefix.size() + 1);
    const auto dash = rest.find('-');
    return dash == 32 && (rest.ends_with(".ts") || rest.ends_with(".vtt"));
  };
  for (size_t i = 0; i < r.targets.size(); ++i) {
    const ObjectUri& t = r.targets[i].uri;
    if (t.bucket == uri.bucket && (key == t.key + ".m3u8" || is_segment_of(t.key)))
      return "Targets[" + std::to_string(i) + "].URI";
  }
  if (r.has_master && r.master.bucket == uri.bucket) {
    const std::string base = r.master.key.substr(0, r.master.key.size() - 5);  // no .m3u8
    if (key == r.master.key || key.starts_with(base + "-audio-") || key.starts_with(base + "-sub-"))
      return "MasterURI";
  }
  return "";
}

}  // namespace

bool parse_playlist_request(const std::string& json, PlaylistRequest* request, Failure* failure) {
  t_bad_uri = false;
  std::string error;
  if (parse_playlist_request(json, request, &error)) return true;
  return set_failure(failure, t_bad_uri ? ErrorCode::kInvalidURI : ErrorCode::kInvalidArgument,
                     error);
}

bool parse_playlist_request(const std::string& json, PlaylistRequest* request, std::string* error) {
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
  if (!parse_source_subtitles(f, &r.subtitles, error) ||
      !parse_user_fields(json_node_get_object(root.get()), &r, error))
    return false;
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
  // Members of the reference API that tws reads elsewhere (Tags, UserData) or accepts and does
  // not act on (its project, credential and notification settings), so its clients move
  // over unchanged.
  if (!f.no_other_members(error,
                          {"Tags", "UserData", "ProjectName", "CredentialConfig", "Notification"}))
    return false;
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
    if (r.has_master && (t.uri.bucket != r.master.bucket ||
                         !t.uri.key.starts_with(master_directory(r.master.key)))) {
      *error = path + ".URI: must be under the MasterURI's directory (" +
               ObjectUri{r.master.bucket, master_directory(r.master.key)}.to_string() + ")";
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
  // The video renditions of one master share the segment plan, so a switch lands on the same
  // boundary (audio-only targets are playlists of their own).
  const TargetRequest* first_video = nullptr;
  for (size_t i = 0; r.has_master && i < r.targets.size(); ++i) {
    const TargetRequest& t = r.targets[i];
    if (!t.has_video) continue;
    if (!first_video) {
      first_video = &t;
      continue;
    }
    const std::string path = "Targets[" + std::to_string(i) + "]";
    if (t.duration != first_video->duration) {
      *error = path + ".Duration: must be the same as the first video target's (" +
               number_text(first_video->duration) + ") in one master playlist";
      return false;
    }
    if (t.initial_segments != first_video->initial_segments) {
      *error = path +
               ".InitialSegments: must be the same as the first video target's in one "
               "master playlist";
      return false;
    }
  }
  if (!r.subtitles.empty() && !r.has_master) {
    *error = "MasterURI: required with SourceSubtitles";
    return false;
  }
  // Nothing the request writes may replace what it reads.
  std::vector<std::pair<std::string, ObjectUri>> read = {{"SourceURI", r.source}};
  for (size_t i = 0; i < r.subtitles.size(); ++i)
    read.push_back({"SourceSubtitles[" + std::to_string(i) + "].URI", r.subtitles[i].uri});
  for (const auto& [name, uri] : read)
    if (std::string writer = writer_of(r, uri); !writer.empty()) {
      *error = writer + ": would write " + uri.to_string() + ", the " + name;
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
