// SPDX-License-Identifier: LGPL-2.1-or-later
// Output geometry: Resolution parsing, ScaleType, *Option adaptive, display size of a source.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "pipelines/geometry.h"
#include "pipelines/source_info.h"

namespace tws {
namespace {

ResolutionSpec Spec(int w, int h) {
  ResolutionSpec s;
  s.width = w;
  s.height = h;
  return s;
}

ResolutionSpec Parse(const std::string& text) {
  ResolutionSpec s;
  std::string error;
  EXPECT_TRUE(parse_resolution(text, &s, &error)) << text << ": " << error;
  return s;
}

// width, height, picture_width, picture_height
using Dims = std::tuple<int, int, int, int>;

Dims Resolve(int sw, int sh, const ResolutionSpec& spec, ScaleType type, bool adaptive) {
  const OutputGeometry g = resolve_geometry(sw, sh, spec, type, adaptive);
  return {g.width, g.height, g.picture_width, g.picture_height};
}

const ScaleType kAllTypes[] = {ScaleType::kStretch, ScaleType::kFit, ScaleType::kFill,
                               ScaleType::kCrop};

// ---- parse_resolution ----

TEST(GeometryParse, Forms) {
  ResolutionSpec s = Parse("1280x720");
  EXPECT_EQ(s.width, 1280);
  EXPECT_EQ(s.height, 720);
  s = Parse("1280x");
  EXPECT_EQ(s.width, 1280);
  EXPECT_EQ(s.height, 0);
  s = Parse("x720");
  EXPECT_EQ(s.width, 0);
  EXPECT_EQ(s.height, 720);
  s = Parse("1x1");
  EXPECT_EQ(s.width, 1);
  EXPECT_EQ(s.height, 1);
  s = Parse("4096x4096");
  EXPECT_EQ(s.width, 4096);
  EXPECT_EQ(s.height, 4096);
}

TEST(GeometryParse, Errors) {
  const std::vector<std::string> bad = {
      "",          "x",     "1280",         "0x720",    "1280x0", "4097x",     "x4097",
      "4097x720",  "abcx",  "12.5x",        "-1x",      "+5x",    "1280x720x", "1280 x720",
      "1280x 720", "x-720", "99999999999x", "1280*720", "xx720",
  };
  for (const std::string& text : bad) {
    ResolutionSpec s = Spec(7, 9);
    std::string error;
    EXPECT_FALSE(parse_resolution(text, &s, &error)) << "\"" << text << "\" accepted";
    EXPECT_FALSE(error.empty()) << text;
    // Nothing written on failure.
    EXPECT_EQ(s.width, 7) << text;
    EXPECT_EQ(s.height, 9) << text;
  }
}

TEST(GeometryParse, ErrorMessagesAreClear) {
  ResolutionSpec s;
  std::string error;
  ASSERT_FALSE(parse_resolution("5000x720", &s, &error));
  EXPECT_NE(error.find("4096"), std::string::npos) << error;
  EXPECT_NE(error.find("5000x720"), std::string::npos) << error;
  error.clear();
  ASSERT_FALSE(parse_resolution("x0", &s, &error));
  EXPECT_NE(error.find("height"), std::string::npos) << error;
  error.clear();
  ASSERT_FALSE(parse_resolution("big", &s, &error));
  EXPECT_NE(error.find("1280x720"), std::string::npos) << error;  // shows the expected form
}

TEST(GeometryParse, ScaleType) {
  ScaleType t = ScaleType::kCrop;
  std::string error;
  ASSERT_TRUE(parse_scale_type("stretch", &t, &error));
  EXPECT_EQ(t, ScaleType::kStretch);
  ASSERT_TRUE(parse_scale_type("fit", &t, &error));
  EXPECT_EQ(t, ScaleType::kFit);
  ASSERT_TRUE(parse_scale_type("fill", &t, &error));
  EXPECT_EQ(t, ScaleType::kFill);
  ASSERT_TRUE(parse_scale_type("crop", &t, &error));
  EXPECT_EQ(t, ScaleType::kCrop);
  for (const char* bad : {"", "zoom", "fit ", "pad", "stretc"}) {
    t = ScaleType::kFit;
    error.clear();
    EXPECT_FALSE(parse_scale_type(bad, &t, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(t, ScaleType::kFit) << bad;
  }
}

// ---- resolve_geometry: the four scale types, 1920x1080 source ----

TEST(GeometryResolve, SameAspectAllTypes) {
  for (ScaleType t : kAllTypes)
    for (bool adaptive : {false, true})
      EXPECT_EQ(Resolve(1920, 1080, Spec(1280, 720), t, adaptive), Dims(1280, 720, 1280, 720))
          << int(t) << " " << adaptive;
}

TEST(GeometryResolve, Square720) {
  const ResolutionSpec box = Spec(720, 720);
  for (bool adaptive : {false, true}) {
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kStretch, adaptive), Dims(720, 720, 720, 720));
    // 720 x 405 -> even 406 (nearest even of 405 is 404 or 406; 405/2 = 202.5 rounds up).
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kFit, adaptive), Dims(720, 406, 720, 406));
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kFill, adaptive), Dims(720, 720, 720, 406));
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kCrop, adaptive), Dims(720, 720, 1280, 720));
  }
}

TEST(GeometryResolve, Square1000) {
  const ResolutionSpec box = Spec(1000, 1000);
  for (bool adaptive : {false, true}) {  // 1000 <= 1080: adaptive changes nothing
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kStretch, adaptive),
              Dims(1000, 1000, 1000, 1000));
    // 1000 x 562.5 -> 562
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kFit, adaptive), Dims(1000, 562, 1000, 562));
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kFill, adaptive), Dims(1000, 1000, 1000, 562));
    // 1777.8 x 1000 -> 1778
    EXPECT_EQ(Resolve(1920, 1080, box, ScaleType::kCrop, adaptive), Dims(1000, 1000, 1778, 1000));
  }
}

TEST(GeometryResolve, PortraitSourceIntoLandscapeBox) {
  // 1080x1920 into 1280x720: fit limited by height.
  EXPECT_EQ(Resolve(1080, 1920, Spec(1280, 720), ScaleType::kFit, false), Dims(406, 720, 406, 720));
  EXPECT_EQ(Resolve(1080, 1920, Spec(1280, 720), ScaleType::kFill, false),
            Dims(1280, 720, 406, 720));
  // crop: cover 1280 wide -> 1280 x 2275.6 -> 2276
  EXPECT_EQ(Resolve(1080, 1920, Spec(1280, 720), ScaleType::kCrop, false),
            Dims(1280, 720, 1280, 2276));
}

// ---- one side given ----

TEST(GeometryResolve, OneSide) {
  for (ScaleType t : kAllTypes) {  // the scale type does not matter: the aspect is kept
    EXPECT_EQ(Resolve(1920, 1080, Parse("1280x"), t, false), Dims(1280, 720, 1280, 720));
    EXPECT_EQ(Resolve(1920, 1080, Parse("x720"), t, false), Dims(1280, 720, 1280, 720));
    EXPECT_EQ(Resolve(1920, 1080, Parse("x480"), t, true), Dims(854, 480, 854, 480));  // 853.3
    EXPECT_EQ(Resolve(1080, 1920, Parse("720x"), t, true), Dims(720, 1280, 720, 1280));
  }
}

TEST(GeometryResolve, OneSide720xIsEven) {
  // 16:9 at 720 wide is 405 high: must become 404 or 406.
  const OutputGeometry g = resolve_geometry(1920, 1080, Parse("720x"), ScaleType::kStretch, true);
  EXPECT_EQ(g.width, 720);
  EXPECT_TRUE(g.height == 404 || g.height == 406) << g.height;
  EXPECT_EQ(g.height % 2, 0);
  EXPECT_EQ(g.picture_width, g.width);
  EXPECT_EQ(g.picture_height, g.height);
}

TEST(GeometryResolve, NoSizeIsTheSource) {
  for (ScaleType t : kAllTypes)
    for (bool adaptive : {false, true}) {
      EXPECT_EQ(Resolve(1920, 1080, ResolutionSpec{}, t, adaptive), Dims(1920, 1080, 1920, 1080));
      EXPECT_EQ(Resolve(768, 576, ResolutionSpec{}, t, adaptive), Dims(768, 576, 768, 576));
    }
}

// ---- adaptive vs fixed ----

TEST(GeometryResolve, AdaptiveNeverAboveTheSource) {
  const ResolutionSpec full = Spec(1920, 1080);
  for (ScaleType t : kAllTypes) {
    EXPECT_EQ(Resolve(960, 540, full, t, true), Dims(960, 540, 960, 540)) << int(t);
    EXPECT_EQ(Resolve(960, 540, full, t, false), Dims(1920, 1080, 1920, 1080)) << int(t);
  }
  EXPECT_EQ(Resolve(960, 540, Parse("1920x"), ScaleType::kStretch, true), Dims(960, 540, 960, 540));
  EXPECT_EQ(Resolve(960, 540, Parse("1920x"), ScaleType::kStretch, false),
            Dims(1920, 1080, 1920, 1080));
  EXPECT_EQ(Resolve(960, 540, Parse("x1080"), ScaleType::kFit, true), Dims(960, 540, 960, 540));
  EXPECT_EQ(Resolve(960, 540, Parse("x1080"), ScaleType::kFit, false),
            Dims(1920, 1080, 1920, 1080));
}

TEST(GeometryResolve, AdaptiveKeepsTheBoxShape) {
  // 960x540 source, 1000x1000 box: shrinks by min(1, 0.96, 0.54) to 540x540.
  EXPECT_EQ(Resolve(960, 540, Spec(1000, 1000), ScaleType::kStretch, true),
            Dims(540, 540, 540, 540));
  EXPECT_EQ(Resolve(960, 540, Spec(1000, 1000), ScaleType::kFit, true), Dims(540, 304, 540, 304));
  EXPECT_EQ(Resolve(960, 540, Spec(1000, 1000), ScaleType::kFill, true), Dims(540, 540, 540, 304));
  EXPECT_EQ(Resolve(960, 540, Spec(1000, 1000), ScaleType::kCrop, true), Dims(540, 540, 960, 540));
  // Fixed: the box as asked (upscaling).
  EXPECT_EQ(Resolve(960, 540, Spec(1000, 1000), ScaleType::kFit, false),
            Dims(1000, 562, 1000, 562));
  EXPECT_EQ(Resolve(960, 540, Spec(1000, 1000), ScaleType::kCrop, false),
            Dims(1000, 1000, 1778, 1000));
  // A box above the source in one side only: 1280x2000 on 1920x1080 shrinks by 0.54.
  EXPECT_EQ(Resolve(1920, 1080, Spec(1280, 2000), ScaleType::kStretch, true),
            Dims(692, 1080, 692, 1080));  // 691.2 -> 692
}

// ---- odd and tiny sizes ----

TEST(GeometryResolve, OddSizesBecomeEven) {
  // Adaptive never goes above the source, not even by rounding to even.
  EXPECT_EQ(Resolve(641, 481, ResolutionSpec{}, ScaleType::kStretch, true),
            Dims(640, 480, 640, 480));
  EXPECT_EQ(Resolve(641, 481, ResolutionSpec{}, ScaleType::kStretch, false),
            Dims(642, 482, 642, 482));
  EXPECT_EQ(Resolve(639, 479, ResolutionSpec{}, ScaleType::kStretch, true),
            Dims(638, 478, 638, 478));
  EXPECT_EQ(Resolve(1920, 1080, Spec(1281, 721), ScaleType::kStretch, false),
            Dims(1282, 722, 1282, 722));
  EXPECT_EQ(Resolve(1920, 1080, Spec(1279, 719), ScaleType::kStretch, false),
            Dims(1280, 720, 1280, 720));
  EXPECT_EQ(Resolve(1920, 1080, Parse("1001x"), ScaleType::kFit, false),
            Dims(1002, 564, 1002, 564));  // 1001 x 563.06
}

TEST(GeometryResolve, TinySizesAreAtLeastTwo) {
  EXPECT_EQ(Resolve(1, 1, ResolutionSpec{}, ScaleType::kStretch, true), Dims(2, 2, 2, 2));
  EXPECT_EQ(Resolve(1920, 1080, Parse("1x"), ScaleType::kStretch, false), Dims(2, 2, 2, 2));
  EXPECT_EQ(Resolve(1920, 1080, Parse("x1"), ScaleType::kStretch, false), Dims(2, 2, 2, 2));
  EXPECT_EQ(Resolve(1920, 1080, Spec(3, 1000), ScaleType::kFit, false),
            Dims(4, 2, 4, 2));  // 3 -> 4
  EXPECT_EQ(Resolve(1920, 1080, Spec(3, 1000), ScaleType::kFill, false), Dims(4, 1000, 4, 2));
  EXPECT_EQ(Resolve(4000, 2, Parse("x1"), ScaleType::kStretch, false), Dims(2000, 2, 2000, 2));
}

// ---- invariants over many cases ----

TEST(GeometryResolve, Invariants) {
  const std::vector<std::pair<int, int>> sources = {
      {1920, 1080}, {1080, 1920}, {960, 540}, {641, 481}, {720, 576},  {768, 576},
      {3840, 2160}, {1, 1},       {4000, 3},  {352, 288}, {1440, 1080}};
  const std::vector<ResolutionSpec> specs = {Spec(1280, 720), Spec(720, 720), Spec(1000, 1000),
                                             Spec(1281, 719), Spec(1, 4096),  Spec(4096, 1),
                                             Spec(1920, 0),   Spec(0, 1080),  Spec(333, 0),
                                             Spec(0, 77),     Spec(0, 0)};
  for (auto [sw, sh] : sources)
    for (const ResolutionSpec& spec : specs)
      for (ScaleType t : kAllTypes)
        for (bool adaptive : {false, true}) {
          const OutputGeometry g = resolve_geometry(sw, sh, spec, t, adaptive);
          SCOPED_TRACE(::testing::Message()
                       << sw << "x" << sh << " spec " << spec.width << "x" << spec.height
                       << " type " << int(t) << " adaptive " << adaptive);
          for (int v : {g.width, g.height, g.picture_width, g.picture_height}) {
            EXPECT_GE(v, 2);
            EXPECT_EQ(v % 2, 0);
          }
          const bool box = spec.width > 0 && spec.height > 0;
          if (box && !adaptive && t != ScaleType::kFit) {
            // The frame is exactly the box (odd sides round up to even).
            EXPECT_EQ(g.width, spec.width % 2 ? spec.width + 1 : spec.width);
            EXPECT_EQ(g.height, spec.height % 2 ? spec.height + 1 : spec.height);
          }
          switch (t) {
            case ScaleType::kStretch:
              EXPECT_EQ(g.picture_width, g.width);
              EXPECT_EQ(g.picture_height, g.height);
              break;
            case ScaleType::kFit:
              EXPECT_EQ(g.picture_width, g.width);
              EXPECT_EQ(g.picture_height, g.height);
              break;
            case ScaleType::kFill:
              EXPECT_LE(g.picture_width, g.width);
              EXPECT_LE(g.picture_height, g.height);
              if (box) {
                EXPECT_TRUE(g.picture_width == g.width || g.picture_height == g.height);
              }
              break;
            case ScaleType::kCrop:
              EXPECT_GE(g.picture_width, g.width);
              EXPECT_GE(g.picture_height, g.height);
              if (box) {
                EXPECT_TRUE(g.picture_width == g.width || g.picture_height == g.height);
              }
              break;
          }
          if (adaptive) {
            // Never above the source, up to rounding to even.
            EXPECT_LE(g.width, sw + 1);
            EXPECT_LE(g.height, sh + 1);
            EXPECT_LE(g.picture_width, std::max(2, sw + 1));
            EXPECT_LE(g.picture_height, std::max(2, sh + 1));
          }
          if (box && t == ScaleType::kFit) {
            // Fit: inside the (possibly shrunk) box, one side touching it.
            const OutputGeometry s = resolve_geometry(sw, sh, spec, ScaleType::kStretch, adaptive);
            EXPECT_LE(g.width, s.width);
            EXPECT_LE(g.height, s.height);
            EXPECT_TRUE(g.width == s.width || g.height == s.height);
          }
          if (box && (t == ScaleType::kFill || t == ScaleType::kCrop)) {
            const OutputGeometry s = resolve_geometry(sw, sh, spec, ScaleType::kStretch, adaptive);
            EXPECT_EQ(g.width, s.width);
            EXPECT_EQ(g.height, s.height);
          }
        }
}

TEST(GeometryResolve, Deterministic) {
  for (ScaleType t : kAllTypes)
    EXPECT_EQ(Resolve(1918, 1078, Spec(1279, 721), t, true),
              Resolve(1918, 1078, Spec(1279, 721), t, true));
}

// ---- display size of a source ----

VideoStreamInfo Video(int w, int h, int par_n = 1, int par_d = 1, int rotation = 0) {
  VideoStreamInfo v;
  v.width = w;
  v.height = h;
  v.par_n = par_n;
  v.par_d = par_d;
  v.rotation = rotation;
  return v;
}

TEST(GeometryDisplay, SquarePixels) {
  const VideoStreamInfo v = Video(1920, 1080);
  EXPECT_EQ(v.display_width(), 1920);
  EXPECT_EQ(v.display_height(), 1080);
}

TEST(GeometryDisplay, PixelAspectRatio) {
  VideoStreamInfo v = Video(720, 576, 16, 15);  // PAL 4:3
  EXPECT_EQ(v.display_width(), 768);
  EXPECT_EQ(v.display_height(), 576);
  v = Video(720, 576, 64, 45);  // PAL 16:9
  EXPECT_EQ(v.display_width(), 1024);
  EXPECT_EQ(v.display_height(), 576);
  v = Video(1440, 1080, 4, 3);  // HDV
  EXPECT_EQ(v.display_width(), 1920);
  EXPECT_EQ(v.display_height(), 1080);
  v = Video(720, 480, 8, 9);  // NTSC 4:3
  EXPECT_EQ(v.display_width(), 640);
  EXPECT_EQ(v.display_height(), 480);
  v = Video(720, 480, 32, 27);  // 853.33 -> 853
  EXPECT_EQ(v.display_width(), 853);
  EXPECT_EQ(v.display_height(), 480);
  v = Video(720, 480, 0, 1);  // invalid PAR: square pixels
  EXPECT_EQ(v.display_width(), 720);
  EXPECT_EQ(v.display_height(), 480);
}

TEST(GeometryDisplay, Rotation) {
  VideoStreamInfo v = Video(1920, 1080, 1, 1, 90);
  EXPECT_EQ(v.display_width(), 1080);
  EXPECT_EQ(v.display_height(), 1920);
  v.rotation = 270;
  EXPECT_EQ(v.display_width(), 1080);
  EXPECT_EQ(v.display_height(), 1920);
  v.rotation = 180;
  EXPECT_EQ(v.display_width(), 1920);
  EXPECT_EQ(v.display_height(), 1080);
  v.rotation = 0;
  v.flip = true;
  EXPECT_EQ(v.display_width(), 1920);
  EXPECT_EQ(v.display_height(), 1080);
}

TEST(GeometryDisplay, RotationWithPixelAspectRatio) {
  // PAR widens the coded width first; rotation then swaps the display sides.
  VideoStreamInfo v = Video(720, 576, 16, 15, 90);
  EXPECT_EQ(v.display_width(), 576);
  EXPECT_EQ(v.display_height(), 768);
  v.rotation = 270;
  EXPECT_EQ(v.display_width(), 576);
  EXPECT_EQ(v.display_height(), 768);
}

TEST(GeometryDisplay, FeedsResolve) {
  const VideoStreamInfo v = Video(1920, 1080, 1, 1, 90);
  EXPECT_EQ(Resolve(v.display_width(), v.display_height(), Parse("x1280"), ScaleType::kFit, true),
            Dims(720, 1280, 720, 1280));
  const VideoStreamInfo pal = Video(720, 576, 16, 15);
  EXPECT_EQ(
      Resolve(pal.display_width(), pal.display_height(), Parse("x480"), ScaleType::kFit, true),
      Dims(640, 480, 640, 480));
}

}  // namespace
}  // namespace tws
