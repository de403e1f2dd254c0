// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/transcoder.h"

#include "service/core/storage_threads.h"

#include <algorithm>
#include <chrono>

#include "pipelines/segment_job.h"
#include "pipelines/segment_split.h"
#include "service/core/main_context.h"
#include "service/core/metrics.h"
#include "service/core/storage_threads.h"
#include "service/playlist/playlist_file.h"
#include "service/playlist/signer.h"
#include "service/storage/open_storage.h"
#include "service/transcode/segment_publisher.h"
#include "service/worker/isolated.h"

namespace tws {

Transcoder::Transcoder(const Config& config, GMainContext* context)
    : config_(config), context_(context), queue_(size_t(config.queue_limit)) {}

Transcoder::~Transcoder() { shutdown(); }

std::string Transcoder::playlist_id(const StoredPlaylist& p) {
  return p.uri.bucket + "/" + p.uri.key;
}

std::string Transcoder::flight_key(const StoredPlaylist& p, int index) const {
  return p.uri.bucket + "/" + segment_key(p.prefix_key, p.record.token, index);
}

Flight* Transcoder::find_flight(const StoredPlaylist& p, int index) {
  auto it = flights_.find(flight_key(p, index));
  return it == flights_.end() ? nullptr : it->second.get();
}

namespace {

// How long what is known of a remote segment is trusted: a stored one stays (segments are
// deleted rarely, and a request that finds one missing says so at once), a missing one may
// be made by another node meanwhile.
constexpr int64_t kKnownStoredUs = 600 * G_USEC_PER_SEC;
constexpr int64_t kKnownMissingUs = 5 * G_USEC_PER_SEC;

}  // namespace

std::optional<bool> Transcoder::stored(const StoredPlaylist& p, int index) {
  const BucketConfig* bucket = config_.find_bucket(p.uri.bucket);
  if (!bucket) return false;
  const std::string key = segment_key(p.prefix_key, p.record.token, index);
  StorageError error;
  ObjectStat st;
  if (!bucket->is_s3()) {
    auto& storage = storages_[p.uri.bucket];
    if (!storage) storage = open_storage(*bucket, &error);
    return storage && storage->stat(key, &st, &error) == StorageStatus::kOk;
  }
  const std::string id = flight_key(p, index);
  const int64_t now = g_get_monotonic_time();
  if (auto it = known_.find(id);
      it != known_.end() &&
      now - it->second.at < (it->second.stored ? kKnownStoredUs : kKnownMissingUs))
    return it->second.stored;
  if (checking_.insert(id).second) {
    const BucketConfig b = *bucket;
    auto found = std::make_shared<std::optional<bool>>();
    run_on_storage_thread(
        context_,
        [b, key, found] {
          StorageError why;
          ObjectStat s;
          if (auto storage = open_storage(b, &why)) {
            const StorageStatus status = storage->stat(key, &s, &why);
            if (!storage_failed(status)) *found = status == StorageStatus::kOk;
          }
        },
        [this, id, found] {
          checking_.erase(id);
          // A store that cannot answer: taken as missing (a request then reads it itself).
          known_[id] = {found->value_or(false), g_get_monotonic_time()};
          on_storage_known();
        });
  }
  return std::nullopt;
}

void Transcoder::note_stored(const StoredPlaylist& p, int index, bool stored) {
  const BucketConfig* bucket = config_.find_bucket(p.uri.bucket);
  if (bucket && bucket->is_s3()) known_[flight_key(p, index)] = {stored, g_get_monotonic_time()};
}

void Transcoder::on_storage_known() {
  if (shut_down_) return;
  if (known_.size() > 65536)
    std::erase_if(known_, [now = g_get_monotonic_time()](const auto& k) {
      return now - k.second.at > kKnownStoredUs;
    });
  for (QueueItem& item : std::exchange(parked_, {})) queue_.push(std::move(item));
  for (auto& [playlist, index] : std::exchange(pending_read_ahead_, {}))
    queue_read_ahead(playlist, index);
  for (auto& [playlist, index] : std::exchange(pending_expect_, {})) expect(playlist, index);
  pump();
}

bool Transcoder::busy(const StoredPlaylist& p, int index) {
  const Flight* f = find_flight(p, index);
  if (f && f->running()) return true;
  return stored(p, index).value_or(true);
}

void Transcoder::touch(const std::string& playlist_id) {
  const int64_t now = g_get_monotonic_time();
  if (last_request_.size() > 4096)
    std::erase_if(last_request_, [&](const auto& r) { return now - r.second > kReadAheadIdle; });
  last_request_[playlist_id] = now;
}

bool Transcoder::stale(const std::string& playlist_id, Priority priority) const {
  if (priority != Priority::kReadAhead) return false;
  auto it = last_request_.find(playlist_id);
  return it == last_request_.end() || g_get_monotonic_time() - it->second > kReadAheadIdle;
}

bool Transcoder::draft(const StoredPlaylist& p, int index) const {
  // Asked of every segment served: no key is built while there is no draft.
  return !drafts_.empty() && drafts_.count(flight_key(p, index)) > 0;
}

bool Transcoder::watch(const PlaylistPtr& playlist, int index, FlightClient* client, double hint) {
  if (shut_down_) return false;
  touch(playlist_id(*playlist));
  // Its request read storage and found it missing.
  note_stored(*playlist, index, false);
  const std::string key = flight_key(*playlist, index);
  auto it = flights_.find(key);
  if (it == flights_.end()) {
    size_t clients = 0;
    for (const auto& [k, f] : flights_) clients += f->clients();
    if (clients >= kMaxWaitingClients) return false;
    QueueItem item{playlist_id(*playlist), playlist, index, index, Priority::kWaiting};
    item.hint = hint;
    if (!queue_.push(std::move(item))) return false;
    it = flights_.emplace(key, std::make_unique<Flight>()).first;
  } else if (it->second->running()) {
    // A running job that reaches the segment soon serves it; one far behind stops before it
    // and a new job starts at the segment.
    Job* job = jobs_.at(*it->second->job()).get();
    if (index - job->state.position() > kJoinDistance) {
      // truncate() drops the job's flights from `index` on that nobody waits for: this one
      // too. A new flight waits for the new job.
      truncate(job, index);
      QueueItem item{playlist_id(*playlist), playlist, index, index, Priority::kWaiting};
      item.hint = hint;
      if (!queue_.push(std::move(item))) return false;
      it = flights_.find(key);
      if (it == flights_.end()) it = flights_.emplace(key, std::make_unique<Flight>()).first;
    }
  }  // else: queued, with a waited-for item of its own (made with the flight)
  it->second->add_client(client);
  preempt_for_waiting();
  pump();
  rebalance();
  return true;
}

void Transcoder::unwatch(const PlaylistPtr& playlist, int index, FlightClient* client) {
  if (Flight* f = find_flight(*playlist, index)) f->remove_client(client);
  rebalance();
}

void Transcoder::read_ahead(const PlaylistPtr& playlist, int index) {
  const std::string id = playlist_id(*playlist);
  touch(id);
  if (index != 0 || shut_down_) return queue_read_ahead(playlist, index);
  for (const DeferredReadAhead& d : deferred_)
    if (playlist_id(*d.playlist) == id) return;
  deferred_.push_back({playlist, g_get_monotonic_time() + kFirstReadAheadDelayMs * 1000});
  if (deferred_timer_) return;
  deferred_timer_.reset(g_timeout_source_new(kFirstReadAheadDelayMs / 4));
  g_source_set_callback(
      deferred_timer_.get(),
      [](gpointer self) -> gboolean {
        static_cast<Transcoder*>(self)->run_deferred_read_ahead();
        return G_SOURCE_CONTINUE;
      },
      this, nullptr);
  g_source_attach(deferred_timer_.get(), context_);
}

void Transcoder::run_deferred_read_ahead() {
  const int64_t now = g_get_monotonic_time();
  std::vector<DeferredReadAhead> due;
  std::erase_if(deferred_, [&](const DeferredReadAhead& d) {
    if (d.due > now) return false;
    due.push_back(d);
    return true;
  });
  if (deferred_.empty() && deferred_timer_) {
    g_source_destroy(deferred_timer_.get());
    deferred_timer_.reset();
  }
  for (const DeferredReadAhead& d : due) queue_read_ahead(d.playlist, 0);
}

void Transcoder::queue_read_ahead(const PlaylistPtr& playlist, int index) {
  const int ahead = playlist->record.transcode_ahead;
  const int count = int(playlist->plan.segments.size());
  const int last = std::min(count - 1, index + ahead);
  if (ahead <= 0 || shut_down_ || index + 1 > last) return;
  const std::string id = playlist_id(*playlist);
  if (!config_.warmup_url.empty()) {
    // Cluster: the node that owns each segment (by the balancer's hash) makes it. The owner
    // checks its storage; a warm-up is sent again only after kWarmupRepeat.
    constexpr int64_t kWarmupRepeat = 30 * G_USEC_PER_SEC;
    const int64_t now = g_get_monotonic_time();
    if (warmed_.size() > 4096)
      std::erase_if(warmed_, [&](const auto& w) { return now - w.second > kWarmupRepeat; });
    for (int i = index + 1; i <= last; ++i) {
      auto [it, fresh] = warmed_.emplace(flight_key(*playlist, i), now);
      if (!fresh && now - it->second < kWarmupRepeat) continue;
      it->second = now;
      if (!find_flight(*playlist, i)) send_warmup(*playlist, i);
    }
    return;
  }
  int first = index + 1;
  for (; first <= last; ++first) {
    if (find_flight(*playlist, first) || queue_.covers(id, first)) continue;
    const std::optional<bool> is_stored = stored(*playlist, first);
    if (!is_stored) {  // asked off the main loop: come back with the answer
      pending_read_ahead_.emplace_back(playlist, index);
      return;
    }
    if (!*is_stored) break;
  }
  // Refill when half the window is missing, so a steady viewer gives runs, not single segments.
  if (first > last || last - first + 1 < std::max(1, (last - index) / 2)) return;
  queue_.push({id, playlist, first, last, Priority::kReadAhead});
  pump();
}

void Transcoder::send_warmup(const StoredPlaylist& p, int index) {
  if (!warmup_session_) {
    warmup_session_ = adopt_ref(soup_session_new_with_options("timeout", 30, "idle-timeout", 60,
                                                              "user-agent", "tws-warmup", nullptr));
  }
  std::string url, error;
  const ObjectUri uri{p.uri.bucket, segment_key(p.prefix_key, p.record.token, index)};
  if (!signed_url(config_, uri, g_get_real_time() / G_USEC_PER_SEC + 600, &url, &error)) {
    g_warning("warm-up %s: %s", uri.to_string().c_str(), error.c_str());
    return;
  }
  url = config_.warmup_url + url.substr(config_.public_url.size());  // through the balancer
  GRef<SoupMessage> msg = adopt_ref(soup_message_new("GET", url.c_str()));
  if (!msg) return;
  soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "X-Tws-Warmup", "1");
  // The answer (202/204, no body) is read and dropped; nothing here refers to `this`.
  soup_session_send_and_read_async(
      warmup_session_.get(), msg.get(), G_PRIORITY_LOW, nullptr,
      [](GObject* session, GAsyncResult* result, gpointer) {
        GError* err = nullptr;
        GBytes* body = soup_session_send_and_read_finish(SOUP_SESSION(session), result, &err);
        if (body) g_bytes_unref(body);
        if (err) {
          g_message("warm-up failed: %s", err->message);
          g_error_free(err);
        }
      },
      nullptr);
}

void Transcoder::warm(const PlaylistPtr& playlist, int index) {
  const std::string id = playlist_id(*playlist);
  if (shut_down_ || find_flight(*playlist, index) || queue_.covers(id, index)) return;
  queue_.push({id, playlist, index, index, Priority::kReadAhead});
  pump();
}

void Transcoder::expect(const PlaylistPtr& playlist, int index) {
  const std::string id = playlist_id(*playlist);
  if (shut_down_ || index >= int(playlist->plan.segments.size()) || find_flight(*playlist, index) ||
      queue_.covers(id, index))
    return;
  const std::optional<bool> is_stored = stored(*playlist, index);
  if (!is_stored) {
    pending_expect_.emplace_back(playlist, index);
    return;
  }
  if (*is_stored) return;
  touch(id);
  if (!config_.warmup_url.empty()) return send_warmup(*playlist, index);  // its owner makes it
  queue_.push({id, playlist, index, index, Priority::kReadAhead});
  pump();
}

void Transcoder::pre_transcode(const PlaylistPtr& playlist, int first, int last) {
  if (shut_down_ || last < first) return;
  queue_.push({playlist_id(*playlist), playlist, first, last, Priority::kPreTranscode});
  pump();
}

void Transcoder::pump() {
  while (!shut_down_ && jobs_.size() < size_t(config_.workers)) {
    // Background work leaves the last free worker to clients that may come while an urgent
    // job runs (a viewer asks for its video and audio segments one after the other).
    if (queue_.top_priority() != Priority::kWaiting &&
        jobs_.size() + 1 >= size_t(config_.workers) &&
        std::any_of(jobs_.begin(), jobs_.end(),
                    [this](const auto& j) { return urgent(*j.second); }))
      break;
    // A draft is remade when nothing else runs: the CPU goes to what viewers wait for.
    if (const QueueItem* next = queue_.peek(); next && next->remake && !jobs_.empty()) break;
    std::optional<QueueItem> item = queue_.pop();
    if (!item) break;
    if (stale(item->playlist, item->priority)) continue;
    if (item->remake) {
      if (const Flight* f = find_flight(*item->stored, item->first); f && f->running()) continue;
      launch(*item, item->first, item->first);
      continue;
    }
    const StoredPlaylist& p = *item->stored;
    int first = item->first;
    bool unknown = false;
    for (; first <= item->last; ++first) {
      const Flight* f = find_flight(p, first);
      if (f && f->running()) continue;
      // A segment a client waits for was just found missing by its request.
      if (item->priority == Priority::kWaiting && first == item->first) break;
      const std::optional<bool> is_stored = stored(p, first);
      if (!is_stored) {
        unknown = true;
        break;
      }
      if (!*is_stored) break;
    }
    if (unknown) {  // back in the queue when its storage check answers
      parked_.push_back({item->playlist, item->stored, first, item->last, item->priority});
      continue;
    }
    if (first > item->last) continue;
    int last = first;
    while (last < item->last && last - first + 1 < kMaxRun && !busy(p, last + 1)) ++last;
    if (last < item->last) {
      queue_.push({item->playlist, item->stored, last + 1, item->last, item->priority});
    } else {
      // Read-ahead queued right after this run continues it in the same pipeline.
      while (last - first + 1 < kMaxRun) {
        std::optional<QueueItem> next = queue_.take_starting_at(item->playlist, last + 1);
        if (!next) break;
        while (last < next->last && last - first + 1 < kMaxRun && !busy(p, last + 1)) ++last;
        if (last < next->last) {
          queue_.push({next->playlist, next->stored, last + 1, next->last, next->priority});
          break;
        }
      }
    }
    launch(*item, first, last);
  }
  rebalance();
}

bool Transcoder::urgent(const Job& job) {
  for (int i = job.state.position(); i <= job.state.owned_last(); ++i) {
    const Flight* f = find_flight(*job.playlist, i);
    if (f && f->made_by(job.id) && f->clients() > 0) return true;
  }
  return false;
}

void Transcoder::rebalance() {
  std::vector<std::pair<Job*, bool>> states;
  bool any_urgent = false;
  for (const auto& [id, job] : jobs_) {
    states.emplace_back(job.get(), urgent(*job));
    any_urgent = any_urgent || states.back().second;
  }
  for (auto [job, is_urgent] : states) {
    if (any_urgent && !is_urgent)
      job->gate->hold();
    else
      job->gate->release();
  }
}

void Transcoder::launch(const QueueItem& item, int first, int last) {
  auto job = std::make_unique<Job>(first, last);
  job->id = next_job_++;
  job->playlist = item.stored;
  job->playlist_id = item.playlist;
  job->priority = item.priority;
  job->remake = item.remake;
  // The segment a client waits for is the run's first (a run's later segments are read-ahead).
  if (item.priority == Priority::kWaiting && first == item.first &&
      hint_cut_frame(item.stored->plan, first, item.hint) > 0) {
    job->hint = item.hint;
    drafts_.insert(flight_key(*item.stored, first));
  }
  for (int i = first; i <= last; ++i) {
    auto& flight = flights_[flight_key(*item.stored, i)];
    if (!flight) flight = std::make_unique<Flight>();
    flight->start(job->id);
  }
  g_message("transcode %s segments %d..%d (%s%s)", item.playlist.c_str(), first, last,
            item.remake ? "remake of a draft" : priority_name(item.priority),
            job->draft() ? ", draft before the seek hint" : "");
  Job* raw = job.get();
  jobs_[job->id] = std::move(job);
  raw->thread = std::thread([this, raw] { work(raw); });
}

void Transcoder::preempt_for_waiting() {
  if (jobs_.size() < size_t(config_.workers) || queue_.top_priority() != Priority::kWaiting) return;
  // Is some job already giving up its worker (stopping in the segment it is making)? One
  // that stops later does not count: held while a client waits, it would never get there.
  for (const auto& [id, job] : jobs_)
    if (job->state.stopping()) return;
  // The victim: a job nobody waits for, pre-transcode before read-ahead.
  Job* victim = nullptr;
  auto background = [](const Job* job) { return std::min(job->priority, Priority::kReadAhead); };
  for (const auto& [id, job] : jobs_)
    if (!urgent(*job) && (!victim || background(job.get()) < background(victim)))
      victim = job.get();
  if (!victim) return;
  g_message("transcode %s segments %d..%d gives its worker to a waiting client",
            victim->playlist_id.c_str(), victim->state.first(), victim->state.owned_last());
  // A background job is held while the client waits: its segment in progress is dropped
  // (made again later) unless a client waits for it too.
  int at = victim->state.position();
  const Flight* f = find_flight(*victim->playlist, at);
  if (f && f->clients() > 0) ++at;
  if (at <= victim->state.owned_last()) truncate(victim, at);
}

void Transcoder::truncate(Job* job, int at) {
  const int owned_last = job->state.owned_last();
  if (at > owned_last) return;
  job->state.stop_before(at);
  // Stopping in the segment being made (or before the first): drop it now.
  if (job->state.stopping()) job->gate->cancel();
  const StoredPlaylist& p = *job->playlist;
  for (int i = at; i <= owned_last; ++i) {
    const std::string key = flight_key(p, i);
    auto it = flights_.find(key);
    if (it == flights_.end() || !it->second->made_by(job->id)) continue;
    if (it->second->clients() > 0) {
      it->second->restart(Failure{ErrorCode::kTranscodeFailed, "the transcode was moved"});
      queue_.push({job->playlist_id, job->playlist, i, i, Priority::kWaiting});
    } else {
      flights_.erase(it);
    }
  }
  // Nobody waits for the rest (those who do were queued above): back at background priority.
  QueueItem rest{job->playlist_id, job->playlist, at, owned_last,
                 std::min(job->priority, Priority::kReadAhead)};
  rest.remake = job->remake;
  queue_.push(std::move(rest));
}

// Worker thread ------------------------------------------------------------------------------

void Transcoder::work(Job* job) {
  const StoredPlaylist& p = *job->playlist;
  Failure failure;
  SegmentJob segment_job;
  std::unique_ptr<Storage> storage;
  const int first = job->state.first(), last = job->state.last();
  if (!prepare_segment_job(config_, p, first, last, &segment_job, &storage, &failure)) {
    Event done(Event::kDone, job->id);
    done.failure = failure;
    post(std::move(done));
    return;
  }
  segment_job.gate = job->gate;
  segment_job.waited = job->priority == Priority::kWaiting;
  segment_job.hint = job->hint;
  // A segment a client waits for, on a machine with cores to spare, is made as GOPs in parallel.
  if (segment_job.waited && first == last)
    segment_job.chunks = segment_chunks(segment_job.plan, first, available_cores());
  // Below the main loop: cached segments and the HTTP side stay fast while transcodes run.
  segment_job.thread_nice = kTranscodeNice;
  SegmentPublisher publisher(storage.get(), p.prefix_key, p.record.token, &segment_job);
  const SegmentSink inner = publisher.sink();
  auto stopped = [job](int index) { return !job->state.makes(index); };
  auto began = std::chrono::steady_clock::now();
  SegmentSink sink;
  sink.begin = [&](int index) {
    if (stopped(index)) return;
    began = std::chrono::steady_clock::now();
    inner.begin(index);
    post(Event(Event::kBegin, job->id, index));
  };
  sink.data = [&](int index, const uint8_t* data, size_t size) {
    if (stopped(index) || !inner.data(index, data, size)) return false;
    Event e(Event::kData, job->id, index);
    e.bytes.reset(g_bytes_new(data, size));
    post(std::move(e));
    return true;
  };
  sink.end = [&](const SegmentReport& report) {
    if (stopped(report.index)) return;
    const size_t before = publisher.published().size();
    inner.end(report);
    Event e(Event::kEnd, job->id, report.index);
    e.ok = publisher.published().size() > before;
    e.failure = {ErrorCode::kTranscodeFailed, publisher.error().message};
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    post(std::move(e));
  };
  std::string error;
  bool stalled = false;
  const bool ok = run_segment_job_isolated(segment_job, sink, &error, &stalled);
  publisher.abort_all();
  Event done(Event::kDone, job->id);
  const StorageError published = publisher.error();
  done.ok = ok && published.status == StorageStatus::kOk;
  done.failure = {stalled ? ErrorCode::kTranscodeTimeout : ErrorCode::kTranscodeFailed,
                  published.status == StorageStatus::kOk ? error : published.message};
  post(std::move(done));
}

void Transcoder::post(Event event) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(events_mutex_);
    first = events_.empty();
    events_.push_back(std::move(event));
  }
  if (first) call_on(context_, [this] { drain(); });
}

// Main context -------------------------------------------------------------------------------

void Transcoder::drain() {
  std::deque<Event> events;
  {
    std::lock_guard<std::mutex> lock(events_mutex_);
    events.swap(events_);
  }
  if (shut_down_) return;
  for (Event& e : events) handle(e);
}

void Transcoder::handle(Event& e) {
  auto job_it = jobs_.find(e.job);
  if (job_it == jobs_.end()) return;
  Job* job = job_it->second.get();
  if (e.kind == Event::kDone) {
    job->thread.join();
    finish_job(e.job, e.ok ? nullptr : &e.failure);
    return;
  }
  if (e.kind == Event::kEnd && e.ok) Metrics::global().segment_transcoded(e.seconds);
  if (e.kind == Event::kBegin) {
    job->state.begin(e.index);
    // Nobody asks for this playlist any more: its read-ahead stops here.
    if (!urgent(*job) && stale(job->playlist_id, std::min(job->priority, Priority::kReadAhead)))
      truncate(job, e.index);
    rebalance();
  }
  const std::string key = flight_key(*job->playlist, e.index);
  auto it = flights_.find(key);
  if (it == flights_.end() || !it->second->made_by(e.job)) return;  // moved to another job
  Flight* flight = it->second.get();
  switch (e.kind) {
    case Event::kBegin:
      break;
    case Event::kData:
      flight->append(std::move(e.bytes));
      break;
    case Event::kEnd: {
      std::unique_ptr<Flight> done = std::move(it->second);
      flights_.erase(it);
      if (e.ok) note_stored(*job->playlist, e.index, true);
      if (job->draft() && e.ok && e.index == job->state.first()) {
        job->draft_stored = true;
        QueueItem remake{job->playlist_id, job->playlist, e.index, e.index,
                         Priority::kPreTranscode};
        remake.remake = true;
        queue_.push(std::move(remake));
      } else if (e.ok) {
        drafts_.erase(key);  // made whole (a remake, or made again after its draft was deleted)
      }
      if (e.ok)
        done->complete();
      else
        done->fail(e.failure.message.empty()
                       ? Failure{ErrorCode::kTranscodeFailed,
                                 "segment " + std::to_string(e.index) + " failed"}
                       : e.failure);
      break;
    }
    case Event::kDone:
      break;
  }
}

void Transcoder::finish_job(uint64_t id, const Failure* failure) {
  std::unique_ptr<Job> job = std::move(jobs_.at(id));
  jobs_.erase(id);
  // A draft that was not stored is no draft.
  if (job->draft() && !job->draft_stored)
    drafts_.erase(flight_key(*job->playlist, job->state.first()));
  const Failure ended{ErrorCode::kTranscodeFailed, "the transcode ended before the segment"};
  for (int i = job->state.first(); i <= job->state.owned_last(); ++i) {
    auto it = flights_.find(flight_key(*job->playlist, i));
    if (it == flights_.end() || !it->second->made_by(id)) continue;
    std::unique_ptr<Flight> flight = std::move(it->second);
    flights_.erase(it);
    flight->fail(failure && !failure->message.empty() ? *failure : ended);
  }
  if (failure && job->state.stopping())
    g_message("transcode %s segments %d..%d stopped at %d", job->playlist_id.c_str(),
              job->state.first(), job->state.last(), job->state.stopped_at().value_or(0));
  else if (failure)
    g_warning("transcode %s segments %d..%d failed: %s", job->playlist_id.c_str(),
              job->state.first(), job->state.last(), failure->message.c_str());
  pump();
}

void Transcoder::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  queue_.clear();
  deferred_.clear();
  if (deferred_timer_) g_source_destroy(deferred_timer_.get());
  deferred_timer_.reset();
  if (warmup_session_) soup_session_abort(warmup_session_.get());
  for (auto& [id, job] : jobs_) {
    job->state.cancel();
    job->gate->cancel();
  }
  for (auto& [id, job] : jobs_)
    if (job->thread.joinable()) job->thread.join();
  jobs_.clear();
  std::map<std::string, std::unique_ptr<Flight>> flights = std::move(flights_);
  flights_.clear();
  for (auto& [key, flight] : flights)
    flight->fail(Failure{ErrorCode::kServiceUnavailable, "the service is shutting down"});
  std::lock_guard<std::mutex> lock(events_mutex_);
  events_.clear();
}

}  // namespace tws
