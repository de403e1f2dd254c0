// SPDX-License-Identifier: LGPL-2.1-or-later
// Signed playback: GET/HEAD/OPTIONS /<bucket>/<key> for .m3u8 (signed on the way out), .ts
// (from storage, else transcoded once and streamed) and .vtt (from storage).
#pragma once

#include <libsoup/soup.h>

#include <string>

#include "service/transcode/server_context.h"

namespace tws {

void handle_playback(ServerContext& ctx, SoupServerMessage* msg, const std::string& encoded_path);

// The player page is opening `url` (a signed playlist URL of this server): starts the segment
// its player asks for first, as a GET of that playlist would, while the page and its scripts
// load. Does nothing for any other URL or a signature that does not verify.
void prepare_playback(ServerContext& ctx, const std::string& url);

}  // namespace tws
