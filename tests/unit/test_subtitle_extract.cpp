// SPDX-License-Identifier: LGPL-2.1-or-later
// Subtitle cues read from text subtitle streams inside generated sources (ffmpeg): SRT and
// ASS in Matroska, mov_text in MP4, the second of two streams; full and partial windows, a
// clip offset, and the errors (no such stream, not media) without hanging.
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/gref.h"
#include "pipelines/probe.h"
#include "pipelines/subtitle_extract.h"

namespace tws {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

const char* const kSrtA =
    "1\n00:00:00,500 --> 00:00:01,500\none\n\n"
    "2\n00:00:02,000 --> 00:00:03,500\ntwo\n\n"
    "3\n00:00:04,000 --> 00:00:05,500\nthree\n";
const char* const kSrtB =
    "1\n00:00:01,000 --> 00:00:02,000\n<i>alpha</i>\n\n"
    "2\n00:00:03,000 --> 00:00:04,000\nbeta\nline two\n";

bool have_ffmpeg() {
  GUnique<gchar> path(g_find_program_in_path("ffmpeg"));
  return bool(path);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

bool ffmpeg(const std::string& args) {
  const std::string command = "ffmpeg -nostdin -hide_banner -loglevel error -y " + args;
  return std::system(command.c_str()) == 0;
}

// The generated sources, made once: name -> path ("" if ffmpeg failed).
const std::map<std::string, std::string>& sources() {
  static std::map<std::string, std::string> made;
  if (!made.empty()) return made;
  GUnique<gchar> dir(g_dir_make_tmp("tws-subx-XXXXXX", nullptr));
  const std::string d = dir.get();
  write_file(d + "/a.srt", kSrtA);
  write_file(d + "/b.srt", kSrtB);
  write_file(d + "/not-media.mkv", "this is not a media file\n");
  const std::string video = "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 ";
  const std::string h264 = " -c:v libx264 -preset ultrafast";
  auto make = [&](const std::string& name, const std::string& args) {
    made[name] = ffmpeg(args + " " + d + "/" + name) ? d + "/" + name : "";
  };
  // ASS made from the SRT, so its cues carry the same times.
  const bool ass = ffmpeg("-i " + d + "/a.srt " + d + "/a.ass");
  make("srt.mkv", video + "-i " + d + "/a.srt -map 0 -map 1 -c:s srt" + h264);
  if (ass) make("ass.mkv", video + "-i " + d + "/a.ass -map 0 -map 1 -c:s ass" + h264);
  make("movtext.mp4", video + "-i " + d + "/a.srt -map 0 -map 1 -c:s mov_text" + h264);
  make("two.mkv",
       video + "-i " + d + "/b.srt -i " + d + "/a.srt -map 0 -map 1 -map 2 -c:s srt" + h264);
  made["not-media.mkv"] = d + "/not-media.mkv";
  return made;
}

// The path of a generated source, or "" (the test then skips or fails).
std::string source(const std::string& name) {
  auto it = sources().find(name);
  return it == sources().end() ? "" : it->second;
}

#define REQUIRE_SOURCE(var, name)                                \
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg is not installed"; \
  const std::string var = source(name);                          \
  ASSERT_FALSE(var.empty()) << "ffmpeg could not make " << name

std::vector<Cue> extract(const std::string& path, int stream, double source_start, double start,
                         double end) {
  SubtitleWindow w;
  w.source = path;
  w.stream = stream;
  w.source_start = source_start;
  w.start_ns = int64_t(start * kSec + 0.5);
  w.end_ns = int64_t(end * kSec + 0.5);
  std::vector<Cue> cues;
  std::string error;
  EXPECT_TRUE(extract_subtitle_cues(w, &cues, &error)) << error;
  return cues;
}

struct Expected {
  double start, end;
  const char* text;
};

void expect_cues(const std::vector<Cue>& cues, const std::vector<Expected>& expected) {
  ASSERT_EQ(cues.size(), expected.size());
  for (size_t i = 0; i < cues.size(); ++i) {
    SCOPED_TRACE("cue " + std::to_string(i));
    EXPECT_NEAR(double(cues[i].start_ns), expected[i].start * kSec, double(kMs));
    EXPECT_NEAR(double(cues[i].end_ns), expected[i].end * kSec, double(kMs));
    EXPECT_EQ(cues[i].text, expected[i].text);
  }
}

const std::vector<Expected> kAllA = {{0.5, 1.5, "one"}, {2.0, 3.5, "two"}, {4.0, 5.5, "three"}};

TEST(SubtitleExtract, SrtInMatroskaWholeSource) {
  REQUIRE_SOURCE(path, "srt.mkv");
  expect_cues(extract(path, 0, 0, 0, 6), kAllA);
}

TEST(SubtitleExtract, AssInMatroskaWholeSource) {
  REQUIRE_SOURCE(path, "ass.mkv");
  expect_cues(extract(path, 0, 0, 0, 6), kAllA);
}

TEST(SubtitleExtract, MovTextInMp4WholeSource) {
  REQUIRE_SOURCE(path, "movtext.mp4");
  expect_cues(extract(path, 0, 0, 0, 6), kAllA);
}

// "two" began before the window and still shows: the lookback finds it, with its own times.
TEST(SubtitleExtract, PartialWindowKeepsOverlappingCuesWithTheirTimes) {
  for (const char* name : {"srt.mkv", "ass.mkv", "movtext.mp4"}) {
    SCOPED_TRACE(name);
    REQUIRE_SOURCE(path, name);
    expect_cues(extract(path, 0, 0, 2.5, 4.2), {{2.0, 3.5, "two"}, {4.0, 5.5, "three"}});
    expect_cues(extract(path, 0, 0, 4.2, 6), {{4.0, 5.5, "three"}});
    expect_cues(extract(path, 0, 0, 0, 2.0), {{0.5, 1.5, "one"}});  // end is exclusive
    expect_cues(extract(path, 0, 0, 1.6, 1.9), {});
  }
}

// A clip from 1 s of the source: media time 0 is source time 1 s; "one" (0.5-1.5) is cut at 0.
TEST(SubtitleExtract, ClipOffsetShiftsTimes) {
  REQUIRE_SOURCE(path, "srt.mkv");
  expect_cues(extract(path, 0, 1.0, 0, 5),
              {{0.0, 0.5, "one"}, {1.0, 2.5, "two"}, {3.0, 4.5, "three"}});
  expect_cues(extract(path, 0, 1.0, 1.5, 3.2), {{1.0, 2.5, "two"}, {3.0, 4.5, "three"}});
  // The clip's window ends at media 2 s = source 3 s: "three" (source 4 s) is not read.
  expect_cues(extract(path, 0, 1.0, 0.6, 2.0), {{1.0, 2.5, "two"}});
}

TEST(SubtitleExtract, PicksTheChosenOfTwoStreams) {
  REQUIRE_SOURCE(path, "two.mkv");
  expect_cues(extract(path, 1, 0, 0, 6), kAllA);
  expect_cues(extract(path, 0, 0, 0, 6),
              {{1.0, 2.0, "<i>alpha</i>"}, {3.0, 4.0, "beta\nline two"}});
}

TEST(SubtitleExtract, MissingStreamIsAnError) {
  REQUIRE_SOURCE(path, "two.mkv");
  SubtitleWindow w;
  w.source = path;
  w.stream = 2;
  w.end_ns = 6 * kSec;
  std::vector<Cue> cues;
  std::string error;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(extract_subtitle_cues(w, &cues, &error));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_NE(error.find("no subtitle stream 2"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_TRUE(cues.empty());
}

TEST(SubtitleExtract, SourceWithoutSubtitlesIsAnError) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg is not installed";
  GUnique<gchar> dir(g_dir_make_tmp("tws-subx-XXXXXX", nullptr));
  const std::string path = std::string(dir.get()) + "/video.mkv";
  ASSERT_TRUE(
      ffmpeg("-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 "
             "-preset ultrafast " +
             path));
  SubtitleWindow w;
  w.source = path;
  w.end_ns = 2 * kSec;
  std::vector<Cue> cues;
  std::string error;
  EXPECT_FALSE(extract_subtitle_cues(w, &cues, &error));
  EXPECT_NE(error.find("no subtitle stream 0 (the source has 0)"), std::string::npos) << error;
}

TEST(SubtitleExtract, NonMediaAndMissingFilesAreErrors) {
  REQUIRE_SOURCE(path, "not-media.mkv");
  for (const std::string& location : {path, path + ".does-not-exist"}) {
    SCOPED_TRACE(location);
    SubtitleWindow w;
    w.source = location;
    w.end_ns = 6 * kSec;
    std::vector<Cue> cues;
    std::string error;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(extract_subtitle_cues(w, &cues, &error));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

TEST(SubtitleExtract, EmptyWindowIsAnError) {
  SubtitleWindow w;
  w.source = "/nonexistent";
  w.start_ns = w.end_ns = kSec;
  std::vector<Cue> cues;
  std::string error;
  EXPECT_FALSE(extract_subtitle_cues(w, &cues, &error));
  EXPECT_FALSE(error.empty());
}

// What the probe (the discoverer's caps, before decoding) says each kind of subtitle is, and
// that every one of them is recognised as text.
TEST(SubtitleExtract, ProbeCodecNamesAreTextSubtitleCodecs) {
  const std::vector<std::pair<const char*, std::vector<std::string>>> expected = {
      {"srt.mkv", {"text/x-raw"}},
      {"ass.mkv", {"application/x-ass"}},
      {"movtext.mp4", {"text/x-raw"}},
      {"two.mkv", {"text/x-raw", "text/x-raw"}},
  };
  for (const auto& [name, codecs] : expected) {
    SCOPED_TRACE(name);
    REQUIRE_SOURCE(path, name);
    SourceInfo info;
    std::string error;
    ASSERT_TRUE(probe_source(path, &info, &error)) << error;
    ASSERT_EQ(info.subtitles.size(), codecs.size());
    for (size_t i = 0; i < codecs.size(); ++i) {
      EXPECT_EQ(info.subtitles[i].codec, codecs[i]);
      EXPECT_TRUE(is_text_subtitle_codec(info.subtitles[i].codec));
    }
  }
}

TEST(SubtitleExtract, TextSubtitleCodecNames) {
  for (const char* name :
       {"text/x-raw", "application/x-ass", "application/x-ssa", "application/x-subtitle-vtt"})
    EXPECT_TRUE(is_text_subtitle_codec(name)) << name;
  for (const char* name : {"", "subpicture/x-pgs", "subpicture/x-dvd", "subpicture/x-dvb",
                           "closedcaption/x-cea-608", "video/x-h264", "text/x-raw-extra"})
    EXPECT_FALSE(is_text_subtitle_codec(name)) << name;
}

}  // namespace
}  // namespace tws
