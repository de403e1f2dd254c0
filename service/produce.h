// SPDX-License-Identifier: LGPL-2.1-or-later
// Making segments of a stored playlist (`tws segment`, later the service's transcodes): the
// playlist's record is the only input besides the source, which must be unchanged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipelines/plan.h"
#include "pipelines/segment_job.h"
#include "service/config.h"
#include "service/errors.h"
#include "service/record.h"
#include "service/storage.h"
#include "service/uri.h"

namespace tws {

struct StoredPlaylist {
  ObjectUri uri;           // the .m3u8 object
  std::string prefix_key;  // its key without ".m3u8"
  PlaylistRecord record;
  Plan plan;               // made from record.plan
};

// Reads and parses the playlist object at `uri` (key ending in ".m3u8").
bool load_stored_playlist(const Config& config, const ObjectUri& uri, StoredPlaylist* playlist,
                          Failure* failure);
// Parses `text`, the playlist object at `uri`, already read.
bool parse_stored_playlist(const ObjectUri& uri, const std::string& text, StoredPlaylist* playlist,
                           Failure* failure);

// Checks that the object `uri_text` (at `key` in `storage`) is the one a playlist was made
// from: its size and identity as the record kept them. kSourceChanged when it is gone or
// differs; `what` names it in the message ("source", "subtitle file").
bool check_unchanged(Storage* storage, const std::string& key, const std::string& uri_text,
                     uint64_t size, const std::string& identity, const std::string& what,
                     Failure* failure);

// Checks that the source is the one the playlist was made from (else kSourceChanged) and
// sets up the job for segments [first, last] and the storage its segments go to.
bool prepare_segment_job(const Config& config, const StoredPlaylist& playlist, int first,
                         int last, SegmentJob* job, std::unique_ptr<Storage>* out_storage,
                         Failure* failure);

// Transcodes segments [first, last] (checked by the caller) into the playlist's bucket.
// *stored: the keys committed (also those committed before a later segment failed).
bool make_segments(const Config& config, const StoredPlaylist& playlist, int first, int last,
                   std::vector<std::string>* stored, Failure* failure);

}  // namespace tws
