// A pause point for a segment job. The service holds its background jobs (read-ahead,
// pre-transcode) while a segment a client waits for is being made, so that one gets the CPU:
// the decode side waits here before it hands a frame or audio buffer to the encoder, the
// encoder drains the few frames it holds, and the whole job idles until it is released.
#pragma once

#include <condition_variable>
#include <mutex>

namespace tws {

class JobGate {
 public:
  // Later waits block until release().
  void hold();
  void release();
  // Never blocks again (the job is being cancelled or torn down).
  void open_for_good();
  // Blocks while held.
  void wait();
  bool held() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;  // guarded by mutex_
  bool open_ = false;  // guarded by mutex_
};

}  // namespace tws
