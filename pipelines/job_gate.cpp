// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/job_gate.h"

namespace tws {

void JobGate::hold() {
  std::lock_guard<std::mutex> lock(mutex_);
  held_ = !open_;
}

void JobGate::release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = false;
  }
  changed_.notify_all();
}

void JobGate::cancel() {
  cancelled_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    held_ = false;
  }
  changed_.notify_all();
}

bool JobGate::cancelled() const { return cancelled_; }

void JobGate::wait(const std::atomic<bool>& stop) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !held_ || stop; });
}

void JobGate::wake() {
  // Taking the lock orders this after a waiter's look at `stop`: no wake-up is lost.
  { std::lock_guard<std::mutex> lock(mutex_); }
  changed_.notify_all();
}

bool JobGate::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

}  // namespace tws
