// SPDX-License-Identifier: LGPL-2.1-or-later
// Probe results by source identity, process-wide: a source made into several playlists (more
// targets, another request later) is probed once. Keyed by the location, size and identity
// (mtime or ETag) the storage reports, so a replaced source is probed again.
#pragma once

#include <string>

#include "pipelines/media_error.h"
#include "pipelines/source_info.h"
#include "service/storage/storage.h"

namespace tws {

// probe_source() through the cache. Failures are not kept.
bool probe_source_cached(const std::string& location, const ObjectStat& stat, SourceInfo* info,
                         MediaError* error);

}  // namespace tws
