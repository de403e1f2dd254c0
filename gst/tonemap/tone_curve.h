// SPDX-License-Identifier: LGPL-2.1-or-later
// HDR (PQ/HLG) to SDR BT.709 conversion maths of hdrtonemap, free of GStreamer so the unit
// tests and benchmarks can use it: transfer functions, tone curves, and a LUT-driven
// converter from 10/12-bit Y'CbCr planes to 8-bit BT.709 I420.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace tws::tonemap {

// The tone curves of ffmpeg's vf_tonemap (libavfilter/vf_tonemap.c), same formulas.
enum class Curve {
  kHable,     // John Hable's filmic curve (Uncharted 2), normalised so peak maps to 1
  kMobius,    // linear up to param (0.3), then a Möbius transform reaching 1 at peak
  kReinhard,  // sig / (sig + param) (param 0.5), scaled so peak maps to 1
  kClip,      // hard clip at 1 (reference white), no tone mapping
};

enum class Transfer {
  kSdr,  // BT.709/BT.601/BT.2020 SDR: linearised with the BT.1886 EOTF, no tone mapping
  kPq,   // SMPTE ST 2084 (absolute: 10000 cd/m² at code 1.0)
  kHlg,  // ARIB STD-B67 with an OOTF (gamma 1.2, per component) for a 1000 cd/m² display
};

// CIE 1931 xy of the red, green, blue primaries and the white point.
struct Chromaticities {
  double rx, ry, gx, gy, bx, by, wx, wy;
};
inline constexpr Chromaticities kBt709Primaries{0.640, 0.330, 0.300,  0.600,
                                                0.150, 0.060, 0.3127, 0.3290};
inline constexpr Chromaticities kBt2020Primaries{0.708, 0.292, 0.170,  0.797,
                                                 0.131, 0.046, 0.3127, 0.3290};

// Default signal peak (in units of reference white) when nothing tells the real one: what
// ffmpeg's tonemap computes for a linear-light frame without HDR side data (1000 cd/m²).
inline constexpr double kDefaultPeak = 10.0;
// Peak luminance of the display the HLG OOTF is computed for, as zimg does (cd/m²).
inline constexpr double kHlgDisplayPeak = 1000.0;

// SMPTE ST 2084 EOTF: normalised code value [0,1] -> luminance in cd/m² [0,10000].
double pq_eotf(double e);
// ARIB STD-B67 inverse OETF: normalised code value [0,1] -> scene light [0,1].
double hlg_inverse_oetf(double e);
// BT.709 OETF (scene linear [0,1] -> code [0,1]) and its inverse; negative input gives 0.
double bt709_oetf(double l);
double bt709_inverse_oetf(double v);
// BT.1886 EOTF of an ideal display (V^2.4) and its inverse (L^(1/2.4)): the display-referred
// SDR transfer that zimg (ffmpeg's zscale) uses for "bt709", and so does hdrtonemap.
double bt1886_eotf(double v);
double bt1886_inverse_eotf(double l);

// The curve's own parameter when none is given (ffmpeg's defaults): mobius 0.3,
// reinhard 0.5, clip 1.0, hable unused.
double default_param(Curve curve);
// Maps the brightest component `sig` (linear, 1.0 = reference white) of a pixel with signal
// peak `peak` as vf_tonemap does; the pixel is then scaled by map() / sig.
float map(Curve curve, float sig, float peak, float param);

using Matrix3 = std::array<float, 9>;  // row-major
// Linear-light conversion matrix between two RGB spaces (no chromatic adaptation: both
// use D65 here).
Matrix3 primaries_matrix(const Chromaticities& from, const Chromaticities& to);

struct Settings {
  Curve curve = Curve::kHable;
  double peak = kDefaultPeak;    // signal peak in units of reference white (> 0)
  double reference_white = 100;  // cd/m² mapped to SDR 1.0 (zscale's npl)
  double desat = 0;              // ffmpeg's desat: 0 off
};

// The input Y'CbCr signal.
struct InputFormat {
  Transfer transfer = Transfer::kPq;
  Chromaticities primaries = kBt2020Primaries;
  double kr = 0.2627, kb = 0.0593;  // matrix (BT.2020 non-constant luminance by default)
  bool full_range = false;
  int depth = 10;  // bits per sample
};

// One input component: samples of `depth` bits stored in 16-bit little-endian words,
// shifted left by `shift` (6 for P010), `pixel_stride` bytes apart, subsampled by
// 2^wsub x 2^hsub.
struct InputPlane {
  const uint8_t* data = nullptr;
  int stride = 0;        // bytes per row
  int pixel_stride = 2;  // bytes per sample
  int shift = 0;
  int wsub = 0, hsub = 0;
};

// 8-bit I420 output planes.
struct OutputPlanes {
  uint8_t* y = nullptr;
  int y_stride = 0;
  uint8_t* u = nullptr;
  int u_stride = 0;
  uint8_t* v = nullptr;
  int v_stride = 0;
};

// Converts frames of one input format with precomputed tables, row by row in passes the
// compiler vectorises: Y'CbCr -> R'G'B' (input matrix), R' -> linear light (table over a
// fine grid; HLG: OOTF included), primaries (matrix), tone curve (rational functions, no
// pow), linear -> BT.709 R' by the inverse BT.1886 EOTF (table on a square-root grid, fine
// near black). Output: BT.709 matrix, limited range, 8 bits, chroma averaged over each 2x2
// block in R'G'B'; input chroma is taken from the nearest sample. Immutable after
// construction: convert() may run on several threads at once (on separate rows).
class ToneMapper {
 public:
  ToneMapper(const InputFormat& input, const Settings& settings);

  // Converts luma rows [row_begin, row_end) of a width x height picture (row_begin even;
  // row_end even or height).
  void convert(const InputPlane (&in)[3], const OutputPlanes& out, int width, int height,
               int row_begin, int row_end) const;

  // One pixel from code values, as convert() computes it: BT.709 R'G'B' (0..1, may exceed 1).
  std::array<float, 3> rgb(int y, int cb, int cr) const;

 private:
  static constexpr int kLinearLutSize = 16384;  // R' in [0,1]
  static constexpr int kOetfLutSize = 16384;    // sqrt(linear / kOetfMax) in [0,1]
  static constexpr float kOetfMax = 2.0f;       // linear light above this clips

  // The passes over one row of n pixels, in place on planar R, G, B.
  void to_linear(float* r, float* g, float* b, int n) const;
  template <Curve kCurve>
  void tone_map(float* r, float* g, float* b, int n) const;
  void tone_map_row(float* r, float* g, float* b, int n) const;
  void to_gamma(float* r, float* g, float* b, int n) const;

  InputFormat input_;
  Settings settings_;
  float param_ = 0;
  float peak_ = 0;
  float curve_norm_ = 1;  // hable: 1 / hable(peak)
  Matrix3 primaries_{};   // input primaries -> BT.709, linear light
  float kr_, kg_, kb_;    // input luma coefficients
  float cr_to_r_, cb_to_g_, cr_to_g_, cb_to_b_;
  float luma_scale_, luma_offset_, chroma_scale_, chroma_offset_;  // code -> normalised
  std::vector<float> linear_;  // R' -> linear light, 1.0 = reference white
  std::vector<float> gamma_;   // sqrt(linear / kOetfMax) -> R'
};

}  // namespace tws::tonemap
