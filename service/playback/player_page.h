// SPDX-License-Identifier: LGPL-2.1-or-later
// GET /player?src=<signed playlist URL>: the player page (hls.js with quality, audio and
// subtitle pickers and the measured start-up and seek times), and its scripts under /player/.
// The files are compiled into the binary (service/player/); a build without hls.js answers
// 404 NotFound saying so.
#pragma once

#include <libsoup/soup.h>

#include <string>

namespace tws {

// Whether this build carries the player page.
bool player_page_built();

// The page's `src` query parameter (the playlist URL it plays), or "".
std::string player_src(SoupServerMessage* msg);

// Answers a request whose path is /player or starts with /player/.
void handle_player(SoupServerMessage* msg, const std::string& path);

}  // namespace tws
