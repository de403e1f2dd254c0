// Signed playback: GET/HEAD/OPTIONS /<bucket>/<key> for .m3u8 (signed on the way out), .ts
// (from storage, else transcoded once and streamed) and .vtt (from storage).
#pragma once

#include <libsoup/soup.h>

#include <string>

#include "service/server_context.h"

namespace tws {

void handle_playback(ServerContext& ctx, SoupServerMessage* msg, const std::string& encoded_path);

}  // namespace tws
