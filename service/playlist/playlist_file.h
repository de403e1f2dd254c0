// SPDX-License-Identifier: LGPL-2.1-or-later
// A target's stored media playlist: PREFIX.m3u8 with relative segment URIs
// PREFIX-<token>-<k>.ts and one "## tws-record: {...}" comment line that carries the
// PlaylistRecord, so the source and this file alone make any segment again.
#pragma once

#include <string>

#include "pipelines/plan.h"
#include "service/playlist/record.h"

namespace tws {

constexpr const char* kRecordPrefix = "## tws-record: ";

// "dir/name" (a target URI's key without extension) -> "dir/name.m3u8".
std::string playlist_key_for_prefix(const std::string& prefix_key);
// "dir/name.m3u8" -> "dir/name"; "" when the key does not end with ".m3u8".
std::string prefix_of_playlist_key(const std::string& playlist_key);
// The segment's file name ("name-<token>-<k>.ts", ".vtt" for a subtitle rendition) and its
// key next to the playlist.
std::string segment_file_name(const std::string& prefix_key, const std::string& token, int index,
                              const char* extension = ".ts");
std::string segment_key(const std::string& prefix_key, const std::string& token, int index,
                        const char* extension = ".ts");
// ".vtt" for a subtitle rendition's record, else ".ts".
const char* segment_extension(const PlaylistRecord& record);

// The playlist text of `plan` (made from record.plan) for the target at `prefix_key`.
std::string media_playlist_text(const std::string& prefix_key, const PlaylistRecord& record,
                                const Plan& plan);

// Finds and reads the record of a stored playlist and checks it against its token.
bool parse_media_playlist(const std::string& text, PlaylistRecord* record, std::string* error);

}  // namespace tws
