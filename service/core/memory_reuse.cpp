// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/memory_reuse.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>  // defines __GLIBC__ on glibc
#include <thread>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tws {

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define TWS_GLIBC_MALLOC 1
#endif

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // Allocations up to 32 MiB (glibc's largest mmap threshold) from the arenas; setting it
  // also stops glibc from moving the threshold by itself.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_ARENA_MAX, 2);
#endif
}

#if defined(TWS_GLIBC_MALLOC)
namespace {

// Blocks well under the mmap threshold, so that they come from the arena and, freed, merge
// into one free stretch there that later requests of any size are cut from.
constexpr size_t kBlock = 4u << 20;

// Allocates `bytes` in blocks, writes a byte of every page, frees them all: the bytes
// faulted in.
size_t touch_and_free(size_t bytes) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  std::vector<volatile char*> blocks;
  size_t done = 0;
  for (; done + kBlock <= bytes; done += kBlock) {
    auto* b = static_cast<volatile char*>(malloc(kBlock));
    if (!b) break;
    for (size_t i = 0; i < kBlock; i += page) b[i] = 0;
    blocks.push_back(b);
  }
  for (volatile char* b : blocks) free(const_cast<char*>(b));
  return done;
}

}  // namespace
#endif

size_t prefault_heap(size_t bytes) {
#if defined(TWS_GLIBC_MALLOC)
  // Within a worker's address-space limit with room to spare.
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
    bytes = std::min<size_t>(bytes, as.rlim_cur / 8);
  size_t other = 0;
  // A thread's first allocation opens the second arena; when the thread ends, the arena
  // waits for the next thread started, which takes it with its free memory.
  std::thread([&] { other = touch_and_free(bytes); }).join();
  return touch_and_free(bytes) + other;
#else
  (void)bytes;
  return 0;
#endif
}

}  // namespace tws
