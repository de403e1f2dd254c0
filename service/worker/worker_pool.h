// SPDX-License-Identifier: LGPL-2.1-or-later
// The media worker processes of this process (protocol.h): started ahead of need, reused for
// up to kMaxJobs jobs (plugins loaded once, freed memory kept for the next job), replaced
// after a crash, a kill or a job that went wrong. Thread-safe.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tws::worker {

class WorkerProcess {
 public:
  // Starts `tws worker` and waits for its kReady. nullptr with *error set.
  static std::unique_ptr<WorkerProcess> spawn(uint64_t memory_limit, std::string* error);
  ~WorkerProcess();  // kills it (SIGKILL) unless it is gone already, and reaps it
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  int socket() const { return socket_; }
  pid_t pid() const { return pid_; }
  const std::string& sandbox() const { return sandbox_; }
  // Holds or releases every thread of the worker (SIGSTOP / SIGCONT).
  void set_stopped(bool stopped);
  void kill();
  // After its socket closed: why it ended ("killed by SIGSEGV", "exited with status 1").
  std::string end_reason();

  int jobs = 0;
  bool reusable = true;  // false once a job went wrong: replaced, not reused
  bool lent = false;     // taken from the pool and not given back

 private:
  WorkerProcess() = default;
  int socket_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool stopped_ = false;
  int status_ = 0;
  std::string sandbox_;
};

class WorkerPool {
 public:
  static constexpr int kMaxJobs = 64;
  static constexpr uint64_t kDefaultMemoryLimit = 4ull << 30;

  static WorkerPool& shared();

  // Keeps `count` workers (idle and at work together) started ahead of need (0: start them
  // when asked), each limited to `memory_limit` bytes of address space. More are started
  // while callers wait; the extra ones end when they come back.
  void configure(int count, uint64_t memory_limit);
  // An idle worker, waiting for the refill thread to start one if none is idle. Workers are
  // started by that one long-lived thread only: a worker dies with the thread that started
  // it (PR_SET_PDEATHSIG). nullptr with *error set when none could be started.
  std::unique_ptr<WorkerProcess> take(std::string* error);
  // Back to the pool when it is reusable and has jobs left; else it is ended.
  void give_back(std::unique_ptr<WorkerProcess> worker);
  // A lent worker ended without coming back (its destructor says so).
  void forget_lent();
  // Ends the idle workers and the refill thread (tests and shutdown).
  void shutdown();
  // What the last started worker said its sandbox enforces.
  std::string sandbox();
  // Workers started and waiting for a job (a server whose idle count has reached its
  // configured count is ready: the next job starts at once), and workers at work.
  struct Counts {
    int idle = 0;
    int busy = 0;
  };
  Counts counts();

 private:
  WorkerPool() = default;
  void refill();  // the refill thread
  bool alive_locked(WorkerProcess* w);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<WorkerProcess>> idle_;  // guarded by mutex_
  int idle_target_ = 0;                               // guarded by mutex_
  int waiting_ = 0;                                   // take() calls waiting; mutex_
  int lent_ = 0;                                      // workers at work; mutex_
  std::string spawn_error_;                           // the last failure; mutex_
  uint64_t memory_limit_ = kDefaultMemoryLimit;       // guarded by mutex_
  bool stopping_ = false;                             // guarded by mutex_
  std::string sandbox_;                               // guarded by mutex_
  std::thread refill_thread_;
};

}  // namespace tws::worker
