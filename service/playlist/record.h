// SPDX-License-Identifier: LGPL-2.1-or-later
// The playlist record: everything needed to make any segment of a target from its source
// alone. Stored as one JSON comment line in the target's playlist (playlist_file.h) and the
// input of its token (token.h).
#pragma once

#include <cstdint>
#include <string>

#include "pipelines/plan.h"
#include "pipelines/target.h"
#include "service/core/json_text.h"

namespace tws {

// A subtitle rendition's text: a SourceSubtitles file, or a text stream inside the source.
struct SubtitleTrack {
  std::string uri;    // the file (oss://bucket/key); "" for a stream of the source
  uint64_t size = 0;  // the file's bytes and storage identity, when the playlist was made
  std::string identity;
  int stream = -1;       // index among the source's subtitle streams; -1 for a file
  std::string language;  // ISO 639 code, "" unknown
};

struct PlaylistRecord {
  static constexpr int kVersion = 1;
  int version = kVersion;
  std::string source_uri;       // oss://bucket/key
  uint64_t source_size = 0;     // bytes, when the playlist was made
  std::string source_identity;  // storage identity ("mtime:<ns>" / ETag)
  double source_start = 0;      // SourceStartTime: source seconds that are media time 0
  bool has_video = false;
  VideoTarget video;
  bool has_audio = false;
  AudioTarget audio;
  bool has_subtitle = false;  // a WebVTT rendition: no video, no audio
  SubtitleTrack subtitle;
  PlanInput plan;
  // How the service pre-transcodes and reads ahead; not part of the token.
  double initial_transcode = 30;  // seconds, <0: all
  int transcode_ahead = 0;        // segments
  // The request's Tags and UserData, kept as they came (JSON text); not part of the token.
  std::string tags, user_data;
  std::string token;
};

const char* scale_type_name(ScaleType type);

// The record as JSON. The token input leaves out Token and the service hints.
JsonNodePtr record_to_json(const PlaylistRecord& record);
JsonNodePtr record_token_input(const PlaylistRecord& record);

// Reads a record back; false with the field that is wrong.
bool record_from_json(JsonNode* node, PlaylistRecord* record, std::string* error);

}  // namespace tws
