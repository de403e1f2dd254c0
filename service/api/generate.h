// SPDX-License-Identifier: LGPL-2.1-or-later
// POST /v1/playlists and `tws playlist`: validate, probe the source, plan every target and
// write its playlist (and the master); nothing is written unless every target resolved.
#pragma once

#include <string>
#include <vector>

#include "service/api/request.h"
#include "service/core/config.h"
#include "service/core/errors.h"

namespace tws {

// Returns the response JSON (API.md "Response 200") in *response; *media_playlists (when
// given): every media playlist written (targets, then audio and subtitle renditions).
bool generate_playlists(const Config& config, const PlaylistRequest& request, std::string* response,
                        Failure* failure, std::vector<ObjectUri>* media_playlists = nullptr);

}  // namespace tws
