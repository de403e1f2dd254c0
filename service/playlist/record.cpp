// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playlist/record.h"

#include <algorithm>
#include <cmath>

#include "common/gref.h"
#include "pipelines/geometry.h"
#include "service/core/json_fields.h"

namespace tws {
namespace {

void add_int(JsonBuilder* b, const char* name, int64_t v) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, v);
}
void add_double(JsonBuilder* b, const char* name, double v) {
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, v);
}
void add_string(JsonBuilder* b, const char* name, const std::string& v) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, v.c_str());
}
void add_rate(JsonBuilder* b, const char* name, const Rate& r) {
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  json_builder_add_int_value(b, r.num);
  json_builder_add_int_value(b, r.den);
  json_builder_end_array(b);
}

void add_body(JsonBuilder* b, const PlaylistRecord& r) {
  add_int(b, "Version", r.version);
  json_builder_set_member_name(b, "Source");
  json_builder_begin_object(b);
  add_string(b, "URI", r.source_uri);
  add_int(b, "Size", int64_t(r.source_size));
  add_string(b, "Identity", r.source_identity);
  add_double(b, "StartTime", r.source_start);
  json_builder_end_object(b);
  if (r.has_video) {
    const VideoTarget& v = r.video;
    json_builder_set_member_name(b, "Video");
    json_builder_begin_object(b);
    add_string(b, "Codec", v.codec);
    add_int(b, "CRF", v.crf);
    add_int(b, "Bitrate", v.bitrate);
    add_int(b, "MaxBitrate", v.max_bitrate);
    add_int(b, "BufferSize", v.buffer_size);
    add_int(b, "Width", v.width);
    add_int(b, "Height", v.height);
    add_int(b, "PictureWidth", v.picture_width);
    add_int(b, "PictureHeight", v.picture_height);
    add_string(b, "ScaleType", scale_type_name(v.scale_type));
    add_rate(b, "FrameRate", v.frame_rate);
    add_string(b, "PixelFormat", v.pixel_format);
    add_int(b, "BFrames", v.bframes);
    add_int(b, "Refs", v.refs);
    add_int(b, "Rotation", v.rotation);
    add_int(b, "SourceRotation", v.source_rotation);
    add_string(b, "Preset", v.preset);
    json_builder_end_object(b);
  }
  if (r.has_audio) {
    const AudioTarget& a = r.audio;
    json_builder_set_member_name(b, "Audio");
    json_builder_begin_object(b);
    add_string(b, "Codec", a.codec);
    add_int(b, "Bitrate", a.bitrate);
    add_int(b, "SampleRate", a.sample_rate);
    add_int(b, "Channels", a.channels);
    add_int(b, "Stream", a.stream);
    json_builder_end_object(b);
  }
  if (r.has_subtitle) {
    const SubtitleTrack& t = r.subtitle;
    json_builder_set_member_name(b, "Subtitle");
    json_builder_begin_object(b);
    add_string(b, "URI", t.uri);
    add_int(b, "Size", int64_t(t.size));
    add_string(b, "Identity", t.identity);
    add_int(b, "Stream", t.stream);
    add_string(b, "Language", t.language);
    json_builder_end_object(b);
  }
  const PlanInput& p = r.plan;
  json_builder_set_member_name(b, "Plan");
  json_builder_begin_object(b);
  // Doubles are written in their shortest exact form (json_text.h), so they read back to the
  // same bits and the plan made from a stored record is the plan the playlist was made from.
  add_double(b, "Duration", p.duration);
  add_rate(b, "FrameRate", p.frame_rate);
  add_double(b, "SegmentLength", p.segment_length);
  json_builder_set_member_name(b, "InitialSegments");
  json_builder_begin_array(b);
  for (double s : p.initial_segments) json_builder_add_double_value(b, s);
  json_builder_end_array(b);
  add_int(b, "AudioRate", p.audio_rate);
  json_builder_end_object(b);
}

JsonNodePtr build(const PlaylistRecord& r, bool full) {
  GRef<JsonBuilder> b = adopt_ref(json_builder_new());
  json_builder_begin_object(b.get());
  add_body(b.get(), r);
  if (full) {
    json_builder_set_member_name(b.get(), "Serve");
    json_builder_begin_object(b.get());
    add_double(b.get(), "InitialTranscode", r.initial_transcode);
    add_int(b.get(), "TranscodeAhead", r.transcode_ahead);
    if (!r.tags.empty()) add_string(b.get(), "Tags", r.tags);
    if (!r.user_data.empty()) add_string(b.get(), "UserData", r.user_data);
    json_builder_end_object(b.get());
    add_string(b.get(), "Token", r.token);
  }
  json_builder_end_object(b.get());
  return JsonNodePtr(json_builder_get_root(b.get()));
}

bool read_rate(const JsonFields& f, const char* member, Rate* rate, std::string* error) {
  JsonArray* a = nullptr;
  if (!f.array(member, &a, error)) return false;
  double num = 0, den = 0;
  if (!a || json_array_get_length(a) != 2 ||
      !json_node_number(json_array_get_element(a, 0), &num) ||
      !json_node_number(json_array_get_element(a, 1), &den) || num < 0 || den < 1 || num > 1e6 ||
      den > 1e6) {
    *error = f.name(member) + ": must be [num, den]";
    return false;
  }
  *rate = Rate{int(num), int(den)};
  return true;
}

template <typename Int>
bool read_int(const JsonFields& f, const char* member, Int* value, std::string* error) {
  int64_t v = *value;
  if (!f.integer(member, &v, error)) return false;
  *value = Int(v);
  return true;
}

bool read_video(JsonObject* o, VideoTarget* v, std::string* error) {
  JsonFields f(o, "Video");
  std::string scale;
  if (!f.string("Codec", &v->codec, error) || !read_int(f, "CRF", &v->crf, error) ||
      !read_int(f, "Bitrate", &v->bitrate, error) ||
      !read_int(f, "MaxBitrate", &v->max_bitrate, error) ||
      !read_int(f, "BufferSize", &v->buffer_size, error) ||
      !read_int(f, "Width", &v->width, error) || !read_int(f, "Height", &v->height, error) ||
      !read_int(f, "PictureWidth", &v->picture_width, error) ||
      !read_int(f, "PictureHeight", &v->picture_height, error) ||
      !f.string("ScaleType", &scale, error) || !read_rate(f, "FrameRate", &v->frame_rate, error) ||
      !f.string("PixelFormat", &v->pixel_format, error) ||
      !read_int(f, "BFrames", &v->bframes, error) || !read_int(f, "Refs", &v->refs, error) ||
      !read_int(f, "Rotation", &v->rotation, error) ||
      !read_int(f, "SourceRotation", &v->source_rotation, error) ||
      !f.string("Preset", &v->preset, error))
    return false;
  std::string why;
  if (!parse_scale_type(scale, &v->scale_type, &why)) {
    *error = "Video.ScaleType: " + why;
    return false;
  }
  if (v->width <= 0 || v->height <= 0 || !v->frame_rate.valid()) {
    *error = "Video: missing size or frame rate";
    return false;
  }
  return true;
}

bool read_audio(JsonObject* o, AudioTarget* a, std::string* error) {
  JsonFields f(o, "Audio");
  if (!f.string("Codec", &a->codec, error) || !read_int(f, "Bitrate", &a->bitrate, error) ||
      !read_int(f, "SampleRate", &a->sample_rate, error) ||
      !read_int(f, "Channels", &a->channels, error) || !read_int(f, "Stream", &a->stream, error))
    return false;
  if (a->sample_rate <= 0 || a->channels <= 0) {
    *error = "Audio: missing sample rate or channels";
    return false;
  }
  return true;
}

bool read_subtitle(JsonObject* o, SubtitleTrack* t, std::string* error) {
  JsonFields f(o, "Subtitle");
  int64_t size = 0;
  if (!f.string("URI", &t->uri, error) || !f.integer("Size", &size, error) ||
      !f.string("Identity", &t->identity, error) || !read_int(f, "Stream", &t->stream, error) ||
      !f.string("Language", &t->language, error))
    return false;
  t->size = uint64_t(std::max<int64_t>(size, 0));
  if (t->uri.empty() == (t->stream < 0)) {
    *error = "Subtitle: needs a URI or a Stream";
    return false;
  }
  return true;
}

bool read_plan(JsonObject* o, PlanInput* p, std::string* error) {
  JsonFields f(o, "Plan");
  JsonArray* initial = nullptr;
  if (!f.number("Duration", &p->duration, error) ||
      !read_rate(f, "FrameRate", &p->frame_rate, error) ||
      !f.number("SegmentLength", &p->segment_length, error) ||
      !f.array("InitialSegments", &initial, error) ||
      !read_int(f, "AudioRate", &p->audio_rate, error))
    return false;
  p->initial_segments.clear();
  for (guint i = 0; initial && i < json_array_get_length(initial); ++i) {
    double s = 0;
    if (!json_node_number(json_array_get_element(initial, i), &s)) {
      *error = "Plan.InitialSegments: must be numbers";
      return false;
    }
    p->initial_segments.push_back(s);
  }
  return true;
}

}  // namespace

const char* scale_type_name(ScaleType type) {
  switch (type) {
    case ScaleType::kStretch:
      return "stretch";
    case ScaleType::kFit:
      return "fit";
    case ScaleType::kFill:
      return "fill";
    case ScaleType::kCrop:
      return "crop";
  }
  return "stretch";
}

JsonNodePtr record_to_json(const PlaylistRecord& record) { return build(record, true); }
JsonNodePtr record_token_input(const PlaylistRecord& record) { return build(record, false); }

bool record_from_json(JsonNode* node, PlaylistRecord* record, std::string* error) {
  if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
    *error = "the record is not a JSON object";
    return false;
  }
  PlaylistRecord r;
  r.version = 0;
  JsonFields f(json_node_get_object(node), "");
  JsonObject *source = nullptr, *video = nullptr, *audio = nullptr, *subtitle = nullptr,
             *plan = nullptr, *serve = nullptr;
  if (!read_int(f, "Version", &r.version, error)) return false;
  if (r.version != PlaylistRecord::kVersion) {
    *error = "unsupported record version " + std::to_string(r.version);
    return false;
  }
  if (!f.object("Source", &source, error) || !f.object("Video", &video, error) ||
      !f.object("Audio", &audio, error) || !f.object("Subtitle", &subtitle, error) ||
      !f.object("Plan", &plan, error) || !f.object("Serve", &serve, error) ||
      !f.string("Token", &r.token, error))
    return false;
  if (!source || !plan || r.token.empty()) {
    *error = "the record lacks Source, Plan or Token";
    return false;
  }
  JsonFields s(source, "Source");
  int64_t size = -1;
  if (!s.string("URI", &r.source_uri, error) || !s.integer("Size", &size, error) ||
      !s.string("Identity", &r.source_identity, error) ||
      !s.number("StartTime", &r.source_start, error))
    return false;
  if (r.source_uri.empty() || size < 0) {
    *error = "Source: missing URI or Size";
    return false;
  }
  r.source_size = uint64_t(size);
  r.has_video = video != nullptr;
  r.has_audio = audio != nullptr;
  r.has_subtitle = subtitle != nullptr;
  if ((video && !read_video(video, &r.video, error)) ||
      (audio && !read_audio(audio, &r.audio, error)) ||
      (subtitle && !read_subtitle(subtitle, &r.subtitle, error)) ||
      !read_plan(plan, &r.plan, error))
    return false;
  if (r.has_subtitle && (r.has_video || r.has_audio)) {
    *error = "a subtitle record has no Video or Audio";
    return false;
  }
  if (serve) {
    JsonFields sv(serve, "Serve");
    if (!sv.number("InitialTranscode", &r.initial_transcode, error) ||
        !read_int(sv, "TranscodeAhead", &r.transcode_ahead, error) ||
        !sv.string("Tags", &r.tags, error) || !sv.string("UserData", &r.user_data, error))
      return false;
  }
  *record = std::move(r);
  return true;
}

}  // namespace tws
