// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/worker/protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "service/core/json_text.h"
#include "service/playlist/record.h"

namespace tws::worker {
namespace {

constexpr uint32_t kMaxPayload = 64u << 20;

bool write_all(int fd, const char* data, size_t size, std::string* error) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::string("writing to the worker socket: ") + strerror(errno);
      return false;
    }
    data += n;
    size -= size_t(n);
  }
  return true;
}

// Reads exactly `size` bytes; kClosed on EOF before the first byte.
Received read_all(int fd, char* data, size_t size, std::string* error) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = read(fd, data + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && got == 0) return Received::kClosed;
    if (n <= 0) {
      *error = n == 0 ? "the worker socket closed inside a message"
                      : std::string("reading the worker socket: ") + strerror(errno);
      return Received::kError;
    }
    got += size_t(n);
  }
  return Received::kMessage;
}

void put_le(char* out, uint32_t v) {
  for (int i = 0; i < 4; i++) out[i] = char((v >> (8 * i)) & 0xff);
}
uint32_t get_le(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= uint32_t(uint8_t(in[i])) << (8 * i);
  return v;
}

}  // namespace

bool send_message(int socket, MessageType type, const std::string& payload, int fd,
                  std::string* error) {
  char header[8];
  put_le(header, uint32_t(type));
  put_le(header + 4, uint32_t(payload.size()));
  if (fd < 0) {
    // One buffer: a message is one write for small payloads.
    std::string all(header, sizeof header);
    all += payload;
    return write_all(socket, all.data(), all.size(), error);
  }
  iovec iov{header, sizeof header};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = sendmsg(socket, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    *error = std::string("passing a descriptor to the worker: ") + strerror(errno);
    return false;
  }
  if (size_t(n) < sizeof header && !write_all(socket, header + n, sizeof header - size_t(n), error))
    return false;
  return write_all(socket, payload.data(), payload.size(), error);
}

Received receive_message(int socket, Message* message, std::string* error) {
  char header[8];
  iovec iov{header, sizeof header};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n == 0) return Received::kClosed;
  if (n < 0) {
    *error = std::string("reading the worker socket: ") + strerror(errno);
    return Received::kError;
  }
  message->fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy(&message->fd, CMSG_DATA(c), sizeof(int));
  if (size_t(n) < sizeof header &&
      read_all(socket, header + n, sizeof header - size_t(n), error) != Received::kMessage) {
    if (error->empty()) *error = "the worker socket closed inside a message";
    return Received::kError;
  }
  message->type = MessageType(get_le(header));
  const uint32_t size = get_le(header + 4);
  if (size > kMaxPayload) {
    *error = "a worker message of " + std::to_string(size) + " bytes";
    return Received::kError;
  }
  message->payload.resize(size);
  if (size && read_all(socket, message->payload.data(), size, error) != Received::kMessage) {
    if (error->empty()) *error = "the worker socket closed inside a message";
    return Received::kError;
  }
  return Received::kMessage;
}

void Encoder::u32(uint32_t v) {
  char b[4];
  put_le(b, v);
  out_.append(b, 4);
}
void Encoder::i64(int64_t v) {
  u32(uint32_t(uint64_t(v) & 0xffffffffu));
  u32(uint32_t(uint64_t(v) >> 32));
}
void Encoder::f64(double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  i64(int64_t(bits));
}
void Encoder::str(const std::string& s) {
  u32(uint32_t(s.size()));
  out_ += s;
}

bool Decoder::take(void* dest, size_t n) {
  if (!ok_ || in_.size() - pos_ < n) {
    ok_ = false;
    memset(dest, 0, n);
    return false;
  }
  memcpy(dest, in_.data() + pos_, n);
  pos_ += n;
  return true;
}
uint32_t Decoder::u32() {
  char b[4];
  return take(b, 4) ? get_le(b) : 0;
}
int64_t Decoder::i64() {
  const uint64_t lo = u32();
  const uint64_t hi = u32();
  return int64_t(lo | (hi << 32));
}
double Decoder::f64() {
  const uint64_t bits = uint64_t(i64());
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}
std::string Decoder::str() {
  const uint32_t n = u32();
  if (!ok_ || in_.size() - pos_ < n) {
    ok_ = false;
    return "";
  }
  std::string s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}
std::string Decoder::rest() {
  std::string s = ok_ ? in_.substr(pos_) : "";
  pos_ = in_.size();
  return s;
}

std::string encode_segment_job(const SegmentJob& job) {
  // The targets and plan inputs as the playlist record writes them (every field a segment
  // depends on); the source is the descriptor that comes with the message.
  PlaylistRecord r;
  r.source_uri = job.source.empty() ? "fd:" : job.source;
  r.source_start = job.source_start;
  r.has_video = job.has_video;
  r.video = job.video;
  r.has_audio = job.has_audio;
  r.audio = job.audio;
  r.plan = job.plan.input;
  r.token = "job";
  JsonNodePtr record = record_to_json(r);
  Encoder e;
  e.str(json_to_text(record.get(), false));
  e.u32(uint32_t(job.first));
  e.u32(uint32_t(job.last));
  e.u32(job.waited);
  e.u32(uint32_t(job.stall_timeout));
  e.u32(job.decode_whole_preroll);
  e.u32(uint32_t(job.thread_nice));
  e.u32(uint32_t(job.chunks));
  e.f64(job.hint);
  e.u32(job.draft);
  return e.take();
}

bool decode_segment_job(const std::string& payload, SegmentJob* job, std::string* error,
                        std::string* source) {
  Decoder d(payload);
  const std::string text = d.str();
  SegmentJob j;
  j.first = int(d.u32());
  j.last = int(d.u32());
  j.waited = d.u32() != 0;
  j.stall_timeout = int(d.u32());
  j.decode_whole_preroll = d.u32() != 0;
  j.thread_nice = int(d.u32());
  j.chunks = int(d.u32());
  j.hint = d.f64();
  j.draft = d.u32() != 0;
  if (!d.ok()) {
    *error = "a truncated segment job";
    return false;
  }
  JsonNodePtr node = json_from_text(text, error);
  PlaylistRecord r;
  if (!node || !record_from_json(node.get(), &r, error)) return false;
  if (source) *source = r.source_uri;
  j.source_start = r.source_start;
  j.has_video = r.has_video;
  j.video = r.video;
  j.has_audio = r.has_audio;
  j.audio = r.audio;
  if (!make_plan(r.plan, &j.plan, error)) return false;
  if (j.first < 0 || j.last < j.first || j.last >= int(j.plan.segments.size()) || j.chunks < 1) {
    *error = "a segment job outside its plan";
    return false;
  }
  *job = std::move(j);
  return true;
}

std::string encode_source_info(const SourceInfo& info) {
  Encoder e;
  e.str(info.uri);
  e.str(info.container);
  e.f64(info.duration);
  e.i64(int64_t(info.size));
  e.str(info.identity);
  e.u32(uint32_t(info.video.size()));
  for (const VideoStreamInfo& v : info.video) {
    e.str(v.codec);
    for (int x : {v.width, v.height, v.par_n, v.par_d, v.frame_rate.num, v.frame_rate.den,
                  int(v.interlaced), v.depth, v.rotation, int(v.flip)})
      e.u32(uint32_t(x));
    e.i64(v.bitrate);
  }
  e.u32(uint32_t(info.audio.size()));
  for (const AudioStreamInfo& a : info.audio) {
    e.str(a.codec);
    e.u32(uint32_t(a.sample_rate));
    e.u32(uint32_t(a.channels));
    e.i64(a.bitrate);
    e.str(a.language);
    e.str(a.title);
  }
  e.u32(uint32_t(info.subtitles.size()));
  for (const SubtitleStreamInfo& s : info.subtitles) {
    e.str(s.codec);
    e.str(s.language);
    e.str(s.title);
  }
  return e.take();
}

bool decode_source_info(const std::string& payload, SourceInfo* info) {
  Decoder d(payload);
  SourceInfo i;
  i.uri = d.str();
  i.container = d.str();
  i.duration = d.f64();
  i.size = uint64_t(d.i64());
  i.identity = d.str();
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) {
    VideoStreamInfo v;
    v.codec = d.str();
    v.width = int(d.u32());
    v.height = int(d.u32());
    v.par_n = int(d.u32());
    v.par_d = int(d.u32());
    v.frame_rate.num = int(d.u32());
    v.frame_rate.den = int(d.u32());
    v.interlaced = d.u32() != 0;
    v.depth = int(d.u32());
    v.rotation = int(d.u32());
    v.flip = d.u32() != 0;
    v.bitrate = d.i64();
    i.video.push_back(std::move(v));
  }
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) {
    AudioStreamInfo a;
    a.codec = d.str();
    a.sample_rate = int(d.u32());
    a.channels = int(d.u32());
    a.bitrate = d.i64();
    a.language = d.str();
    a.title = d.str();
    i.audio.push_back(std::move(a));
  }
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) {
    SubtitleStreamInfo s;
    s.codec = d.str();
    s.language = d.str();
    s.title = d.str();
    i.subtitles.push_back(std::move(s));
  }
  if (!d.ok()) return false;
  *info = std::move(i);
  return true;
}

std::string encode_segment_report(const SegmentReport& r) {
  Encoder e;
  e.u32(uint32_t(r.index));
  e.i64(int64_t(r.bytes));
  e.i64(r.video_frames);
  e.i64(r.audio_samples);
  e.u32(r.starts_with_keyframe);
  return e.take();
}

bool decode_segment_report(const std::string& payload, SegmentReport* report) {
  Decoder d(payload);
  SegmentReport r;
  r.index = int(d.u32());
  r.bytes = uint64_t(d.i64());
  r.video_frames = d.i64();
  r.audio_samples = d.i64();
  r.starts_with_keyframe = d.u32() != 0;
  if (!d.ok()) return false;
  *report = r;
  return true;
}

std::string encode_subtitle_window(const SubtitleWindow& w) {
  Encoder e;
  e.u32(uint32_t(w.stream));
  e.f64(w.source_start);
  e.i64(w.start_ns);
  e.i64(w.end_ns);
  return e.take();
}

bool decode_subtitle_window(const std::string& payload, SubtitleWindow* window) {
  Decoder d(payload);
  SubtitleWindow w;
  w.stream = int(d.u32());
  w.source_start = d.f64();
  w.start_ns = d.i64();
  w.end_ns = d.i64();
  if (!d.ok()) return false;
  *window = w;
  return true;
}

std::string encode_cues(const std::vector<Cue>& cues) {
  Encoder e;
  e.u32(uint32_t(cues.size()));
  for (const Cue& c : cues) {
    e.i64(c.start_ns);
    e.i64(c.end_ns);
    e.str(c.text);
  }
  return e.take();
}

bool decode_cues(const std::string& payload, std::vector<Cue>* cues) {
  Decoder d(payload);
  std::vector<Cue> out;
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) {
    Cue c;
    c.start_ns = d.i64();
    c.end_ns = d.i64();
    c.text = d.str();
    out.push_back(std::move(c));
  }
  if (!d.ok()) return false;
  *cues = std::move(out);
  return true;
}

std::string encode_media_error(const MediaError& error) {
  Encoder e;
  e.str(media_error_domain_name(error.domain));
  e.u32(uint32_t(error.code));
  e.u32(error.http_status);
  e.str(error.message);
  e.str(error.debug);
  return e.take();
}

bool decode_media_error(const std::string& payload, MediaError* error) {
  Decoder d(payload);
  MediaError m;
  m.domain = media_error_domain(d.str());
  m.code = int(d.u32());
  m.http_status = d.u32();
  m.message = d.str();
  m.debug = d.str();
  if (!d.ok()) return false;
  *error = std::move(m);
  return true;
}

std::string encode_storyboard_request(const StoryboardRequest& r) {
  Encoder e;
  e.i64(r.source_start_ns);
  e.i64(r.duration_ns);
  e.u32(uint32_t(r.tile_width));
  e.i64(r.interval_ns);
  e.u32(uint32_t(r.columns));
  e.u32(uint32_t(r.rows));
  e.i64(r.timeout_ns);
  return e.take();
}

bool decode_storyboard_request(const std::string& payload, StoryboardRequest* request) {
  Decoder d(payload);
  StoryboardRequest r;
  r.source_start_ns = d.i64();
  r.duration_ns = d.i64();
  r.tile_width = int(d.u32());
  r.interval_ns = d.i64();
  r.columns = int(d.u32());
  r.rows = int(d.u32());
  r.timeout_ns = d.i64();
  if (!d.ok()) return false;
  *request = r;
  return true;
}

std::string encode_storyboard(const Storyboard& board) {
  Encoder e;
  e.u32(uint32_t(board.tile_width));
  e.u32(uint32_t(board.tile_height));
  e.u32(uint32_t(board.thumbnails.size()));
  for (const Thumbnail& t : board.thumbnails) {
    e.i64(t.time_ns);
    e.u32(uint32_t(t.sprite));
    e.u32(uint32_t(t.x));
    e.u32(uint32_t(t.y));
  }
  e.u32(uint32_t(board.sprites.size()));
  for (const std::string& jpeg : board.sprites) e.str(jpeg);
  return e.take();
}

bool decode_storyboard(const std::string& payload, Storyboard* board) {
  Decoder d(payload);
  Storyboard b;
  b.tile_width = int(d.u32());
  b.tile_height = int(d.u32());
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) {
    Thumbnail t;
    t.time_ns = d.i64();
    t.sprite = int(d.u32());
    t.x = int(d.u32());
    t.y = int(d.u32());
    b.thumbnails.push_back(t);
  }
  for (uint32_t n = d.u32(); d.ok() && n-- > 0;) b.sprites.push_back(d.str());
  if (!d.ok()) return false;
  for (const Thumbnail& t : b.thumbnails)
    if (t.sprite < 0 || size_t(t.sprite) >= b.sprites.size()) return false;
  *board = std::move(b);
  return true;
}

}  // namespace tws::worker
