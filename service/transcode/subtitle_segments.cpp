// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/subtitle_segments.h"

#include <memory>

#include "pipelines/subtitle_cues.h"
#include "pipelines/subtitle_extract.h"
#include "service/playlist/playlist_file.h"
#include "service/storage/open_storage.h"
#include "service/storage/storage.h"
#include "service/worker/isolated.h"

namespace tws {
namespace {

// The object at `uri_text` as a storage and key, checked against the size and identity the
// record kept (check_unchanged).
bool open_checked(const Config& config, const std::string& uri_text, uint64_t size,
                  const std::string& identity, const char* what, std::unique_ptr<Storage>* storage,
                  ObjectUri* uri, Failure* failure) {
  std::string error;
  if (!parse_object_uri(uri_text, uri, &error))
    return set_failure(failure, ErrorCode::kInvalidURI, "the record's " + uri_text + ": " + error);
  *storage = open_bucket(config, uri->bucket, failure);
  return *storage &&
         check_unchanged(storage->get(), uri->key, uri_text, size, identity, what, failure);
}

// Reads every cue of the rendition's file, or prepares to read the source's stream per
// segment (*location set, *cues empty).
bool open_cues(const Config& config, const PlaylistRecord& rec, std::vector<Cue>* cues,
               std::string* location, Failure* failure) {
  std::unique_ptr<Storage> storage;
  ObjectUri uri;
  const SubtitleTrack& t = rec.subtitle;
  if (t.uri.empty()) {
    if (!open_checked(config, rec.source_uri, rec.source_size, rec.source_identity, "source",
                      &storage, &uri, failure))
      return false;
    *location = storage->source_location(uri.key);
    return true;
  }
  if (!open_checked(config, t.uri, t.size, t.identity, "subtitle file", &storage, &uri, failure))
    return false;
  std::string text, error;
  StorageError read;
  const StorageStatus s = storage->get(uri.key, &text, &read);
  if (s == StorageStatus::kNotFound)  // gone since check_unchanged saw it
    return set_failure(failure, ErrorCode::kStorageError, t.uri + " could not be read");
  if (s != StorageStatus::kOk) return storage_failure(failure, read);
  std::vector<Cue> all;
  if (!parse_subtitles(text, &all, &error))
    return set_failure(failure, ErrorCode::kTranscodeFailed, t.uri + ": " + error);
  // File times are source times: the clip's start is media time 0.
  const auto shift = int64_t(rec.source_start * 1e9 + 0.5);
  for (Cue& c : all) {
    c.start_ns -= shift;
    c.end_ns -= shift;
    if (c.end_ns <= 0) continue;
    if (c.start_ns < 0) c.start_ns = 0;
    cues->push_back(std::move(c));
  }
  return true;
}

bool segment_text(const PlaylistRecord& rec, const PlannedSegment& s,
                  const std::vector<Cue>& file_cues, const std::string& location, std::string* text,
                  Failure* failure) {
  const auto start = int64_t(s.start_ns), end = int64_t(s.end_ns);
  if (location.empty()) {
    *text = webvtt_segment(file_cues, start, end);
    return true;
  }
  SubtitleWindow window;
  window.source = location;
  window.stream = rec.subtitle.stream;
  window.source_start = rec.source_start;
  window.start_ns = start;
  window.end_ns = end;
  std::vector<Cue> cues;
  std::string error;
  if (!extract_subtitle_cues_isolated(window, &cues, &error))
    return set_failure(failure, ErrorCode::kTranscodeFailed, error);
  *text = webvtt_segment(cues, start, end);
  return true;
}

}  // namespace

bool subtitle_segment_text(const Config& config, const StoredPlaylist& playlist, int index,
                           std::string* text, Failure* failure) {
  std::vector<Cue> cues;
  std::string location;
  if (!open_cues(config, playlist.record, &cues, &location, failure)) return false;
  return segment_text(playlist.record, playlist.plan.segments.at(size_t(index)), cues, location,
                      text, failure);
}

bool make_subtitle_segments(const Config& config, const StoredPlaylist& playlist, int first,
                            int last, std::vector<std::string>* stored, Failure* failure) {
  const PlaylistRecord& rec = playlist.record;
  std::vector<Cue> cues;
  std::string location;
  StorageError error;
  if (!open_cues(config, rec, &cues, &location, failure)) return false;
  auto out = open_bucket(config, playlist.uri.bucket, failure);
  if (!out) return false;
  for (int k = first; k <= last; ++k) {
    std::string text;
    if (!segment_text(rec, playlist.plan.segments.at(size_t(k)), cues, location, &text, failure))
      return false;
    const std::string key = segment_key(playlist.prefix_key, rec.token, k, ".vtt");
    if (out->put(key, text, &error) != StorageStatus::kOk) return storage_failure(failure, error);
    stored->push_back(key);
  }
  return true;
}

}  // namespace tws
