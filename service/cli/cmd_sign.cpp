// SPDX-License-Identifier: LGPL-2.1-or-later
// tws sign [--config FILE] URI [--expires SECONDS]
#include <glib.h>

#include <cstdio>

#include "service/cli/commands.h"
#include "service/playlist/signer.h"

namespace tws {

int cmd_sign(const Args& args) {
  CommandLine line;
  std::string error;
  if (!parse_command_line(args, {"--expires"}, 1, 1, &line, &error))
    return fail(kExitUsage,
                "sign: " + error + " (tws sign [--config FILE] URI [--expires SECONDS])");
  int64_t seconds = kDefaultSignSeconds;
  if (auto it = line.options.find("--expires"); it != line.options.end()) {
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(it->second.c_str(), 10, 1, kMaxSignSeconds, &v, nullptr))
      return fail(kExitUsage, "sign: --expires: must be seconds between 1 and 604800 (7 days)");
    seconds = int64_t(v);
  }
  Config config;
  if (!load_command_config(line, &config, &error)) return fail(kExitFailure, error);
  ObjectUri uri;
  if (!resolve_object_uri(config, line.positional[0], &uri, &error))
    return fail(kExitFailure, error);
  std::string url;
  const int64_t expires = g_get_real_time() / G_USEC_PER_SEC + seconds;
  if (!signed_url(config, uri, expires, &url, &error)) return fail(kExitFailure, error);
  std::printf("%s\n", url.c_str());
  return kExitOk;
}

}  // namespace tws
