// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/memory_reuse.h"

#include <cstdlib>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tws {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // Allocations up to 32 MiB (glibc's largest mmap threshold) from the arenas; setting it
  // also stops glibc from moving the threshold by itself.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_ARENA_MAX, 2);
#endif
}

}  // namespace tws
