// SPDX-License-Identifier: LGPL-2.1-or-later
// rangesrc element: decodebin and qtdemux (pull mode) over generated MP4/MKV files,
// byte-exact push-mode output, file:// URIs, the error messages users see, and HTTP: the
// requests made to servers with and without Range support, user agent, timeout, retries.
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <libsoup/soup.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/gref.h"
#include "rangesrc/block_cache.h"

namespace {

using tws::GRef;
using tws::GUnique;

std::string g_dir;  // temporary directory of the generated media

// Plays the pipeline until EOS or ERROR; returns that message. (A failed state change has
// posted its ERROR already.)
GRef<GstMessage> run_pipeline(GstElement* pipeline, GstClockTime timeout = 60 * GST_SECOND) {
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GRef<GstBus> bus = tws::adopt_ref(gst_element_get_bus(pipeline));
  GRef<GstMessage> msg = tws::adopt_ref(gst_bus_timed_pop_filtered(
      bus.get(), timeout, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  return msg;
}

std::string error_text(GstMessage* msg) {
  if (!msg || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR) return "";
  GError* err = nullptr;
  gchar* dbg = nullptr;
  gst_message_parse_error(msg, &err, &dbg);
  GUnique<GError> e(err);
  GUnique<gchar> d(dbg);
  return std::string(e->message) + " (" + (d ? d.get() : "") + ")";
}

GRef<GstElement> parse(const char* description) {
  GError* raw = nullptr;
  GRef<GstElement> p = tws::adopt_ref(gst_parse_launch(description, &raw));
  GUnique<GError> err(raw);
  EXPECT_TRUE(p) << (err ? err->message : "");
  return p;
}

GstElement* by_name(GstElement* pipeline, const char* name) {
  // Borrowed: the bin keeps its child alive.
  GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), name);
  if (e) gst_object_unref(e);
  return e;
}

void generate(const char* mux, const std::string& path) {
  std::string desc =
      std::string(
          "videotestsrc num-buffers=30 ! video/x-raw,width=320,height=240,framerate=30/1 ! "
          "x264enc speed-preset=ultrafast ! h264parse ! ") +
      mux + " ! filesink name=sink";
  GRef<GstElement> p = parse(desc.c_str());
  ASSERT_TRUE(p);
  g_object_set(by_name(p.get(), "sink"), "location", path.c_str(), nullptr);
  GRef<GstMessage> msg = run_pipeline(p.get());
  ASSERT_TRUE(msg);
  ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
  gst_element_set_state(p.get(), GST_STATE_NULL);
}

std::vector<char> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(f), {});
}

class RangeSrcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    GUnique<gchar> dir(g_dir_make_tmp("tws-rangesrc-XXXXXX", nullptr));
    ASSERT_TRUE(dir);
    g_dir = dir.get();
    generate("mp4mux", mp4());
    generate("matroskamux", mkv());
    generate("avimux", avi());
    generate("mp4mux faststart=true", faststart_mp4());
  }
  static void TearDownTestSuite() {
    for (const std::string& f :
         {mp4(), mkv(), avi(), faststart_mp4(), g_dir + "/copy.bin", g_dir + "/noperm.mp4"})
      g_unlink(f.c_str());
    g_rmdir(g_dir.c_str());
  }
  static std::string mp4() { return g_dir + "/a.mp4"; }
  static std::string mkv() { return g_dir + "/a.mkv"; }
  static std::string avi() { return g_dir + "/a.avi"; }
  static std::string faststart_mp4() { return g_dir + "/faststart.mp4"; }

  // Runs "rangesrc name=src location=LOCATION SRC_PROPS ! tail" to EOS/ERROR.
  static GRef<GstMessage> run_with(const std::string& location, const char* tail,
                                   GRef<GstElement>* out_pipeline = nullptr,
                                   const std::string& src_props = "") {
    std::string desc = "rangesrc name=src " + src_props + " ! " + tail;
    GRef<GstElement> p = parse(desc.c_str());
    if (!p) return nullptr;
    g_object_set(by_name(p.get(), "src"), "location", location.c_str(), nullptr);
    GRef<GstMessage> msg = run_pipeline(p.get());
    if (out_pipeline)
      *out_pipeline = p;
    else
      gst_element_set_state(p.get(), GST_STATE_NULL);
    return msg;
  }
};

TEST_F(RangeSrcTest, DefaultsAndFactory) {
  GRef<GstElement> src = tws::adopt_ref(gst_element_factory_make("rangesrc", nullptr));
  ASSERT_TRUE(src);
  guint block_size = 0, readahead = 0;
  guint64 cache_size = 0;
  gchar* location = nullptr;
  g_object_get(src.get(), "block-size", &block_size, "readahead", &readahead, "cache-size",
               &cache_size, "location", &location, nullptr);
  EXPECT_EQ(block_size, 262144u);
  EXPECT_EQ(readahead, 4u);
  EXPECT_EQ(cache_size, 64u * 1024 * 1024);
  EXPECT_EQ(location, nullptr);
  EXPECT_TRUE(GST_IS_URI_HANDLER(src.get()));
}

TEST_F(RangeSrcTest, DecodebinMp4ReachesEos) {
  GRef<GstMessage> msg = run_with(mp4(), "decodebin ! fakesink");
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
}

// Counts the buffers reaching the sink named "sink" of "rangesrc name=src SRC_PROPS ! TAIL".
int count_frames(const std::string& location, const char* tail, const char* src_props = "") {
  std::string desc = std::string("rangesrc name=src ") + src_props + " ! " + tail;
  GRef<GstElement> p = parse(desc.c_str());
  g_object_set(by_name(p.get(), "src"), "location", location.c_str(), nullptr);
  GRef<GstPad> pad = tws::adopt_ref(gst_element_get_static_pad(by_name(p.get(), "sink"), "sink"));
  int frames = 0;
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer data) -> GstPadProbeReturn {
        (*static_cast<int*>(data))++;
        return GST_PAD_PROBE_OK;
      },
      &frames, nullptr);
  GRef<GstMessage> msg = run_pipeline(p.get());
  EXPECT_TRUE(msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS) << error_text(msg.get());
  gst_element_set_state(p.get(), GST_STATE_NULL);
  return frames;
}

TEST_F(RangeSrcTest, EveryFrameDecoded) {
  EXPECT_EQ(count_frames(mp4(), "decodebin ! fakesink name=sink"), 30);
  EXPECT_EQ(count_frames(mkv(), "matroskademux ! h264parse ! avdec_h264 ! fakesink name=sink"), 30);
}

TEST_F(RangeSrcTest, SmallBlocksNoCacheStillDecode) {
  std::string desc = "rangesrc name=src block-size=4096 readahead=0 ! qtdemux ! fakesink";
  GRef<GstElement> p = parse(desc.c_str());
  GstElement* src = by_name(p.get(), "src");
  guint64 old_capacity = tws::BlockCache::shared().capacity();
  g_object_set(src, "location", mp4().c_str(), "cache-size", G_GUINT64_CONSTANT(0), nullptr);
  EXPECT_EQ(tws::BlockCache::shared().capacity(), 0u);
  GRef<GstMessage> msg = run_pipeline(p.get());
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
  gst_element_set_state(p.get(), GST_STATE_NULL);
  tws::BlockCache::shared().set_capacity(old_capacity);
}

TEST_F(RangeSrcTest, SeekInPullMode) {
  GRef<GstElement> p = parse("rangesrc name=src ! qtdemux ! fakesink sync=false");
  g_object_set(by_name(p.get(), "src"), "location", mp4().c_str(), nullptr);
  gst_element_set_state(p.get(), GST_STATE_PAUSED);
  ASSERT_EQ(gst_element_get_state(p.get(), nullptr, nullptr, 30 * GST_SECOND),
            GST_STATE_CHANGE_SUCCESS);
  ASSERT_TRUE(gst_element_seek_simple(
      p.get(), GST_FORMAT_TIME,
      static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT), GST_SECOND / 2));
  GRef<GstMessage> msg = run_pipeline(p.get());
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
  gst_element_set_state(p.get(), GST_STATE_NULL);
}

TEST_F(RangeSrcTest, DecodebinMkvReachesEos) {
  GRef<GstMessage> msg = run_with(mkv(), "decodebin ! fakesink");
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
}

TEST_F(RangeSrcTest, QtdemuxPullsRangesThroughTheCache) {
  tws::BlockCache::shared().clear();
  tws::BlockCacheStats before = tws::BlockCache::shared().stats();
  GRef<GstElement> p = parse("rangesrc name=src cache-local-files=true ! qtdemux ! fakesink");
  g_object_set(by_name(p.get(), "src"), "location", mp4().c_str(), nullptr);
  GRef<GstMessage> msg = run_pipeline(p.get());
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
  GRef<GstPad> pad = tws::adopt_ref(gst_element_get_static_pad(by_name(p.get(), "src"), "src"));
  EXPECT_EQ(GST_PAD_MODE(pad.get()), GST_PAD_MODE_PULL);
  gst_element_set_state(p.get(), GST_STATE_NULL);
  tws::BlockCacheStats after = tws::BlockCache::shared().stats();
  EXPECT_GE(after.hits + after.misses, before.hits + before.misses + 1);
  EXPECT_GT(after.cached_blocks, 0u);
  // The file is small: a few block requests serve all of qtdemux's reads.
  EXPECT_LE(after.backend_requests - before.backend_requests, 4u);
}

TEST_F(RangeSrcTest, LocalFilesAreReadStraightByDefault) {
  tws::BlockCache::shared().clear();
  tws::BlockCacheStats before = tws::BlockCache::shared().stats();
  GRef<GstElement> p;
  GRef<GstMessage> msg = run_with(mp4(), "qtdemux ! fakesink", &p);
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
  gboolean cache_local = TRUE;
  g_object_get(by_name(p.get(), "src"), "cache-local-files", &cache_local, nullptr);
  EXPECT_FALSE(cache_local);
  gst_element_set_state(p.get(), GST_STATE_NULL);
  tws::BlockCacheStats after = tws::BlockCache::shared().stats();
  // One request per qtdemux read (atoms, then each sample), none through the blocks.
  EXPECT_GT(after.backend_requests - before.backend_requests, 30u);
  EXPECT_EQ(after.hits + after.misses, before.hits + before.misses);
  EXPECT_EQ(after.cached_blocks, 0u);
  EXPECT_GE(after.backend_bytes - before.backend_bytes, 1000u);
}

TEST_F(RangeSrcTest, PushModeBytesEqualTheFile) {
  for (guint block_size : {4096u, 262144u}) {
    std::string desc = "rangesrc name=src blocksize=1000 ! filesink name=sink";
    GRef<GstElement> p = parse(desc.c_str());
    ASSERT_TRUE(p);
    std::string copy = g_dir + "/copy.bin";
    g_object_set(by_name(p.get(), "src"), "location", mkv().c_str(), "block-size", block_size,
                 nullptr);
    g_object_set(by_name(p.get(), "sink"), "location", copy.c_str(), nullptr);
    GRef<GstMessage> msg = run_pipeline(p.get());
    ASSERT_TRUE(msg);
    EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
    gst_element_set_state(p.get(), GST_STATE_NULL);
    std::vector<char> a = slurp(mkv()), b = slurp(copy);
    EXPECT_GT(a.size(), 0u);
    EXPECT_EQ(a, b) << "block-size " << block_size;
  }
}

TEST_F(RangeSrcTest, FileUriWorks) {
  GUnique<gchar> uri(g_filename_to_uri(mp4().c_str(), nullptr, nullptr));
  GRef<GstMessage> msg = run_with(uri.get(), "qtdemux ! fakesink");
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
}

TEST_F(RangeSrcTest, UriHandler) {
  GUnique<gchar> uri(g_filename_to_uri(mp4().c_str(), nullptr, nullptr));
  GRef<GstElement> src = tws::adopt_ref(gst_element_factory_make("rangesrc", nullptr));
  ASSERT_TRUE(src);
  GError* raw = nullptr;
  EXPECT_TRUE(gst_uri_handler_set_uri(GST_URI_HANDLER(src.get()), uri.get(), &raw));
  GUnique<GError> err(raw);
  GUnique<gchar> got(gst_uri_handler_get_uri(GST_URI_HANDLER(src.get())));
  EXPECT_STREQ(got.get(), uri.get());
  // A plain path reads back as a file URI.
  g_object_set(src.get(), "location", mp4().c_str(), nullptr);
  GUnique<gchar> got2(gst_uri_handler_get_uri(GST_URI_HANDLER(src.get())));
  EXPECT_STREQ(got2.get(), uri.get());
  raw = nullptr;
  EXPECT_FALSE(gst_uri_handler_set_uri(GST_URI_HANDLER(src.get()), "ftp://x/y", &raw));
  GUnique<GError> err2(raw);
  EXPECT_TRUE(err2);
}

TEST_F(RangeSrcTest, NotFoundError) {
  std::string missing = g_dir + "/missing.mp4";
  GRef<GstMessage> msg = run_with(missing, "qtdemux ! fakesink");
  ASSERT_TRUE(msg);
  ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_ERROR);
  GError* raw = nullptr;
  gst_message_parse_error(msg.get(), &raw, nullptr);
  GUnique<GError> err(raw);
  EXPECT_TRUE(g_error_matches(err.get(), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND));
  EXPECT_EQ(std::string(err->message), "No such file: " + missing);
}

TEST_F(RangeSrcTest, PermissionDeniedError) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  std::string path = g_dir + "/noperm.mp4";
  { std::ofstream(path) << "x"; }
  chmod(path.c_str(), 0);
  GRef<GstMessage> msg = run_with(path, "fakesink");
  ASSERT_TRUE(msg);
  ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_ERROR);
  GError* raw = nullptr;
  gst_message_parse_error(msg.get(), &raw, nullptr);
  GUnique<GError> err(raw);
  EXPECT_TRUE(g_error_matches(err.get(), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ));
}

TEST_F(RangeSrcTest, UnsupportedSchemeError) {
  GRef<GstMessage> msg = run_with("gopher://host/x.mp4", "fakesink");
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_ERROR);
}

TEST_F(RangeSrcTest, MakeFromUri) {
  GUnique<gchar> uri(g_filename_to_uri(mp4().c_str(), nullptr, nullptr));
  GRef<GstElement> src =
      tws::adopt_ref(gst_element_make_from_uri(GST_URI_SRC, uri.get(), nullptr, nullptr));
  ASSERT_TRUE(src);  // filesrc (rank PRIMARY) or rangesrc: rangesrc keeps rank NONE
}

}  // namespace

namespace {

// One request as the server saw it.
struct SeenRequest {
  std::string method, range, user_agent;
};

// An HTTP server on loopback, on a thread of its own. By default it answers every request
// with `status`; serve() makes it serve files: with Range support (206 and
// "Accept-Ranges: bytes"), without (200 and the whole file, as Python's http.server), or
// advertising ranges it then ignores. fail_next() answers the next requests with a status
// first; hang() never answers. It records every request.
class TestServer {
 public:
  enum class Ranges { kServed, kIgnored, kAdvertisedButIgnored };

  explicit TestServer(guint status = 404) : status_(status) {
    context_ = g_main_context_new();
    loop_ = g_main_loop_new(context_, FALSE);
    g_main_context_push_thread_default(context_);
    server_ = soup_server_new(nullptr, nullptr);
    soup_server_add_handler(
        server_, nullptr,
        [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self) {
          static_cast<TestServer*>(self)->handle(msg, path);
        },
        this, nullptr);
    soup_server_listen_local(server_, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr);
    g_main_context_pop_thread_default(context_);
    GSList* uris = soup_server_get_uris(server_);
    port_ = g_uri_get_port(static_cast<GUri*>(uris->data));
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    thread_ = std::thread([this] {
      g_main_context_push_thread_default(context_);
      g_main_loop_run(loop_);
      g_main_context_pop_thread_default(context_);
    });
  }
  ~TestServer() {
    g_main_loop_quit(loop_);
    thread_.join();
    g_object_unref(server_);
    g_main_loop_unref(loop_);
    g_main_context_unref(context_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Serves `file` at `path` (set before the first request).
  void serve(const std::string& path, const std::string& file, Ranges ranges) {
    std::lock_guard lock(mutex_);
    std::vector<char> bytes = slurp(file);
    files_[path] = std::string(bytes.begin(), bytes.end());
    ranges_ = ranges;
  }
  void fail_next(guint count, guint status) {
    std::lock_guard lock(mutex_);
    failures_ = count;
    failure_status_ = status;
  }
  void hang() {
    std::lock_guard lock(mutex_);
    hang_ = true;
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  struct Counts {
    std::vector<SeenRequest> requests;
    size_t gets = 0, heads = 0;
  };
  size_t count(const char* method) const {
    size_t n = 0;
    for (const SeenRequest& r : requests()) n += r.method == method;
    return n;
  }

 private:
  void handle(SoupServerMessage* msg, const char* path) {
    SoupMessageHeaders* in = soup_server_message_get_request_headers(msg);
    const char* range = soup_message_headers_get_one(in, "Range");
    const char* agent = soup_message_headers_get_one(in, "User-Agent");
    std::lock_guard lock(mutex_);
    requests_.push_back(
        {soup_server_message_get_method(msg), range ? range : "", agent ? agent : ""});
    if (hang_) {
      soup_server_message_pause(msg);  // never answered
      return;
    }
    guint status = status_;
    if (failures_ > 0) {
      failures_--;
      status = failure_status_;
    }
    auto file = files_.find(path);
    if (status != 404 || file == files_.end()) {
      soup_server_message_set_status(msg, status, nullptr);
      soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, "no", 2);
      return;
    }
    const std::string& data = file->second;
    SoupMessageHeaders* out = soup_server_message_get_response_headers(msg);
    if (ranges_ != Ranges::kIgnored) soup_message_headers_replace(out, "Accept-Ranges", "bytes");
    guint64 first = 0, last = data.size() - 1;
    if (ranges_ == Ranges::kServed && range &&
        sscanf(range, "bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, &first, &last) >= 1) {
      last = std::min<guint64>(last, data.size() - 1);
      std::string content_range = "bytes " + std::to_string(first) + "-" + std::to_string(last) +
                                  "/" + std::to_string(data.size());
      soup_message_headers_replace(out, "Content-Range", content_range.c_str());
      soup_server_message_set_status(msg, 206, nullptr);
    } else {
      first = 0;
      last = data.size() - 1;
      soup_server_message_set_status(msg, 200, nullptr);
    }
    soup_server_message_set_response(msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                     data.data() + first, last - first + 1);
  }

  guint status_;
  GMainContext* context_ = nullptr;
  GMainLoop* loop_ = nullptr;
  SoupServer* server_ = nullptr;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;  // guards what follows (the server thread vs the test's)
  std::map<std::string, std::string> files_;
  Ranges ranges_ = Ranges::kServed;
  guint failures_ = 0, failure_status_ = 0;
  bool hang_ = false;
  std::vector<SeenRequest> requests_;
};

}  // namespace

// An HTTP error reaches the application with the server's status in the error's details, as
// souphttpsrc posts it ("http-status-code").
TEST_F(RangeSrcTest, HttpErrorsCarryTheStatusInTheirDetails) {
  const struct {
    guint status;
    GstResourceError code;
  } cases[] = {{404, GST_RESOURCE_ERROR_NOT_FOUND}, {403, GST_RESOURCE_ERROR_OPEN_READ}};
  for (const auto& c : cases) {
    TestServer server(c.status);
    GRef<GstMessage> msg = run_with(server.url("/video.mp4"), "fakesink");
    ASSERT_TRUE(msg);
    ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_ERROR) << c.status;
    GError* raw = nullptr;
    gst_message_parse_error(msg.get(), &raw, nullptr);
    GUnique<GError> err(raw);
    EXPECT_TRUE(g_error_matches(err.get(), GST_RESOURCE_ERROR, c.code))
        << c.status << ": " << err->message;
    const GstStructure* details = nullptr;
    gst_message_parse_error_details(msg.get(), &details);
    ASSERT_TRUE(details) << c.status;
    guint status = 0;
    EXPECT_TRUE(gst_structure_get_uint(details, "http-status-code", &status));
    EXPECT_EQ(status, c.status);
  }
}

// A file error has no HTTP status: no details.
TEST_F(RangeSrcTest, FileErrorsHaveNoHttpStatus) {
  GRef<GstMessage> msg = run_with(g_dir + "/missing.mp4", "fakesink");
  ASSERT_TRUE(msg);
  ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_ERROR);
  const GstStructure* details = nullptr;
  gst_message_parse_error_details(msg.get(), &details);
  EXPECT_FALSE(details && gst_structure_has_field(details, "http-status-code"));
}

namespace {

// Small blocks and no readahead: one block request per 4 KiB, so a server without ranges
// would see one GET per block if each were a request of its own.
constexpr char kSmallBlocks[] = "block-size=4096 readahead=0";

struct Clip {
  std::string file;
  const char* demux;  // "DEMUXER ! fakesink name=sink"
};

std::vector<Clip> clips(const std::string& avi, const std::string& mkv, const std::string& mp4,
                        const std::string& faststart) {
  return {{avi, "avidemux ! fakesink name=sink"},
          {mkv, "matroskademux ! fakesink name=sink"},
          {faststart, "qtdemux ! fakesink name=sink"},
          {mp4, "qtdemux ! fakesink name=sink"}};  // moov after mdat
}

}  // namespace

// Serves the clip as `ranges` says, reads it once through its demuxer with small blocks,
// expects every frame; returns the requests the server saw.
TestServer::Counts one_pass(const Clip& c, TestServer::Ranges ranges) {
  EXPECT_GT(slurp(c.file).size(), 4u * 4096) << c.file;  // several blocks
  TestServer server;
  server.serve("/clip", c.file, ranges);
  EXPECT_EQ(count_frames(server.url("/clip"), c.demux, kSmallBlocks), 30) << c.file;
  return {server.requests(), server.count("GET"), server.count("HEAD")};
}

// A server that ignores Range (answers 200 with the whole file, no Accept-Ranges) is read
// with one HEAD and one GET per pass, whatever the demuxer, and every frame comes out.
TEST_F(RangeSrcTest, HttpWithoutRangesOneGetPerPass) {
  for (const Clip& c : clips(avi(), mkv(), mp4(), faststart_mp4())) {
    TestServer::Counts seen = one_pass(c, TestServer::Ranges::kIgnored);
    EXPECT_EQ(seen.gets, 1u) << c.file;
    EXPECT_EQ(seen.heads, 1u) << c.file;
  }
  // decodebin (typefind first) is no different.
  TestServer::Counts seen =
      one_pass({mkv(), "decodebin ! fakesink name=sink"}, TestServer::Ranges::kIgnored);
  EXPECT_EQ(seen.gets, 1u);
  EXPECT_EQ(seen.heads, 1u);
}

// A server with Range support is read by bounded ranged GETs (pull mode), and the same
// frames come out.
TEST_F(RangeSrcTest, HttpWithRangesUsesRangedGets) {
  for (const Clip& c : clips(avi(), mkv(), mp4(), faststart_mp4())) {
    TestServer::Counts seen = one_pass(c, TestServer::Ranges::kServed);
    EXPECT_GT(seen.gets, 1u) << c.file;
    EXPECT_EQ(seen.heads, 1u) << c.file;
    const guint64 size = slurp(c.file).size();
    for (const SeenRequest& r : seen.requests) {
      if (r.method != "GET") continue;
      guint64 first = 0, last = 0;
      EXPECT_EQ(
          sscanf(r.range.c_str(), "bytes=%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, &first, &last),
          2)
          << c.file << ": " << r.range;
      EXPECT_LT(last - first + 1, size / 2) << c.file << ": " << r.range;
    }
  }
}

// A server that says "Accept-Ranges: bytes" but answers ranged GETs with the whole file:
// rangesrc reads on from that answer; qtdemux (pull mode, moov at the end) still gets
// every frame.
TEST_F(RangeSrcTest, HttpRangesAdvertisedButIgnoredStillDecodes) {
  TestServer::Counts seen =
      one_pass({mp4(), "qtdemux ! fakesink name=sink"}, TestServer::Ranges::kAdvertisedButIgnored);
  EXPECT_GE(seen.gets, 1u);
  EXPECT_EQ(seen.heads, 1u);
}

TEST_F(RangeSrcTest, HttpUserAgentReachesTheServer) {
  for (const char* agent : {"", "tws-test/1.0"}) {
    TestServer server;
    server.serve("/a.mkv", mkv(), TestServer::Ranges::kServed);
    const std::string props = *agent ? std::string("user-agent=") + agent : std::string();
    GRef<GstMessage> msg = run_with(server.url("/a.mkv"), "fakesink", nullptr, props);
    ASSERT_TRUE(msg);
    EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
    const std::vector<SeenRequest> requests = server.requests();
    ASSERT_GE(requests.size(), 2u);
    for (const SeenRequest& r : requests) {
      if (*agent)
        EXPECT_EQ(r.user_agent, agent) << r.method;
      else
        EXPECT_TRUE(g_str_has_prefix(r.user_agent.c_str(), "tws-rangesrc/")) << r.user_agent;
    }
  }
}

// A server that never answers: the request fails after `timeout` (retries=0: once), with
// an error, not a hang. (The minute's guard of run_pipeline is far above the 1 s timeout.)
TEST_F(RangeSrcTest, HttpTimeoutFiresOnASilentServer) {
  TestServer server;
  server.hang();
  const gint64 start = g_get_monotonic_time();
  GRef<GstMessage> msg = run_with(server.url("/a.mp4"), "fakesink", nullptr, "timeout=1 retries=0");
  ASSERT_TRUE(msg) << "no error: the request did not time out";
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_ERROR);
  EXPECT_LT(g_get_monotonic_time() - start, 30 * G_USEC_PER_SEC);
  EXPECT_EQ(server.requests().size(), 1u);
}

// 503 answers are tried again `retries` times, then reported with their status.
TEST_F(RangeSrcTest, HttpRetriesOn503) {
  for (guint retries : {0u, 2u}) {
    TestServer server;
    server.serve("/a.mkv", mkv(), TestServer::Ranges::kServed);
    server.fail_next(100, 503);
    GRef<GstMessage> msg =
        run_with(server.url("/a.mkv"), "fakesink", nullptr, "retries=" + std::to_string(retries));
    ASSERT_TRUE(msg);
    ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_ERROR);
    const GstStructure* details = nullptr;
    gst_message_parse_error_details(msg.get(), &details);
    guint status = 0;
    EXPECT_TRUE(details && gst_structure_get_uint(details, "http-status-code", &status));
    EXPECT_EQ(status, 503u);
    EXPECT_EQ(server.count("HEAD"), retries + 1) << "retries=" << retries;
  }
  // A store that recovers within the retries is read to the end.
  TestServer server;
  server.serve("/a.mkv", mkv(), TestServer::Ranges::kServed);
  server.fail_next(2, 503);
  GRef<GstMessage> msg = run_with(server.url("/a.mkv"), "fakesink", nullptr, "retries=2");
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << error_text(msg.get());
  EXPECT_EQ(server.count("HEAD"), 3u);
}
