// SPDX-License-Identifier: LGPL-2.1-or-later
// hdrtonemap: the transfer functions and tone curves, the converter against values ffmpeg's
// zscale + tonemap chain gives, and the element in a GstHarness.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "common/gref.h"
#include "tonemap/tone_curve.h"

using tws::adopt_ref;
using tws::GRef;
namespace tone = tws::tonemap;

namespace {

constexpr tone::Curve kCurves[] = {tone::Curve::kHable, tone::Curve::kMobius,
                                   tone::Curve::kReinhard, tone::Curve::kClip};

// One flat 4:2:0 10-bit picture through a ToneMapper: output Y, U, V of its first pixel.
struct Yuv8 {
  int y, u, v;
};
Yuv8 convert_flat(const tone::ToneMapper& mapper, uint16_t y, uint16_t u, uint16_t v) {
  constexpr int w = 4, h = 4;
  std::vector<uint16_t> luma(w * h, y), cb(w * h / 4, u), cr(w * h / 4, v);
  tone::InputPlane in[3];
  in[0] = {reinterpret_cast<const uint8_t*>(luma.data()), w * 2, 2, 0, 0, 0};
  in[1] = {reinterpret_cast<const uint8_t*>(cb.data()), w, 2, 0, 1, 1};
  in[2] = {reinterpret_cast<const uint8_t*>(cr.data()), w, 2, 0, 1, 1};
  std::vector<uint8_t> out(w * h * 3 / 2);
  tone::OutputPlanes o{out.data(), w, out.data() + w * h, w / 2, out.data() + w * h * 5 / 4, w / 2};
  mapper.convert(in, o, w, h, 0, h);
  return {out[0], out[w * h], out[w * h * 5 / 4]};
}

}  // namespace

TEST(ToneCurve, PqEotf) {
  EXPECT_DOUBLE_EQ(tone::pq_eotf(0), 0);
  EXPECT_NEAR(tone::pq_eotf(1), 10000, 1e-6);
  // Full-range code 520/1023 is the classic "100 cd/m²" PQ level: 100.23 cd/m².
  EXPECT_NEAR(tone::pq_eotf(520.0 / 1023), 100.23, 0.01);
  EXPECT_NEAR(tone::pq_eotf(0.5), 92.246, 0.001);
  double last = -1;
  for (int c = 0; c <= 1023; c++) {
    const double l = tone::pq_eotf(c / 1023.0);
    ASSERT_GT(l, last) << c;
    last = l;
  }
}

TEST(ToneCurve, HlgInverseOetf) {
  EXPECT_DOUBLE_EQ(tone::hlg_inverse_oetf(0), 0);
  EXPECT_NEAR(tone::hlg_inverse_oetf(0.5), 1.0 / 12, 1e-7);  // both segments meet here
  EXPECT_NEAR(tone::hlg_inverse_oetf(0.5 + 1e-9), 1.0 / 12, 1e-7);
  EXPECT_NEAR(tone::hlg_inverse_oetf(1), 1.0, 1e-6);
  EXPECT_NEAR(tone::hlg_inverse_oetf(0.25), 0.25 * 0.25 / 3, 1e-12);
}

TEST(ToneCurve, SdrTransfers) {
  EXPECT_NEAR(tone::bt709_oetf(1), 1, 1e-9);
  EXPECT_NEAR(tone::bt709_oetf(0.01), 0.045, 1e-9);  // linear segment
  EXPECT_NEAR(tone::bt709_inverse_oetf(tone::bt709_oetf(0.3)), 0.3, 1e-9);
  EXPECT_NEAR(tone::bt1886_inverse_eotf(tone::bt1886_eotf(0.42)), 0.42, 1e-12);
}

TEST(ToneCurve, CurvesStartAtZeroAndRise) {
  const float peak = 10;
  for (tone::Curve curve : kCurves) {
    const auto param = static_cast<float>(tone::default_param(curve));
    EXPECT_NEAR(tone::map(curve, 0, peak, param), 0, 1e-6) << static_cast<int>(curve);
    float last = -1;
    for (float sig = 0; sig <= 2 * peak; sig += 0.01f) {
      const float m = tone::map(curve, sig, peak, param);
      if (curve == tone::Curve::kClip && sig >= 1)
        ASSERT_EQ(m, 1.0f);
      else
        ASSERT_GT(m, last) << static_cast<int>(curve) << " at " << sig;
      last = m;
    }
  }
}

TEST(ToneCurve, PeakMapsToWhite) {
  for (float peak : {2.0f, 10.0f, 100.0f}) {
    EXPECT_NEAR(tone::map(tone::Curve::kHable, peak, peak, 0), 1, 1e-5);
    EXPECT_NEAR(tone::map(tone::Curve::kMobius, peak, peak, 0.3f), 1, 1e-4);
    EXPECT_NEAR(tone::map(tone::Curve::kReinhard, peak, peak, 0.5f), 1, 1e-5);
  }
  // Below its knee mobius is the identity; clip is the identity up to reference white.
  EXPECT_FLOAT_EQ(tone::map(tone::Curve::kMobius, 0.2f, 10, 0.3f), 0.2f);
  EXPECT_FLOAT_EQ(tone::map(tone::Curve::kClip, 0.7f, 10, 1), 0.7f);
  // Reference white (1.0) sits well below SDR white with a 1000 cd/m² peak.
  const float white = tone::map(tone::Curve::kHable, 1, 10, 0);
  EXPECT_GT(white, 0.25f);
  EXPECT_LT(white, 0.4f);
}

TEST(ToneCurve, PrimariesMatrix) {
  const tone::Matrix3 same = tone::primaries_matrix(tone::kBt709Primaries, tone::kBt709Primaries);
  for (int i = 0; i < 9; i++) EXPECT_NEAR(same[i], i % 4 == 0 ? 1 : 0, 1e-6);
  const tone::Matrix3 m = tone::primaries_matrix(tone::kBt2020Primaries, tone::kBt709Primaries);
  for (int row = 0; row < 3; row++)  // same white point: white stays white
    EXPECT_NEAR(m[row * 3] + m[row * 3 + 1] + m[row * 3 + 2], 1, 1e-5);
  EXPECT_NEAR(m[0], 1.6605, 1e-3);  // BT.2087 matrix
  EXPECT_NEAR(m[1], -0.5876, 1e-3);
}

// Luma of flat grey 10-bit limited-range pictures, against what
// zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,
// zscale=t=bt709:m=bt709:r=tv gives (ffmpeg 5.1, zimg 3.0.4).
TEST(ToneMapper, MatchesFfmpegOnGreys) {
  struct Case {
    tone::Transfer transfer;
    uint16_t code;
    int y;
  };
  const Case cases[] = {
      {tone::Transfer::kPq, 64, 16},    {tone::Transfer::kPq, 200, 39},
      {tone::Transfer::kPq, 300, 64},   {tone::Transfer::kPq, 400, 100},
      {tone::Transfer::kPq, 520, 156},  {tone::Transfer::kPq, 600, 194},
      {tone::Transfer::kPq, 700, 229},  {tone::Transfer::kPq, 800, 249},
      {tone::Transfer::kPq, 940, 255},  {tone::Transfer::kHlg, 64, 16},
      {tone::Transfer::kHlg, 200, 51},  {tone::Transfer::kHlg, 400, 100},
      {tone::Transfer::kHlg, 520, 127}, {tone::Transfer::kHlg, 700, 175},
      {tone::Transfer::kHlg, 800, 204}, {tone::Transfer::kHlg, 940, 235},
  };
  for (const Case& c : cases) {
    tone::InputFormat input;
    input.transfer = c.transfer;
    const tone::ToneMapper mapper(input, tone::Settings{});
    const Yuv8 out = convert_flat(mapper, c.code, 512, 512);
    EXPECT_NEAR(out.y, c.y, 1) << (c.transfer == tone::Transfer::kPq ? "PQ " : "HLG ") << c.code;
    EXPECT_NEAR(out.u, 128, 1);
    EXPECT_NEAR(out.v, 128, 1);
  }
}

// Saturated colours, where BT.2020 -> BT.709 leaves components negative (same reference).
TEST(ToneMapper, MatchesFfmpegOnColours) {
  tone::InputFormat pq;
  const tone::ToneMapper mapper(pq, tone::Settings{});
  Yuv8 out = convert_flat(mapper, 500, 300, 700);
  EXPECT_NEAR(out.y, 11, 1);
  EXPECT_NEAR(out.u, 110, 1);
  EXPECT_EQ(out.v, 255);
  out = convert_flat(mapper, 400, 800, 200);
  EXPECT_NEAR(out.y, 38, 1);
  EXPECT_NEAR(out.u, 250, 1);
  EXPECT_NEAR(out.v, 61, 1);
  tone::InputFormat hlg;
  hlg.transfer = tone::Transfer::kHlg;
  out = convert_flat(tone::ToneMapper(hlg, tone::Settings{}), 500, 300, 700);
  EXPECT_NEAR(out.y, 67, 1);
  EXPECT_NEAR(out.u, 80, 1);
  EXPECT_NEAR(out.v, 223, 1);
}

// 100 cd/m² is linear 1.0 at the default reference white: the clip curve gives SDR white;
// with reference-white 200 the same grey is linear 0.5.
TEST(ToneMapper, ReferenceWhite) {
  tone::InputFormat pq;
  tone::Settings settings;
  settings.curve = tone::Curve::kClip;
  const uint16_t code_100 = 509;  // 64 + 876 * PQ^-1(100 cd/m²)
  EXPECT_NEAR(convert_flat(tone::ToneMapper(pq, settings), code_100, 512, 512).y, 235, 1);
  settings.reference_white = 200;
  EXPECT_NEAR(convert_flat(tone::ToneMapper(pq, settings), code_100, 512, 512).y, 16 + 219 * 0.7492,
              1);  // 0.5^(1/2.4)
}

TEST(ToneMapper, SdrInputIsConvertedWithoutToneMapping) {
  tone::InputFormat sdr;
  sdr.transfer = tone::Transfer::kSdr;
  sdr.primaries = tone::kBt709Primaries;
  sdr.kr = 0.2126;
  sdr.kb = 0.0722;
  const tone::ToneMapper mapper(sdr, tone::Settings{});
  for (uint16_t code : {64, 200, 502, 800, 940}) {
    const Yuv8 out = convert_flat(mapper, code, 512, 512);
    EXPECT_NEAR(out.y, 16 + (code - 64) / 4.0, 1) << code;
  }
  const Yuv8 red = convert_flat(mapper, 250, 408, 960);  // 10-bit BT.709 red-ish
  EXPECT_NEAR(red.y, 250 / 4.0, 1);
  EXPECT_NEAR(red.u, 102, 1);
  EXPECT_NEAR(red.v, 240, 1);
}

// The element: a flat PQ frame (I420_10LE and P010) in, I420 BT.709 out.
class HdrToneMapElement : public ::testing::TestWithParam<const char*> {};

TEST_P(HdrToneMapElement, FlatPqFrame) {
  const char* format = GetParam();
  constexpr int w = 64, h = 48;
  GstHarness* harness = gst_harness_new("hdrtonemap");
  ASSERT_NE(harness, nullptr);
  GRef<GstCaps> caps =
      adopt_ref(gst_caps_from_string((std::string("video/x-raw,format=") + format +
                                      ",width=64,height=48,framerate=25/1,colorimetry=bt2100-pq,"
                                      "content-light-level=(string)1000:400")
                                         .c_str()));
  gst_harness_set_src_caps(harness, gst_caps_ref(caps.get()));

  GstVideoInfo info;
  ASSERT_TRUE(gst_video_info_from_caps(&info, caps.get()));
  GstBuffer* in = gst_buffer_new_and_alloc(GST_VIDEO_INFO_SIZE(&info));
  {
    GstVideoFrame frame;
    ASSERT_TRUE(gst_video_frame_map(&frame, &info, in, GST_MAP_WRITE));
    // Whole planes of 16-bit words: Y 520, chroma (U and V, planar or interleaved) 512.
    for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES(&frame); plane++) {
      const int value = plane == 0 ? 520 : 512;
      const int shift = GST_VIDEO_FORMAT_INFO_SHIFT(info.finfo, plane);
      auto* data = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
      const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane);
      const int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, plane);
      const auto v = static_cast<uint16_t>(value << shift);
      for (int y = 0; y < rows; y++)
        for (int x = 0; x + 1 < stride; x += 2) std::memcpy(data + y * stride + x, &v, 2);
    }
    gst_video_frame_unmap(&frame);
  }
  GST_BUFFER_PTS(in) = 0;
  GST_BUFFER_DURATION(in) = GST_SECOND / 25;
  GRef<GstBuffer> out = adopt_ref(gst_harness_push_and_pull(harness, in));
  ASSERT_TRUE(out);

  GRef<GstCaps> out_caps = adopt_ref(gst_pad_get_current_caps(harness->sinkpad));
  ASSERT_TRUE(out_caps);
  GstVideoInfo out_info;
  ASSERT_TRUE(gst_video_info_from_caps(&out_info, out_caps.get()));
  EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&out_info), GST_VIDEO_FORMAT_I420);
  EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&out_info), w);
  EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&out_info), h);
  EXPECT_TRUE(gst_video_colorimetry_matches(&out_info.colorimetry, GST_VIDEO_COLORIMETRY_BT709))
      << gst_caps_to_string(out_caps.get());
  const GstStructure* s = gst_caps_get_structure(out_caps.get(), 0);
  EXPECT_FALSE(gst_structure_has_field(s, "content-light-level"));
  EXPECT_FALSE(gst_structure_has_field(s, "mastering-display-info"));

  GstVideoFrame frame;
  ASSERT_TRUE(gst_video_frame_map(&frame, &out_info, out.get(), GST_MAP_READ));
  const auto* y0 = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&frame, 0));
  const auto* u0 = static_cast<const uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(&frame, 1));
  // PQ 520 (limited range: 104 cd/m², linear 1.13) through hable with peak MaxCLL/100 = 10.
  EXPECT_NEAR(y0[0], 156, 2);
  EXPECT_NEAR(y0[(h - 1) * GST_VIDEO_FRAME_COMP_STRIDE(&frame, 0) + w - 1], 156, 2);
  EXPECT_NEAR(u0[0], 128, 1);
  gst_video_frame_unmap(&frame);
  gst_harness_teardown(harness);
}

INSTANTIATE_TEST_SUITE_P(Formats, HdrToneMapElement, ::testing::Values("I420_10LE", "P010_10LE"));
