// SPDX-License-Identifier: LGPL-2.1-or-later
// A pause point for a segment job. The service holds its background jobs (read-ahead,
// pre-transcode) while a segment a client waits for is being made, so that one gets the CPU:
// the decode side waits here before it hands a frame or audio buffer to the encoder, the
// encoder drains the few frames it holds, and the whole job idles until it is released.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace tws {

class JobGate {
 public:
  // Later waits block until release().
  void hold();
  void release();
  // Never blocks again, and the job stops as soon as it looks (within ~20 ms).
  void cancel();
  bool cancelled() const;
  // Blocks while held, unless `stop` is (or becomes, followed by wake()) true.
  void wait(const std::atomic<bool>& stop);
  // Wakes the waiters so that they look at their `stop` again.
  void wake();
  bool held() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;  // guarded by mutex_
  bool open_ = false;  // guarded by mutex_
  std::atomic<bool> cancelled_{false};
};

}  // namespace tws
