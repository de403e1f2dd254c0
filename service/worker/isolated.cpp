// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/worker/isolated.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

#include "common/gref.h"
#include "gst/rangesrc/block_cache.h"
#include "gst/rangesrc/fd_backend.h"
#include "gst/rangesrc/range_backend.h"
#include "pipelines/probe.h"
#include "service/worker/protocol.h"
#include "service/worker/worker_pool.h"

namespace tws {
namespace {

using worker::Message;
using worker::MessageType;
using worker::Received;
using worker::WorkerPool;
using worker::WorkerProcess;

// The source as the worker gets it: the descriptor to pass, and for a remote object the
// socket end this thread answers range reads on.
class SourceChannel {
 public:
  // False with *error and failure(): a resource error, with the store's HTTP status.
  bool open(const std::string& location, std::string* error) {
    const bool remote =
        location.find("://") != std::string::npos && !g_str_has_prefix(location.c_str(), "file://");
    if (!remote) {
      GUnique<gchar> path(g_str_has_prefix(location.c_str(), "file://")
                              ? g_filename_from_uri(location.c_str(), nullptr, nullptr)
                              : g_strdup(location.c_str()));
      passed_ = path ? ::open(path.get(), O_RDONLY | O_CLOEXEC) : -1;
      if (passed_ < 0) {
        const bool missing = errno == ENOENT || errno == ENOTDIR;
        *error = std::string("cannot open the source: ") + strerror(errno);
        failure_ = MediaError::resource(
            missing ? GST_RESOURCE_ERROR_NOT_FOUND : GST_RESOURCE_ERROR_OPEN_READ, *error, 0);
        return false;
      }
      return true;
    }
    BackendError berr;
    backend_ = make_range_backend(location, &berr);
    ObjectInfo info;
    if (!backend_ || !backend_->open(&info, &berr)) {
      *error = "cannot read the source: " + berr.message;
      failure_ = MediaError::resource(berr.code == BackendErrorCode::kNotFound
                                          ? GST_RESOURCE_ERROR_NOT_FOUND
                                          : GST_RESOURCE_ERROR_OPEN_READ,
                                      *error, berr.http_status);
      failure_.debug = berr.detail;
      return false;
    }
    size_ = info.size;
    identity_ = info.identity;
    reader_ = std::make_unique<BlockCache::Reader>(
        BlockCache::shared(), BlockCache::make_object_key(location, info.identity, info.size),
        info.size, BlockCache::kDefaultBlockSize, BlockCache::kDefaultReadahead,
        [backend = backend_.get()](guint64 offset, gsize length, guint8* dest, BackendError* e) {
          return backend->read(offset, length, dest, e);
        });
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      *error = std::string("cannot read the source: ") + strerror(errno);
      failure_ = MediaError::reason(*error);
      return false;
    }
    served_ = pair[0];
    passed_ = pair[1];
    return true;
  }

  ~SourceChannel() { stop(); }

  int passed() const { return passed_; }
  // Why open() failed.
  const MediaError& failure() const { return failure_; }

  // A remote source's reads are answered on a thread of their own, so that a store that
  // hangs holds up only them: the job's watchdog still sees no progress and ends the job.
  // `progress` gets the time of every answer.
  void serve(std::atomic<int64_t>* progress) {
    if (served_ < 0) return;
    thread_ = std::thread([this, progress] {
      while (
          answer_range_request(served_, size_, identity_,
                               [this](guint64 offset, gsize length, guint8* dest, BackendError* e) {
                                 return reader_->read(offset, length, dest, e);
                               }))
        progress->store(g_get_monotonic_time());
    });
  }

  // Ends the serving thread: a read blocked on the store is cancelled, one on the socket sees
  // it shut down.
  void stop() {
    if (thread_.joinable()) {
      if (backend_) backend_->cancel();
      if (reader_) reader_->set_cancelled(true);
      shutdown(served_, SHUT_RDWR);
      thread_.join();
    }
    if (passed_ >= 0) close(std::exchange(passed_, -1));
    if (served_ >= 0) close(std::exchange(served_, -1));
  }

 private:
  int passed_ = -1;
  int served_ = -1;
  std::thread thread_;
  std::unique_ptr<RangeBackend> backend_;
  std::unique_ptr<BlockCache::Reader> reader_;
  guint64 size_ = 0;
  std::string identity_;
  MediaError failure_;
};

// One job on one worker: sends it, then hands out its messages while answering its source
// reads and watching its progress and gate.
class Conversation {
 public:
  bool start(MessageType type, const std::string& payload, const std::string& location,
             std::string* error) {
    if (!source_.open(location, error)) return false;
    worker_ = WorkerPool::shared().take(error);
    if (!worker_) return false;
    if (!worker::send_message(worker_->socket(), type, payload, source_.passed(), error)) {
      worker_->reusable = false;
      *error = "the media worker is gone: " + worker_->end_reason();
      return false;
    }
    progress_ = g_get_monotonic_time();
    source_.serve(&progress_);
    return true;
  }

  // The next message. False with *error when the worker died, was killed for want of
  // progress (*stalled), or the gate was cancelled.
  bool next(Message* m, int stall_seconds, const JobGate* gate, std::string* error, bool* stalled) {
    for (;;) {
      if (gate && gate->cancelled()) return end("cancelled", error);
      const bool held = gate && gate->held();
      worker_->set_stopped(held);
      if (held) progress_ = g_get_monotonic_time();  // a held job is not stalled
      pollfd fds[1] = {{worker_->socket(), POLLIN, 0}};
      const int n = poll(fds, 1, 200);
      if (n < 0 && errno != EINTR) return end(strerror(errno), error);
      if (n > 0 && fds[0].revents) {
        std::string why;
        const Received r = worker::receive_message(worker_->socket(), m, &why);
        if (r != Received::kMessage) return died(error);
        if (m->fd >= 0) close(m->fd);
        progress_ = g_get_monotonic_time();
        return true;
      }
      if (g_get_monotonic_time() - progress_ > int64_t(stall_seconds) * G_USEC_PER_SEC) {
        if (stalled) *stalled = true;
        return end("the media worker made no progress for " + std::to_string(stall_seconds) +
                       " s and was stopped",
                   error);
      }
    }
  }

  // Why start() could not open the source (no domain when that was not the reason).
  const MediaError& source_failure() const { return source_.failure(); }

  // The job is over and went well: the worker serves another.
  void finish() {
    if (worker_) {
      worker_->set_stopped(false);
      WorkerPool::shared().give_back(std::move(worker_));
    }
  }
  // The job went wrong or was cut short: the worker is ended, not reused.
  bool end(const std::string& why, std::string* error) {
    if (worker_) {
      worker_->reusable = false;
      worker_->kill();
      worker_.reset();
    }
    *error = why;
    return false;
  }

 private:
  bool died(std::string* error) {
    worker_->reusable = false;
    worker_->set_stopped(false);
    const std::string reason = worker_->end_reason();
    worker_.reset();
    *error = "the media worker failed on this source (" + reason + ")";
    return false;
  }

  // Declared first, so that it outlives the source's serving thread that updates it.
  std::atomic<int64_t> progress_{0};  // monotonic us of the last message or source read
  SourceChannel source_;
  std::unique_ptr<WorkerProcess> worker_;
};

// TWS_IN_PROCESS_MEDIA=1 runs the media work in this process, as tws did before workers:
// for bench/serve.py's comparison only, never in production (a crash takes the server down).
bool in_process() {
  static const bool set = g_strcmp0(g_getenv("TWS_IN_PROCESS_MEDIA"), "1") == 0;
  return set;
}

}  // namespace

namespace {

// A job answered by one message of type `answer` (read by `decode`) or kFailed (a MediaError).
// The failures of the process (a crash, a stall) and of the source channel come as
// MediaErrors too: a reason, or the source's resource error.
template <typename Decode>
bool ask_once(MessageType ask, const std::string& payload, const std::string& location,
              MessageType answer, int deadline_seconds, Decode decode, MediaError* error,
              bool* timed_out) {
  Conversation c;
  std::string why;
  if (!c.start(ask, payload, location, &why)) {
    *error = c.source_failure().message.empty() ? MediaError::reason(why) : c.source_failure();
    return false;
  }
  Message m;
  bool stalled = false;
  if (!c.next(&m, deadline_seconds, nullptr, &why, &stalled)) {
    if (timed_out) *timed_out = stalled;
    *error = MediaError::reason(why);
    return false;
  }
  if (m.type == answer && decode(m.payload)) {
    c.finish();
    return true;
  }
  if (m.type == MessageType::kFailed && worker::decode_media_error(m.payload, error)) {
    c.finish();
    return false;
  }
  c.end("the media worker answered with message " + std::to_string(unsigned(m.type)), &why);
  *error = MediaError::reason(why);
  return false;
}

}  // namespace

bool probe_isolated(const std::string& location, SourceInfo* info, MediaError* error,
                    bool* timed_out) {
  if (in_process()) return probe_source(location, info, error);
  bool stalled = false;
  const bool ok = ask_once(
      MessageType::kProbe, location, location, MessageType::kProbed, kProbeDeadlineSeconds,
      [info](const std::string& p) { return worker::decode_source_info(p, info); }, error,
      &stalled);
  if (stalled) *error = MediaError::reason("timed out probing the source");
  if (timed_out) *timed_out = stalled;
  return ok;
}

bool run_segment_job_isolated(const SegmentJob& job, const SegmentSink& sink, std::string* error,
                              bool* stalled) {
  MediaError failure;
  const bool ok = run_segment_job_isolated(job, sink, &failure, stalled);
  if (!ok) *error = failure.message;
  return ok;
}

bool run_segment_job_isolated(const SegmentJob& job, const SegmentSink& sink, MediaError* error,
                              bool* stalled) {
  if (in_process()) return run_segment_job(job, sink, error, stalled);
  Conversation c;
  std::string why;
  auto failed = [&](const std::string& reason) {
    *error = MediaError::reason(reason);
    return false;
  };
  if (!c.start(MessageType::kSegmentJob, worker::encode_segment_job(job), job.source, &why)) {
    *error = c.source_failure().message.empty() ? MediaError::reason(why) : c.source_failure();
    return false;
  }
  // The worker tears a stalled job down itself after the stall timeout; this is for a worker
  // that cannot (a deadlock).
  const int deadline = job.stall_timeout + 5;
  for (;;) {
    Message m;
    if (!c.next(&m, deadline, job.gate.get(), &why, stalled)) return failed(why);
    worker::Decoder d(m.payload);
    switch (m.type) {
      case MessageType::kSegmentBegin:
        sink.begin(int(d.u32()));
        break;
      case MessageType::kSegmentData: {
        const int index = int(d.u32());
        const std::string bytes = d.rest();
        if (!sink.data(index, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
          c.end("cancelled", &why);
          return failed(why);
        }
        break;
      }
      case MessageType::kSegmentEnd: {
        SegmentReport report;
        if (!worker::decode_segment_report(m.payload, &report)) {
          c.end("a bad segment report from the media worker", &why);
          return failed(why);
        }
        sink.end(report);
        break;
      }
      case MessageType::kJobDone: {
        const bool ok = d.u32() != 0;
        const bool job_stalled = d.u32() != 0;
        MediaError reported;
        if (!d.ok() || !worker::decode_media_error(d.rest(), &reported)) {
          c.end("a bad job end from the media worker", &why);
          return failed(why);
        }
        if (!ok) *error = reported;
        if (stalled) *stalled = job_stalled;
        c.finish();
        return ok;
      }
      default:
        c.end("the media worker answered a segment job with message " +
                  std::to_string(unsigned(m.type)),
              &why);
        return failed(why);
    }
  }
}

bool check_sandbox(int port, const std::vector<std::string>& paths,
                   const std::vector<std::string>& secrets, std::string* report,
                   std::string* error) {
  std::unique_ptr<WorkerProcess> w = WorkerPool::shared().take(error);
  if (!w) return false;
  worker::Encoder e;
  e.u32(uint32_t(port));
  e.u32(uint32_t(paths.size()));
  for (const std::string& p : paths) e.str(p);
  e.u32(uint32_t(secrets.size()));
  for (const std::string& s : secrets) e.str(s);
  Message m;
  if (!worker::send_message(w->socket(), MessageType::kSandboxCheck, e.take(), -1, error) ||
      worker::receive_message(w->socket(), &m, error) != Received::kMessage ||
      m.type != MessageType::kSandboxReport) {
    if (error->empty()) *error = "the media worker did not answer";
    return false;
  }
  *report = "sandbox: " + w->sandbox() + "\n" + m.payload;
  w->reusable = false;
  return true;
}

bool extract_subtitle_cues_isolated(const SubtitleWindow& window, std::vector<Cue>* cues,
                                    std::string* error) {
  if (in_process()) return extract_subtitle_cues(window, cues, error);
  MediaError failure;
  if (ask_once(
          MessageType::kSubtitles, worker::encode_subtitle_window(window), window.source,
          MessageType::kCues, kProbeDeadlineSeconds,
          [cues](const std::string& p) { return worker::decode_cues(p, cues); }, &failure, nullptr))
    return true;
  *error = failure.message;
  return false;
}

bool make_storyboard_isolated(const StoryboardRequest& request, Storyboard* board,
                              std::string* error) {
  if (in_process()) return make_storyboard(request, board, error);
  MediaError failure;
  const int deadline = int(request.timeout_ns / 1000000000) + 15;
  if (ask_once(
          MessageType::kStoryboard, worker::encode_storyboard_request(request), request.source,
          MessageType::kStoryboardMade, deadline,
          [board](const std::string& p) { return worker::decode_storyboard(p, board); }, &failure,
          nullptr))
    return true;
  *error = failure.message;
  return false;
}

}  // namespace tws
