// SPDX-License-Identifier: LGPL-2.1-or-later
// tws playlist [--config FILE] REQUEST.json
#include <cstdio>

#include "service/api/generate.h"
#include "service/api/request.h"
#include "service/cli/commands.h"

namespace tws {

int cmd_playlist(const Args& args) {
  CommandLine line;
  std::string error;
  if (!parse_command_line(args, {}, 1, 1, &line, &error))
    return fail(kExitUsage, "playlist: " + error + " (tws playlist [--config FILE] REQUEST.json)");
  Config config;
  if (!load_command_config(line, &config, &error)) return fail(kExitFailure, error);
  std::string body;
  if (!read_local_file(line.positional[0], &body, &error)) return fail(kExitFailure, error);
  PlaylistRequest request;
  if (!parse_playlist_request(body, &request, &error)) return fail(kExitFailure, error);
  std::string response;
  Failure failure;
  if (!generate_playlists(config, request, &response, &failure)) {
    if (failure.code == ErrorCode::kInvalidSource)
      return fail(kExitFailure, "invalid source: " + failure.message);
    return fail(kExitFailure, failure.message);
  }
  std::printf("%s\n", response.c_str());
  return kExitOk;
}

}  // namespace tws
