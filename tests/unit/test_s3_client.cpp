// SPDX-License-Identifier: LGPL-2.1-or-later
// The S3 client against an in-process fake store (SoupServer on loopback, its own thread):
// what goes on the wire (encoded keys, signed payload hash), error mapping with the store's
// Code, retries on 5xx, ListObjectsV2 pages, an unreachable endpoint; S3Storage on top.
#include <gtest/gtest.h>
#include <libsoup/soup.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/gref.h"
#include "common/s3/s3_client.h"
#include "common/s3/s3_registry.h"
#include "gst/rangesrc/block_cache.h"
#include "gst/rangesrc/s3_backend.h"
#include "service/core/config.h"
#include "service/core/uri.h"
#include "service/http/http_errors.h"
#include "service/storage/s3/s3_storage.h"
#include "service/transcode/produce.h"

using namespace tws;

namespace {

struct Seen {
  std::string method, path, query, range, auth, content_sha;
};

class FakeS3 {
 public:
  FakeS3() {
    thread_ = std::thread([this] { run(); });
    std::unique_lock lock(mutex_);
    cond_.wait(lock, [this] { return port_ != 0; });
  }
  ~FakeS3() {
    g_main_loop_quit(loop_);
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::mutex mutex_;
  std::map<std::string, std::string> objects;  // decoded path -> body
  std::vector<Seen> seen;
  int fail_next = 0;  // answer this many requests with 500
  int fail_status = 500;
  std::string fail_code = "InternalError";

 private:
  static void handle(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) {
    static_cast<FakeS3*>(data)->on_request(msg);
  }
  void reply(SoupServerMessage* msg, guint status, const std::string& body) {
    soup_server_message_set_status(msg, status, nullptr);
    soup_server_message_set_response(msg, "application/xml", SOUP_MEMORY_COPY, body.data(),
                                     body.size());
  }
  void on_request(SoupServerMessage* msg) {
    std::lock_guard lock(mutex_);
    GUri* uri = soup_server_message_get_uri(msg);
    SoupMessageHeaders* h = soup_server_message_get_request_headers(msg);
    auto hdr = [&](const char* n) {
      const char* v = soup_message_headers_get_one(h, n);
      return std::string(v ? v : "");
    };
    Seen s{soup_server_message_get_method(msg),
           g_uri_get_path(uri),
           g_uri_get_query(uri) ? g_uri_get_query(uri) : "",
           hdr("Range"),
           hdr("Authorization"),
           hdr("x-amz-content-sha256")};
    seen.push_back(s);
    if (fail_next > 0) {
      --fail_next;
      reply(msg, guint(fail_status),
            "<Error><Code>" + fail_code + "</Code><Message>try later</Message></Error>");
      return;
    }
    GUnique<gchar> decoded(g_uri_unescape_string(s.path.c_str(), nullptr));
    const std::string path = decoded.get();
    if (s.method == "PUT") {
      SoupMessageBody* body = soup_server_message_get_request_body(msg);
      GUnique<GBytes> bytes(soup_message_body_flatten(body));
      gsize n = 0;
      const char* d = static_cast<const char*>(g_bytes_get_data(bytes.get(), &n));
      objects[path].assign(d ? d : "", n);
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "ETag", "\"e1\"");
      reply(msg, 200, "");
      return;
    }
    if (s.method == "GET" && path == "/videos") {  // ListObjectsV2, one key per page
      const bool second = s.query.find("continuation-token=tok%2B1") != std::string::npos;
      std::string xml = "<ListBucketResult><IsTruncated>" + std::string(second ? "false" : "true") +
                        "</IsTruncated>";
      xml += second ? "<Contents><Key>p/b &amp; c</Key></Contents>"
                    : "<Contents><Key>p/a</Key></Contents><NextContinuationToken>tok+1"
                      "</NextContinuationToken>";
      reply(msg, 200, xml + "</ListBucketResult>");
      return;
    }
    auto it = objects.find(path);
    if (it == objects.end()) {
      reply(msg, 404,
            "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
            "exist.</Message></Error>");
      return;
    }
    if (s.method == "DELETE") {
      objects.erase(it);
      reply(msg, 204, "");
      return;
    }
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "ETag", "\"e1\"");
    unsigned long long a = 0, b = 0;
    if (!s.range.empty() && sscanf(s.range.c_str(), "bytes=%llu-%llu", &a, &b) == 2) {
      std::string part = it->second.substr(a, b - a + 1);
      reply(msg, 206, part);
      return;
    }
    reply(msg, 200, it->second);
  }
  void run() {
    GMainContext* ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    loop_ = g_main_loop_new(ctx, FALSE);
    SoupServer* server = soup_server_new(nullptr, nullptr);
    soup_server_add_handler(server, nullptr, handle, this, nullptr);
    soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr);
    GSList* uris = soup_server_get_uris(server);
    {
      std::lock_guard lock(mutex_);
      port_ = g_uri_get_port(static_cast<GUri*>(uris->data));
    }
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    cond_.notify_all();
    g_main_loop_run(loop_);
    g_object_unref(server);
    g_main_loop_unref(loop_);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
  }

  std::thread thread_;
  std::condition_variable cond_;
  GMainLoop* loop_ = nullptr;
  int port_ = 0;
};

s3::Client client_for(const FakeS3& fake) {
  s3::Client c(s3::Target{fake.endpoint(), "us-east-1", "videos", {"AK", "SK"}, false});
  c.backoff_ms = 10;
  return c;
}

}  // namespace

TEST(S3Client, PutGetHeadRangeDeleteWithAwkwardKey) {
  FakeS3 fake;
  s3::Client c = client_for(fake);
  const std::string key = "dir/a b+c \xc3\xbc.bin";
  s3::Error e;
  ASSERT_EQ(c.put(key, "0123456789", &e), s3::Result::kOk) << e.message;
  {
    std::lock_guard lock(fake.mutex_);
    ASSERT_EQ(fake.seen.size(), 1u);
    // SoupServer hands over the path decoded (on the wire: /videos/dir/a%20b%2Bc%20%C3%BC.bin);
    // '+' arrives as '+', not as a space.
    EXPECT_EQ(fake.seen[0].path, "/videos/dir/a b+c \xc3\xbc.bin");
    EXPECT_EQ(fake.seen[0].content_sha, s3::sha256_hex("0123456789"));
    EXPECT_EQ(fake.seen[0].auth.rfind("AWS4-HMAC-SHA256 Credential=AK/", 0), 0u);
    EXPECT_NE(fake.seen[0].auth.find("/us-east-1/s3/aws4_request, SignedHeaders=host;"
                                     "x-amz-content-sha256;x-amz-date, Signature="),
              std::string::npos);
  }
  std::string data;
  ASSERT_EQ(c.get(key, &data, &e), s3::Result::kOk) << e.message;
  EXPECT_EQ(data, "0123456789");
  s3::HeadInfo info;
  ASSERT_EQ(c.head(key, &info, &e), s3::Result::kOk) << e.message;
  EXPECT_EQ(info.size, 10u);
  EXPECT_EQ(info.etag, "\"e1\"");
  ASSERT_EQ(c.get_range(key, 2, 3, &data, &e), s3::Result::kOk) << e.message;
  EXPECT_EQ(data, "234");
  {
    std::lock_guard lock(fake.mutex_);
    EXPECT_EQ(fake.seen.back().range, "bytes=2-4");
  }
  ASSERT_EQ(c.remove(key, &e), s3::Result::kOk) << e.message;
  EXPECT_EQ(c.get(key, &data, &e), s3::Result::kNotFound);
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_NE(e.message.find("404 NoSuchKey"), std::string::npos) << e.message;
}

TEST(S3Client, RetriesServerErrorsThenSucceeds) {
  FakeS3 fake;
  s3::Client c = client_for(fake);
  s3::Error e;
  ASSERT_EQ(c.put("k", "x", &e), s3::Result::kOk);
  fake.fail_next = 2;
  std::string data;
  EXPECT_EQ(c.get("k", &data, &e), s3::Result::kOk) << e.message;
  EXPECT_EQ(data, "x");
  std::lock_guard lock(fake.mutex_);
  EXPECT_EQ(fake.seen.size(), 4u);  // PUT + 3 GETs
}

TEST(S3Client, GivesUpAfterThreeTriesWithTheStoresCode) {
  FakeS3 fake;
  s3::Client c = client_for(fake);
  fake.fail_next = 5;
  fake.fail_status = 503;
  fake.fail_code = "SlowDown";
  std::string data;
  s3::Error e;
  EXPECT_EQ(c.get("k", &data, &e), s3::Result::kError);
  EXPECT_EQ(e.http_status, 503);
  EXPECT_EQ(e.code, "SlowDown");
  std::lock_guard lock(fake.mutex_);
  EXPECT_EQ(fake.seen.size(), 3u);
}

TEST(S3Client, AccessDeniedIsNotRetried) {
  FakeS3 fake;
  s3::Client c = client_for(fake);
  fake.fail_next = 1;
  fake.fail_status = 403;
  fake.fail_code = "AccessDenied";
  std::string data;
  s3::Error e;
  EXPECT_EQ(c.get("k", &data, &e), s3::Result::kDenied);
  EXPECT_EQ(e.code, "AccessDenied");
  std::lock_guard lock(fake.mutex_);
  EXPECT_EQ(fake.seen.size(), 1u);
}

TEST(S3Client, ListFollowsContinuationTokens) {
  FakeS3 fake;
  s3::Client c = client_for(fake);
  std::vector<std::string> keys;
  s3::Error e;
  ASSERT_EQ(c.list("p/", &keys, &e), s3::Result::kOk) << e.message;
  EXPECT_EQ(keys, (std::vector<std::string>{"p/a", "p/b & c"}));
  std::lock_guard lock(fake.mutex_);
  ASSERT_EQ(fake.seen.size(), 2u);
  EXPECT_EQ(fake.seen[0].path, "/videos");
  EXPECT_NE(fake.seen[0].query.find("list-type=2"), std::string::npos);
  EXPECT_NE(fake.seen[0].query.find("prefix=p%2F"), std::string::npos);
}

namespace {

// A port nobody listens on: bind one, close it.
int dead_port() {
  GSocket* sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress* lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress* addr = g_inet_socket_address_new(lo, 0);
  EXPECT_TRUE(g_socket_bind(sock, addr, FALSE, nullptr));
  GSocketAddress* bound = g_socket_get_local_address(sock, nullptr);
  int port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_object_unref(bound);
  g_object_unref(addr);
  g_object_unref(lo);
  g_object_unref(sock);
  return port;
}

}  // namespace

TEST(S3Client, UnreachableEndpointIsUnavailable) {
  const int port = dead_port();
  s3::Client c(s3::Target{"http://127.0.0.1:" + std::to_string(port), "", "videos", {}, false});
  c.backoff_ms = 5;
  std::string data;
  s3::Error e;
  EXPECT_EQ(c.get("k", &data, &e), s3::Result::kUnavailable);
  EXPECT_FALSE(e.message.empty());
}

TEST(S3Client, LocationRoundTripsWithoutSecrets) {
  s3::Location loc{"videos", "a b/c+d?e#\xc3\xbc", "http://h:9000/x", "eu-west-1"};
  const std::string uri = s3::make_location(loc);
  EXPECT_EQ(uri.find("SK"), std::string::npos);
  s3::Location back;
  std::string error;
  ASSERT_TRUE(s3::parse_location(uri, &back, &error)) << error;
  EXPECT_EQ(back.bucket, loc.bucket);
  EXPECT_EQ(back.key, loc.key);
  EXPECT_EQ(back.endpoint, loc.endpoint);
  EXPECT_EQ(back.region, loc.region);
  EXPECT_FALSE(s3::parse_location("s3://videos", &back, &error));
  EXPECT_FALSE(s3::parse_location("http://videos/k", &back, &error));
}

TEST(S3Storage, WriterPutsOnlyOnCommitAndStatUsesEtag) {
  FakeS3 fake;
  BucketConfig b;
  b.name = "cloud";
  b.endpoint = fake.endpoint();
  b.remote_name = "videos";
  b.access_key_id = "AK";
  b.secret_access_key = "SK";
  S3Storage storage(b);
  StorageError error;
  {
    auto w = storage.open_writer("seg/0.ts", &error);
    ASSERT_TRUE(w);
    ASSERT_EQ(w->write("abc", 3, &error), StorageStatus::kOk);
    w->abort();
  }
  {
    std::lock_guard lock(fake.mutex_);
    EXPECT_TRUE(fake.seen.empty());  // nothing sent for an aborted writer
  }
  auto w = storage.open_writer("seg/0.ts", &error);
  ASSERT_EQ(w->write("abc", 3, &error), StorageStatus::kOk);
  ASSERT_EQ(w->write("def", 3, &error), StorageStatus::kOk);
  ASSERT_EQ(w->commit(&error), StorageStatus::kOk) << error.message;
  {
    std::lock_guard lock(fake.mutex_);
    ASSERT_EQ(fake.seen.size(), 1u);  // one PUT of the whole object
    EXPECT_EQ(fake.objects["/videos/seg/0.ts"], "abcdef");
  }
  ObjectStat st;
  ASSERT_EQ(storage.stat("seg/0.ts", &st, &error), StorageStatus::kOk) << error.message;
  EXPECT_EQ(st.size, 6u);
  EXPECT_EQ(st.identity, "\"e1\"");
  EXPECT_EQ(storage.stat("seg/1.ts", &st, &error), StorageStatus::kNotFound);
  EXPECT_EQ(storage.remove("seg/1.ts", &error), StorageStatus::kNotFound);
  EXPECT_EQ(storage.remove("seg/0.ts", &error), StorageStatus::kOk) << error.message;
  EXPECT_EQ(storage.stat("../x", &st, &error), StorageStatus::kError);
  s3::Credentials creds;
  EXPECT_TRUE(s3::lookup_credentials(fake.endpoint(), "videos", &creds));
  EXPECT_EQ(creds.access_key_id, "AK");
}

namespace {

BucketConfig s3_bucket(const std::string& endpoint) {
  BucketConfig b;
  b.name = "cloud";
  b.endpoint = endpoint;
  b.remote_name = "videos";
  b.access_key_id = "AK";
  b.secret_access_key = "SK";
  return b;
}

// What a client of `tws serve` gets for a storage error: status, Code, Retry-After, Message.
struct Answer {
  guint status = 0;
  std::string retry_after, body;
};

Answer http_answer_for(const StorageError& storage_error) {
  GMainContext* ctx = g_main_context_new();
  g_main_context_push_thread_default(ctx);
  SoupServer* server = soup_server_new(nullptr, nullptr);
  soup_server_add_handler(
      server, nullptr,
      [](SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) {
        send_storage_error(msg, *static_cast<const StorageError*>(data));
      },
      const_cast<StorageError*>(&storage_error), nullptr);
  soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr);
  GSList* uris = soup_server_get_uris(server);
  GUnique<gchar> url(g_uri_to_string(static_cast<GUri*>(uris->data)));
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  SoupSession* session = soup_session_new();
  SoupMessage* msg = soup_message_new("GET", url.get());
  Answer a;
  bool done = false;
  struct Ctx {
    Answer* a;
    bool* done;
  } c{&a, &done};
  soup_session_send_and_read_async(
      session, msg, G_PRIORITY_DEFAULT, nullptr,
      [](GObject* source, GAsyncResult* res, gpointer data) {
        auto* c = static_cast<Ctx*>(data);
        GUnique<GBytes> bytes(
            soup_session_send_and_read_finish(SOUP_SESSION(source), res, nullptr));
        SoupMessage* m = soup_session_get_async_result_message(SOUP_SESSION(source), res);
        c->a->status = soup_message_get_status(m);
        const char* ra =
            soup_message_headers_get_one(soup_message_get_response_headers(m), "Retry-After");
        c->a->retry_after = ra ? ra : "";
        if (bytes) {
          gsize n = 0;
          const char* d = static_cast<const char*>(g_bytes_get_data(bytes.get(), &n));
          c->a->body.assign(d ? d : "", n);
        }
        *c->done = true;
      },
      &c);
  while (!done) g_main_context_iteration(ctx, TRUE);
  g_object_unref(msg);
  g_object_unref(session);
  g_object_unref(server);
  g_main_context_pop_thread_default(ctx);
  g_main_context_unref(ctx);
  return a;
}

}  // namespace

// API.md's error table, one storage status at a time: the HTTP status, the Code, the message
// as the storage wrote it, and Retry-After only where trying again later may help.
TEST(StorageErrors, EachStatusHasItsAnswer) {
  struct Case {
    StorageStatus status;
    guint http;
    const char* code;
    bool retry_after;
  };
  const Case cases[] = {
      {StorageStatus::kNotFound, 404, "NotFound", false},
      {StorageStatus::kDenied, 502, "StorageError", false},
      {StorageStatus::kUnavailable, 503, "ServiceUnavailable", true},
      {StorageStatus::kError, 502, "StorageError", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(storage_status_name(c.status));
    const StorageError error{c.status, "S3 GET in/a.mp4: what the store said"};
    Failure f;
    EXPECT_FALSE(storage_failure(&f, error));
    EXPECT_EQ(f.code, error_code_of(c.status));
    EXPECT_EQ(f.message, error.message);
    EXPECT_EQ(guint(http_status_of(f.code)), c.http);
    EXPECT_STREQ(error_code_name(f.code), c.code);
    const Answer a = http_answer_for(error);
    EXPECT_EQ(a.status, c.http);
    EXPECT_EQ(a.retry_after, c.retry_after ? std::to_string(kRetryAfterSeconds) : "");
    EXPECT_NE(a.body.find(std::string("\"Code\":\"") + c.code + "\""), std::string::npos) << a.body;
    EXPECT_NE(a.body.find("what the store said"), std::string::npos) << a.body;
  }
  EXPECT_FALSE(storage_failed(StorageStatus::kOk));
  EXPECT_FALSE(storage_failed(StorageStatus::kNotFound));
  EXPECT_TRUE(storage_failed(StorageStatus::kDenied));
  EXPECT_TRUE(storage_failed(StorageStatus::kUnavailable));
  EXPECT_TRUE(storage_failed(StorageStatus::kError));
}

// API.md: 502 StorageError when the store answers an error (its Code in the message), 503
// ServiceUnavailable with Retry-After when it cannot be reached or keeps failing.
TEST(S3StorageErrors, UnreachableEndpointIs503WithRetryAfter) {
  S3Storage storage(s3_bucket("http://127.0.0.1:" + std::to_string(dead_port())));
  StorageError error;
  ObjectStat st;
  ASSERT_EQ(storage.stat("in/a.mp4", &st, &error), StorageStatus::kUnavailable) << error.message;
  EXPECT_EQ(error.status, StorageStatus::kUnavailable);
  Failure f;
  EXPECT_FALSE(storage_failure(&f, error));
  EXPECT_EQ(f.code, ErrorCode::kServiceUnavailable);
  EXPECT_EQ(http_status_of(f.code), 503);
  EXPECT_EQ(storage.put("out/a.m3u8", "x", &error), StorageStatus::kUnavailable) << error.message;
  const Answer a = http_answer_for(error);
  EXPECT_EQ(a.status, 503u);
  EXPECT_EQ(a.retry_after, std::to_string(kRetryAfterSeconds));
  EXPECT_NE(a.body.find("\"Code\":\"ServiceUnavailable\""), std::string::npos) << a.body;

  // Through the service's own code path (produce.cpp): loading a stored playlist.
  Config config;
  config.buckets.push_back(s3_bucket("http://127.0.0.1:" + std::to_string(dead_port())));
  StoredPlaylist playlist;
  EXPECT_FALSE(load_stored_playlist(config, ObjectUri{"cloud", "out/v/v.m3u8"}, &playlist, &f));
  EXPECT_EQ(f.code, ErrorCode::kServiceUnavailable) << f.message;
}

TEST(S3StorageErrors, ServerErrorAfterRetriesIs503) {
  FakeS3 fake;
  S3Storage storage(s3_bucket(fake.endpoint()));
  {
    std::lock_guard lock(fake.mutex_);
    fake.fail_next = 100;  // every try
  }
  std::string data;
  StorageError error;
  ASSERT_EQ(storage.get("in/a.mp4", &data, &error), StorageStatus::kUnavailable) << error.message;
  EXPECT_NE(error.message.find("500 InternalError"), std::string::npos) << error.message;
  {
    std::lock_guard lock(fake.mutex_);
    EXPECT_EQ(fake.seen.size(), size_t(storage.client().max_tries));  // retried, then gave up
  }
  Failure f;
  EXPECT_FALSE(storage_failure(&f, error));
  EXPECT_EQ(f.code, ErrorCode::kServiceUnavailable);
  const Answer a = http_answer_for(error);
  EXPECT_EQ(a.status, 503u);
  EXPECT_EQ(a.retry_after, std::to_string(kRetryAfterSeconds));

  // A writer's commit (a segment's one PUT) says the same.
  auto w = storage.open_writer("out/v/v-0.ts", &error);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->write("abc", 3, &error), StorageStatus::kOk);
  EXPECT_EQ(w->commit(&error), StorageStatus::kUnavailable) << error.message;
  EXPECT_EQ(error.status, StorageStatus::kUnavailable);
}

TEST(S3StorageErrors, AccessDeniedIs502NamingTheStoresCode) {
  FakeS3 fake;
  S3Storage storage(s3_bucket(fake.endpoint()));
  {
    std::lock_guard lock(fake.mutex_);
    fake.fail_next = 1;
    fake.fail_status = 403;
    fake.fail_code = "AccessDenied";
  }
  // A GET: the answer's XML body names the Code (a HEAD answer has no body: "403 Forbidden").
  std::string data;
  StorageError error;
  ASSERT_EQ(storage.get("in/a.mp4", &data, &error), StorageStatus::kDenied) << error.message;
  EXPECT_NE(error.message.find("403 AccessDenied"), std::string::npos) << error.message;
  {
    std::lock_guard lock(fake.mutex_);
    EXPECT_EQ(fake.seen.size(), 1u);  // final, not retried
  }
  Failure f;
  EXPECT_FALSE(storage_failure(&f, error));
  EXPECT_EQ(f.code, ErrorCode::kStorageError);
  EXPECT_EQ(http_status_of(f.code), 502);
  const Answer a = http_answer_for(error);
  EXPECT_EQ(a.status, 502u);
  EXPECT_EQ(a.retry_after, "");
  EXPECT_NE(a.body.find("\"Code\":\"StorageError\""), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("AccessDenied"), std::string::npos) << a.body;

  // A 400-class answer other than 404 is the store's error too (502), e.g. on PUT.
  {
    std::lock_guard lock(fake.mutex_);
    fake.fail_next = 1;
    fake.fail_status = 400;
    fake.fail_code = "InvalidBucketName";
  }
  EXPECT_EQ(storage.put("out/a.m3u8", "x", &error), StorageStatus::kError) << error.message;
  EXPECT_NE(error.message.find("InvalidBucketName"), std::string::npos) << error.message;
}

namespace {

// Runs `rangesrc location=LOCATION PROPS ! fakesink` to EOS or error; the message type.
GstMessageType run_rangesrc(const std::string& description) {
  GError* raw = nullptr;
  GRef<GstElement> pipeline = adopt_ref(gst_parse_launch(description.c_str(), &raw));
  GUnique<GError> err(raw);
  if (!pipeline) return GST_MESSAGE_UNKNOWN;
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  GRef<GstBus> bus = adopt_ref(gst_element_get_bus(pipeline.get()));
  GRef<GstMessage> msg = adopt_ref(gst_bus_timed_pop_filtered(
      bus.get(), 20 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return msg ? GST_MESSAGE_TYPE(msg.get()) : GST_MESSAGE_UNKNOWN;
}

}  // namespace

TEST(S3RangeSrc, ReadsAnObjectWithElementProperties) {
  FakeS3 fake;
  std::string body(300000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = char(i * 7);
  {
    std::lock_guard lock(fake.mutex_);
    fake.objects["/videos/in/a b+c.bin"] = body;
  }
  EXPECT_EQ(run_rangesrc(
                "rangesrc location=\"s3://videos/in/a%20b%2Bc.bin\" endpoint=" + fake.endpoint() +
                " region=eu-west-1 access-key-id=AKX secret-access-key=SKX "
                "block-size=65536 ! fakesink"),
            GST_MESSAGE_EOS);
  std::lock_guard lock(fake.mutex_);
  ASSERT_GE(fake.seen.size(), 2u);
  EXPECT_EQ(fake.seen[0].method, "HEAD");
  EXPECT_EQ(fake.seen[1].method, "GET");
  EXPECT_EQ(fake.seen[1].range.rfind("bytes=0-", 0), 0u);
  EXPECT_NE(fake.seen[1].auth.find("Credential=AKX/"), std::string::npos);
  EXPECT_NE(fake.seen[1].auth.find("/eu-west-1/s3/"), std::string::npos);
}

// What /metrics adds for rangesrc (http_server.cpp): GETs and bytes from the shared block
// cache's backend reads, HEADs from the backends' open(): exactly the requests the store saw.
TEST(S3RangeSrc, EveryStoreRequestIsCountedOnce) {
  FakeS3 fake;
  const std::string body(200000, 'z');
  {
    std::lock_guard lock(fake.mutex_);
    fake.objects["/videos/in/counted once.bin"] = body;
  }
  const BlockCacheStats before = BlockCache::shared().stats();
  const guint64 heads_before = remote_head_requests();
  EXPECT_EQ(run_rangesrc("rangesrc location=\"s3://videos/in/counted%20once.bin\" endpoint=" +
                         fake.endpoint() +
                         " access-key-id=AK secret-access-key=SK block-size=65536 ! fakesink"),
            GST_MESSAGE_EOS);
  const BlockCacheStats after = BlockCache::shared().stats();
  size_t gets = 0, heads = 0;
  {
    std::lock_guard lock(fake.mutex_);
    for (const Seen& s : fake.seen) (s.method == "GET" ? gets : heads)++;
  }
  EXPECT_GT(gets, 0u);
  EXPECT_EQ(after.backend_requests - before.backend_requests, gets);
  EXPECT_EQ(after.backend_bytes - before.backend_bytes, body.size());
  EXPECT_EQ(remote_head_requests() - heads_before, heads);
  EXPECT_EQ(heads, 1u);
}

TEST(S3RangeSrc, MissingObjectIsAnError) {
  FakeS3 fake;
  EXPECT_EQ(run_rangesrc("rangesrc location=s3://videos/none.bin endpoint=" + fake.endpoint() +
                         " ! fakesink"),
            GST_MESSAGE_ERROR);
}

TEST(HttpRangeSrc, ReadsByRangedGets) {
  FakeS3 fake;
  {
    std::lock_guard lock(fake.mutex_);
    fake.objects["/videos/x.bin"] = std::string(100000, 'x');
  }
  EXPECT_EQ(run_rangesrc("rangesrc location=" + fake.endpoint() + "/videos/x.bin ! fakesink"),
            GST_MESSAGE_EOS);
  std::lock_guard lock(fake.mutex_);
  ASSERT_GE(fake.seen.size(), 2u);
  EXPECT_EQ(fake.seen[0].method, "HEAD");
  EXPECT_TRUE(fake.seen[1].auth.empty());
  EXPECT_FALSE(fake.seen[1].range.empty());
}
