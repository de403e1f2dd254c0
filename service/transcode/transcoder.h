// SPDX-License-Identifier: LGPL-2.1-or-later
// The service's transcodes: single flight per segment, a bounded priority queue, at most
// `[server] workers` pipelines at once (one thread each), runs of segments in one pipeline.
// Every public method runs on the server's main context; worker threads only post events
// back to it (libsoup and the flights are not thread-safe).
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/gref.h"
#include "service/core/config.h"
#include "service/storage/storage.h"
#include "service/transcode/job_queue.h"
#include "service/transcode/job_state.h"
#include "service/transcode/produce.h"
#include "service/transcode/segment_flight.h"

namespace tws {

class Transcoder {
 public:
  static constexpr size_t kMaxWaitingClients = 1024;
  static constexpr int kTranscodeNice = 10;  // the niceness of transcode threads
  static constexpr int kMaxRun = 12;         // segments per pipeline run
  static constexpr int kJoinDistance = 2;    // a running job this close to a segment serves it
  // Read-ahead of a playlist nobody asked anything of for this long is dropped (the viewer
  // left, paused, or switched to another rendition).
  static constexpr int64_t kReadAheadIdle = 30 * G_USEC_PER_SEC;

  Transcoder(const Config& config, GMainContext* context);
  ~Transcoder();
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  using PlaylistPtr = std::shared_ptr<const StoredPlaylist>;

  // Attaches a client to segment `index` of `playlist` (which is not in storage): it joins the
  // segment's flight, or one is queued as waited-for. False: overloaded (503). `hint` (>= 0):
  // where the client starts watching, in seconds on the playlist's timeline (a seek): a new
  // flight makes the frames before it as a draft (SegmentJob::hint), stores the segment, and
  // remakes it at full quality when no other transcode runs, replacing the stored object.
  bool watch(const PlaylistPtr& playlist, int index, FlightClient* client, double hint = -1);
  // Whether segment `index` is, or is being made as, a draft that is not remade yet: its
  // responses must not be cached for long.
  bool draft(const StoredPlaylist& p, int index) const;
  void unwatch(const PlaylistPtr& playlist, int index, FlightClient* client);
  // Queues segments after `index` (the record's TranscodeAhead) at read-ahead priority. With
  // `[server] warmup-url` it sends each a warm-up GET through the balancer instead. After
  // segment 0 this happens kFirstReadAheadDelayMs later: a player starting up asks for
  // nothing while it demuxes, decodes and shows its first frame, with 2 s or more buffered,
  // and a viewer who leaves at once costs no read-ahead.
  void read_ahead(const PlaylistPtr& playlist, int index);
  static constexpr int kFirstReadAheadDelayMs = 1000;
  // A warm-up GET for segment `index` (not in storage): queued at read-ahead priority unless
  // running or queued already.
  void warm(const PlaylistPtr& playlist, int index);
  // A viewer fetched the playlist: segment `index` (where players start) is likely asked for
  // next. Queued at read-ahead priority (so it starts at once on an idle service), unless
  // stored, running or queued.
  void expect(const PlaylistPtr& playlist, int index);
  // Queues segments [first, last] at pre-transcode priority.
  void pre_transcode(const PlaylistPtr& playlist, int first, int last);

  // A segment a request found stored (true) or missing (false): what stored() answers for a
  // while without asking the store.
  void note_stored(const StoredPlaylist& p, int index, bool stored);

  // Cancels every job (nothing partial is published), joins the workers, fails the flights.
  void shutdown();
  int64_t queue_depth() const { return queue_.segments(); }

 private:
  struct Job {
    Job(int first, int last) : state(first, last) {}
    uint64_t id = 0;
    PlaylistPtr playlist;
    std::string playlist_id;
    Priority priority = Priority::kPreTranscode;
    // The seek hint of its one waited-for segment, set only where it cuts the segment into a
    // draft and the rest (hint_cut_frame()); < 0 otherwise.
    double hint = -1;
    bool draft() const { return hint >= 0; }
    bool draft_stored = false;  // the draft segment was published
    bool remake = false;        // it remakes stored drafts
    // Its run [first, last], the segment in progress and the segments it still owns; the
    // phases and their transitions are in job_state.h.
    JobState state;
    // Held while other jobs make segments that clients wait for (rebalance()).
    std::shared_ptr<JobGate> gate = std::make_shared<JobGate>();
    std::thread thread;
  };
  struct Event {
    enum Kind { kBegin, kData, kEnd, kDone };
    Event(Kind k, uint64_t j, int i = 0) : kind(k), job(j), index(i) {}
    Kind kind;
    uint64_t job = 0;
    int index = 0;
    GUnique<GBytes> bytes;
    bool ok = false;
    Failure failure;
    double seconds = 0;
  };

  static std::string playlist_id(const StoredPlaylist& p);
  std::string flight_key(const StoredPlaylist& p, int index) const;
  Flight* find_flight(const StoredPlaylist& p, int index);
  // Whether segment `index` is stored. A local bucket is asked at once (a stat of the page
  // cache); a remote one never on the main loop: what is known (a segment published here, or
  // read or found missing by a request, or a check's answer) is answered, and an unknown one
  // is nullopt while a check runs on a storage thread, after which on_storage_known() runs.
  std::optional<bool> stored(const StoredPlaylist& p, int index);
  // Running flight, or in storage (an unknown one counts as busy until its check answers).
  bool busy(const StoredPlaylist& p, int index);
  void on_storage_known();

  void pump();  // starts queued work while workers are free
  // A viewer asked for this playlist or one of its segments now.
  void touch(const std::string& playlist_id);
  // Read-ahead whose playlist nobody asked for in kReadAheadIdle.
  bool stale(const std::string& playlist_id, Priority priority) const;
  // Whether a client waits for a segment the job still owns.
  bool urgent(const Job& job);
  // Holds background jobs while an urgent one runs (the CPU goes to the segment a client
  // waits for, then to its neighbours); releases them otherwise.
  void rebalance();
  void launch(const QueueItem& item, int first, int last);
  void preempt_for_waiting();
  void truncate(Job* job, int at);
  void work(Job* job);     // worker thread
  void post(Event event);  // worker thread
  void drain();
  void handle(Event& event);
  void finish_job(uint64_t id, const Failure* failure);

  const Config& config_;
  GMainContext* context_;
  JobQueue queue_;
  std::map<std::string, std::unique_ptr<Flight>> flights_;
  std::map<uint64_t, std::unique_ptr<Job>> jobs_;
  std::map<std::string, std::unique_ptr<Storage>> storages_;  // local buckets
  struct Known {
    bool stored = false;
    int64_t at = 0;  // monotonic us
  };
  std::map<std::string, Known> known_;  // remote segments: flight_key -> what is known
  std::set<std::string> drafts_;        // flight keys of drafts made or making, not remade yet
  std::set<std::string> checking_;      // flight keys with a storage check running
  // Work that waits for a check's answer: read-ahead and expected segments, and queue items
  // whose segments were unknown when pump() came to them.
  std::vector<std::pair<PlaylistPtr, int>> pending_read_ahead_, pending_expect_;
  std::vector<QueueItem> parked_;
  uint64_t next_job_ = 1;
  bool shut_down_ = false;
  // Warm-ups through the balancer: the session, and when each segment's was last sent.
  GRef<SoupSession> warmup_session_;
  std::map<std::string, int64_t> warmed_;
  std::map<std::string, int64_t> last_request_;  // playlist id -> monotonic us
  void send_warmup(const StoredPlaylist& p, int index);
  // Read-ahead after segment 0, waiting for its time (monotonic us) on one timer.
  struct DeferredReadAhead {
    PlaylistPtr playlist;
    int64_t due = 0;
  };
  std::vector<DeferredReadAhead> deferred_;
  GUnique<GSource> deferred_timer_;
  void queue_read_ahead(const PlaylistPtr& playlist, int index);
  void run_deferred_read_ahead();

  std::mutex events_mutex_;
  std::deque<Event> events_;  // guarded by events_mutex_
};

}  // namespace tws
