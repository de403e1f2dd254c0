// SPDX-License-Identifier: LGPL-2.1-or-later
// prefault_heap: after it, a job's worth of frames allocated and written takes (almost) no
// page faults, where the same allocations in a process without it fault every page. Each
// case runs in a child process: malloc's settings are process-wide.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "service/core/memory_reuse.h"

namespace tws {
namespace {

constexpr size_t kFrame = 1920 * 1088 * 3 / 2;  // a decoded 1080p I420 frame
constexpr int kFrames = 12;

long minor_faults() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_minflt;
}

// Frames allocated and written by the calling thread and another one, as a job's decoder
// and encoder threads do: the page faults it took.
long faults_of_a_job() {
  const long page = sysconf(_SC_PAGESIZE);
  auto frames = [page] {
    std::vector<char*> held;
    for (int i = 0; i < kFrames / 2; ++i) {
      auto* f = static_cast<volatile char*>(malloc(kFrame));
      for (size_t b = 0; b < kFrame; b += size_t(page)) f[b] = 1;
      held.push_back(const_cast<char*>(f));
    }
    for (char* f : held) free(f);
  };
  const long before = minor_faults();
  std::thread(frames).join();
  frames();
  return minor_faults() - before;
}

struct Outcome {
  size_t prefaulted = 0;
  long faults = 0;
};

// Runs malloc's reuse settings, prefault_heap(bytes) unless 0, then a job, in a child.
Outcome in_child(size_t bytes) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    keep_freed_memory_for_reuse();
    Outcome o;
    o.prefaulted = bytes ? prefault_heap(bytes) : 0;
    o.faults = faults_of_a_job();
    const bool written = write(fds[1], &o, sizeof o) == ssize_t(sizeof o);
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  Outcome o;
  EXPECT_EQ(read(fds[0], &o, sizeof o), ssize_t(sizeof o));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return o;
}

TEST(MemoryReuse, APrefaultedHeapServesAJobWithoutPageFaults) {
  const long pages = long(kFrames * kFrame / size_t(sysconf(_SC_PAGESIZE)));
  const Outcome fresh = in_child(0);
  const Outcome prefaulted = in_child(64u << 20);
  if (prefaulted.prefaulted == 0) GTEST_SKIP() << "malloc keeps nothing here (not glibc's)";
  EXPECT_EQ(prefaulted.prefaulted, size_t(2 * (64u << 20)));  // both arenas
  EXPECT_GT(fresh.faults, pages * 9 / 10) << "a fresh heap faults in every page it hands out";
  EXPECT_LT(prefaulted.faults, pages / 10) << fresh.faults << " faults without";
}

}  // namespace
}  // namespace tws
