// SPDX-License-Identifier: LGPL-2.1-or-later
// Only media is autoplugged. A "video" whose bytes are an HLS playlist (or a DASH or Smooth
// Streaming manifest) would make decodebin plug hlsdemux, which fetches whatever URLs the
// playlist lists: requests into the operator's network, file:// reads, and a crash in
// GStreamer 1.22 on file:// entries. Every element that takes a playlist or manifest is
// taken out of autoplugging (rank NONE) in every tws process, and a source that is one is
// refused with kNotMediaReason.
#pragma once

#include <string>

namespace tws {

inline constexpr const char* kNotMediaReason = "a playlist is not a media source";

// Idempotent; init_media() calls it.
void refuse_manifest_elements();

// Whether `text` (a caps string or a missing-plugin description) names a playlist or
// manifest type.
bool names_manifest_type(const std::string& text);

}  // namespace tws
