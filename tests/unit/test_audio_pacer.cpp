// SPDX-License-Identifier: LGPL-2.1-or-later
// AudioPacer: audio waits while it is more than the lead ahead of the video, and only then.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "pipelines/audio_pacer.h"

namespace tws {
namespace {

constexpr int64_t kMs = 1000000;

// Runs wait_for_video(pts) on a thread of its own; done() once it returned.
class Waiter {
 public:
  Waiter(AudioPacer* pacer, int64_t pts)
      : thread_([this, pacer, pts] {
          waited_ = pacer->wait_for_video(pts);
          done_ = true;
        }) {}
  ~Waiter() { thread_.join(); }
  bool done() const { return done_; }
  int64_t waited() const { return waited_; }
  // True when it returns within 5 s.
  bool returns() {
    for (int i = 0; i < 500 && !done_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done_;
  }

 private:
  std::atomic<bool> done_{false};
  std::atomic<int64_t> waited_{-1};
  std::thread thread_;
};

void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

TEST(AudioPacer, AudioWithinTheLeadGoesAtOnce) {
  AudioPacer pacer(2000 * kMs, 250 * kMs);
  EXPECT_EQ(pacer.wait_for_video(0), 0);           // the pre-roll before the start
  EXPECT_EQ(pacer.wait_for_video(2250 * kMs), 0);  // up to start + lead
  pacer.video_reached(3000 * kMs);
  EXPECT_EQ(pacer.wait_for_video(3250 * kMs), 0);
  pacer.video_reached(2500 * kMs);  // never backwards
  EXPECT_EQ(pacer.wait_for_video(3250 * kMs), 0);
}

TEST(AudioPacer, AudioAheadWaitsUntilTheVideoReachesIt) {
  AudioPacer pacer(0, 250 * kMs);
  Waiter w(&pacer, 1000 * kMs);
  settle();
  EXPECT_FALSE(w.done());
  pacer.video_reached(700 * kMs);  // 300 ms behind: still waiting
  settle();
  EXPECT_FALSE(w.done());
  pacer.video_reached(750 * kMs);
  ASSERT_TRUE(w.returns());
  EXPECT_GE(w.waited(), 90 * kMs);
}

// The video's end of stream, and the job's teardown, release a waiting thread and hold no
// audio after.
TEST(AudioPacer, TheVideoEndingAndStopOpenItForGood) {
  for (bool ended : {true, false}) {
    AudioPacer pacer(0, 250 * kMs);
    Waiter w(&pacer, 5000 * kMs);
    settle();
    EXPECT_FALSE(w.done());
    if (ended)
      pacer.video_ended();
    else
      pacer.stop();
    ASSERT_TRUE(w.returns()) << (ended ? "video_ended()" : "stop()");
    EXPECT_EQ(pacer.wait_for_video(60000 * kMs), 0);
  }
}

}  // namespace
}  // namespace tws
