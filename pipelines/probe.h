// SPDX-License-Identifier: LGPL-2.1-or-later
// Probes a source: container, streams, duration (pipelines/source_info.h).
#pragma once

#include <string>

#include "pipelines/media_error.h"
#include "pipelines/source_info.h"

namespace tws {

// `location` is what rangesrc takes (local path, file://, later s3:// and http(s)://).
// Returns false with *error: a one-line reason ("not a media file", "truncated: ...") and,
// where GStreamer said what failed, its domain, code and the source server's HTTP status.
bool probe_source(const std::string& location, SourceInfo* info, MediaError* error);
// The same, the reason only.
bool probe_source(const std::string& location, SourceInfo* info, std::string* error);

// JSON for `tws probe` (streams and duration).
std::string source_info_to_json(const SourceInfo& info);

}  // namespace tws
