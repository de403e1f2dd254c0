// SPDX-License-Identifier: LGPL-2.1-or-later
// The transcode queue (priorities, order, bounds) and the single-flight bookkeeping of a
// segment shared by many clients.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "service/transcode/job_queue.h"
#include "service/transcode/job_state.h"
#include "service/transcode/segment_flight.h"

namespace tws {
namespace {

QueueItem item(const std::string& playlist, int first, int last, Priority p) {
  QueueItem i;
  i.playlist = playlist;
  i.first = first;
  i.last = last;
  i.priority = p;
  return i;
}

TEST(JobQueue, PriorityThenAge) {
  JobQueue q(10);
  ASSERT_TRUE(q.push(item("a", 0, 5, Priority::kPreTranscode)));
  ASSERT_TRUE(q.push(item("a", 7, 8, Priority::kReadAhead)));
  ASSERT_TRUE(q.push(item("b", 3, 3, Priority::kWaiting)));
  ASSERT_TRUE(q.push(item("c", 1, 1, Priority::kWaiting)));
  EXPECT_EQ(q.segments(), 6 + 2 + 1 + 1);
  EXPECT_EQ(q.top_priority(), Priority::kWaiting);
  EXPECT_EQ(q.pop()->playlist, "b");
  EXPECT_EQ(q.pop()->playlist, "c");
  EXPECT_EQ(q.pop()->first, 7);
  EXPECT_EQ(q.pop()->first, 0);
  EXPECT_FALSE(q.pop());
  EXPECT_FALSE(q.top_priority());
}

TEST(JobQueue, BoundedUrgentWorkPushesOutTheLeastUrgent) {
  JobQueue q(3);
  ASSERT_TRUE(q.push(item("a", 0, 0, Priority::kPreTranscode)));
  ASSERT_TRUE(q.push(item("b", 0, 0, Priority::kPreTranscode)));
  ASSERT_TRUE(q.push(item("c", 0, 0, Priority::kReadAhead)));
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.push(item("d", 0, 0, Priority::kPreTranscode)));
  std::vector<QueueItem> dropped;
  ASSERT_TRUE(q.push(item("e", 0, 0, Priority::kWaiting), &dropped));
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].playlist, "b");  // the newest of the lowest priority
  ASSERT_TRUE(q.push(item("f", 0, 0, Priority::kWaiting)));
  ASSERT_TRUE(q.push(item("g", 0, 0, Priority::kWaiting)));
  EXPECT_FALSE(q.push(item("h", 0, 0, Priority::kWaiting)));  // full of waited-for work: 503
  EXPECT_EQ(q.items(), 3u);
}

TEST(JobQueue, CoversAndTakesAdjacentRuns) {
  JobQueue q(10);
  q.push(item("a", 5, 9, Priority::kReadAhead));
  q.push(item("a", 5, 6, Priority::kPreTranscode));
  EXPECT_TRUE(q.covers("a", 7));
  EXPECT_FALSE(q.covers("a", 10));
  EXPECT_FALSE(q.covers("b", 7));
  auto taken = q.take_starting_at("a", 5);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->priority, Priority::kReadAhead);  // the most urgent
  EXPECT_FALSE(q.take_starting_at("a", 6));
  EXPECT_EQ(q.items(), 1u);
}

class FakeClient : public FlightClient {
 public:
  void on_data(GBytes* chunk) override {
    gsize n = 0;
    const char* d = static_cast<const char*>(g_bytes_get_data(chunk, &n));
    bytes.append(d, n);
  }
  void on_complete() override { completed = true; }
  void on_failed(const Failure& f, bool s) override {
    failed = true;
    started = s;
    code = f.code;
  }
  std::string bytes;
  bool completed = false, failed = false, started = false;
  ErrorCode code = ErrorCode::kInvalidArgument;
};

GUnique<GBytes> chunk(const char* s) { return GUnique<GBytes>(g_bytes_new(s, strlen(s))); }

TEST(Flight, LateClientsGetEverythingFromTheStart) {
  Flight f;
  FakeClient early, late;
  f.add_client(&early);
  f.append(chunk("abc"));
  f.append(chunk("def"));
  f.add_client(&late);
  EXPECT_EQ(late.bytes, "abcdef");
  f.append(chunk("g"));
  EXPECT_EQ(f.clients(), 2u);
  f.complete();
  EXPECT_EQ(early.bytes, "abcdefg");
  EXPECT_EQ(late.bytes, "abcdefg");
  EXPECT_TRUE(early.completed && late.completed);
  EXPECT_EQ(f.clients(), 0u);
}

TEST(Flight, FailureBeforeAndAfterTheFirstByte) {
  Flight before;
  FakeClient a;
  before.add_client(&a);
  before.fail({ErrorCode::kSourceChanged, "changed"});
  EXPECT_TRUE(a.failed);
  EXPECT_FALSE(a.started);  // gets a JSON error
  EXPECT_EQ(a.code, ErrorCode::kSourceChanged);

  Flight after;
  FakeClient b, gone;
  after.add_client(&b);
  after.add_client(&gone);
  after.remove_client(&gone);
  after.append(chunk("x"));
  after.fail({ErrorCode::kTranscodeFailed, "boom"});
  EXPECT_TRUE(b.failed);
  EXPECT_TRUE(b.started);  // must be cut
  EXPECT_FALSE(gone.failed);
  EXPECT_EQ(gone.bytes, "");
}

TEST(Flight, RestartKeepsClientsThatGotNothing) {
  Flight f;
  EXPECT_FALSE(f.running());  // queued
  f.start(3);
  EXPECT_TRUE(f.running());
  EXPECT_TRUE(f.made_by(3));
  EXPECT_FALSE(f.made_by(4));
  FakeClient a;
  f.add_client(&a);
  f.restart({ErrorCode::kTranscodeFailed, "moved"});
  EXPECT_FALSE(a.failed);
  EXPECT_EQ(f.clients(), 1u);
  EXPECT_FALSE(f.running());  // queued again, made by no job
  EXPECT_EQ(f.job(), std::nullopt);
  EXPECT_FALSE(f.made_by(3));
  f.append(chunk("z"));
  f.restart({ErrorCode::kTranscodeFailed, "moved"});
  EXPECT_TRUE(a.failed && a.started);
  EXPECT_FALSE(f.started());
}

// job_state.h: a job's phases and the segments it still makes.
TEST(JobState, StartingMakingAndNarrowing) {
  JobState s(4, 9);
  EXPECT_EQ(s.phase(), JobState::Phase::kStarting);
  EXPECT_EQ(s.making(), std::nullopt);
  EXPECT_EQ(s.position(), 4);  // the first segment, before any began
  EXPECT_EQ(s.owned_last(), 9);
  EXPECT_EQ(s.stopped_at(), std::nullopt);
  EXPECT_TRUE(s.makes(4));
  EXPECT_TRUE(s.makes(9));
  s.begin(4);
  EXPECT_EQ(s.phase(), JobState::Phase::kMaking);
  s.begin(5);
  EXPECT_EQ(s.making().value_or(-1), 5);
  EXPECT_EQ(s.position(), 5);
  // Cut after the segment in progress: it keeps making up to 6, then ends.
  s.stop_before(7);
  EXPECT_EQ(s.phase(), JobState::Phase::kMaking);
  EXPECT_EQ(s.owned_last(), 6);
  EXPECT_EQ(s.stopped_at().value_or(-1), 7);
  EXPECT_TRUE(s.makes(6));
  EXPECT_FALSE(s.makes(7));
  s.stop_before(8);  // narrows only
  EXPECT_EQ(s.owned_last(), 6);
  // Cut at the segment in progress: stopping, nothing more is made.
  s.stop_before(5);
  EXPECT_EQ(s.phase(), JobState::Phase::kStopping);
  EXPECT_TRUE(s.stopping());
  EXPECT_EQ(s.owned_last(), 4);
  EXPECT_EQ(s.stopped_at().value_or(-1), 5);
  EXPECT_FALSE(s.makes(5));
}

TEST(JobState, StoppingBeforeTheFirstSegmentAndCancelling) {
  JobState before(2, 3);
  before.stop_before(2);  // before any segment began (a preempted job)
  EXPECT_EQ(before.phase(), JobState::Phase::kStopping);
  EXPECT_FALSE(before.makes(2));
  EXPECT_EQ(before.owned_last(), 1);  // owns nothing

  JobState cancelled(0, 5);
  cancelled.begin(1);
  cancelled.cancel();  // shutdown: nothing more, whatever the range
  EXPECT_FALSE(cancelled.makes(1));
  EXPECT_FALSE(cancelled.makes(2));
  EXPECT_EQ(cancelled.owned_last(), 5);  // the flights are failed by the shutdown itself
}

}  // namespace
}  // namespace tws
