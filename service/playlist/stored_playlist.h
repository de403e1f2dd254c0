// SPDX-License-Identifier: LGPL-2.1-or-later
// A playlist as stored: read back from its bucket, its record parsed and its plan made again,
// and the check that a source (or subtitle file) is still the one the record names. What
// segment making (produce.h, subtitle_segments.h) and playback start from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pipelines/plan.h"
#include "service/core/config.h"
#include "service/core/errors.h"
#include "service/core/uri.h"
#include "service/playlist/record.h"
#include "service/storage/storage.h"

namespace tws {

struct StoredPlaylist {
  ObjectUri uri;           // the .m3u8 object
  std::string prefix_key;  // its key without ".m3u8"
  PlaylistRecord record;
  Plan plan;  // made from record.plan
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

// What making anything of `playlist` starts from: the source's location for rangesrc, checked
// unchanged (check_unchanged), and the storage of the playlist's bucket (its outputs go there).
bool open_playlist_source(const Config& config, const StoredPlaylist& playlist,
                          std::string* location, std::unique_ptr<Storage>* out, Failure* failure);

}  // namespace tws
