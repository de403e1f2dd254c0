// SPDX-License-Identifier: LGPL-2.1-or-later
// service/core/config: the key file of API.md "Config", its defaults and its errors.
#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "service/core/config.h"
#include "service/storage/open_storage.h"
#include "service/storage/storage.h"

namespace tws {
namespace {

Config parse_ok(const std::string& text, const std::string& dir = "/srv/tws") {
  Config c;
  std::string error;
  EXPECT_TRUE(parse_config(text, dir, &c, &error)) << error;
  return c;
}

std::string parse_error(const std::string& text) {
  Config c;
  std::string error;
  EXPECT_FALSE(parse_config(text, "/srv/tws", &c, &error));
  return error;
}

TEST(Config, FullFile) {
  const Config c = parse_ok(
      "[server]\nlisten = 0.0.0.0:9000\npublic-url = https://cdn.example.com/\nworkers = 4\n"
      "# a comment\n[bucket media]\npath = media\n"
      "[bucket abs]\npath = /data/x\n"
      "[bucket cloud]\nendpoint = http://127.0.0.1:9000\nregion = eu-west-1\nname = videos\n"
      "access-key-id = AK\nsecret-access-key = SK\n"
      "[key dev]\nsecret = s1\n[key old]\nsecret = s2\n"
      "[api]\ntokens = t1; t2\n[transcode]\npreset = fast\n");
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.public_url, "https://cdn.example.com");
  EXPECT_EQ(c.workers, 4);
  ASSERT_EQ(c.buckets.size(), 3u);
  EXPECT_EQ(c.find_bucket("media")->path, "/srv/tws/media");  // relative to the file's dir
  EXPECT_EQ(c.find_bucket("abs")->path, "/data/x");
  const BucketConfig* cloud = c.find_bucket("cloud");
  ASSERT_TRUE(cloud);
  EXPECT_TRUE(cloud->is_s3());
  EXPECT_EQ(cloud->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(cloud->region, "eu-west-1");
  EXPECT_EQ(cloud->remote_name, "videos");
  EXPECT_EQ(cloud->access_key_id, "AK");
  EXPECT_EQ(cloud->secret_access_key, "SK");
  ASSERT_EQ(c.keys.size(), 2u);
  EXPECT_EQ(c.keys[0].id, "dev");  // new URLs use the first key
  EXPECT_EQ(c.find_key("old")->secret, "s2");
  EXPECT_EQ(c.api_tokens, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(c.preset, "fast");
  EXPECT_EQ(c.find_bucket("nope"), nullptr);
}

TEST(Config, Defaults) {
  const Config c = parse_ok("[bucket media]\npath = /m\n");
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.workers, 2);
  EXPECT_EQ(c.preset, "veryfast");
  // public-url follows listen when only listen is given.
  EXPECT_EQ(parse_ok("[server]\nlisten = 127.0.0.1:0\n").public_url, "http://127.0.0.1:0");
  // S3 defaults: the remote bucket is the section's name.
  const Config s3 = parse_ok("[bucket videos]\nendpoint = http://h:9000\n");
  EXPECT_EQ(s3.find_bucket("videos")->remote_name, "videos");
  EXPECT_EQ(s3.find_bucket("videos")->region, "us-east-1");
}

TEST(Config, ReservedBucketNames) {
  for (const char* name : {"v1", "healthz", "metrics", "player"}) {
    const std::string error = parse_error(std::string("[bucket ") + name + "]\npath = /x\n");
    EXPECT_NE(error.find("reserved"), std::string::npos) << error;
  }
}

TEST(Config, Errors) {
  EXPECT_NE(parse_error("[bucket a]\n").find("path"), std::string::npos);
  EXPECT_NE(parse_error("[bucket a]\npath = /x\nendpoint = http://h\n").find("not both"),
            std::string::npos);
  EXPECT_NE(parse_error("[bucket a/b]\npath = /x\n").find("invalid bucket name"),
            std::string::npos);
  EXPECT_NE(parse_error("[bucket ..]\npath = /x\n").find("invalid bucket name"), std::string::npos);
  EXPECT_NE(parse_error("[server]\nworkers = 0\n").find("workers"), std::string::npos);
  EXPECT_NE(parse_error("[server]\nlisten = nonsense\n").find("listen"), std::string::npos);
  EXPECT_NE(parse_error("[server]\npublic-url = ftp://x\n").find("public-url"), std::string::npos);
  EXPECT_NE(parse_error("[server]\nlisten = 127.0.0.1:8080 # trailing comment\n").find("listen"),
            std::string::npos);
  EXPECT_NE(parse_error("[key dev]\nsecret =\n").find("secret"), std::string::npos);
  EXPECT_NE(parse_error("[bucket a]\npath = /x\nsize = 3\n").find("unknown key"),
            std::string::npos);
  EXPECT_NE(parse_error("[buckets a]\npath = /x\n").find("unknown section"), std::string::npos);
  EXPECT_NE(parse_error("[transcode]\npreset = turbo\n").find("preset"), std::string::npos);
  EXPECT_FALSE(parse_error("not a key file").empty());
}

TEST(Config, S3BucketOpensS3Storage) {
  const Config c = parse_ok("[bucket cloud]\nendpoint = http://h:9000\nname = videos\n");
  StorageError error;
  auto storage = open_storage(*c.find_bucket("cloud"), &error);
  ASSERT_NE(storage, nullptr) << error.message;  // nothing is sent before the first request
  EXPECT_EQ(storage->source_location("a b/c+d.mp4"),
            "s3://videos/a%20b/c%2Bd.mp4?endpoint=http%3A%2F%2Fh%3A9000&region=us-east-1");
}

TEST(Config, EmbeddedDefault) {
  const std::string a = default_config_text(), b = default_config_text();
  EXPECT_NE(a, b);  // fresh random secrets
  const Config c = parse_ok(a, "/home/u/data");
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.workers, 2);
  ASSERT_TRUE(c.find_bucket("media"));
  EXPECT_EQ(c.find_bucket("media")->path, "/home/u/data/media");
  ASSERT_EQ(c.keys.size(), 1u);
  EXPECT_EQ(c.keys[0].id, "dev");
  EXPECT_EQ(c.keys[0].secret.size(), 64u);  // 32 bytes, hex
  EXPECT_EQ(c.keys[0].secret.find_first_not_of("0123456789abcdef"), std::string::npos);
  ASSERT_EQ(c.api_tokens.size(), 1u);
  EXPECT_GE(c.api_tokens[0].size(), 32u);
  // Comments only on their own lines: no value carries a '#'.
  for (const char* line : {"listen = 127.0.0.1:8080\n", "path = media\n"})
    EXPECT_NE(a.find(line), std::string::npos);
}

TEST(Config, DefaultFileIsCreatedOnFirstUse) {
  char* cwd = g_get_current_dir();
  char* tmp = g_dir_make_tmp("tws-config-XXXXXX", nullptr);
  ASSERT_TRUE(tmp);
  ASSERT_EQ(chdir(tmp), 0);
  Config first, second;
  std::string error;
  EXPECT_TRUE(load_default_config(&first, &error)) << error;
  EXPECT_TRUE(g_file_test("data/tws.conf", G_FILE_TEST_IS_REGULAR));
  EXPECT_TRUE(g_file_test("data/media", G_FILE_TEST_IS_DIR));
  EXPECT_TRUE(load_default_config(&second, &error)) << error;
  ASSERT_EQ(first.keys.size(), 1u);
  EXPECT_EQ(first.keys[0].secret, second.keys[0].secret);  // created once, then reused
  char* media = g_build_filename(tmp, "data", "media", nullptr);
  char* real_media = realpath(media, nullptr);
  char* real_bucket = realpath(first.find_bucket("media")->path.c_str(), nullptr);
  EXPECT_STREQ(real_bucket, real_media);
  free(real_media);
  free(real_bucket);
  g_free(media);
  ASSERT_EQ(chdir(cwd), 0);
  g_unlink((std::string(tmp) + "/data/tws.conf").c_str());
  g_rmdir((std::string(tmp) + "/data/media").c_str());
  g_rmdir((std::string(tmp) + "/data").c_str());
  g_rmdir(tmp);
  g_free(tmp);
  g_free(cwd);
}

}  // namespace
}  // namespace tws
