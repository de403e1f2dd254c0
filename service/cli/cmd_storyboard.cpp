// SPDX-License-Identifier: LGPL-2.1-or-later
// tws storyboard [--config FILE] PLAYLIST_URI
#include <cstdio>

#include "service/cli/commands.h"
#include "service/transcode/storyboard_files.h"

namespace tws {

int cmd_storyboard(const Args& args) {
  const char* usage = " (tws storyboard [--config FILE] PLAYLIST_URI)";
  CommandLine line;
  std::string error;
  if (!parse_command_line(args, {}, 1, 1, &line, &error))
    return fail(kExitUsage, "storyboard: " + error + usage);
  Config config;
  StoredPlaylist playlist;
  if (!load_command_playlist(line, &config, &playlist, &error)) return fail(kExitFailure, error);
  const ObjectUri& uri = playlist.uri;
  Failure failure;
  std::string vtt;
  std::vector<std::string> stored;
  const bool ok = make_storyboard_files(config, playlist, &vtt, &stored, &failure);
  for (const auto& key : stored)
    std::printf("%s\n", ObjectUri{uri.bucket, key}.to_string().c_str());
  if (!ok) return fail(kExitFailure, failure.message);
  return kExitOk;
}

}  // namespace tws
