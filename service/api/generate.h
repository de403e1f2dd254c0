// SPDX-License-Identifier: LGPL-2.1-or-later
// POST /v1/playlists and `tws playlist`: validate, probe the source, plan every target and
// write its playlist (and the master); nothing is written unless every target resolved.
#pragma once

#include <string>
#include <vector>

#include "pipelines/media_error.h"
#include "service/api/request.h"
#include "service/core/config.h"
#include "service/core/errors.h"

namespace tws {

// Returns the response JSON (API.md "Response 200") in *response; *media_playlists (when
// given): every media playlist written (targets, then audio and subtitle renditions).
bool generate_playlists(const Config& config, const PlaylistRequest& request, std::string* response,
                        Failure* failure, std::vector<ObjectUri>* media_playlists = nullptr);

// The answer to a source that could not be probed, from what failed (not from its words): a
// source gone since its stat 404 NotFound, its store refusing 502 StorageError or failing 503
// ServiceUnavailable (by the HTTP status rangesrc saw), anything else (not media, truncated,
// no decoder, a crashed or stalled probe) 400 InvalidSource.
ErrorCode probe_failure_code(const MediaError& error);

}  // namespace tws
