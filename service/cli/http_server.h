// SPDX-License-Identifier: LGPL-2.1-or-later
// `tws serve`: the libsoup 3 server, its routes (/v1, /healthz, /metrics, playback) and its
// life: listen, serve until SIGINT/SIGTERM, then stop accepting and cancel the transcodes.
#pragma once

#include <string>

#include "service/core/config.h"

namespace tws {

struct ServeOptions {
  Config config;
  std::string listen;        // ADDR:PORT; port 0 picks a free port
  bool print_token = false;  // the embedded default: print the API token once
};

// Returns the exit status.
int run_server(ServeOptions options);

}  // namespace tws
