// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/worker/worker_main.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gst/gst.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/gref.h"
#include "pipelines/media_init.h"
#include "pipelines/pipeline_util.h"
#include "pipelines/probe.h"
#include "pipelines/segment_job.h"
#include "pipelines/subtitle_extract.h"
#include "service/core/memory_reuse.h"
#include "service/worker/protocol.h"
#include "service/worker/sandbox.h"

namespace tws::worker {
namespace {

// Test-only switches, on when the worker's environment has TWS_TEST_WORKER: a source whose
// name holds "tws-test-probe-hang" ("-segment-hang") makes the worker never answer its probe
// (segment job), as a deadlocked demuxer would; "-crash" makes it abort, as a failed
// assertion in one does.
void test_switch(const std::string& source, const char* job) {
  if (!getenv("TWS_TEST_WORKER")) return;
  const std::string marker = std::string("tws-test-") + job;
  if (source.find(marker + "-hang") != std::string::npos)
    for (;;) pause();
  if (source.find(marker + "-crash") != std::string::npos) abort();
}

std::string location_of(int fd) { return "rangefd://" + std::to_string(fd); }

// Streaming threads of one job reply in turn.
bool reply(MessageType type, const std::string& payload) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::string error;
  return send_message(kSocketFd, type, payload, -1, &error);
}

void probe(const Message& m) {
  test_switch(m.payload, "probe");
  SourceInfo info;
  MediaError error;
  if (!probe_source(location_of(m.fd), &info, &error)) {
    reply(MessageType::kFailed, encode_media_error(error));
    return;
  }
  info.uri = m.payload;
  reply(MessageType::kProbed, encode_source_info(info));
}

void segment_job(const Message& m) {
  SegmentJob job;
  std::string error;
  std::string source;
  auto done = [](bool ok, bool stalled, const MediaError& failure) {
    Encoder e;
    e.u32(ok);
    e.u32(stalled);
    std::string payload = e.take() + encode_media_error(failure);
    reply(MessageType::kJobDone, payload);
  };
  if (!decode_segment_job(m.payload, &job, &error, &source)) {
    done(false, false, MediaError::reason("a bad job: " + error));
    return;
  }
  test_switch(source, "segment");
  job.source = location_of(m.fd);
  SegmentSink sink;
  sink.begin = [](int index) {
    Encoder e;
    e.u32(uint32_t(index));
    reply(MessageType::kSegmentBegin, e.take());
  };
  sink.data = [](int index, const uint8_t* data, size_t size) {
    Encoder e;
    e.u32(uint32_t(index));
    std::string payload = e.take();
    payload.append(reinterpret_cast<const char*>(data), size);
    return reply(MessageType::kSegmentData, payload);
  };
  sink.end = [](const SegmentReport& report) {
    reply(MessageType::kSegmentEnd, encode_segment_report(report));
  };
  bool stalled = false;
  MediaError failure;
  const bool ok = run_segment_job(job, sink, &failure, &stalled);
  done(ok, stalled, failure);
}

void subtitles(const Message& m) {
  SubtitleWindow window;
  std::vector<Cue> cues;
  if (!decode_subtitle_window(m.payload, &window)) {
    reply(MessageType::kFailed, encode_media_error(MediaError::reason("a bad subtitle window")));
    return;
  }
  window.source = location_of(m.fd);
  MediaError failure;
  if (!extract_subtitle_cues(window, &cues, &failure))
    reply(MessageType::kFailed, encode_media_error(failure));
  else
    reply(MessageType::kCues, encode_cues(cues));
}

void storyboard(const Message& m) {
  StoryboardRequest request;
  if (!decode_storyboard_request(m.payload, &request)) {
    reply(MessageType::kFailed, encode_media_error(MediaError::reason("a bad storyboard request")));
    return;
  }
  request.source = location_of(m.fd);
  Storyboard board;
  MediaError failure;
  if (!make_storyboard(request, &board, &failure))
    reply(MessageType::kFailed, encode_media_error(failure));
  else
    reply(MessageType::kStoryboardMade, encode_storyboard(board));
}

std::string outcome(int result) {
  return result >= 0 ? "ALLOWED" : std::string("refused (") + strerror(errno) + ")";
}

void sandbox_check(const Message& m) {
  Decoder d(m.payload);
  const uint32_t port = d.u32();
  std::vector<std::string> paths, strings;
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) paths.push_back(d.str());
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) strings.push_back(d.str());
  std::string report;
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  report += "socket: " + outcome(s) + "\n";
  if (s >= 0) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(uint16_t(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    report += "connect: " + outcome(connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to)) + "\n";
    close(s);
  }
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    report += "read " + path + ": " + outcome(fd) + "\n";
    if (fd >= 0) close(fd);
  }
  const int w = open("/tmp/tws-sandbox-check", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  report += "create /tmp/tws-sandbox-check: " + outcome(w) + "\n";
  if (w >= 0) close(w);
  for (const std::string& secret : strings) {
    bool found = false;
    for (char** e = environ; e && *e; ++e) found = found || strstr(*e, secret.c_str());
    report += "environment holds a secret: " + std::string(found ? "YES" : "no") + "\n";
  }
  reply(MessageType::kSandboxReport, report);
}

}  // namespace

// Per malloc arena (two): about what a 1080p -> 720p segment job allocates. Its page faults
// drop from 17-21 k to 2-2.4 k (0.3 k before its first byte). An idle worker then holds
// 154 MB instead of 56 MB, as it does after its first job anyway.
constexpr size_t kPrefaultBytes = 48u << 20;

int run_worker() {
  // Gone with the process that started it; the server kills a worker, never the reverse.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() == 1) return 1;
  close(kExecutableFd);
  // Descriptors 0-2 stay taken, so that nothing received later lands on them (a log line
  // written into a source's socket would read as a request).
  for (int fd = 0; fd <= 2; ++fd)
    if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR | O_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  const std::string namespaces = isolate_namespaces();
  // As the server did when jobs ran in it: one job's freed frames serve the next job's.
  keep_freed_memory_for_reuse();
  init_media();
  preload_pipeline_plugins();
  // Element classes are set up on their first instance: done now, not in the first job.
  for (const char* name : {"typefind", "decodebin3", "parsebin", "multiqueue", "qtdemux",
                           "matroskademux", "avdec_h264", "x264enc", "avenc_aac", "h264parse",
                           "aacparse", "videoconvertscale", "videoconvert", "audioresample",
                           "audioconvert", "deinterlace", "hlssegmux", "rangesrc", "appsink"})
    GRef<GstElement> warm = adopt_ref(gst_element_factory_make(name, nullptr));
  // The memory a job's frames take, faulted in now rather than during a viewer's first
  // segment (memory_reuse.h).
  prefault_heap(kPrefaultBytes);
  const std::string sandbox = enter_sandbox();
  if (!reply(MessageType::kReady, namespaces + ", " + sandbox)) return 1;
  for (;;) {
    Message m;
    std::string error;
    const Received r = receive_message(kSocketFd, &m, &error);
    if (r == Received::kClosed) return 0;
    if (r == Received::kError) {
      std::fprintf(stderr, "tws worker: %s\n", error.c_str());
      return 1;
    }
    switch (m.type) {
      case MessageType::kProbe:
        probe(m);
        break;
      case MessageType::kSegmentJob:
        segment_job(m);
        break;
      case MessageType::kSubtitles:
        subtitles(m);
        break;
      case MessageType::kStoryboard:
        storyboard(m);
        break;
      case MessageType::kSandboxCheck:
        sandbox_check(m);
        break;
      default:
        std::fprintf(stderr, "tws worker: unknown message %u\n", unsigned(m.type));
        return 1;
    }
    // The job's source: every rangesrc that read it is gone with its pipeline.
    if (m.fd >= 0) close(m.fd);
  }
}

}  // namespace tws::worker
