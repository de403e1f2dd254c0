// SPDX-License-Identifier: LGPL-2.1-or-later
// Making segments of a stored playlist (`tws segment`, later the service's transcodes): the
// playlist's record is the only input besides the source, which must be unchanged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipelines/plan.h"
#include "pipelines/segment_job.h"
#include "service/core/config.h"
#include "service/core/errors.h"
#include "service/core/uri.h"
#include "service/playlist/stored_playlist.h"
#include "service/storage/storage.h"

namespace tws {

// Checks that the source is the one the playlist was made from (else kSourceChanged) and
// sets up the job for segments [first, last] and the storage its segments go to.
bool prepare_segment_job(const Config& config, const StoredPlaylist& playlist, int first, int last,
                         SegmentJob* job, std::unique_ptr<Storage>* out_storage, Failure* failure);

// Transcodes segments [first, last] (checked by the caller) into the playlist's bucket.
// *stored: the keys committed (also those committed before a later segment failed).
bool make_segments(const Config& config, const StoredPlaylist& playlist, int first, int last,
                   std::vector<std::string>* stored, Failure* failure);

}  // namespace tws
