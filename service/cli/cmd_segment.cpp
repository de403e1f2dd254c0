// SPDX-License-Identifier: LGPL-2.1-or-later
// tws segment [--config FILE] PLAYLIST_URI K [N]
#include <glib.h>

#include <cstdio>

#include "service/cli/commands.h"
#include "service/playlist/playlist_file.h"
#include "service/transcode/produce.h"

namespace tws {
namespace {

bool parse_index(const std::string& text, int* index) {
  guint64 v = 0;
  if (!g_ascii_string_to_unsigned(text.c_str(), 10, 0, 1000000, &v, nullptr)) return false;
  *index = int(v);
  return true;
}

}  // namespace

int cmd_segment(const Args& args) {
  const char* usage = " (tws segment [--config FILE] PLAYLIST_URI K [N])";
  CommandLine line;
  std::string error;
  if (!parse_command_line(args, {}, 2, 3, &line, &error))
    return fail(kExitUsage, "segment: " + error + usage);
  int first = 0, last = 0;
  if (!parse_index(line.positional[1], &first))
    return fail(kExitUsage, "segment: K must be a segment index (0, 1, ...)");
  last = first;
  if (line.positional.size() == 3 && (!parse_index(line.positional[2], &last) || last < first))
    return fail(kExitUsage, "segment: N must be a segment index not below K");

  Config config;
  StoredPlaylist playlist;
  if (!load_command_playlist(line, &config, &playlist, &error)) return fail(kExitFailure, error);
  const ObjectUri& uri = playlist.uri;
  Failure failure;
  const int count = int(playlist.plan.segments.size());
  if (last >= count)
    return fail(kExitUsage, "segment: " + std::to_string(last) + " is out of range: " +
                                uri.to_string() + " has segments 0.." + std::to_string(count - 1));
  std::vector<std::string> stored;
  const bool ok = make_segments(config, playlist, first, last, &stored, &failure);
  for (const auto& key : stored)
    std::printf("%s\n", ObjectUri{uri.bucket, key}.to_string().c_str());
  if (!ok) return fail(kExitFailure, failure.message);
  return kExitOk;
}

}  // namespace tws
