// SPDX-License-Identifier: LGPL-2.1-or-later
// The media worker protocol (service/worker/protocol.h) and rangesrc's rangefd:// backend:
// messages and descriptors over a socket pair, the job and result encodings round trip, and
// an object read through a socket that answers range requests.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "gst/rangesrc/fd_backend.h"
#include "gst/rangesrc/range_backend.h"
#include "pipelines/media_error.h"
#include "pipelines/probe.h"
#include "service/api/generate.h"
#include "service/core/errors.h"
#include "service/worker/protocol.h"

namespace {

using namespace tws;
using namespace tws::worker;

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd), 0); }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
};

TEST(WorkerProtocol, MessagesAndDescriptorsCrossTheSocket) {
  SocketPair s;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  std::string error;
  const std::string big(3 << 20, 'x');  // larger than a socket buffer: sent while read
  std::thread sender([&] {
    std::string e;
    EXPECT_TRUE(send_message(s.fd[0], MessageType::kProbe, "hello", pipe_fds[0], &e)) << e;
    EXPECT_TRUE(send_message(s.fd[0], MessageType::kSegmentData, big, -1, &e)) << e;
    EXPECT_TRUE(send_message(s.fd[0], MessageType::kReady, "", -1, &e)) << e;
  });
  Message m;
  ASSERT_EQ(receive_message(s.fd[1], &m, &error), Received::kMessage) << error;
  EXPECT_EQ(m.type, MessageType::kProbe);
  EXPECT_EQ(m.payload, "hello");
  ASSERT_GE(m.fd, 0);
  // The descriptor that came is the pipe's read end: what is written arrives there.
  ASSERT_EQ(write(pipe_fds[1], "z", 1), 1);
  char c = 0;
  ASSERT_EQ(read(m.fd, &c, 1), 1);
  EXPECT_EQ(c, 'z');
  close(m.fd);
  ASSERT_EQ(receive_message(s.fd[1], &m, &error), Received::kMessage) << error;
  EXPECT_EQ(m.type, MessageType::kSegmentData);
  EXPECT_EQ(m.payload, big);
  EXPECT_EQ(m.fd, -1);
  ASSERT_EQ(receive_message(s.fd[1], &m, &error), Received::kMessage) << error;
  EXPECT_EQ(m.type, MessageType::kReady);
  sender.join();
  close(s.fd[0]);
  s.fd[0] = -1;
  EXPECT_EQ(receive_message(s.fd[1], &m, &error), Received::kClosed);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST(WorkerProtocol, ATruncatedMessageIsAnError) {
  SocketPair s;
  const char header[8] = {13, 0, 0, 0, 100, 0, 0, 0};  // kSegmentData, 100 bytes promised
  ASSERT_EQ(write(s.fd[0], header, sizeof header), 8);
  ASSERT_EQ(write(s.fd[0], "abc", 3), 3);
  close(s.fd[0]);
  s.fd[0] = -1;
  Message m;
  std::string error;
  EXPECT_EQ(receive_message(s.fd[1], &m, &error), Received::kError);
  EXPECT_FALSE(error.empty());
}

TEST(WorkerProtocol, SegmentJobRoundTrips) {
  SegmentJob job;
  job.source = "/data/in.mp4";
  job.source_start = 1.5;
  job.has_video = true;
  job.video.codec = "h264";
  job.video.crf = 26;
  job.video.width = 1280;
  job.video.height = 720;
  job.video.frame_rate = {30000, 1001};
  job.video.rotation = 90;
  job.video.preset = "faster";
  job.has_audio = true;
  job.audio.bitrate = 96000;
  job.audio.sample_rate = 48000;
  job.audio.channels = 1;
  job.audio.stream = 2;
  PlanInput in;
  in.duration = 61.2;
  in.frame_rate = {30000, 1001};
  in.segment_length = 6;
  in.initial_segments = {2, 2};
  in.audio_rate = 48000;
  std::string error;
  ASSERT_TRUE(make_plan(in, &job.plan, &error)) << error;
  job.first = 3;
  job.last = 5;
  job.waited = true;
  job.stall_timeout = 17;
  job.thread_nice = 10;
  job.chunks = 2;
  SegmentJob back;
  std::string source;
  ASSERT_TRUE(decode_segment_job(encode_segment_job(job), &back, &error, &source)) << error;
  EXPECT_EQ(source, "/data/in.mp4");
  EXPECT_EQ(back.source_start, 1.5);
  EXPECT_EQ(back.video.crf, 26);
  EXPECT_EQ(back.video.width, 1280);
  EXPECT_EQ(back.video.frame_rate, (Rate{30000, 1001}));
  EXPECT_EQ(back.video.rotation, 90);
  EXPECT_EQ(back.video.preset, "faster");
  EXPECT_EQ(back.audio.bitrate, 96000);
  EXPECT_EQ(back.audio.channels, 1);
  EXPECT_EQ(back.audio.stream, 2);
  ASSERT_EQ(back.plan.segments.size(), job.plan.segments.size());
  for (size_t i = 0; i < job.plan.segments.size(); ++i) {
    EXPECT_EQ(back.plan.segments[i].first_frame, job.plan.segments[i].first_frame);
    EXPECT_EQ(back.plan.segments[i].first_sample, job.plan.segments[i].first_sample);
  }
  EXPECT_EQ(back.first, 3);
  EXPECT_EQ(back.last, 5);
  EXPECT_TRUE(back.waited);
  EXPECT_EQ(back.stall_timeout, 17);
  EXPECT_EQ(back.thread_nice, 10);
  EXPECT_EQ(back.chunks, 2);
  // A job outside its plan, or cut short, is refused.
  job.last = 100;
  EXPECT_FALSE(decode_segment_job(encode_segment_job(job), &back, &error));
  const std::string whole = encode_segment_job(job);
  EXPECT_FALSE(decode_segment_job(whole.substr(0, whole.size() - 3), &back, &error));
}

TEST(WorkerProtocol, ResultsRoundTrip) {
  SourceInfo info;
  info.uri = "oss://media/a.mkv";
  info.container = "video/x-matroska";
  info.duration = 12.25;
  info.size = 1ull << 33;
  info.identity = "mtime:1";
  VideoStreamInfo v;
  v.codec = "video/x-h264";
  v.width = 1920;
  v.height = 1080;
  v.par_n = 4;
  v.par_d = 3;
  v.frame_rate = {25, 1};
  v.rotation = 270;
  v.flip = true;
  v.depth = 10;
  v.bitrate = 5000000;
  info.video.push_back(v);
  AudioStreamInfo a;
  a.codec = "audio/x-opus";
  a.sample_rate = 48000;
  a.channels = 6;
  a.language = "de";
  a.title = "Kommentar";
  info.audio.push_back(a);
  info.subtitles.push_back({"text/x-raw", "en", "SDH"});
  SourceInfo back;
  ASSERT_TRUE(decode_source_info(encode_source_info(info), &back));
  EXPECT_EQ(back.size, info.size);
  EXPECT_EQ(back.duration, 12.25);
  ASSERT_EQ(back.video.size(), 1u);
  EXPECT_EQ(back.video[0].par_n, 4);
  EXPECT_EQ(back.video[0].rotation, 270);
  EXPECT_TRUE(back.video[0].flip);
  EXPECT_EQ(back.video[0].depth, 10);
  ASSERT_EQ(back.audio.size(), 1u);
  EXPECT_EQ(back.audio[0].title, "Kommentar");
  EXPECT_EQ(back.audio[0].channels, 6);
  ASSERT_EQ(back.subtitles.size(), 1u);
  EXPECT_EQ(back.subtitles[0].title, "SDH");
  EXPECT_FALSE(decode_source_info("\x05", &back));

  std::vector<Cue> cues = {{0, 1000, "a"}, {5000000000, 6000000000, "b\nc"}};
  std::vector<Cue> cues_back;
  ASSERT_TRUE(decode_cues(encode_cues(cues), &cues_back));
  ASSERT_EQ(cues_back.size(), 2u);
  EXPECT_EQ(cues_back[1].start_ns, 5000000000);
  EXPECT_EQ(cues_back[1].text, "b\nc");
}

// An ERROR message as rangesrc posts it (GST_ELEMENT_ERROR_WITH_DETAILS, souphttpsrc's
// "http-status-code"): domain, code, debug and HTTP status are kept, not only the words.
TEST(MediaError, KeepsDomainCodeAndHttpStatusOfABusMessage) {
  GstElement* src = gst_element_factory_make("fakesrc", "source");
  ASSERT_NE(src, nullptr);
  gst_object_ref_sink(src);
  GError* gerr = g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
                                     "S3 HEAD in/a.mp4: 403 Forbidden\nsecond line");
  GstMessage* msg = gst_message_new_error_with_details(
      GST_OBJECT(src), gerr, "the store's Code",
      gst_structure_new("details", "http-status-code", G_TYPE_UINT, 403u, nullptr));
  const MediaError e = MediaError::from_message(msg);
  EXPECT_EQ(e.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(e.code, GST_RESOURCE_ERROR_OPEN_READ);
  EXPECT_TRUE(e.is(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ));
  EXPECT_EQ(e.http_status, 403u);
  EXPECT_EQ(e.message, "source: S3 HEAD in/a.mp4: 403 Forbidden second line");
  EXPECT_EQ(e.debug, "the store's Code");
  EXPECT_TRUE(e.source_denied());
  EXPECT_FALSE(e.source_not_found());
  EXPECT_FALSE(e.source_unavailable());
  gst_message_unref(msg);
  g_error_free(gerr);
  gst_object_unref(src);
}

TEST(MediaError, CrossesTheWorkerBoundaryAsFields) {
  MediaError e;
  e.domain = GST_STREAM_ERROR;
  e.code = GST_STREAM_ERROR_DECODE;
  e.http_status = 503;
  e.message = "avdec_h264: decoding failed";
  e.debug = "frame 12";
  MediaError back;
  ASSERT_TRUE(decode_media_error(encode_media_error(e), &back));
  EXPECT_EQ(back.domain, GST_STREAM_ERROR);  // by name: another process's quark may differ
  EXPECT_EQ(back.code, GST_STREAM_ERROR_DECODE);
  EXPECT_EQ(back.http_status, 503u);
  EXPECT_EQ(back.message, e.message);
  EXPECT_EQ(back.debug, e.debug);
  // A reason of tws's own has no domain, and keeps none.
  ASSERT_TRUE(decode_media_error(encode_media_error(MediaError::reason("timed out")), &back));
  EXPECT_EQ(back.domain, GQuark(0));
  EXPECT_EQ(back.message, "timed out");
  EXPECT_FALSE(decode_media_error("\x05", &back));
}

// What POST /v1/playlists answers for a source that could not be probed.
TEST(MediaError, ProbeFailuresMapToTheirAnswers) {
  auto resource = [](GstResourceError code, guint http) {
    return MediaError::resource(code, "rangesrc: S3 GET in/a.mp4", http);
  };
  EXPECT_EQ(probe_failure_code(resource(GST_RESOURCE_ERROR_NOT_FOUND, 0)), ErrorCode::kNotFound);
  EXPECT_EQ(probe_failure_code(resource(GST_RESOURCE_ERROR_READ, 404)), ErrorCode::kNotFound);
  EXPECT_EQ(probe_failure_code(resource(GST_RESOURCE_ERROR_OPEN_READ, 403)),
            ErrorCode::kStorageError);
  EXPECT_EQ(probe_failure_code(resource(GST_RESOURCE_ERROR_READ, 503)),
            ErrorCode::kServiceUnavailable);
  EXPECT_EQ(probe_failure_code(resource(GST_RESOURCE_ERROR_READ, 0)), ErrorCode::kInvalidSource);
  MediaError decode;
  decode.domain = GST_STREAM_ERROR;
  decode.code = GST_STREAM_ERROR_DECODE;
  EXPECT_EQ(probe_failure_code(decode), ErrorCode::kInvalidSource);
  EXPECT_EQ(probe_failure_code(MediaError::reason("the media worker failed on this source")),
            ErrorCode::kInvalidSource);
}

// A missing file comes back from the probe as GStreamer's resource error, not only as words.
TEST(MediaError, AMissingSourceIsANotFoundResourceError) {
  SourceInfo info;
  MediaError e;
  ASSERT_FALSE(probe_source("/nonexistent/tws-probe.mp4", &info, &e));
  EXPECT_TRUE(e.source_not_found())
      << media_error_domain_name(e.domain) << " " << e.code << ": " << e.message;
}

TEST(RangeFdBackend, ReadsAnObjectThroughASocket) {
  std::string object(1 << 20, '\0');
  for (size_t i = 0; i < object.size(); ++i) object[i] = char(i * 7 % 251);
  SocketPair s;
  int requests = 0;
  std::thread server([&] {
    while (answer_range_request(
        s.fd[0], object.size(), "etag-1",
        [&](guint64 offset, gsize length, guint8* dest, BackendError*) -> gssize {
          const gsize n = std::min<gsize>(length, object.size() - offset);
          memcpy(dest, object.data() + offset, n);
          return gssize(n);
        }))
      requests++;
  });
  BackendError error;
  const std::string location = "rangefd://" + std::to_string(s.fd[1]);
  auto backend = make_range_backend(location, &error);
  ASSERT_TRUE(backend) << error.message;
  ObjectInfo info;
  ASSERT_TRUE(backend->open(&info, &error)) << error.message;
  EXPECT_EQ(info.size, object.size());
  EXPECT_EQ(info.identity, "etag-1");
  std::string buf(5000, '\0');
  ASSERT_EQ(backend->read(123457, buf.size(), reinterpret_cast<guint8*>(buf.data()), &error), 5000);
  EXPECT_EQ(buf, object.substr(123457, 5000));
  // Short only at the end.
  ASSERT_EQ(
      backend->read(object.size() - 10, buf.size(), reinterpret_cast<guint8*>(buf.data()), &error),
      10);
  EXPECT_EQ(buf.substr(0, 10), object.substr(object.size() - 10));
  backend.reset();
  close(s.fd[1]);
  s.fd[1] = -1;
  server.join();
  EXPECT_EQ(requests, 3);  // the size, then two reads
}

TEST(RangeFdBackend, ReadsAFileDescriptorAndRefusesOthers) {
  char path[] = "/tmp/tws-rangefd-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "0123456789", 10), 10);
  unlink(path);
  BackendError error;
  auto backend = make_range_backend("rangefd://" + std::to_string(fd), &error);
  ASSERT_TRUE(backend) << error.message;
  ObjectInfo info;
  ASSERT_TRUE(backend->open(&info, &error)) << error.message;
  EXPECT_EQ(info.size, 10u);
  EXPECT_TRUE(backend->local());
  guint8 out[4];
  ASSERT_EQ(backend->read(3, 4, out, &error), 4);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 4), "3456");
  close(fd);
  EXPECT_FALSE(make_range_backend("rangefd://99999", &error));
  EXPECT_FALSE(make_range_backend("rangefd://x", &error));
}

}  // namespace
