// SPDX-License-Identifier: LGPL-2.1-or-later
// How the long-running server asks malloc to keep memory for the next segment job.
#pragma once

#include <cstddef>

namespace tws {

// Every segment job allocates the same large buffers again (decoded 1080p frames, the
// scaler's and x264's frames: 80-120 MB). By default glibc hands those back to the kernel
// when a job ends, and the next job pays a page fault per 4 KiB to get them again (on this
// project's 2-core VM: 20-30 k faults, about 9 % of a cold segment's CPU). This makes large
// buffers come from malloc's arenas (not one mmap each), keeps up to 256 MiB of freed memory
// in them, and shares two arenas among all threads, so one job's freed frames serve the next
// job's threads. Call once, before threads start. A no-op where malloc is not glibc's.
void keep_freed_memory_for_reuse();

// What keep_freed_memory_for_reuse() keeps for a worker's second job, made ready for its
// first: faults in `bytes` of heap in each of the two arenas (the calling thread's, and a
// thread's of its own, whose arena the next thread started takes over) and frees it again.
// A fresh worker's first 1080p -> 720p segment otherwise takes 12-13 k page faults before
// its first byte (about 30 ms of its 110 ms of CPU to there), on the path of a viewer's
// start-up. Call after keep_freed_memory_for_reuse(), before other threads start. Returns
// the bytes faulted in: 0 where malloc keeps nothing (not glibc's, or a sanitizer's).
size_t prefault_heap(size_t bytes);

}  // namespace tws
