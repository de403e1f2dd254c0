// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/produce.h"

#include <memory>

#include "pipelines/segment_job.h"
#include "pipelines/segment_split.h"
#include "service/playlist/playlist_file.h"
#include "service/storage/open_storage.h"
#include "service/storage/storage.h"
#include "service/transcode/segment_publisher.h"
#include "service/transcode/subtitle_segments.h"
#include "service/worker/isolated.h"

namespace tws {

bool prepare_segment_job(const Config& config, const StoredPlaylist& playlist, int first, int last,
                         SegmentJob* job, std::unique_ptr<Storage>* out_storage, Failure* failure) {
  const PlaylistRecord& rec = playlist.record;
  std::unique_ptr<Storage> out;
  if (!open_playlist_source(config, playlist, &job->source, &out, failure)) return false;
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
  if (rec.has_subtitle)
    return make_subtitle_segments(config, playlist, first, last, stored, failure);
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
  if (publisher.failed())
    return set_failure(failure, ErrorCode::kTranscodeFailed, publisher.error().message);
  if (!ok) return set_failure(failure, ErrorCode::kTranscodeFailed, error);
  if (int(stored->size()) != last - first + 1)
    return set_failure(failure, ErrorCode::kTranscodeFailed,
                       "the job ended before segment " + std::to_string(first + stored->size()));
  return true;
}

}  // namespace tws
