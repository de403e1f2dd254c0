// SPDX-License-Identifier: LGPL-2.1-or-later
#include "tone_curve.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

namespace tws::tonemap {

namespace {

constexpr int kChunk = 256;  // pixels per pass: the scratch rows stay in L1

// SMPTE ST 2084 constants.
constexpr double kPqM1 = 2610.0 / 16384;
constexpr double kPqM2 = 2523.0 / 4096 * 128;
constexpr double kPqC1 = 3424.0 / 4096;
constexpr double kPqC2 = 2413.0 / 4096 * 32;
constexpr double kPqC3 = 2392.0 / 4096 * 32;
constexpr double kPqPeak = 10000.0;  // cd/m²

// ARIB STD-B67 constants.
constexpr double kHlgA = 0.17883277;
constexpr double kHlgB = 0.28466892;
constexpr double kHlgC = 0.55991073;

// BT.709 OETF constants (the precise ones zimg uses).
constexpr double kRec709Alpha = 1.09929682680944;
constexpr double kRec709Beta = 0.018053968510807;

// Output: BT.709 luma coefficients.
constexpr float kOutKr = 0.2126f, kOutKb = 0.0722f, kOutKg = 1.0f - kOutKr - kOutKb;

float hable(float in) {
  const float a = 0.15f, b = 0.50f, c = 0.10f, d = 0.20f, e = 0.02f, f = 0.30f;
  return (in * (in * a + b * c) + d * e) / (in * (in * a + b) + d * f) - e / f;
}

float mobius(float in, float j, float peak) {
  if (in <= j) return in;
  const float a = -j * j * (peak - 1.0f) / (j * j - 2.0f * j + peak);
  const float b = (j * j - 2.0f * j * peak + peak) / std::max(peak - 1.0f, 1e-6f);
  return (b * b + 2.0f * b * j + j * j) / (b - a) * (in + a) / (in + b);
}

using Matrix3d = std::array<double, 9>;

Matrix3d multiply(const Matrix3d& a, const Matrix3d& b) {
  Matrix3d r{};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 3; k++) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return r;
}

Matrix3d invert(const Matrix3d& m) {
  const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                     m[2] * (m[3] * m[7] - m[4] * m[6]);
  const double d = 1.0 / det;
  return {(m[4] * m[8] - m[5] * m[7]) * d, (m[2] * m[7] - m[1] * m[8]) * d,
          (m[1] * m[5] - m[2] * m[4]) * d, (m[5] * m[6] - m[3] * m[8]) * d,
          (m[0] * m[8] - m[2] * m[6]) * d, (m[2] * m[3] - m[0] * m[5]) * d,
          (m[3] * m[7] - m[4] * m[6]) * d, (m[1] * m[6] - m[0] * m[7]) * d,
          (m[0] * m[4] - m[1] * m[3]) * d};
}

// RGB -> CIE XYZ of a set of primaries (white Y = 1).
Matrix3d rgb_to_xyz(const Chromaticities& c) {
  auto xyz = [](double x, double y) { return std::array<double, 3>{x / y, 1.0, (1 - x - y) / y}; };
  const auto r = xyz(c.rx, c.ry), g = xyz(c.gx, c.gy), b = xyz(c.bx, c.by), w = xyz(c.wx, c.wy);
  const Matrix3d p{r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]};
  const Matrix3d pi = invert(p);
  double s[3];
  for (int i = 0; i < 3; i++) s[i] = pi[i * 3] * w[0] + pi[i * 3 + 1] * w[1] + pi[i * 3 + 2] * w[2];
  Matrix3d m{};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) m[i * 3 + j] = p[i * 3 + j] * s[j];
  return m;
}

inline unsigned sample(const uint8_t* row, int x, int pixel_stride, int shift, unsigned mask) {
  uint16_t v;  // little-endian words (all the formats hdrtonemap accepts are *_LE)
  std::memcpy(&v, row + x * pixel_stride, sizeof v);
  return (v >> shift) & mask;
}

inline const uint8_t* row_of(const InputPlane& p, int y) {
  return p.data + static_cast<std::ptrdiff_t>(y >> p.hsub) * p.stride;
}

// Nearest entry of a table over [0,1].
inline float lookup(const std::vector<float>& table, float v) {
  const float n = static_cast<float>(table.size() - 1);
  return table[static_cast<int>(std::min(std::max(v, 0.0f), 1.0f) * n + 0.5f)];
}

inline uint8_t to_u8(float v) { return static_cast<uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f)); }

}  // namespace

double pq_eotf(double e) {
  if (e <= 0) return 0;
  const double p = std::pow(std::min(e, 1.0), 1.0 / kPqM2);
  const double num = std::max(p - kPqC1, 0.0);
  return kPqPeak * std::pow(num / (kPqC2 - kPqC3 * p), 1.0 / kPqM1);
}

double hlg_inverse_oetf(double e) {
  e = std::max(e, 0.0);
  if (e <= 0.5) return e * e / 3.0;
  return (std::exp((e - kHlgC) / kHlgA) + kHlgB) / 12.0;
}

double bt709_oetf(double l) {
  if (l <= 0) return 0;
  if (l < kRec709Beta) return 4.5 * l;
  return kRec709Alpha * std::pow(l, 0.45) - (kRec709Alpha - 1);
}

double bt709_inverse_oetf(double v) {
  if (v <= 0) return 0;
  if (v < 4.5 * kRec709Beta) return v / 4.5;
  return std::pow((v + (kRec709Alpha - 1)) / kRec709Alpha, 1 / 0.45);
}

double bt1886_eotf(double v) { return v <= 0 ? 0 : std::pow(v, 2.4); }

double bt1886_inverse_eotf(double l) { return l <= 0 ? 0 : std::pow(l, 1 / 2.4); }

double default_param(Curve curve) {
  switch (curve) {
    case Curve::kMobius:
      return 0.3;
    case Curve::kReinhard:
      return 0.5;
    case Curve::kClip:
      return 1.0;
    case Curve::kHable:
      break;
  }
  return 0;
}

float map(Curve curve, float sig, float peak, float param) {
  switch (curve) {
    case Curve::kHable:
      return hable(sig) / hable(peak);
    case Curve::kMobius:
      return mobius(sig, param, peak);
    case Curve::kReinhard:
      return sig / (sig + param) * (peak + param) / peak;
    case Curve::kClip:
      return std::clamp(sig * param, 0.0f, 1.0f);
  }
  return sig;
}

Matrix3 primaries_matrix(const Chromaticities& from, const Chromaticities& to) {
  const Matrix3d m = multiply(invert(rgb_to_xyz(to)), rgb_to_xyz(from));
  Matrix3 r;
  for (int i = 0; i < 9; i++) r[i] = static_cast<float>(m[i]);
  return r;
}

ToneMapper::ToneMapper(const InputFormat& input, const Settings& settings)
    : input_(input), settings_(settings) {
  param_ = static_cast<float>(default_param(settings.curve));
  peak_ = static_cast<float>(settings.peak > 0 ? settings.peak : kDefaultPeak);
  if (settings.curve == Curve::kHable) curve_norm_ = 1.0f / hable(peak_);
  primaries_ = primaries_matrix(input.primaries, kBt709Primaries);

  kr_ = static_cast<float>(input.kr);
  kb_ = static_cast<float>(input.kb);
  kg_ = 1.0f - kr_ - kb_;
  cr_to_r_ = 2.0f * (1.0f - kr_);
  cb_to_b_ = 2.0f * (1.0f - kb_);
  cb_to_g_ = -2.0f * kb_ * (1.0f - kb_) / kg_;
  cr_to_g_ = -2.0f * kr_ * (1.0f - kr_) / kg_;

  const double codes = std::ldexp(1.0, input.depth);
  const double unit = std::ldexp(1.0, input.depth - 8);  // one 8-bit step in codes
  if (input.full_range) {
    luma_scale_ = static_cast<float>(1 / (codes - 1));
    luma_offset_ = 0;
    chroma_scale_ = luma_scale_;
    chroma_offset_ = static_cast<float>(-(codes / 2) / (codes - 1));
  } else {
    luma_scale_ = static_cast<float>(1 / (219 * unit));
    luma_offset_ = static_cast<float>(-16.0 / 219);
    chroma_scale_ = static_cast<float>(1 / (224 * unit));
    chroma_offset_ = static_cast<float>(-128.0 / 224);
  }

  const double white = settings.reference_white > 0 ? settings.reference_white : 100.0;
  linear_.resize(kLinearLutSize);
  for (int i = 0; i < kLinearLutSize; i++) {
    const double e = i / double(kLinearLutSize - 1);
    switch (input.transfer) {
      case Transfer::kPq:
        linear_[i] = static_cast<float>(pq_eotf(e) / white);
        break;
      case Transfer::kHlg:
        // OOTF with gamma 1.2 for a 1000 cd/m² display, applied per component as zimg
        // (ffmpeg's zscale) does, not on the luminance as BT.2100 writes it: matching the
        // reference chain matters more here than the small hue shift on saturated colours.
        linear_[i] =
            static_cast<float>(kHlgDisplayPeak / white * std::pow(hlg_inverse_oetf(e), 1.2));
        break;
      case Transfer::kSdr:
        linear_[i] = static_cast<float>(bt1886_eotf(e));
        break;
    }
  }
  gamma_.resize(kOetfLutSize);
  for (int i = 0; i < kOetfLutSize; i++) {
    const double t = i / double(kOetfLutSize - 1);
    gamma_[i] = static_cast<float>(bt1886_inverse_eotf(kOetfMax * t * t));
  }
}

// Each table pass computes indices in one loop (vectorised) and loads in another: a loop
// mixing both stays scalar without AVX2 gathers.
void ToneMapper::to_linear(float* r, float* g, float* b, int n) const {
  constexpr float scale = kLinearLutSize - 1;
  int index[kChunk];
  const float* table = linear_.data();
  for (float* c : {r, g, b}) {
    for (int i = 0; i < n; i++) {
      float v = c[i];  // ternaries on values, not std::min/max: they vectorise (minps/maxps)
      v = v > 0.0f ? v : 0.0f;
      v = v < 1.0f ? v : 1.0f;
      index[i] = static_cast<int>(v * scale + 0.5f);
    }
    for (int i = 0; i < n; i++) c[i] = table[index[i]];
  }
  const Matrix3& m = primaries_;
  for (int i = 0; i < n; i++) {
    const float lr = r[i], lg = g[i], lb = b[i];
    r[i] = m[0] * lr + m[1] * lg + m[2] * lb;
    g[i] = m[3] * lr + m[4] * lg + m[5] * lb;
    b[i] = m[6] * lr + m[7] * lg + m[8] * lb;
  }
}

template <Curve kCurve>
void ToneMapper::tone_map(float* r, float* g, float* b, int n) const {
  const float peak = peak_, param = param_, norm = curve_norm_;
  for (int i = 0; i < n; i++) {
    const float sig = std::max(std::max(r[i], g[i]), std::max(b[i], 1e-6f));
    float mapped;
    if constexpr (kCurve == Curve::kHable)
      mapped = hable(sig) * norm;
    else
      mapped = map(kCurve, sig, peak, param);
    const float k = mapped / sig;
    r[i] *= k;
    g[i] *= k;
    b[i] *= k;
  }
}

void ToneMapper::tone_map_row(float* r, float* g, float* b, int n) const {
  if (input_.transfer == Transfer::kSdr) return;
  if (settings_.desat > 0) {
    // ffmpeg's desaturation of overbright pixels towards their luma.
    const float desat = static_cast<float>(settings_.desat);
    for (int i = 0; i < n; i++) {
      const float luma = kOutKr * r[i] + kOutKg * g[i] + kOutKb * b[i];
      const float over = std::max(luma - desat, 1e-6f) / std::max(luma, 1e-6f);
      r[i] = r[i] * (1 - over) + luma * over;
      g[i] = g[i] * (1 - over) + luma * over;
      b[i] = b[i] * (1 - over) + luma * over;
    }
  }
  switch (settings_.curve) {
    case Curve::kHable:
      return tone_map<Curve::kHable>(r, g, b, n);
    case Curve::kMobius:
      return tone_map<Curve::kMobius>(r, g, b, n);
    case Curve::kReinhard:
      return tone_map<Curve::kReinhard>(r, g, b, n);
    case Curve::kClip:
      return tone_map<Curve::kClip>(r, g, b, n);
  }
}

void ToneMapper::to_gamma(float* r, float* g, float* b, int n) const {
  // Odd-symmetric, as zimg's is: an out-of-gamut (negative) component stays negative and
  // pulls Y' down / pushes the chroma out, instead of clipping to 0.
  constexpr float inv = 1.0f / kOetfMax;
  constexpr float scale = kOetfLutSize - 1;
  int index[kChunk];
  const float* table = gamma_.data();
  for (float* c : {r, g, b}) {
    for (int i = 0; i < n; i++) {
      float v = std::fabs(c[i]) * inv;
      v = v < 1.0f ? v : 1.0f;
      index[i] = static_cast<int>(std::sqrt(v) * scale + 0.5f);
    }
    for (int i = 0; i < n; i++) c[i] = std::copysign(table[index[i]], c[i]);
  }
}

std::array<float, 3> ToneMapper::rgb(int y, int cb, int cr) const {
  const float yn = static_cast<float>(y) * luma_scale_ + luma_offset_;
  const float u = static_cast<float>(cb) * chroma_scale_ + chroma_offset_;
  const float v = static_cast<float>(cr) * chroma_scale_ + chroma_offset_;
  float r = yn + cr_to_r_ * v, g = yn + cb_to_g_ * u + cr_to_g_ * v, b = yn + cb_to_b_ * u;
  to_linear(&r, &g, &b, 1);
  tone_map_row(&r, &g, &b, 1);
  to_gamma(&r, &g, &b, 1);
  return {r, g, b};
}

namespace {

// Code values of `n` pixels from x0 of one row of a component, chroma repeated over the
// pixels it covers (nearest sample).
void unpack(const InputPlane& p, const uint8_t* row, int x0, int n, unsigned mask, uint16_t* out) {
  // Fast paths (planar, LSB-aligned, 4:2:x): plain loads the compiler vectorises.
  if (p.pixel_stride == 2 && p.shift == 0 && p.wsub == 0) {
    for (int i = 0; i < n; i++) out[i] = static_cast<uint16_t>(sample(row, x0 + i, 2, 0, mask));
    return;
  }
  if (p.pixel_stride == 2 && p.shift == 0 && p.wsub == 1 && x0 % 2 == 0) {
    const uint8_t* half = row + x0;  // sample x0 / 2
    for (int i = 0; i < n / 2; i++) {
      const auto v = static_cast<uint16_t>(sample(half, i, 2, 0, mask));
      out[2 * i] = v;
      out[2 * i + 1] = v;
    }
    if (n % 2) out[n - 1] = static_cast<uint16_t>(sample(half, n / 2, 2, 0, mask));
    return;
  }
  for (int i = 0; i < n; i++)
    out[i] = static_cast<uint16_t>(sample(row, (x0 + i) >> p.wsub, p.pixel_stride, p.shift, mask));
}

}  // namespace

void ToneMapper::convert(const InputPlane (&in)[3], const OutputPlanes& out, int width, int height,
                         int row_begin, int row_end) const {
  const unsigned mask = (1u << input_.depth) - 1;
  alignas(64) float rgb_rows[2][3][kChunk];  // R, G, B of the chunk in two rows
  alignas(64) uint16_t codes[3][kChunk];
  constexpr float kCb = 224.0f / (2.0f * (1.0f - kOutKb));
  constexpr float kCr = 224.0f / (2.0f * (1.0f - kOutKr));

  for (int y = row_begin; y < row_end; y += 2) {
    const int rows = std::min(2, height - y);
    for (int x0 = 0; x0 < width; x0 += kChunk) {
      const int n = std::min(kChunk, width - x0);
      for (int dy = 0; dy < rows; dy++) {
        const int py = y + dy;
        float* r = rgb_rows[dy][0];
        float* g = rgb_rows[dy][1];
        float* b = rgb_rows[dy][2];
        for (int c = 0; c < 3; c++) unpack(in[c], row_of(in[c], py), x0, n, mask, codes[c]);
        for (int i = 0; i < n; i++) {
          const float yn = static_cast<float>(codes[0][i]) * luma_scale_ + luma_offset_;
          const float u = static_cast<float>(codes[1][i]) * chroma_scale_ + chroma_offset_;
          const float v = static_cast<float>(codes[2][i]) * chroma_scale_ + chroma_offset_;
          r[i] = yn + cr_to_r_ * v;
          g[i] = yn + cb_to_g_ * u + cr_to_g_ * v;
          b[i] = yn + cb_to_b_ * u;
        }
        to_linear(r, g, b, n);
        tone_map_row(r, g, b, n);
        to_gamma(r, g, b, n);
        uint8_t* out_y = out.y + static_cast<std::ptrdiff_t>(py) * out.y_stride + x0;
        for (int i = 0; i < n; i++)
          out_y[i] = to_u8(16.0f + 219.0f * (kOutKr * r[i] + kOutKg * g[i] + kOutKb * b[i]));
      }
      uint8_t* out_u = out.u + static_cast<std::ptrdiff_t>(y / 2) * out.u_stride + x0 / 2;
      uint8_t* out_v = out.v + static_cast<std::ptrdiff_t>(y / 2) * out.v_stride + x0 / 2;
      if (rows == 1) {  // odd height: the last chroma row covers one luma row
        for (int c = 0; c < 3; c++)
          std::memcpy(rgb_rows[1][c], rgb_rows[0][c], sizeof rgb_rows[0][c]);
      }
      if (n % 2) {  // odd width: the last chroma column covers one luma column
        for (int dy = 0; dy < 2; dy++)
          for (int c = 0; c < 3; c++) rgb_rows[dy][c][n] = rgb_rows[dy][c][n - 1];
      }
      for (int i = 0; i < (n + 1) / 2; i++) {
        float avg[3];
        for (int c = 0; c < 3; c++)
          avg[c] = 0.25f * (rgb_rows[0][c][2 * i] + rgb_rows[0][c][2 * i + 1] +
                            rgb_rows[1][c][2 * i] + rgb_rows[1][c][2 * i + 1]);
        const float luma = kOutKr * avg[0] + kOutKg * avg[1] + kOutKb * avg[2];
        out_u[i] = to_u8(128.0f + kCb * (avg[2] - luma));
        out_v[i] = to_u8(128.0f + kCr * (avg[0] - luma));
      }
    }
  }
}

}  // namespace tws::tonemap
