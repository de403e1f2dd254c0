// SPDX-License-Identifier: LGPL-2.1-or-later
// service/api/request and service/api/resolve: the GenerateVideoPlaylist body, its ranges and
// defaults, and its resolution against a probed source.
#include <gtest/gtest.h>

#include <string>

#include "service/api/request.h"
#include "service/api/resolve.h"

namespace tws {
namespace {

PlaylistRequest parse_ok(const std::string& json) {
  PlaylistRequest r;
  std::string error;
  EXPECT_TRUE(parse_playlist_request(json, &r, &error)) << error;
  return r;
}

std::string parse_error(const std::string& json) {
  PlaylistRequest r;
  std::string error;
  EXPECT_FALSE(parse_playlist_request(json, &r, &error)) << json;
  return error;
}

// A request with one target whose body is `target` (inside {...}).
std::string one_target(const std::string& target, const std::string& top = "") {
  return R"({"SourceURI": "oss://media/in/a.mp4", )" + top +
         R"("Targets": [{"URI": "oss://media/out/a", )" + target + "}]}";
}

TEST(Request, Defaults) {
  const PlaylistRequest r = parse_ok(one_target(R"("Video": {}, "Audio": {})"));
  EXPECT_EQ(r.source, (ObjectUri{"media", "in/a.mp4"}));
  EXPECT_FALSE(r.has_master);
  EXPECT_FALSE(r.skip_existing);
  EXPECT_EQ(r.source_start, 0);
  ASSERT_EQ(r.targets.size(), 1u);
  const TargetRequest& t = r.targets[0];
  EXPECT_EQ(t.uri, (ObjectUri{"media", "out/a"}));
  EXPECT_EQ(t.duration, 10);
  EXPECT_TRUE(t.initial_segments.empty());
  EXPECT_EQ(t.initial_transcode, 30);
  EXPECT_EQ(t.transcode_ahead, 12);  // enough for 120 s
  ASSERT_TRUE(t.has_video);
  EXPECT_EQ(t.video.codec, "h264");
  EXPECT_EQ(t.video.crf, 23);
  EXPECT_EQ(t.video.bitrate, 0);
  EXPECT_FALSE(t.video.frame_rate.valid());
  EXPECT_EQ(t.video.scale_type, ScaleType::kStretch);
  EXPECT_EQ(t.video.bframes, -1);  // the preset decides
  EXPECT_EQ(t.video.refs, -1);
  EXPECT_TRUE(t.video.adaptive_resolution && t.video.adaptive_bitrate &&
              t.video.adaptive_frame_rate);
  ASSERT_TRUE(t.has_audio);
  EXPECT_EQ(t.audio.codec, "aac");
  EXPECT_EQ(t.audio.sample_rate, 44100);
  EXPECT_EQ(t.audio.channels, 0);  // min(source, 2) at resolve time
}

TEST(Request, FullTarget) {
  const PlaylistRequest r = parse_ok(R"({
    "SourceURI": "s3://media/in/a.mp4", "MasterURI": "oss://media/out/master",
    "SourceStartTime": 1.5, "SourceDuration": 20, "OverwritePolicy": "skip-existing",
    "Targets": [{"URI": "oss://media/out/720p/720p.m3u8", "Duration": 6, "InitialSegments": [2, 2, 2],
                 "InitialTranscode": 36, "TranscodeAhead": 4,
                 "Video": {"TranscodeVideo": {"Codec": "h265", "Bitrate": 2400000, "MaxBitrate": 3000000,
                   "BufferSize": 6000000, "FrameRate": 29.97, "Resolution": "1280x720", "ScaleType": "fit",
                   "BFrames": 0, "Refs": 4, "Rotation": 90, "ResolutionOption": "fixed",
                   "BitrateOption": "fixed", "FrameRateOption": "adaptive"}},
                 "Audio": {"TranscodeAudio": {"Bitrate": 96000, "SampleRate": 48000, "Channel": 1},
                           "Stream": [1]}},
                {"URI": "oss://media/out/audio", "Audio": {}}]})");
  EXPECT_TRUE(r.has_master);
  EXPECT_EQ(r.master.key, "out/master.m3u8");
  EXPECT_EQ(r.source_start, 1.5);
  EXPECT_EQ(r.source_duration, 20);
  EXPECT_TRUE(r.skip_existing);
  const TargetRequest& t = r.targets[0];
  EXPECT_EQ(t.uri.key, "out/720p/720p");  // ".m3u8" dropped: the URI is a prefix
  EXPECT_EQ(t.duration, 6);
  EXPECT_EQ(t.initial_segments, (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(t.initial_transcode, 36);
  EXPECT_EQ(t.transcode_ahead, 4);
  EXPECT_EQ(t.video.codec, "h265");
  EXPECT_EQ(t.video.crf, -1);
  EXPECT_EQ(t.video.bitrate, 2400000);
  EXPECT_EQ(t.video.max_bitrate, 3000000);
  EXPECT_EQ(t.video.frame_rate, (Rate{30000, 1001}));
  EXPECT_EQ(t.video.resolution.width, 1280);
  EXPECT_EQ(t.video.resolution.height, 720);
  EXPECT_EQ(t.video.scale_type, ScaleType::kFit);
  EXPECT_EQ(t.video.bframes, 0);
  EXPECT_EQ(t.video.rotation, 90);
  EXPECT_FALSE(t.video.adaptive_resolution);
  EXPECT_FALSE(t.video.adaptive_bitrate);
  EXPECT_TRUE(t.video.adaptive_frame_rate);
  EXPECT_EQ(t.audio.bitrate, 96000);
  EXPECT_EQ(t.audio.sample_rate, 48000);
  EXPECT_EQ(t.audio.channels, 1);
  EXPECT_EQ(t.audio.streams, std::vector<int>{1});
  EXPECT_FALSE(r.targets[1].has_video);
  EXPECT_TRUE(r.targets[1].has_audio);
}

TEST(Request, ErrorsNameTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {"[]", "request body: must be a JSON object"},
      {"{", "request body: invalid JSON"},
      {R"({"Targets": []})", "SourceURI: required"},
      {R"({"SourceURI": 3, "Targets": []})", "SourceURI: must be a string"},
      {R"({"SourceURI": "oss://media/../x", "Targets": []})", "SourceURI: "},
      {R"({"SourceURI": "oss://media/a"})", "Targets: must have 1 to 6 targets"},
      {R"({"SourceURI": "oss://media/a", "Targets": []})", "Targets: must have 1 to 6 targets"},
      {R"({"SourceURI": "oss://media/a", "Targets": [1]})", "Targets[0]: must be an object"},
      {one_target(R"("Duration": 4, "Video": {})"),
       "Targets[0].Duration: must be between 5 and 15"},
      {one_target(R"("Duration": 16, "Video": {})"),
       "Targets[0].Duration: must be between 5 and 15"},
      {one_target(R"("Duration": "10", "Video": {})"), "Targets[0].Duration: must be a number"},
      {one_target(R"("InitialSegments": [1,1,1,1,1,1,1], "Video": {})"),
       "Targets[0].InitialSegments: at most 6 values"},
      {one_target(R"("InitialSegments": [2, 11], "Video": {})"),
       "Targets[0].InitialSegments[1]: must be between 1 and Duration (10)"},
      {one_target(R"("InitialSegments": [0.5], "Video": {})"),
       "Targets[0].InitialSegments[0]: must be between 1 and Duration"},
      {one_target(R"("TranscodeAhead": 31, "Video": {})"),
       "Targets[0].TranscodeAhead: must be between 0 and 30"},
      {one_target(R"("TranscodeAhead": 1.5, "Video": {})"),
       "Targets[0].TranscodeAhead: must be an integer"},
      {one_target(R"("Duration": 10)"), "Targets[0]: needs Video or Audio"},
      {one_target(R"("Video": 1)"), "Targets[0].Video: must be an object"},
      {one_target(R"("Video": {"TranscodeVideo": {"Codec": "vp9"}})"),
       "Targets[0].Video.TranscodeVideo.Codec: must be h264|h265"},
      {one_target(R"("Video": {"TranscodeVideo": {"CRF": 52}})"),
       "Targets[0].Video.TranscodeVideo.CRF: must be between 0 and 51"},
      {one_target(R"("Video": {"TranscodeVideo": {"CRF": 20, "Bitrate": 1000000}})"),
       "Targets[0].Video.TranscodeVideo: give CRF or Bitrate, not both"},
      {one_target(R"("Video": {"TranscodeVideo": {"FrameRate": 0}})"),
       "Targets[0].Video.TranscodeVideo.FrameRate: must be above 0 and at most 120"},
      {one_target(R"("Video": {"TranscodeVideo": {"FrameRate": 121}})"),
       "Targets[0].Video.TranscodeVideo.FrameRate: must be above 0 and at most 120"},
      {one_target(R"("Video": {"TranscodeVideo": {"Resolution": "5000x"}})"),
       "Targets[0].Video.TranscodeVideo.Resolution: "},
      {one_target(R"("Video": {"TranscodeVideo": {"Resolution": "big"}})"),
       "Targets[0].Video.TranscodeVideo.Resolution: "},
      {one_target(R"("Video": {"TranscodeVideo": {"ScaleType": "zoom"}})"),
       "Targets[0].Video.TranscodeVideo.ScaleType: "},
      {one_target(R"("Video": {"TranscodeVideo": {"BFrames": 17}})"),
       "Targets[0].Video.TranscodeVideo.BFrames: must be between 0 and 16"},
      {one_target(R"("Video": {"TranscodeVideo": {"Refs": 0}})"),
       "Targets[0].Video.TranscodeVideo.Refs: must be between 1 and 16"},
      {one_target(R"("Video": {"TranscodeVideo": {"Rotation": 45}})"),
       "Targets[0].Video.TranscodeVideo.Rotation: must be 0, 90, 180 or 270"},
      {one_target(R"("Video": {"TranscodeVideo": {"FrameRateOption": "auto"}})"),
       "Targets[0].Video.TranscodeVideo.FrameRateOption: must be adaptive|fixed"},
      {one_target(R"("Audio": {"TranscodeAudio": {"SampleRate": 44000}})"),
       "Targets[0].Audio.TranscodeAudio.SampleRate: must be a standard AAC rate"},
      {one_target(R"("Audio": {"TranscodeAudio": {"Channel": 9}})"),
       "Targets[0].Audio.TranscodeAudio.Channel: must be between 1 and 8"},
      {one_target(R"("Audio": {"TranscodeAudio": {"Codec": "mp3"}})"),
       "Targets[0].Audio.TranscodeAudio.Codec: must be aac"},
      {one_target(R"("Audio": {"Stream": [-1]})"),
       "Targets[0].Audio.Stream: must be stream indexes"},
      {one_target(R"("Video": {})", R"("OverwritePolicy": "always", )"),
       "OverwritePolicy: must be overwrite|skip-existing"},
      {one_target(R"("Video": {})", R"("SourceStartTime": -1, )"),
       "SourceStartTime: must not be negative"},
      {R"({"SourceURI": "oss://media/a", "Targets": [{"URI": "oss://media/o1", "Video": {}},
          {"URI": "oss://media/o2", "Video": {}}]})",
       "MasterURI: required with more than one target"},
      {R"({"SourceURI": "oss://media/a", "MasterURI": "oss://media/m", "Targets": [
          {"URI": "oss://media/o1", "Video": {}}, {"URI": "oss://media/o1.m3u8", "Video": {}}]})",
       "Targets[1].URI: the same as Targets[0].URI"},
      {R"({"SourceURI": "oss://media/a", "MasterURI": "oss://other/m", "Targets": [
          {"URI": "oss://media/o1", "Video": {}}]})",
       "Targets[0].URI: must be under the MasterURI's directory (oss://other/)"},
      {R"({"SourceURI": "oss://media/a", "MasterURI": "oss://media/hls/m", "Targets": [
          {"URI": "oss://media/elsewhere/o1", "Video": {}}]})",
       "Targets[0].URI: must be under the MasterURI's directory (oss://media/hls/)"},
      {one_target(R"("Video": {})", R"("SourceSubtitles": [{"URI": "oss://media/en.vtt"}], )"),
       "MasterURI: required with SourceSubtitles"},
      {one_target(R"("Video": {})", R"("MasterURI": "oss://media/m", "SourceSubtitles": [{}], )"),
       "SourceSubtitles[0].URI: required"},
      {one_target(R"("Video": {})", R"("MasterURI": "oss://media/m", "SourceSubtitles": [
          {"URI": "oss://media/a.vtt"}, {"URI": "oss://media/b.vtt"}, {"URI": "oss://media/c.vtt"}], )"),
       "SourceSubtitles: at most 2 files"},
      {one_target(R"("Video": {})", R"("MasterURI": "oss://media/m", "SourceSubtitles": [
          {"URI": "oss://media/a.vtt", "Language": "en glish"}], )"),
       "SourceSubtitles[0].Language: must be a language code"},
      {one_target(R"("Video": {})", R"("Tags": {"a": 1}, )"), "Tags.a: must be a string"},
      {one_target(R"("Video": {})", R"("UserData": 7, )"), "UserData: must be a string"},
      {one_target(R"("Video": {"DisableVideo": true})"),
       "Targets[0]: DisableVideo and DisableAudio leave nothing to make"},
      {one_target(R"("Video": {}, "Subtitle": {"Stream": ["x"]})"),
       "Targets[0].Subtitle.Stream: must be stream indexes"},
      {R"({"SourceURI": "oss://media/a", "MasterURI": "oss://media/m", "Targets": [
          {"URI": "oss://media/o1", "Video": {}}, {"URI": "oss://media/o2", "Duration": 6, "Video": {}}]})",
       "Targets[1].Duration: must be the same as the first video target's (10) in one master "
       "playlist"},
      {R"({"SourceURI": "oss://media/a", "MasterURI": "oss://media/m", "Targets": [
          {"URI": "oss://media/o1", "InitialSegments": [2], "Video": {}}, {"URI": "oss://media/o2", "Video": {}}]})",
       "Targets[1].InitialSegments: must be the same as the first video target's"},
      {R"({"SourceURI": "oss://media/a", "Targets": [{"Video": {}}]})", "Targets[0].URI: required"},
      {R"({"SourceURI": "oss://media/a", "Targets": [{"URI": "oss://media/o/", "Video": {}}]})",
       "Targets[0].URI: "},
  };
  for (const auto& [json, want] : cases) {
    const std::string error = parse_error(json);
    EXPECT_EQ(error.rfind(want, 0), 0u) << "got \"" << error << "\" want \"" << want << "\"";
  }
  // Seven targets.
  std::string seven =
      R"({"SourceURI": "oss://media/a", "MasterURI": "oss://media/m", "Targets": [)";
  for (int i = 0; i < 7; ++i)
    seven += std::string(i ? "," : "") + R"({"URI": "oss://media/o)" + std::to_string(i) +
             R"(", "Video": {}})";
  EXPECT_EQ(parse_error(seven + "]}"), "Targets: must have 1 to 6 targets");
}

TEST(Request, HostileBodies) {
  // Nesting json-glib would recurse into until the stack runs out: refused before parsing.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_NE(parse_error(deep).find("nested deeper than 32 levels"), std::string::npos);
  EXPECT_NE(parse_error(R"({"a":)" + std::string(40, '[') + std::string(40, ']') + "}")
                .find("nested deeper"),
            std::string::npos);
  // Brackets inside strings are text.
  parse_ok(one_target(R"("Video": {"TranscodeVideo": {"Codec": "h264"}})",
                      R"("UserData": ")" + std::string(100, '[') + R"(", )"));
  // NUL would cut the URI short ("a.mp4" instead of "a.mp4\u0000.txt").
  EXPECT_NE(
      parse_error(R"({"SourceURI": "oss://media/in/a.mp4\u0000.txt", "Targets": []})").find("NUL"),
      std::string::npos);
  // Not UTF-8, raw or as json-glib decodes an escaped lone surrogate (fuzz_request found
  // both read, then refused when written back).
  EXPECT_NE(parse_error("{\"SourceURI\": \"oss://media/\xff.mp4\", \"Targets\": []}").find("UTF-8"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"SourceURI": "oss://media/\ud800.mp4", "Targets": []})").find("UTF-8"),
            std::string::npos);
  // The Code: InvalidURI for a URI that does not parse, InvalidArgument otherwise.
  PlaylistRequest r;
  Failure failure;
  EXPECT_FALSE(parse_playlist_request(
      R"({"SourceURI": "oss://media/../x", "Targets": [{"URI": "oss://media/o"}]})", &r, &failure));
  EXPECT_EQ(failure.code, ErrorCode::kInvalidURI);
  EXPECT_NE(failure.message.find("SourceURI"), std::string::npos) << failure.message;
  EXPECT_FALSE(parse_playlist_request(one_target(R"("Duration": 99)"), &r, &failure));
  EXPECT_EQ(failure.code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(parse_playlist_request(
      R"({"SourceURI": "oss://media/a.mp4", "Targets": [{"URI": "s3://media/o\\x"}]})", &r,
      &failure));
  EXPECT_EQ(failure.code, ErrorCode::kInvalidURI);
  EXPECT_NE(failure.message.find("Targets[0].URI"), std::string::npos) << failure.message;
}

TEST(Request, StreamsSubtitlesAndUserFields) {
  PlaylistRequest r = parse_ok(one_target(
      R"("Video": {}, "Audio": {"Stream": [1, 0, 1]}, "Subtitle": {"Stream": [2]})",
      R"("MasterURI": "oss://media/out/m.m3u8", "SourceSubtitles": [{"URI": "oss://media/en.srt",
         "Language": "pt-BR"}], "Tags": {"k": "v"}, "UserData": "u", )"));
  const TargetRequest& t = r.targets[0];
  EXPECT_EQ(t.audio.streams, (std::vector<int>{1, 0}));
  EXPECT_FALSE(t.audio.all_streams);
  ASSERT_TRUE(t.has_subtitle);
  EXPECT_EQ(t.subtitle.streams, std::vector<int>{2});
  EXPECT_FALSE(t.subtitle.all_streams);
  ASSERT_EQ(r.subtitles.size(), 1u);
  EXPECT_EQ(r.subtitles[0].uri, (ObjectUri{"media", "en.srt"}));
  EXPECT_EQ(r.subtitles[0].language, "pt-BR");
  EXPECT_EQ(r.tags, R"({"k":"v"})");
  EXPECT_EQ(r.user_data, "u");

  r = parse_ok(one_target(R"("Video": {}, "Audio": {"Stream": [0, 100]})"));
  EXPECT_TRUE(r.targets[0].audio.all_streams);
  EXPECT_TRUE(r.targets[0].audio.streams.empty());
  r = parse_ok(one_target(R"("Video": {}, "Audio": {"DisableAudio": true})"));
  EXPECT_TRUE(r.targets[0].has_video);
  EXPECT_FALSE(r.targets[0].has_audio);
}

TEST(Request, FrameRates) {
  EXPECT_EQ(frame_rate_from_number(25), (Rate{25, 1}));
  EXPECT_EQ(frame_rate_from_number(29.97), (Rate{30000, 1001}));
  EXPECT_EQ(frame_rate_from_number(23.976), (Rate{24000, 1001}));
  EXPECT_EQ(frame_rate_from_number(59.94), (Rate{60000, 1001}));
  EXPECT_EQ(frame_rate_from_number(12.5), (Rate{25, 2}));
  EXPECT_EQ(frame_rate_from_number(14.9999), (Rate{15, 1}));
  EXPECT_EQ(frame_rate_from_number(7.1234), (Rate{7123, 1000}));
  EXPECT_EQ(frame_rate_text({25, 1}), "25");
  EXPECT_EQ(frame_rate_text({30000, 1001}), "29.97");
  EXPECT_EQ(frame_rate_text({24000, 1001}), "23.976");
  EXPECT_EQ(frame_rate_text({25, 2}), "12.5");
}

SourceInfo source_720p() {
  SourceInfo s;
  s.duration = 60.085;
  VideoStreamInfo v;
  v.width = 1280;
  v.height = 720;
  v.frame_rate = {25, 1};
  v.bitrate = 1000000;
  s.video.push_back(v);
  AudioStreamInfo a;
  a.sample_rate = 48000;
  a.channels = 6;
  s.audio.push_back(a);
  return s;
}

ResolvedTarget resolve_ok(const std::string& json, const SourceInfo& source) {
  const PlaylistRequest r = parse_ok(json);
  ResolvedTarget t;
  std::string error;
  EXPECT_TRUE(resolve_target(r, 0, source, "veryfast", &t, &error)) << error;
  return t;
}

TEST(Resolve, DefaultsFromTheSource) {
  const ResolvedTarget t = resolve_ok(one_target(R"("Video": {}, "Audio": {})"), source_720p());
  ASSERT_TRUE(t.has_video);
  EXPECT_EQ(t.video.width, 1280);
  EXPECT_EQ(t.video.height, 720);
  EXPECT_EQ(t.video.frame_rate, (Rate{25, 1}));
  EXPECT_EQ(t.video.crf, 23);
  EXPECT_EQ(t.video.preset, "veryfast");
  ASSERT_TRUE(t.has_audio);
  EXPECT_EQ(t.audio.channels, 2);  // min(6, 2)
  EXPECT_EQ(t.audio.sample_rate, 44100);
  EXPECT_EQ(t.plan.duration, 60.085);
  EXPECT_EQ(t.plan.frame_rate, (Rate{25, 1}));
  EXPECT_EQ(t.plan.segment_length, 10);
  EXPECT_EQ(t.plan.audio_rate, 44100);
}

TEST(Resolve, AdaptiveNeverAboveTheSource) {
  const ResolvedTarget a = resolve_ok(
      one_target(R"("Video": {"TranscodeVideo": {"Resolution": "1920x1080", "FrameRate": 50,
                    "Bitrate": 5000000}})"),
      source_720p());
  EXPECT_EQ(a.video.width, 1280);
  EXPECT_EQ(a.video.height, 720);
  EXPECT_EQ(a.video.frame_rate, (Rate{25, 1}));
  EXPECT_EQ(a.video.bitrate, 1000000);
  EXPECT_FALSE(a.has_audio);  // no "Audio": no audio
  EXPECT_EQ(a.plan.audio_rate, 0);
  const ResolvedTarget f = resolve_ok(
      one_target(R"("Video": {"TranscodeVideo": {"Resolution": "1920x1080", "FrameRate": 50,
                    "Bitrate": 5000000, "ResolutionOption": "fixed", "FrameRateOption": "fixed",
                    "BitrateOption": "fixed"}})"),
      source_720p());
  EXPECT_EQ(f.video.width, 1920);
  EXPECT_EQ(f.video.height, 1080);
  EXPECT_EQ(f.video.frame_rate, (Rate{50, 1}));
  EXPECT_EQ(f.plan.frame_rate, (Rate{50, 1}));
  EXPECT_EQ(f.video.bitrate, 5000000);
  const ResolvedTarget lower = resolve_ok(
      one_target(R"("Video": {"TranscodeVideo": {"Resolution": "x360", "FrameRate": 12.5}})"),
      source_720p());
  EXPECT_EQ(lower.video.width, 640);
  EXPECT_EQ(lower.video.height, 360);
  EXPECT_EQ(lower.video.frame_rate, (Rate{25, 2}));
}

TEST(Resolve, MissingStreamsAndClips) {
  SourceInfo audio_only = source_720p();
  audio_only.video.clear();
  const ResolvedTarget t = resolve_ok(one_target(R"("Video": {}, "Audio": {})"), audio_only);
  EXPECT_FALSE(t.has_video);
  EXPECT_TRUE(t.has_audio);
  EXPECT_FALSE(t.plan.frame_rate.valid());

  SourceInfo no_rate = source_720p();
  no_rate.video[0].frame_rate = {};
  EXPECT_EQ(resolve_ok(one_target(R"("Video": {})"), no_rate).plan.frame_rate, (Rate{25, 1}));

  PlaylistRequest r = parse_ok(one_target(R"("Video": {})"));
  ResolvedTarget out;
  std::string error;
  EXPECT_FALSE(resolve_target(r, 0, audio_only, "veryfast", &out, &error));
  EXPECT_EQ(error, "Targets[0]: the source has none of the streams the target asks for");

  r = parse_ok(one_target(R"("Audio": {"Stream": [1]})"));
  EXPECT_FALSE(resolve_target(r, 0, source_720p(), "veryfast", &out, &error));
  EXPECT_EQ(error.rfind("Targets[0].Audio.Stream:", 0), 0u) << error;

  const ResolvedTarget clip =
      resolve_ok(one_target(R"("Video": {})", R"("SourceStartTime": 10, "SourceDuration": 20, )"),
                 source_720p());
  EXPECT_EQ(clip.plan.duration, 20);
  const ResolvedTarget tail =
      resolve_ok(one_target(R"("Video": {})", R"("SourceStartTime": 50, )"), source_720p());
  EXPECT_NEAR(tail.plan.duration, 10.085, 1e-9);
  r = parse_ok(one_target(R"("Video": {})", R"("SourceStartTime": 61, )"));
  EXPECT_FALSE(resolve_target(r, 0, source_720p(), "veryfast", &out, &error));
  EXPECT_EQ(error.rfind("SourceStartTime:", 0), 0u) << error;
}

}  // namespace
}  // namespace tws
