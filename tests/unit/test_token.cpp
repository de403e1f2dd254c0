// SPDX-License-Identifier: LGPL-2.1-or-later
// service/core/json_text, service/playlist/token and service/playlist/signer: canonical JSON,
// tokens and signed URLs.
#include <gtest/gtest.h>

#include <string>

#include "service/core/config.h"
#include "service/core/json_text.h"
#include "service/core/uri.h"
#include "service/playlist/record.h"
#include "service/playlist/signer.h"
#include "service/playlist/token.h"

namespace tws {
namespace {

std::string canon(const std::string& text) {
  std::string error;
  JsonNodePtr node = json_from_text(text, &error);
  EXPECT_TRUE(node) << error;
  return node ? canonical_json(node.get()) : "";
}

TEST(CanonicalJson, SortsKeysAtEveryLevelAndDropsSpaces) {
  EXPECT_EQ(canon(R"({ "b": 1, "a": {"z": [3, 2, {"y": 1, "x": 2}], "c": null}, "B": true })"),
            R"({"B":true,"a":{"c":null,"z":[3,2,{"x":2,"y":1}]},"b":1})");
  EXPECT_EQ(canon(R"({"b":1,"a":2})"), canon(R"({"a":2,"b":1})"));
  EXPECT_EQ(canon("[]"), "[]");
  EXPECT_EQ(canon("{}"), "{}");
}

TEST(CanonicalJson, EscapesStrings) {
  EXPECT_EQ(canon(R"(["q\"b\\s\/", "\n\t\r\b\f", "\u0001\u001f", "é€😀"])"),
            "[\"q\\\"b\\\\s/\",\"\\n\\t\\r\\b\\f\",\"\\u0001\\u001f\",\"é€😀\"]");
}

TEST(CanonicalJson, Numbers) {
  EXPECT_EQ(canon("[0, -7, 10.0, 1e3, 2.5, 0.1, 60.085, -0.5, 123456789012]"),
            "[0,-7,10,1000,2.5,0.1,60.085,-0.5,123456789012]");
  // Doubles are written so that they read back to the same bits.
  for (double v : {1.0 / 3, 29.97002997002997, 60.084999999999994, 1e-7, 12345.678901234567}) {
    JsonNode* n = json_node_new(JSON_NODE_VALUE);
    json_node_set_double(n, v);
    const std::string text = canonical_json(n);
    json_node_unref(n);
    EXPECT_EQ(g_ascii_strtod(text.c_str(), nullptr), v) << text;
  }
}

TEST(Token, IsSha256OfCanonicalJson) {
  std::string error;
  JsonNodePtr node = json_from_text(R"({"b": [true, null, "x"], "a": 1})", &error);
  ASSERT_TRUE(node);
  // python3: hashlib.sha256(b'{"a":1,"b":[true,null,"x"]}').hexdigest()[:32]
  EXPECT_EQ(token_of_json(node.get()), "eca8cfb31ab74533e1eb2f4c74d2d55d");
  EXPECT_TRUE(is_token("eca8cfb31ab74533e1eb2f4c74d2d55d"));
  EXPECT_FALSE(is_token("ECA8CFB31AB74533E1EB2F4C74D2D55D"));
  EXPECT_FALSE(is_token("eca8"));
}

PlaylistRecord sample_record() {
  PlaylistRecord r;
  r.source_uri = "oss://media/in/a.mp4";
  r.source_size = 1234;
  r.source_identity = "mtime:1700000000123456789";
  r.has_video = true;
  r.video.width = 1280;
  r.video.height = 720;
  r.video.picture_width = 1280;
  r.video.picture_height = 720;
  r.video.crf = 23;
  r.video.frame_rate = {25, 1};
  r.has_audio = true;
  r.plan.duration = 60.085;
  r.plan.frame_rate = {25, 1};
  r.plan.segment_length = 10;
  r.plan.audio_rate = 44100;
  return r;
}

TEST(Token, ChangesWithSourceAndParametersOnly) {
  const PlaylistRecord base = sample_record();
  const std::string t = compute_token(base);
  EXPECT_TRUE(is_token(t));
  EXPECT_EQ(compute_token(base), t);  // stable
  auto differs = [&](auto change) {
    PlaylistRecord r = base;
    change(r);
    return compute_token(r) != t;
  };
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.source_size = 1235; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.source_identity = "mtime:1"; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.source_uri = "oss://media/in/b.mp4"; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.source_start = 1; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.video.crf = 24; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.video.preset = "slow"; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.audio.bitrate = 96000; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.has_audio = false; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.plan.initial_segments = {2}; }));
  EXPECT_TRUE(differs([](PlaylistRecord& r) { r.plan.duration = 60.086; }));
  // Service hints and the token field itself do not change it.
  EXPECT_FALSE(differs([](PlaylistRecord& r) { r.transcode_ahead = 3; }));
  EXPECT_FALSE(differs([](PlaylistRecord& r) { r.initial_transcode = -1; }));
  EXPECT_FALSE(differs([](PlaylistRecord& r) { r.token = "x"; }));
}

TEST(Token, Master) {
  const std::string a = compute_master_token("oss://m/master.m3u8", {"t1", "t2"});
  EXPECT_TRUE(is_token(a));
  EXPECT_NE(a, compute_master_token("oss://m/master.m3u8", {"t2", "t1"}));
  EXPECT_NE(a, compute_master_token("oss://m/other.m3u8", {"t1", "t2"}));
}

Config signing_config() {
  Config c;
  std::string error;
  EXPECT_TRUE(
      parse_config("[server]\npublic-url = http://cdn.example/\n"
                   "[bucket media]\npath = /m\n"
                   "[key dev]\nsecret = e2e-secret\n[key old]\nsecret = other\n",
                   "/", &c, &error))
      << error;
  return c;
}

TEST(Signer, KnownVector) {
  // python3: base64.urlsafe_b64encode(hmac.new(b'e2e-secret',
  //   b'GET\n/media/out/a%20b.m3u8\n1700000000', hashlib.sha256).digest()).rstrip(b'=')
  EXPECT_EQ(sign_path("e2e-secret", "/media/out/a%20b.m3u8", 1700000000),
            "AzOnIcSwssh3mXxcOXv3-UoJ-pyZYMux-i1nQGVFfmM");
}

TEST(Signer, SignedUrlAndVerify) {
  const Config c = signing_config();
  std::string url, error;
  ASSERT_TRUE(signed_url(c, ObjectUri{"media", "out/a b.m3u8"}, 1700000000, &url, &error));
  EXPECT_EQ(url,
            "http://cdn.example/media/out/a%20b.m3u8?Expires=1700000000&KeyId=dev&Signature="
            "AzOnIcSwssh3mXxcOXv3-UoJ-pyZYMux-i1nQGVFfmM");
  const std::string sig = "AzOnIcSwssh3mXxcOXv3-UoJ-pyZYMux-i1nQGVFfmM";
  const std::string path = "/media/out/a%20b.m3u8";
  EXPECT_TRUE(verify_signature(c, path, "1700000000", "dev", sig, 1699999999, &error)) << error;
  EXPECT_TRUE(verify_signature(c, path, "1700000000", "dev", sig, 1700000000, &error)) << error;
  EXPECT_FALSE(verify_signature(c, path, "1700000000", "dev", sig, 1700000001, &error));
  EXPECT_NE(error.find("expired"), std::string::npos);
  EXPECT_FALSE(verify_signature(c, path, "1700000001", "dev", sig, 0, &error));
  EXPECT_FALSE(verify_signature(c, "/media/out/a%20c.m3u8", "1700000000", "dev", sig, 0, &error));
  EXPECT_FALSE(verify_signature(c, path, "1700000000", "old", sig, 0, &error));
  EXPECT_FALSE(verify_signature(c, path, "1700000000", "nokey", sig, 0, &error));
  EXPECT_FALSE(verify_signature(c, path, "1700000000", "dev", sig.substr(1), 0, &error));
  EXPECT_FALSE(verify_signature(c, path, "17e8", "dev", sig, 0, &error));
  EXPECT_FALSE(verify_signature(c, path, "", "dev", sig, 0, &error));
  // A URL signed with the second key verifies with its KeyId.
  EXPECT_TRUE(verify_signature(c, path, "1700000000", "old", sign_path("other", path, 1700000000),
                               0, &error));
}

TEST(Signer, NeedsAKey) {
  Config c;
  std::string url, error;
  ASSERT_TRUE(parse_config("[bucket media]\npath = /m\n", "/", &c, &error));
  EXPECT_FALSE(signed_url(c, ObjectUri{"media", "a"}, 1, &url, &error));
  EXPECT_NE(error.find("signing key"), std::string::npos);
}

}  // namespace
}  // namespace tws
