// SPDX-License-Identifier: LGPL-2.1-or-later
// prefault_heap: after it, a job's worth of frames allocated and written takes (almost) no
// page faults, where the same allocations in a process without it fault every page. Each
// case runs in a process of its own: malloc's settings and arenas are process-wide.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
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

// This binary again, for the one case below, in a process of its own: a worker's heap starts
// with one arena, where a child forked from this process would inherit the arenas (and their
// half-used heaps) of every thread the earlier tests ran, and the second thread's arena could
// be one whose prefaulted memory went back to the kernel with a heap of its own.
constexpr const char* kBytesVar = "TWS_TEST_PREFAULT_BYTES";
constexpr const char* kFdVar = "TWS_TEST_PREFAULT_FD";

// Runs malloc's reuse settings, prefault_heap(bytes) unless 0, then a job, in a fresh process.
Outcome in_child(size_t bytes) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    setenv(kBytesVar, std::to_string(bytes).c_str(), 1);
    setenv(kFdVar, std::to_string(fds[1]).c_str(), 1);
    execl("/proc/self/exe", "unit-tests", "--gtest_filter=MemoryReuse.DISABLED_InAFreshProcess",
          "--gtest_also_run_disabled_tests", nullptr);
    _exit(127);
  }
  close(fds[1]);
  Outcome o;
  EXPECT_EQ(read(fds[0], &o, sizeof o), ssize_t(sizeof o));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  return o;
}

// The child's side of in_child(); does nothing when run any other way.
TEST(MemoryReuse, DISABLED_InAFreshProcess) {
  const char* bytes = getenv(kBytesVar);
  const char* fd = getenv(kFdVar);
  if (!bytes || !fd) GTEST_SKIP() << "run by in_child()";
  keep_freed_memory_for_reuse();
  Outcome o;
  const size_t n = std::strtoull(bytes, nullptr, 10);
  o.prefaulted = n ? prefault_heap(n) : 0;
  o.faults = faults_of_a_job();
  ASSERT_EQ(write(atoi(fd), &o, sizeof o), ssize_t(sizeof o));
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
