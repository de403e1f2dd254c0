// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/cores.h"

#include <glib.h>

#include <cstdlib>

namespace tws {

int available_cores() {
  if (const char* v = g_getenv("TWS_CORES")) {
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*v && !*end && n >= 1 && n <= 4096) return int(n);
  }
  return int(g_get_num_processors());
}

}  // namespace tws
