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

void JobGate::open_for_good() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    held_ = false;
  }
  changed_.notify_all();
}

void JobGate::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !held_; });
}

bool JobGate::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

}  // namespace tws
