// SPDX-License-Identifier: LGPL-2.1-or-later
// The WebVTT segments of a subtitle rendition (MASTER-sub-<n>-<token>-<k>.vtt): the cues of
// a SourceSubtitles file, or of a text stream inside the source, that overlap the segment's
// planned time range. Made on demand like the .ts segments; small, so made whole and stored
// whole.
#pragma once

#include <string>
#include <vector>

#include "service/core/config.h"
#include "service/core/errors.h"
#include "service/playlist/stored_playlist.h"

namespace tws {

// The text of segment `index`. Checks that the subtitle file (or the source, for a stream
// inside it) is the one the playlist was made from: else kSourceChanged.
bool subtitle_segment_text(const Config& config, const StoredPlaylist& playlist, int index,
                           std::string* text, Failure* failure);

// Makes segments [first, last] and stores each; *stored: the keys written.
bool make_subtitle_segments(const Config& config, const StoredPlaylist& playlist, int first,
                            int last, std::vector<std::string>* stored, Failure* failure);

}  // namespace tws
