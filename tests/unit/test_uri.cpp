// SPDX-License-Identifier: LGPL-2.1-or-later
// service/core/uri and service/storage/local_storage: object URIs, hostile keys, percent-encoding,
// and a directory bucket that never shows a partial object nor reads outside itself.
#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "service/core/config.h"
#include "service/core/uri.h"
#include "service/storage/local_storage.h"
#include "service/transcode/segment_publisher.h"

namespace tws {
namespace {

TEST(Uri, ParsesBothSchemes) {
  ObjectUri u;
  std::string error;
  ASSERT_TRUE(parse_object_uri("oss://media/in/test video.avi", &u, &error)) << error;
  EXPECT_EQ(u.bucket, "media");
  EXPECT_EQ(u.key, "in/test video.avi");
  ASSERT_TRUE(parse_object_uri("s3://media/a/b/c.mp4", &u, &error)) << error;
  EXPECT_EQ(u.bucket, "media");
  EXPECT_EQ(u.key, "a/b/c.mp4");
  EXPECT_EQ(u.to_string(), "oss://media/a/b/c.mp4");
  ASSERT_TRUE(parse_object_uri("oss://media/.hidden/..x/x..", &u, &error)) << error;
}

TEST(Uri, RefusesHostileKeys) {
  const char* bad[] = {
      "oss://media/../etc/passwd",
      "oss://media/a/../../b",
      "oss://media/a/..",
      "oss://media/./a",
      "oss://media/a/./b",
      "oss://media/a//b",
      "oss://media//etc/passwd",
      "oss://media/a/",
      "oss://media/a\\..\\b",
      "oss://media/",
      "oss://media",
      "oss:///key",
      "http://media/a",
      "media/a",
      "oss://media/a\nb",
      // Bucket names are config section names (fuzz_uri found control bytes accepted).
      "oss://me\x01dia/a",
      "oss://../a",
      "oss://me dia/a",
      "s3://clou\xff/a",
  };
  for (const char* text : bad) {
    ObjectUri u;
    std::string error;
    EXPECT_FALSE(parse_object_uri(text, &u, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  std::string error;
  EXPECT_FALSE(validate_key(std::string("a\0b", 3), &error));
  EXPECT_NE(error.find("NUL"), std::string::npos);
  EXPECT_FALSE(validate_key("/abs", &error));
  EXPECT_FALSE(validate_key("..", &error));
  EXPECT_FALSE(validate_key("\xff\xfe", &error));
  EXPECT_TRUE(validate_key("a/b/c.ts", &error));
}

TEST(Uri, UnknownBucketIsNamed) {
  Config config;
  std::string error;
  ASSERT_TRUE(parse_config("[bucket media]\npath = /m\n", "/", &config, &error));
  ObjectUri u;
  EXPECT_TRUE(resolve_object_uri(config, "oss://media/x", &u, &error));
  EXPECT_FALSE(resolve_object_uri(config, "oss://other/x", &u, &error));
  EXPECT_NE(error.find("unknown bucket \"other\""), std::string::npos) << error;
}

TEST(Uri, PercentEncoding) {
  EXPECT_EQ(percent_encode_path("out/720p/720p-abc-0.ts"), "out/720p/720p-abc-0.ts");
  EXPECT_EQ(percent_encode_path("a b/c+d%e?f#g&h=i"), "a%20b/c%2Bd%25e%3Ff%23g%26h%3Di");
  EXPECT_EQ(percent_encode_path("A-Z_a.z~09"), "A-Z_a.z~09");
  EXPECT_EQ(percent_encode_path("\xc3\xa9t\xc3\xa9"), "%C3%A9t%C3%A9");
  std::string decoded;
  for (const char* s : {"a b/c+d%e?f#g", "\xc3\xa9t\xc3\xa9/x", "plain/key.ts"}) {
    ASSERT_TRUE(percent_decode_path(percent_encode_path(s), &decoded));
    EXPECT_EQ(decoded, s);
  }
  EXPECT_TRUE(percent_decode_path("a%2fb", &decoded));
  EXPECT_EQ(decoded, "a/b");
  EXPECT_FALSE(percent_decode_path("a%2", &decoded));
  EXPECT_FALSE(percent_decode_path("a%", &decoded));
  EXPECT_FALSE(percent_decode_path("a%zz", &decoded));
  EXPECT_FALSE(percent_decode_path("a%00b", &decoded));
  EXPECT_EQ(object_http_path({"media", "out/my video.m3u8"}), "/media/out/my%20video.m3u8");
}

class LocalStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char* tmp = g_dir_make_tmp("tws-storage-XXXXXX", nullptr);
    ASSERT_TRUE(tmp);
    base_ = tmp;
    g_free(tmp);
    root_ = base_ + "/bucket";
    ASSERT_EQ(g_mkdir(root_.c_str(), 0755), 0);
    storage_ = std::make_unique<LocalStorage>(root_);
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + base_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  // Every file under the root, temporary ones included.
  std::vector<std::string> files() {
    std::vector<std::string> out;
    std::string cmd = "cd '" + root_ + "' && find . -type f | sort";
    FILE* p = popen(cmd.c_str(), "r");
    char line[4096];
    while (p && fgets(line, sizeof line, p)) {
      std::string s = line;
      s.pop_back();
      out.push_back(s.substr(2));
    }
    if (p) pclose(p);
    return out;
  }
  std::string base_, root_;
  std::unique_ptr<LocalStorage> storage_;
};

TEST_F(LocalStorageTest, PutGetStatListRemove) {
  std::string data;
  StorageError error;
  ASSERT_EQ(storage_->put("out/720p/a.m3u8", "#EXTM3U\n", &error), StorageStatus::kOk)
      << error.message;
  ASSERT_EQ(storage_->put("out/720p/a-t-0.ts", std::string(1000, 'x'), &error), StorageStatus::kOk)
      << error.message;
  ASSERT_EQ(storage_->put("out/other.m3u8", "y", &error), StorageStatus::kOk) << error.message;
  EXPECT_EQ(storage_->get("out/720p/a.m3u8", &data, &error), StorageStatus::kOk);
  EXPECT_EQ(data, "#EXTM3U\n");
  ObjectStat st;
  ASSERT_EQ(storage_->stat("out/720p/a-t-0.ts", &st, &error), StorageStatus::kOk);
  EXPECT_EQ(st.size, 1000u);
  EXPECT_EQ(st.identity.rfind("mtime:", 0), 0u);
  struct stat s;
  ASSERT_EQ(::stat((root_ + "/out/720p/a-t-0.ts").c_str(), &s), 0);
  EXPECT_EQ(st.identity,
            "mtime:" + std::to_string(int64_t(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec));
  EXPECT_EQ(s.st_mode & 0777, 0644u);
  EXPECT_EQ(storage_->stat("out/none", &st, &error), StorageStatus::kNotFound);
  EXPECT_EQ(storage_->get("nope/none", &data, &error), StorageStatus::kNotFound);
  EXPECT_EQ(storage_->stat("out/720p", &st, &error), StorageStatus::kNotFound);  // a directory

  std::vector<std::string> keys;
  ASSERT_EQ(storage_->list("out/720p/a-", &keys, &error), StorageStatus::kOk);
  EXPECT_EQ(keys, (std::vector<std::string>{"out/720p/a-t-0.ts"}));
  ASSERT_EQ(storage_->list("out/", &keys, &error), StorageStatus::kOk);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"out/720p/a-t-0.ts", "out/720p/a.m3u8", "out/other.m3u8"}));
  ASSERT_EQ(storage_->list("", &keys, &error), StorageStatus::kOk);
  EXPECT_EQ(keys.size(), 3u);

  EXPECT_EQ(storage_->remove("out/other.m3u8", &error), StorageStatus::kOk);
  EXPECT_EQ(storage_->remove("out/other.m3u8", &error), StorageStatus::kNotFound);
  EXPECT_EQ(storage_->source_location("in/a.mp4"), root_ + "/in/a.mp4");
}

TEST_F(LocalStorageTest, WriterIsInvisibleUntilCommit) {
  std::string data;
  StorageError error;
  ASSERT_EQ(storage_->put("seg.ts", "old", &error), StorageStatus::kOk);
  auto writer = storage_->open_writer("seg.ts", &error);
  ASSERT_TRUE(writer) << error.message;
  ASSERT_EQ(writer->write("new-", 4, &error), StorageStatus::kOk);
  ASSERT_EQ(writer->write("bytes", 5, &error), StorageStatus::kOk);
  EXPECT_EQ(storage_->get("seg.ts", &data, &error), StorageStatus::kOk);
  EXPECT_EQ(data, "old");  // the old object stays whole until commit
  std::vector<std::string> keys;
  ASSERT_EQ(storage_->list("", &keys, &error), StorageStatus::kOk);
  EXPECT_EQ(keys, (std::vector<std::string>{"seg.ts"}));  // the temp file is not listed
  ASSERT_EQ(writer->commit(&error), StorageStatus::kOk) << error.message;
  EXPECT_EQ(storage_->get("seg.ts", &data, &error), StorageStatus::kOk);
  EXPECT_EQ(data, "new-bytes");
  EXPECT_EQ(files(), (std::vector<std::string>{"seg.ts"}));
  EXPECT_NE(writer->write("x", 1, &error), StorageStatus::kOk);  // after commit
}

TEST_F(LocalStorageTest, AbortAndDestructionLeaveNothing) {
  std::string data;
  StorageError error;
  {
    auto writer = storage_->open_writer("a/b/seg-1.ts", &error);
    ASSERT_TRUE(writer);
    ASSERT_EQ(writer->write("partial", 7, &error), StorageStatus::kOk);
    writer->abort();
  }
  {
    auto writer = storage_->open_writer("a/b/seg-2.ts", &error);
    ASSERT_TRUE(writer);
    ASSERT_EQ(writer->write("partial", 7, &error), StorageStatus::kOk);
  }  // dropped without commit
  EXPECT_TRUE(files().empty());
  EXPECT_EQ(storage_->get("a/b/seg-1.ts", &data, &error), StorageStatus::kNotFound);
}

TEST_F(LocalStorageTest, NeverLeavesTheBucket) {
  std::string data;
  StorageError error;
  ASSERT_TRUE(g_file_set_contents((base_ + "/secret").c_str(), "s", -1, nullptr));
  EXPECT_EQ(storage_->get("../secret", &data, &error), StorageStatus::kError);
  EXPECT_NE(storage_->put("../evil", "x", &error), StorageStatus::kOk);
  EXPECT_NE(storage_->put("/abs", "x", &error), StorageStatus::kOk);
  EXPECT_EQ(storage_->stat("a//b", nullptr, &error), StorageStatus::kError);
  // A symlink inside the bucket that points out of it is not followed.
  ASSERT_EQ(symlink(base_.c_str(), (root_ + "/out").c_str()), 0);
  EXPECT_EQ(storage_->get("out/secret", &data, &error), StorageStatus::kDenied);
  EXPECT_EQ(error.status, StorageStatus::kDenied);
  EXPECT_NE(error.message.find("outside"), std::string::npos) << error.message;
  EXPECT_NE(storage_->put("out/evil", "x", &error), StorageStatus::kOk);
  EXPECT_FALSE(g_file_test((base_ + "/evil").c_str(), G_FILE_TEST_EXISTS));
  ASSERT_EQ(symlink((base_ + "/secret").c_str(), (root_ + "/link").c_str()), 0);
  EXPECT_NE(storage_->get("link", &data, &error), StorageStatus::kOk);
  ObjectStat st;
  EXPECT_EQ(storage_->stat("link", &st, &error), StorageStatus::kNotFound);
  std::vector<std::string> keys;
  ASSERT_EQ(storage_->list("", &keys, &error), StorageStatus::kOk);
  EXPECT_TRUE(keys.empty());
  EXPECT_NE(storage_->list("../", &keys, &error), StorageStatus::kOk);
}

// The sink of `tws segment`: a segment is stored only when it ended and passed its check.
TEST_F(LocalStorageTest, SegmentPublisherStoresOnlyCheckedSegments) {
  SegmentJob job;
  job.has_video = true;
  PlanInput in;
  in.duration = 30;
  in.frame_rate = {25, 1};
  in.segment_length = 10;
  std::string error;
  ASSERT_TRUE(make_plan(in, &job.plan, &error)) << error;
  job.first = 0;
  job.last = 2;
  SegmentPublisher publisher(storage_.get(), "out/v", "tok", &job);
  SegmentSink sink = publisher.sink();
  const uint8_t bytes[188] = {0x47};
  // Segment 0 passes.
  sink.begin(0);
  ASSERT_TRUE(sink.data(0, bytes, sizeof bytes));
  std::vector<std::string> keys;
  StorageError listed;
  ASSERT_EQ(storage_->list("", &keys, &listed), StorageStatus::kOk);
  EXPECT_TRUE(keys.empty());      // nothing visible before the end
  EXPECT_EQ(files().size(), 1u);  // only the temporary file
  sink.end(SegmentReport{0, sizeof bytes, 250, 0, true});
  EXPECT_EQ(files(), (std::vector<std::string>{"out/v-tok-0.ts"}));
  EXPECT_EQ(publisher.published(), (std::vector<std::string>{"out/v-tok-0.ts"}));
  // Segment 1 is a frame short: dropped, and the job is told to stop.
  sink.begin(1);
  ASSERT_TRUE(sink.data(1, bytes, sizeof bytes));
  sink.end(SegmentReport{1, sizeof bytes, 249, 0, true});
  EXPECT_EQ(publisher.error().status, StorageStatus::kError);
  EXPECT_NE(publisher.error().message.find("249 video frames"), std::string::npos)
      << publisher.error().message;
  sink.begin(2);
  EXPECT_FALSE(sink.data(2, bytes, sizeof bytes));
  publisher.abort_all();
  EXPECT_EQ(files(), (std::vector<std::string>{"out/v-tok-0.ts"}));
}

TEST_F(LocalStorageTest, SegmentPublisherAbortsAnOpenSegment) {
  SegmentJob job;
  job.has_video = true;
  PlanInput in;
  in.duration = 10;
  in.frame_rate = {25, 1};
  std::string error;
  ASSERT_TRUE(make_plan(in, &job.plan, &error)) << error;
  {
    SegmentPublisher publisher(storage_.get(), "v", "tok", &job);
    SegmentSink sink = publisher.sink();
    const uint8_t bytes[188] = {0x47};
    sink.begin(0);
    ASSERT_TRUE(sink.data(0, bytes, sizeof bytes));
  }  // the job failed before the segment ended
  EXPECT_TRUE(files().empty());
}

}  // namespace
}  // namespace tws
