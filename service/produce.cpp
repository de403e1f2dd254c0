// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/produce.h"

#include <memory>

#include "pipelines/segment_job.h"
#include "pipelines/segment_split.h"
#include "service/playlist_file.h"
#include "service/segment_publisher.h"
#include "service/storage.h"
#include "service/subtitle_segments.h"
#include "service/worker/isolated.h"

namespace tws {

bool load_stored_playlist(const Config& config, const ObjectUri& uri, StoredPlaylist* playlist,
                          Failure* failure) {
  if (prefix_of_playlist_key(uri.key).empty())
    return set_failure(failure, ErrorCode::kInvalidURI, uri.to_string() + ": not a .m3u8 key");
  auto storage = open_bucket(config, uri.bucket, failure);
  if (!storage) return false;
  std::string text, error;
  switch (storage->get(uri.key, &text, &error)) {
    case StorageStatus::kOk: break;
    case StorageStatus::kNotFound:
      return set_failure(failure, ErrorCode::kNotFound, "no playlist at " + uri.to_string());
    case StorageStatus::kError: return storage_failure(failure, error);
  }
  return parse_stored_playlist(uri, text, playlist, failure);
}

bool parse_stored_playlist(const ObjectUri& uri, const std::string& text, StoredPlaylist* playlist,
                           Failure* failure) {
  StoredPlaylist p;
  p.uri = uri;
  p.prefix_key = prefix_of_playlist_key(uri.key);
  if (p.prefix_key.empty())
    return set_failure(failure, ErrorCode::kInvalidURI, uri.to_string() + ": not a .m3u8 key");
  std::string error;
  if (!parse_media_playlist(text, &p.record, &error))
    return set_failure(failure, ErrorCode::kInvalidArgument, uri.to_string() + ": " + error);
  if (!make_plan(p.record.plan, &p.plan, &error))
    return set_failure(failure, ErrorCode::kInvalidArgument, uri.to_string() + ": " + error);
  *playlist = std::move(p);
  return true;
}

bool check_unchanged(Storage* storage, const std::string& key, const std::string& uri_text,
                     uint64_t size, const std::string& identity, const std::string& what,
                     Failure* failure) {
  ObjectStat stat;
  std::string error;
  switch (storage->stat(key, &stat, &error)) {
    case StorageStatus::kOk: break;
    case StorageStatus::kNotFound:
      return set_failure(failure, ErrorCode::kSourceChanged,
                         what + " changed since the playlist was made (" + uri_text +
                             " is gone)");
    case StorageStatus::kError: return storage_failure(failure, error);
  }
  if (stat.size != size || stat.identity != identity)
    return set_failure(failure, ErrorCode::kSourceChanged,
                       what + " changed since the playlist was made");
  return true;
}

bool prepare_segment_job(const Config& config, const StoredPlaylist& playlist, int first,
                         int last, SegmentJob* job, std::unique_ptr<Storage>* out_storage,
                         Failure* failure) {
  const PlaylistRecord& rec = playlist.record;
  ObjectUri source;
  std::string error;
  if (!parse_object_uri(rec.source_uri, &source, &error))
    return set_failure(failure, ErrorCode::kInvalidURI, "the record's source: " + error);
  auto source_storage = open_bucket(config, source.bucket, failure);
  auto out = open_bucket(config, playlist.uri.bucket, failure);
  if (!source_storage || !out) return false;
  if (!check_unchanged(source_storage.get(), source.key, rec.source_uri, rec.source_size,
                       rec.source_identity, "source", failure))
    return false;

  job->source = source_storage->source_location(source.key);
  job->source_start = rec.source_start;
  job->has_video = rec.has_video;
  job->video = rec.video;
  job->has_audio = rec.has_audio;
  job->audio = rec.audio;
  job->plan = playlist.plan;
  job->first = first;
  job->last = last;
  job->stall_timeout = config.stall_timeout;
  *out_storage = std::move(out);
  return true;
}

bool make_segments(const Config& config, const StoredPlaylist& playlist, int first, int last,
                   std::vector<std::string>* stored, Failure* failure) {
  const PlaylistRecord& rec = playlist.record;
  if (rec.has_subtitle) return make_subtitle_segments(config, playlist, first, last, stored, failure);
  SegmentJob job;
  std::unique_ptr<Storage> out_storage;
  if (!prepare_segment_job(config, playlist, first, last, &job, &out_storage, failure))
    return false;
  // One segment alone, on a machine with cores to spare: made as GOPs in parallel.
  if (first == last) job.chunks = segment_chunks(job.plan, first, available_cores());
  std::string error;
  SegmentPublisher publisher(out_storage.get(), playlist.prefix_key, rec.token, &job);
  const bool ok = run_segment_job_isolated(job, publisher.sink(), &error);
  publisher.abort_all();
  *stored = publisher.published();
  if (!publisher.error().empty())
    return set_failure(failure, ErrorCode::kTranscodeFailed, publisher.error());
  if (!ok) return set_failure(failure, ErrorCode::kTranscodeFailed, error);
  if (int(stored->size()) != last - first + 1)
    return set_failure(failure, ErrorCode::kTranscodeFailed,
                       "the job ended before segment " + std::to_string(first + stored->size()));
  return true;
}

}  // namespace tws
