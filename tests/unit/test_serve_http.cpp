// SPDX-License-Identifier: LGPL-2.1-or-later
// The pure parts of `tws serve`'s HTTP layer: Range parsing, playlist signing on the way out,
// playback paths and segment names, the API token check, InitialTranscode counting, metrics.
#include <gtest/gtest.h>

#include <string>

#include "service/api/api.h"
#include "service/core/config.h"
#include "service/core/metrics.h"
#include "service/http/auth.h"
#include "service/http/http_range.h"
#include "service/playback/playback_path.h"
#include "service/playlist/playlist_signing.h"
#include "service/playlist/signer.h"

namespace tws {
namespace {

TEST(HttpRange, Forms) {
  ByteRange r = parse_byte_range("bytes=0-99", 1000);
  ASSERT_EQ(r.kind, ByteRange::kSatisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 99u);
  EXPECT_EQ(r.content_range(1000), "bytes 0-99/1000");
  r = parse_byte_range("bytes=900-", 1000);
  EXPECT_EQ(r.first, 900u);
  EXPECT_EQ(r.last, 999u);
  r = parse_byte_range("bytes=-100", 1000);
  EXPECT_EQ(r.first, 900u);
  EXPECT_EQ(r.last, 999u);
  r = parse_byte_range("bytes=-5000", 1000);
  EXPECT_EQ(r.first, 0u);
  r = parse_byte_range("bytes=500-5000", 1000);  // clipped to the object
  EXPECT_EQ(r.last, 999u);
}

TEST(HttpRange, UnsatisfiableAndIgnored) {
  EXPECT_EQ(parse_byte_range("bytes=1000-", 1000).kind, ByteRange::kUnsatisfiable);
  EXPECT_EQ(parse_byte_range("bytes=1000-", 1000).content_range(1000), "bytes */1000");
  EXPECT_EQ(parse_byte_range("bytes=-0", 1000).kind, ByteRange::kUnsatisfiable);
  EXPECT_EQ(parse_byte_range("bytes=5-1", 1000).kind, ByteRange::kNone);
  EXPECT_EQ(parse_byte_range("items=0-1", 1000).kind, ByteRange::kNone);
  EXPECT_EQ(parse_byte_range("bytes=0-1,5-6", 1000).kind, ByteRange::kNone);
  EXPECT_EQ(parse_byte_range("bytes=x-1", 1000).kind, ByteRange::kNone);
}

const SigningKey kKey{"dev", "secret"};

TEST(PlaylistSigning, ResolvesReferences) {
  const ObjectUri base{"media", "out/master.m3u8"};
  ObjectUri t;
  ASSERT_TRUE(resolve_playlist_reference(base, "720p/a%20b.m3u8", &t));
  EXPECT_EQ(t.key, "out/720p/a b.m3u8");
  ASSERT_TRUE(resolve_playlist_reference(base, "../x/y.ts?z=1", &t));
  EXPECT_EQ(t.key, "x/y.ts");
  ASSERT_TRUE(resolve_playlist_reference(base, "/media/abs.ts", &t));
  EXPECT_EQ(t.key, "abs.ts");
  EXPECT_FALSE(resolve_playlist_reference(base, "../../up.ts", &t));
  EXPECT_FALSE(resolve_playlist_reference(base, "/other/abs.ts", &t));
  EXPECT_FALSE(resolve_playlist_reference(base, "https://cdn.example/x.ts", &t));
  EXPECT_FALSE(resolve_playlist_reference(base, "data:text/plain,x", &t));
}

TEST(PlaylistSigning, SignsEveryUriAndDropsTheRecord) {
  const std::string stored =
      "#EXTM3U\n#EXT-X-VERSION:3\n## tws-record: {\"Version\":1}\n"
      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",URI=\"audio/a.m3u8\"\n"
      "#EXTINF:10.000000,\nv-0123-0.ts\n#EXTINF:10.000000,\nsub/v-0123-1.ts\n"
      "https://cdn.example/z.ts\n#EXT-X-ENDLIST\n";
  const ObjectUri playlist{"media", "out/v.m3u8"};
  const std::string out = signed_playlist_text(stored, playlist, kKey, 1700000000);
  EXPECT_EQ(out.find("tws-record"), std::string::npos);
  const std::string q0 = "?Expires=1700000000&KeyId=dev&Signature=" +
                         sign_path("secret", "/media/out/v-0123-0.ts", 1700000000);
  EXPECT_NE(out.find("\nv-0123-0.ts" + q0 + "\n"), std::string::npos) << out;
  const std::string q1 = "?Expires=1700000000&KeyId=dev&Signature=" +
                         sign_path("secret", "/media/out/sub/v-0123-1.ts", 1700000000);
  EXPECT_NE(out.find("\nsub/v-0123-1.ts" + q1 + "\n"), std::string::npos) << out;
  const std::string qa = sign_path("secret", "/media/out/audio/a.m3u8", 1700000000);
  EXPECT_NE(out.find("URI=\"audio/a.m3u8?Expires=1700000000&KeyId=dev&Signature=" + qa + "\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\nhttps://cdn.example/z.ts\n"), std::string::npos);
  EXPECT_NE(out.find("#EXT-X-ENDLIST\n"), std::string::npos);
}

TEST(PlaylistSigning, SignaturesVerify) {
  Config config;
  config.keys.push_back(kKey);
  const std::string ref = sign_playlist_reference({"media", "a/m.m3u8"}, "b%2Bc.ts", kKey, 2000);
  const std::string sig = ref.substr(ref.find("Signature=") + 10);
  std::string error;
  EXPECT_TRUE(verify_signature(config, "/media/a/b%2Bc.ts", "2000", "dev", sig, 1000, &error))
      << error;
  EXPECT_FALSE(verify_signature(config, "/media/a/b%2Bc.ts", "2000", "dev", sig, 3000, &error));
  EXPECT_FALSE(verify_signature(config, "/media/a/x.ts", "2000", "dev", sig, 1000, &error));
}

TEST(PlaybackPath, ObjectsAndSegments) {
  Config config;
  BucketConfig bucket;
  bucket.name = "media";
  bucket.path = "/tmp";
  config.buckets.push_back(bucket);
  ObjectUri uri;
  Failure f;
  ASSERT_TRUE(parse_playback_path(config, "/media/out/a%20b.ts", &uri, &f));
  EXPECT_EQ(uri.key, "out/a b.ts");
  EXPECT_FALSE(parse_playback_path(config, "/other/x.ts", &uri, &f));
  EXPECT_EQ(f.code, ErrorCode::kUnknownBucket);
  EXPECT_FALSE(parse_playback_path(config, "/media/a/../x.ts", &uri, &f));
  EXPECT_EQ(f.code, ErrorCode::kInvalidURI);
  EXPECT_FALSE(parse_playback_path(config, "/media/a%00.ts", &uri, &f));
  EXPECT_FALSE(parse_playback_path(config, "/media", &uri, &f));

  const std::string token = "0123456789abcdef0123456789abcdef";
  SegmentName name;
  ASSERT_TRUE(parse_segment_key("out/720p-x-" + token + "-12.ts", &name));
  EXPECT_EQ(name.prefix_key, "out/720p-x");
  EXPECT_EQ(name.token, token);
  EXPECT_EQ(name.index, 12);
  EXPECT_FALSE(parse_segment_key("out/720p-" + token + "-012.ts", &name));
  EXPECT_FALSE(parse_segment_key("out/720p-" + token + "-1.webvtt", &name));
  ASSERT_TRUE(parse_segment_key("out/m-sub-0-" + token + "-3.vtt", &name));
  EXPECT_EQ(name.prefix_key, "out/m-sub-0");
  EXPECT_EQ(name.index, 3);
  EXPECT_EQ(name.extension, ".vtt");
  EXPECT_FALSE(parse_segment_key("out/720p-" + token.substr(1) + "-1.ts", &name));
  EXPECT_FALSE(parse_segment_key(token + "-1.ts", &name));
}

TEST(Auth, BearerTokens) {
  Config config;
  config.api_tokens = {"t1", "t2"};
  EXPECT_TRUE(bearer_token_ok(config, "Bearer t2"));
  EXPECT_TRUE(bearer_token_ok(config, "bearer  t1 "));
  EXPECT_FALSE(bearer_token_ok(config, "Bearer t3"));
  EXPECT_FALSE(bearer_token_ok(config, "Bearer "));
  EXPECT_FALSE(bearer_token_ok(config, "Basic dDE="));
  EXPECT_FALSE(bearer_token_ok(config, nullptr));
  config.api_tokens.clear();
  EXPECT_FALSE(bearer_token_ok(config, "Bearer "));
}

TEST(InitialTranscode, RoundsUpToWholeSegments) {
  PlanInput in;
  in.duration = 60;
  in.frame_rate = {25, 1};
  in.segment_length = 10;
  in.initial_segments = {2, 2, 2};
  Plan plan;
  std::string error;
  ASSERT_TRUE(make_plan(in, &plan, &error)) << error;
  // Boundaries 0, 2, 4, 6, 16, 26, 36, 46, 56 (the last piece joins).
  EXPECT_EQ(initial_segment_count(plan, 36), 6);
  EXPECT_EQ(initial_segment_count(plan, 30), 6);
  EXPECT_EQ(initial_segment_count(plan, 1), 1);
  EXPECT_EQ(initial_segment_count(plan, 0), 0);
  EXPECT_EQ(initial_segment_count(plan, -1), int(plan.segments.size()));
  EXPECT_EQ(initial_segment_count(plan, 1000), int(plan.segments.size()));
}

TEST(Metrics, EveryCounterFromTheStart) {
  Metrics m;
  const std::string text = m.text(0, 0, 0);
  for (const char* line :
       {"tws_segments_transcoded_total 0\n", "tws_segments_served_total{source=\"storage\"} 0\n",
        "tws_segments_served_total{source=\"transcode\"} 0\n", "tws_queue_depth 0\n",
        "tws_transcode_seconds_count 0\n", "tws_transcode_seconds_bucket{le=\"+Inf\"} 0\n",
        "tws_storage_requests_total{op=\"get\"} 0\n", "tws_storage_requests_total{op=\"list\"} 0\n",
        "tws_storage_bytes_total{dir=\"in\"} 0\n", "tws_storage_bytes_total{dir=\"out\"} 0\n",
        "# TYPE tws_transcode_seconds histogram\n", "tws_http_requests_total{code=\"200\"} 0\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line;
}

TEST(Metrics, Counts) {
  Metrics m;
  m.segment_transcoded(1.5);
  m.segment_transcoded(40);
  m.segment_served_from_storage();
  m.http_response(503);
  m.storage_request(StorageOp::kPut);
  m.storage_bytes_out(10);
  const std::string text = m.text(7, 3, 100);
  EXPECT_NE(text.find("tws_segments_transcoded_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("tws_transcode_seconds_bucket{le=\"2\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("tws_transcode_seconds_bucket{le=\"60\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("tws_transcode_seconds_sum 41.5\n"), std::string::npos);
  EXPECT_NE(text.find("tws_http_requests_total{code=\"503\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("tws_queue_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("tws_storage_requests_total{op=\"get\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("tws_storage_requests_total{op=\"put\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("tws_storage_bytes_total{dir=\"in\"} 100\n"), std::string::npos);
  EXPECT_NE(text.find("tws_storage_bytes_total{dir=\"out\"} 10\n"), std::string::npos);
}

}  // namespace
}  // namespace tws
