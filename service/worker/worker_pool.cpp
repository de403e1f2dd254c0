// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/worker/worker_pool.h"

#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/gref.h"
#include "service/worker/protocol.h"

namespace tws::worker {
namespace {

constexpr int kReadyTimeoutMs = 60000;

// Variables a worker may see: where GStreamer's plugins and registry are, logging, the
// sanitizers' options and test switches. Nothing else of the server's environment (it may
// hold credentials) reaches a worker.
bool passed_on(const char* entry) {
  static const char* const kPrefixes[] = {"GST_PLUGIN_PATH",     "GST_PLUGIN_SYSTEM_PATH",
                                          "GST_REGISTRY",        "GST_DEBUG=",
                                          "GST_DEBUG_NO_COLOR=", "HOME=",
                                          "XDG_CACHE_HOME=",     "LANG=",
                                          "TWS_CORES=",          "TWS_TEST_WORKER=",
                                          "ASAN_OPTIONS=",       "UBSAN_OPTIONS=",
                                          "LSAN_OPTIONS="};
  for (const char* p : kPrefixes)
    if (g_str_has_prefix(entry, p)) return true;
  return false;
}

std::vector<std::string> worker_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    if (passed_on(*e)) env.emplace_back(*e);
  // The registry was written by whoever started first; a worker never rescans or writes it.
  env.emplace_back("GST_REGISTRY_UPDATE=no");
  env.emplace_back("GST_REGISTRY_FORK=no");
  return env;
}

// This very executable, held open from the first use: a binary replaced on disk (an upgrade,
// a rebuild) while the server runs still starts workers that speak the server's protocol.
int self_executable() {
  static const int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  return fd;
}

struct ChildLimits {
  rlim_t address_space;
};

void child_setup(gpointer data) {
  const auto* limits = static_cast<const ChildLimits*>(data);
  if (limits->address_space) {
    const rlimit as{limits->address_space, limits->address_space};
    setrlimit(RLIMIT_AS, &as);
  }
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
}

bool sanitized() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return false;
}

}  // namespace

std::unique_ptr<WorkerProcess> WorkerProcess::spawn(uint64_t memory_limit, std::string* error) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    *error = std::string("cannot start a media worker: ") + strerror(errno);
    return nullptr;
  }
  // The executable goes to the worker as descriptor kExecutableFd and is run from there.
  const std::string exe = "/proc/self/fd/" + std::to_string(kExecutableFd);
  const char* argv[] = {exe.c_str(), "tws", "worker", nullptr};
  std::vector<std::string> env = worker_environment();
  std::vector<const char*> envp;
  for (const std::string& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  // ASan reserves terabytes of address space: no limit there.
  ChildLimits limits{sanitized() ? 0 : rlim_t(memory_limit)};
  const int source_fds[] = {pair[1], self_executable()};
  const int target_fds[] = {kSocketFd, kExecutableFd};
  GPid pid = -1;
  GError* gerr = nullptr;
  const gboolean ok = g_spawn_async_with_pipes_and_fds(
      "/", argv, envp.data(),
      // stderr is the server's (the log); passing it as stdout too made GLib close it, and
      // the next descriptor the worker received landed on 2.
      GSpawnFlags(G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
                  G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_CHILD_INHERITS_STDERR |
                  G_SPAWN_FILE_AND_ARGV_ZERO),
      child_setup, &limits, -1, -1, -1, source_fds, target_fds, 2, &pid, nullptr, nullptr, nullptr,
      &gerr);
  close(pair[1]);
  if (!ok) {
    *error = std::string("cannot start a media worker: ") + gerr->message;
    g_error_free(gerr);
    close(pair[0]);
    return nullptr;
  }
  std::unique_ptr<WorkerProcess> w(new WorkerProcess);
  w->socket_ = pair[0];
  w->pid_ = pid;
  pollfd p{w->socket_, POLLIN, 0};
  Message ready;
  std::string why;
  if (poll(&p, 1, kReadyTimeoutMs) != 1 ||
      receive_message(w->socket_, &ready, &why) != Received::kMessage ||
      ready.type != MessageType::kReady) {
    w->kill();
    *error = "a media worker did not start: " + (why.empty() ? w->end_reason() : why);
    return nullptr;
  }
  w->sandbox_ = ready.payload;
  return w;
}

WorkerProcess::~WorkerProcess() {
  if (lent) WorkerPool::shared().forget_lent();
  kill();
  if (socket_ >= 0) close(socket_);
}

void WorkerProcess::set_stopped(bool stopped) {
  if (stopped == stopped_ || reaped_) return;
  ::kill(pid_, stopped ? SIGSTOP : SIGCONT);
  stopped_ = stopped;
}

void WorkerProcess::kill() {
  if (reaped_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  end_reason();
}

std::string WorkerProcess::end_reason() {
  if (!reaped_ && pid_ > 0) {
    while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  if (WIFSIGNALED(status_)) {
    const char* name = sigabbrev_np(WTERMSIG(status_));
    return std::string("killed by SIG") + (name ? name : std::to_string(WTERMSIG(status_)));
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status_));
}

WorkerPool& WorkerPool::shared() {
  static WorkerPool* pool = new WorkerPool;  // never destroyed: workers die with the process
  return *pool;
}

void WorkerPool::configure(int count, uint64_t memory_limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_target_ = count;
  memory_limit_ = memory_limit;
  if (!refill_thread_.joinable()) refill_thread_ = std::thread([this] { refill(); });
  changed_.notify_all();
}

void WorkerPool::refill() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] {
      return stopping_ || int(idle_.size()) + lent_ < idle_target_ || int(idle_.size()) < waiting_;
    });
    if (stopping_) return;
    const uint64_t limit = memory_limit_;
    lock.unlock();
    std::string error;
    std::unique_ptr<WorkerProcess> w = WorkerProcess::spawn(limit, &error);
    lock.lock();
    if (!w) {
      g_warning("%s", error.c_str());
      spawn_error_ = error;
      changed_.notify_all();
      changed_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      continue;
    }
    spawn_error_.clear();
    if (sandbox_.empty() && idle_target_ > 0)  // `tws serve`: say once what is enforced
      g_message("media workers: %s", w->sandbox().c_str());
    sandbox_ = w->sandbox();
    idle_.push_back(std::move(w));
    changed_.notify_all();
  }
}

bool WorkerPool::alive_locked(WorkerProcess* w) {
  // Looks without reaping: the worker's destructor reaps it.
  siginfo_t info{};
  return waitid(P_PID, id_t(w->pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
}

std::unique_ptr<WorkerProcess> WorkerPool::take(std::string* error) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!refill_thread_.joinable()) refill_thread_ = std::thread([this] { refill(); });
  waiting_++;
  changed_.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  std::unique_ptr<WorkerProcess> w;
  while (!w) {
    const bool woken = changed_.wait_until(
        lock, deadline, [this] { return stopping_ || !idle_.empty() || !spawn_error_.empty(); });
    if (!woken || stopping_ || (idle_.empty() && !spawn_error_.empty())) {
      *error = stopping_               ? "stopping"
               : !spawn_error_.empty() ? spawn_error_
                                       : "no media worker started in 90 s";
      waiting_--;
      return nullptr;
    }
    w = std::move(idle_.back());
    idle_.pop_back();
    if (!alive_locked(w.get())) w.reset();  // died while idle
  }
  waiting_--;
  lent_++;
  w->lent = true;
  changed_.notify_all();
  return w;
}

void WorkerPool::forget_lent() {
  std::lock_guard<std::mutex> lock(mutex_);
  lent_--;
  changed_.notify_all();
}

void WorkerPool::give_back(std::unique_ptr<WorkerProcess> worker) {
  std::lock_guard<std::mutex> lock(mutex_);
  lent_--;
  worker->lent = false;
  changed_.notify_all();
  // Kept while the pool holds no more than it should; else ended by its destructor (after
  // the lock is released: the caller's unique_ptr outlives this scope).
  if (!worker->reusable || ++worker->jobs >= kMaxJobs || stopping_ ||
      int(idle_.size()) + lent_ >= std::max(idle_target_, 1))
    return;
  idle_.push_back(std::move(worker));
}

WorkerPool::Counts WorkerPool::counts() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {int(idle_.size()), lent_};
}

void WorkerPool::shutdown() {
  std::vector<std::unique_ptr<WorkerProcess>> ended;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    ended.swap(idle_);
    changed_.notify_all();
  }
  if (refill_thread_.joinable()) refill_thread_.join();
}

std::string WorkerPool::sandbox() {
  std::lock_guard<std::mutex> lock(mutex_);
  return sandbox_;
}

}  // namespace tws::worker
