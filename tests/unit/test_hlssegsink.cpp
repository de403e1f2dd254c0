// SPDX-License-Identifier: LGPL-2.1-or-later
// hlssegsink's parts: the playlist text (RFC 8216 rules), the location pattern, how the
// playlist names a segment, and objects that appear whole or not at all.
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/gref.h"
#include "hlssink/media_playlist.h"
#include "hlssink/output_object.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TempDir {
  TempDir() {
    tws::GUnique<gchar> made(g_dir_make_tmp("tws-hlssegsink-XXXXXX", nullptr));
    path = made.get();
  }
  ~TempDir() {
    tws::GUnique<gchar> cmd(g_strdup_printf("rm -rf '%s'", path.c_str()));
    (void)!system(cmd.get());
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    GDir* d = g_dir_open(path.c_str(), 0, nullptr);
    while (const gchar* n = g_dir_read_name(d)) out.emplace_back(n);
    g_dir_close(d);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string path;
};

}  // namespace

TEST(MediaPlaylist, ExtinfIsExactAndTargetDurationRoundsUp) {
  tws::MediaPlaylist pl;
  pl.type = tws::PlaylistType::kVod;
  pl.entries = {{"a.ts", 4004000000}, {"b.ts", 4000000000}, {"c.ts", 1500000}};
  pl.ended = true;
  EXPECT_EQ(pl.render(),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4.004000,\na.ts\n#EXTINF:4.000000,\nb.ts\n"
            "#EXTINF:0.001500,\nc.ts\n#EXT-X-ENDLIST\n");
  // Exactly 4 s stays 4; half a microsecond over rounds to the microsecond first.
  pl.entries = {{"a.ts", 4000000400}};
  EXPECT_EQ(pl.target_duration(), 4u);
  pl.entries = {{"a.ts", 4000000600}};
  EXPECT_EQ(pl.target_duration(), 5u);
  pl.min_target_duration = 10;
  EXPECT_EQ(pl.target_duration(), 10u);
}

TEST(MediaPlaylist, TypesAndSequence) {
  tws::MediaPlaylist pl;
  pl.media_sequence = 7;
  pl.entries = {{"s7.ts", 1000000000}};
  std::string none = pl.render();
  EXPECT_EQ(none.find("PLAYLIST-TYPE"), std::string::npos);
  EXPECT_NE(none.find("#EXT-X-MEDIA-SEQUENCE:7\n"), std::string::npos);
  EXPECT_EQ(none.find("ENDLIST"), std::string::npos);
  pl.type = tws::PlaylistType::kEvent;
  EXPECT_NE(pl.render().find("#EXT-X-PLAYLIST-TYPE:EVENT\n"), std::string::npos);
}

TEST(IndexPattern, OneIntegerConversion) {
  std::string why;
  EXPECT_TRUE(tws::check_index_pattern("seg%05d.ts", &why));
  EXPECT_TRUE(tws::check_index_pattern("/a/100%%/s%u.ts", &why));
  EXPECT_FALSE(tws::check_index_pattern("seg.ts", &why));
  EXPECT_NE(why.find("exactly one %d"), std::string::npos);
  EXPECT_FALSE(tws::check_index_pattern("%d-%d.ts", &why));
  EXPECT_FALSE(tws::check_index_pattern("seg%s.ts", &why));
  EXPECT_FALSE(tws::check_index_pattern("seg%n.ts", &why));
  EXPECT_FALSE(tws::check_index_pattern("seg%.ts", &why));
  EXPECT_EQ(tws::format_index("seg%05d.ts", 42), "seg00042.ts");
  EXPECT_EQ(tws::format_index("/a/100%%/s%u.ts", 3), "/a/100%/s3.ts");
  EXPECT_EQ(tws::format_index("s3://b/k%d.ts", 4000000000u), "s3://b/k4000000000.ts");
}

TEST(SegmentUri, RelativeRootOrAbsolute) {
  std::string why;
  EXPECT_EQ(tws::segment_uri("/out/seg1.ts", "/out/index.m3u8", "", &why), "seg1.ts");
  EXPECT_EQ(tws::segment_uri("/out/v/seg1.ts", "/out/index.m3u8", "", &why), "v/seg1.ts");
  EXPECT_EQ(tws::segment_uri("/else/seg1.ts", "/out/index.m3u8", "", &why), "file:///else/seg1.ts");
  EXPECT_EQ(tws::segment_uri("/else/seg1.ts", "/out/index.m3u8", "https://cdn/x/", &why),
            "https://cdn/x/seg1.ts");
  EXPECT_EQ(tws::segment_uri("s3://b/hls/seg1.ts", "s3://b/hls/index.m3u8", "", &why), "seg1.ts");
  EXPECT_EQ(tws::segment_uri("s3://other/hls/seg1.ts", "s3://b/hls/index.m3u8", "", &why), "");
  EXPECT_NE(why.find("playlist-root"), std::string::npos);
  EXPECT_EQ(tws::segment_uri("ftp://x/seg1.ts", "/out/index.m3u8", "", &why), "");
}

TEST(ObjectOutput, LocalFileAppearsWholeOrNotAtAll) {
  TempDir dir;
  tws::ObjectOutput out({}, nullptr);
  std::string error;
  const std::string path = dir.path + "/sub/seg0.ts";
  {
    auto w = out.create(path, &error);
    ASSERT_TRUE(w) << error;
    const uint8_t bytes[] = {1, 2, 3};
    ASSERT_TRUE(w->append(bytes, sizeof bytes, &error));
    EXPECT_FALSE(g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) << "visible before commit";
    ASSERT_TRUE(w->commit(&error)) << error;
  }
  EXPECT_EQ(read_file(path), std::string("\1\2\3", 3));
  {
    auto w = out.create(dir.path + "/sub/seg1.ts", &error);
    ASSERT_TRUE(w);
    const uint8_t bytes[] = {9};
    ASSERT_TRUE(w->append(bytes, 1, &error));
    // Dropped without a commit (an error upstream, a stop).
  }
  std::vector<std::string> names;
  GDir* d = g_dir_open((dir.path + "/sub").c_str(), 0, nullptr);
  while (const gchar* n = g_dir_read_name(d)) names.emplace_back(n);
  g_dir_close(d);
  EXPECT_EQ(names, std::vector<std::string>{"seg0.ts"}) << "a temporary or partial file is left";
  ASSERT_TRUE(out.put(dir.path + "/index.m3u8", "#EXTM3U\n", &error));
  EXPECT_EQ(read_file(dir.path + "/index.m3u8"), "#EXTM3U\n");
  EXPECT_TRUE(out.remove(path, &error));
  EXPECT_TRUE(out.remove(path, &error)) << "a missing object is not an error";
  EXPECT_EQ(dir.names(), (std::vector<std::string>{"index.m3u8", "sub"}));
}

TEST(ObjectOutput, RefusesWhatNamesNoObject) {
  tws::ObjectOutput out({}, nullptr);
  std::string error;
  EXPECT_FALSE(out.create("s3://bucket/", &error));
  EXPECT_FALSE(out.create("gopher://x/y", &error));
  EXPECT_FALSE(out.create("", &error));
}
