// SPDX-License-Identifier: LGPL-2.1-or-later
// The service API under /v1 (Bearer token): POST /v1/playlists (then pre-transcode) and
// POST /v1/sign.
#pragma once

#include <libsoup/soup.h>

#include <string>

#include "service/transcode/server_context.h"

namespace tws {

constexpr size_t kMaxRequestBody = 1 << 20;

void handle_api(ServerContext& ctx, SoupServerMessage* msg, const std::string& path);

// How many segments InitialTranscode seconds asks for: those starting before it; 0 none;
// negative or beyond the duration: all.
int initial_segment_count(const Plan& plan, double initial_transcode);

}  // namespace tws
