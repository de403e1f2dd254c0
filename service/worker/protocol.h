// SPDX-License-Identifier: LGPL-2.1-or-later
// The protocol between tws (the server or a command) and its media worker processes.
//
// A worker is `tws worker`, started with one end of a Unix stream socket as descriptor 3 and
// nothing else: no config, no secrets, no network, no files but what a job is handed (see
// sandbox.h). On that socket both sides send messages framed as
//   u32 type | u32 payload length | payload        (little-endian)
// and a message may carry one descriptor (SCM_RIGHTS, on its first byte).
//
// A conversation, one job at a time:
//   worker -> kReady                 once, when it is sandboxed and its plugins are loaded
//   server -> kProbe | kSegmentJob | kSubtitles | kStoryboard, with the source's descriptor
//             attached:
//             a read-only file (a local bucket's object) or a socket on which the server
//             answers byte-range reads of a remote object (rangesrc's rangefd:// backend,
//             gst/rangesrc/fd_backend.h), so the worker never reaches the store itself
//   worker -> for a probe:    kProbed (SourceInfo) | kFailed (a MediaError: domain, code,
//                                                       HTTP status and reason as fields)
//             for a segment job: (kSegmentBegin, kSegmentData*, kSegmentEnd)* then kJobDone
//             for subtitles:  kCues | kFailed
//             for a storyboard: kStoryboardMade | kFailed
// The server cancels a job by killing the worker (SIGKILL): a thread cannot be killed, a
// process can. A worker that crashes, stalls or is killed is replaced; nothing it sent of an
// unfinished segment is stored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/media_error.h"
#include "pipelines/segment_job.h"
#include "pipelines/source_info.h"
#include "pipelines/storyboard.h"
#include "pipelines/subtitle_cues.h"
#include "pipelines/subtitle_extract.h"

namespace tws::worker {

// The descriptor the worker finds its socket on, and the one its executable came as (closed
// at once).
constexpr int kSocketFd = 3;
constexpr int kExecutableFd = 4;

enum class MessageType : uint32_t {
  // server -> worker
  kProbe = 1,       // payload: the source's name for messages; descriptor: the source
  kSegmentJob = 2,  // payload: encode_segment_job(); descriptor: the source
  kSubtitles = 3,   // payload: encode_subtitle_window(); descriptor: the source
  // payload: u32 TCP port | u32 n | n paths | u32 m | m strings. The worker tries to make
  // a socket, connect to 127.0.0.1:port, read each path and find each string in its
  // environment, and answers kSandboxReport with one line per try (`tws sandbox-check`).
  kSandboxCheck = 4,
  kStoryboard = 5,  // payload: encode_storyboard_request(); descriptor: the source
  // worker -> server
  kReady = 10,           // payload: what the sandbox enforces (one line, for the log)
  kProbed = 11,          // payload: encode_source_info()
  kSegmentBegin = 12,    // payload: u32 index
  kSegmentData = 13,     // payload: u32 index | bytes
  kSegmentEnd = 14,      // payload: encode_segment_report()
  kJobDone = 15,         // payload: u32 ok | u32 stalled | reason
  kCues = 16,            // payload: encode_cues()
  kFailed = 17,          // payload: encode_media_error()
  kSandboxReport = 18,   // payload: "try: result" lines
  kStoryboardMade = 19,  // payload: encode_storyboard()
};

struct Message {
  MessageType type{};
  std::string payload;
  int fd = -1;  // a descriptor that came with it (the receiver owns it), else -1
};

// Blocking; EINTR is retried. `fd` >= 0 is passed along (not closed).
bool send_message(int socket, MessageType type, const std::string& payload, int fd,
                  std::string* error);
enum class Received { kMessage, kClosed, kError };
Received receive_message(int socket, Message* message, std::string* error);

// Little-endian fields, written and read in order.
class Encoder {
 public:
  void u32(uint32_t v);
  void i64(int64_t v);
  void f64(double v);
  void str(const std::string& s);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(const std::string& in) : in_(in) {}
  uint32_t u32();
  int64_t i64();
  double f64();
  std::string str();
  // False once a read ran past the end (every later read gives 0 / "").
  bool ok() const { return ok_; }
  std::string rest();

 private:
  bool take(void* dest, size_t n);
  const std::string& in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// The job without its source (the worker reads the descriptor it is handed), its gate and
// counters (the server holds a job by stopping the worker).
std::string encode_segment_job(const SegmentJob& job);
// *source (optional): the source's name as the server knows it (for messages and tests).
bool decode_segment_job(const std::string& payload, SegmentJob* job, std::string* error,
                        std::string* source = nullptr);

std::string encode_source_info(const SourceInfo& info);
bool decode_source_info(const std::string& payload, SourceInfo* info);

std::string encode_segment_report(const SegmentReport& report);
bool decode_segment_report(const std::string& payload, SegmentReport* report);

std::string encode_subtitle_window(const SubtitleWindow& window);
bool decode_subtitle_window(const std::string& payload, SubtitleWindow* window);

std::string encode_cues(const std::vector<Cue>& cues);
bool decode_cues(const std::string& payload, std::vector<Cue>* cues);

// The request without its source (the worker reads the descriptor it is handed).
std::string encode_storyboard_request(const StoryboardRequest& request);
bool decode_storyboard_request(const std::string& payload, StoryboardRequest* request);

std::string encode_storyboard(const Storyboard& board);
bool decode_storyboard(const std::string& payload, Storyboard* board);

// str domain (its name, "" none) | u32 code | u32 http status | str message | str debug: the
// GError domain travels by name, since a GQuark is a number of one process only.
std::string encode_media_error(const MediaError& error);
bool decode_media_error(const std::string& payload, MediaError* error);

}  // namespace tws::worker
