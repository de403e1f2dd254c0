// SPDX-License-Identifier: LGPL-2.1-or-later
// service/playlist/playlist_file, record and master_playlist: the stored playlist, its record's
// round trip (the plan made from the parsed record is the plan the playlist was written from) and
// the master playlist.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "pipelines/codec_level.h"
#include "service/playlist/master_playlist.h"
#include "service/playlist/playlist_file.h"
#include "service/playlist/token.h"

namespace tws {
namespace {

PlaylistRecord make_record(double duration, Rate rate, int audio_rate) {
  PlaylistRecord r;
  r.source_uri = "oss://media/in/a b.mp4";
  r.source_size = 987654321;
  r.source_identity = "mtime:1700000000123456789";
  r.source_start = 1.25;
  r.has_video = rate.valid();
  if (r.has_video) {
    r.video.codec = "h265";
    r.video.crf = -1;
    r.video.bitrate = 2400000;
    r.video.max_bitrate = 3000000;
    r.video.width = 1280;
    r.video.height = 720;
    r.video.picture_width = 1280;
    r.video.picture_height = 704;
    r.video.scale_type = ScaleType::kFill;
    r.video.frame_rate = rate;
    r.video.bframes = 0;
    r.video.refs = 4;
    r.video.rotation = 270;
    r.video.source_rotation = 90;
    r.video.preset = "fast";
  }
  r.has_audio = audio_rate > 0;
  if (r.has_audio) {
    r.audio.bitrate = 96000;
    r.audio.sample_rate = audio_rate;
    r.audio.channels = 1;
    r.audio.stream = 1;
  }
  r.plan.duration = duration;
  r.plan.frame_rate = rate;
  r.plan.segment_length = 6;
  r.plan.initial_segments = {2, 2.5, 3};
  r.plan.audio_rate = audio_rate;
  r.initial_transcode = 36;
  r.transcode_ahead = 4;
  r.token = compute_token(r);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(PlaylistFile, Names) {
  EXPECT_EQ(playlist_key_for_prefix("out/720p/720p"), "out/720p/720p.m3u8");
  EXPECT_EQ(prefix_of_playlist_key("out/720p/720p.m3u8"), "out/720p/720p");
  EXPECT_EQ(prefix_of_playlist_key("out/720p/720p.ts"), "");
  EXPECT_EQ(prefix_of_playlist_key(".m3u8"), "");
  EXPECT_EQ(segment_file_name("out/720p/720p", "abc", 7), "720p-abc-7.ts");
  EXPECT_EQ(segment_key("out/720p/720p", "abc", 7), "out/720p/720p-abc-7.ts");
  EXPECT_EQ(segment_key("top", "abc", 0), "top-abc-0.ts");
}

TEST(PlaylistFile, Layout) {
  const PlaylistRecord rec = make_record(60.085, {25, 1}, 44100);
  Plan plan;
  std::string error;
  ASSERT_TRUE(make_plan(rec.plan, &plan, &error)) << error;
  const std::vector<std::string> lines =
      lines_of(media_playlist_text("out/720p/my clip", rec, plan));
  ASSERT_GE(lines.size(), 8u);
  EXPECT_EQ(lines[0], "#EXTM3U");
  EXPECT_EQ(lines[1], "#EXT-X-VERSION:3");
  EXPECT_EQ(lines[2], "#EXT-X-TARGETDURATION:" + std::to_string(plan.target_duration));
  EXPECT_EQ(lines[3], "#EXT-X-MEDIA-SEQUENCE:0");
  EXPECT_EQ(lines[4], "#EXT-X-PLAYLIST-TYPE:VOD");
  EXPECT_EQ(lines[5].rfind(kRecordPrefix, 0), 0u);
  EXPECT_EQ(lines.back(), "#EXT-X-ENDLIST");
  ASSERT_EQ(lines.size(), 7 + 2 * plan.segments.size());
  for (size_t k = 0; k < plan.segments.size(); ++k) {
    EXPECT_EQ(lines[6 + 2 * k], "#EXTINF:" + format_extinf(plan.segments[k].extinf) + ",");
    EXPECT_EQ(lines[7 + 2 * k], "my%20clip-" + rec.token + "-" + std::to_string(k) + ".ts");
  }
}

void expect_round_trip(const PlaylistRecord& rec) {
  Plan plan;
  std::string error;
  ASSERT_TRUE(make_plan(rec.plan, &plan, &error)) << error;
  const std::string text = media_playlist_text("out/a", rec, plan);
  PlaylistRecord back;
  ASSERT_TRUE(parse_media_playlist(text, &back, &error)) << error;
  EXPECT_EQ(back.source_uri, rec.source_uri);
  EXPECT_EQ(back.source_size, rec.source_size);
  EXPECT_EQ(back.source_identity, rec.source_identity);
  EXPECT_EQ(back.source_start, rec.source_start);
  EXPECT_EQ(back.has_video, rec.has_video);
  EXPECT_EQ(back.has_audio, rec.has_audio);
  if (rec.has_video) {
    EXPECT_EQ(back.video.codec, rec.video.codec);
    EXPECT_EQ(back.video.crf, rec.video.crf);
    EXPECT_EQ(back.video.bitrate, rec.video.bitrate);
    EXPECT_EQ(back.video.max_bitrate, rec.video.max_bitrate);
    EXPECT_EQ(back.video.width, rec.video.width);
    EXPECT_EQ(back.video.height, rec.video.height);
    EXPECT_EQ(back.video.picture_width, rec.video.picture_width);
    EXPECT_EQ(back.video.picture_height, rec.video.picture_height);
    EXPECT_EQ(back.video.scale_type, rec.video.scale_type);
    EXPECT_EQ(back.video.frame_rate, rec.video.frame_rate);
    EXPECT_EQ(back.video.bframes, rec.video.bframes);
    EXPECT_EQ(back.video.refs, rec.video.refs);
    EXPECT_EQ(back.video.rotation, rec.video.rotation);
    EXPECT_EQ(back.video.source_rotation, rec.video.source_rotation);
    EXPECT_EQ(back.video.preset, rec.video.preset);
  }
  if (rec.has_audio) {
    EXPECT_EQ(back.audio.bitrate, rec.audio.bitrate);
    EXPECT_EQ(back.audio.sample_rate, rec.audio.sample_rate);
    EXPECT_EQ(back.audio.channels, rec.audio.channels);
    EXPECT_EQ(back.audio.stream, rec.audio.stream);
  }
  EXPECT_EQ(back.plan.duration, rec.plan.duration);  // bit for bit
  EXPECT_EQ(back.plan.initial_segments, rec.plan.initial_segments);
  EXPECT_EQ(back.initial_transcode, rec.initial_transcode);
  EXPECT_EQ(back.transcode_ahead, rec.transcode_ahead);
  EXPECT_EQ(back.token, rec.token);
  EXPECT_EQ(compute_token(back), rec.token);

  Plan again;
  ASSERT_TRUE(make_plan(back.plan, &again, &error)) << error;
  EXPECT_EQ(again.target_duration, plan.target_duration);
  ASSERT_EQ(again.segments.size(), plan.segments.size());
  for (size_t k = 0; k < plan.segments.size(); ++k) {
    EXPECT_EQ(again.segments[k].first_frame, plan.segments[k].first_frame);
    EXPECT_EQ(again.segments[k].end_frame, plan.segments[k].end_frame);
    EXPECT_EQ(again.segments[k].first_sample, plan.segments[k].first_sample);
    EXPECT_EQ(again.segments[k].end_sample, plan.segments[k].end_sample);
    EXPECT_EQ(again.segments[k].extinf, plan.segments[k].extinf);
    EXPECT_EQ(again.segments[k].start_ns, plan.segments[k].start_ns);
    EXPECT_EQ(again.segments[k].end_ns, plan.segments[k].end_ns);
  }
  // Writing the parsed record gives the same file.
  EXPECT_EQ(media_playlist_text("out/a", back, again), text);
}

TEST(PlaylistFile, RecordRoundTrip) {
  expect_round_trip(make_record(60.085, {25, 1}, 44100));
  expect_round_trip(make_record(600.0 / 7, {30000, 1001}, 48000));       // inexact double
  expect_round_trip(make_record(12.345678901234567, {24000, 1001}, 0));  // video only
  expect_round_trip(make_record(33.333333333333336, {}, 22050));         // audio only
  expect_round_trip(make_record(0.1 + 0.2 + 30, {60, 1}, 44100));
}

TEST(PlaylistFile, RejectsForeignOrTamperedPlaylists) {
  const PlaylistRecord rec = make_record(60.085, {25, 1}, 44100);
  Plan plan;
  std::string error;
  ASSERT_TRUE(make_plan(rec.plan, &plan, &error));
  const std::string text = media_playlist_text("out/a", rec, plan);
  PlaylistRecord back;
  EXPECT_FALSE(parse_media_playlist("hello", &back, &error));
  EXPECT_FALSE(parse_media_playlist("#EXTM3U\n#EXTINF:1,\na.ts\n", &back, &error));
  EXPECT_NE(error.find("no record"), std::string::npos);
  std::string tampered = text;
  const auto pos = tampered.find("\"CRF\":-1");
  ASSERT_NE(pos, std::string::npos);
  tampered.replace(pos, 8, "\"CRF\":10");
  EXPECT_FALSE(parse_media_playlist(tampered, &back, &error));
  EXPECT_NE(error.find("token"), std::string::npos) << error;
  std::string broken = text;
  broken.replace(broken.find(kRecordPrefix) + 15, 1, "[");
  EXPECT_FALSE(parse_media_playlist(broken, &back, &error));
  // CRLF line ends are tolerated.
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_TRUE(parse_media_playlist(crlf, &back, &error)) << error;
}

TEST(MasterPlaylist, RelativeUris) {
  EXPECT_EQ(relative_uri("out/master.m3u8", "out/720p/720p.m3u8"), "720p/720p.m3u8");
  EXPECT_EQ(relative_uri("out/master.m3u8", "out/a.m3u8"), "a.m3u8");
  EXPECT_EQ(relative_uri("master.m3u8", "x/y.m3u8"), "x/y.m3u8");
  EXPECT_EQ(relative_uri("out/hls/master.m3u8", "out/720p/a b.m3u8"), "../720p/a%20b.m3u8");
  EXPECT_EQ(relative_uri("a/b/m.m3u8", "c.m3u8"), "../../c.m3u8");
}

TEST(MasterPlaylist, Text) {
  VideoTarget v;
  v.width = 1280;
  v.height = 720;
  v.frame_rate = {30000, 1001};
  v.bitrate = 2000000;
  AudioTarget a;
  a.bitrate = 128000;
  VideoTarget h;
  h.codec = "h265";
  h.width = 640;
  h.height = 360;
  h.frame_rate = {25, 1};
  h.crf = 23;
  const std::vector<MasterVariant> variants = {
      make_variant("out/720p/720p.m3u8", v, &a, nullptr),
      make_variant("out/360p/360p.m3u8", h, nullptr, nullptr)};
  EXPECT_EQ(variants[0].bandwidth, (2500000 + 128000) * 105 / 100);
  EXPECT_EQ(variants[0].average_bandwidth, (2000000 + 128000) * 105 / 100);
  EXPECT_GT(variants[1].bandwidth, 0);
  const std::vector<std::string> lines =
      lines_of(master_playlist_text("out/master.m3u8", variants, {}));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "#EXTM3U");
  EXPECT_EQ(lines[3],
            "#EXT-X-STREAM-INF:BANDWIDTH=2759400,AVERAGE-BANDWIDTH=2234400,"
            "RESOLUTION=1280x720,FRAME-RATE=29.970,CODECS=\"avc1.64001f,mp4a.40.2\"");
  EXPECT_EQ(lines[4], "720p/720p.m3u8");
  EXPECT_NE(lines[5].find("RESOLUTION=640x360,FRAME-RATE=25.000,CODECS=\"hvc1.1.6.L63.90\""),
            std::string::npos);
  EXPECT_EQ(lines[6], "360p/360p.m3u8");
}

TEST(MasterPlaylist, AudioAndSubtitleRenditions) {
  VideoTarget v;
  v.width = 1920;
  v.height = 1080;
  v.frame_rate = {25, 1};
  v.crf = 26;
  AudioTarget a;
  a.bitrate = 128000;
  MasterVariant variant = make_variant("out/1080p.m3u8", v, nullptr, &a);
  variant.subtitle_group = true;
  MasterMedia eng{false, "out/master-audio-0.m3u8", "English \"main\"", "eng", 2, true};
  MasterMedia fra{false, "out/master-audio-1.m3u8", "fra", "fra", 2, false};
  MasterMedia sub{true, "out/master-sub-0.m3u8", "eng", "eng", 0, false};
  const std::vector<std::string> lines =
      lines_of(master_playlist_text("out/master.m3u8", {variant}, {eng, fra, sub}));
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[3],
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"English 'main'\","
            "LANGUAGE=\"eng\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\","
            "URI=\"master-audio-0.m3u8\"");
  EXPECT_NE(lines[4].find("DEFAULT=NO"), std::string::npos);
  EXPECT_EQ(lines[5],
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"eng\",LANGUAGE=\"eng\","
            "DEFAULT=NO,AUTOSELECT=YES,URI=\"master-sub-0.m3u8\"");
  // The audio group's rate counts in the variant's peak; CODECS names the AAC of the group.
  EXPECT_EQ(variant.bandwidth, (estimated_video_peak(v) + 128000) * 105 / 100);
  EXPECT_NE(lines[6].find("CODECS=\"avc1.640028,mp4a.40.2\",AUDIO=\"audio\",SUBTITLES=\"subs\""),
            std::string::npos)
      << lines[6];
  EXPECT_EQ(lines[7], "1080p.m3u8");
}

TEST(CodecLevel, LowestLevelThatHoldsTheTarget) {
  VideoTarget v;
  v.frame_rate = {25, 1};
  auto level = [&](int w, int h) {
    v.width = w;
    v.height = h;
    return video_level_idc(v);
  };
  EXPECT_EQ(level(1920, 1080), 40);
  EXPECT_EQ(level(1280, 720), 31);
  EXPECT_EQ(level(720, 404), 30);
  EXPECT_EQ(level(320, 240), 13);  // 300 MBs x 25 = 7500 MB/s
  EXPECT_EQ(level(3840, 2160), 51);
  v.frame_rate = {50, 1};
  EXPECT_EQ(level(1920, 1080), 42);
  v.frame_rate = {25, 1};
  v.max_bitrate = 30000000;  // above 4.0's 25 Mbit/s for High
  EXPECT_EQ(level(1920, 1080), 41);
  v.max_bitrate = 0;
  v.refs = 16;  // 16 + 1 frames of 8160 MBs fit only 5.1's frame buffer
  EXPECT_EQ(level(1920, 1080), 51);
  v.refs = -1;
  EXPECT_EQ(video_codecs_string(v), "avc1.640028");
  EXPECT_EQ(level_option(v), "4.0");
  v.preset = "ultrafast";
  EXPECT_EQ(video_codecs_string(v), "avc1.42c028");
  v.codec = "h265";
  EXPECT_EQ(video_codecs_string(v), "hvc1.1.6.L120.90");
  EXPECT_EQ(level_option(v), "4.0");
}

}  // namespace
}  // namespace tws
