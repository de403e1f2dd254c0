// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/geometry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "pipelines/source_info.h"

namespace tws {
namespace {

constexpr int kMaxSide = 4096;

// Nearest even integer, at least 2.
int even(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 2;
  const long long e = 2 * std::llround(v / 2);
  return static_cast<int>(std::max<long long>(2, e));
}

// Parses one side: decimal digits only, 1..4096. `name` is used in the message.
bool parse_side(const std::string& text, const std::string& whole, const char* name, int* out,
                std::string* error) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    *error = "Resolution \"" + whole + "\": the " + name +
             " must be a whole number (expected \"WIDTHx\", \"xHEIGHT\" or \"WIDTHxHEIGHT\")";
    return false;
  }
  const int v = std::stoi(text);
  if (v < 1 || v > kMaxSide) {
    *error = "Resolution \"" + whole + "\": the " + name + " must be 1.." +
             std::to_string(kMaxSide) + ", got " + text;
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

int VideoStreamInfo::display_width() const {
  const bool swap = rotation == 90 || rotation == 270;
  if (swap) return height;
  if (par_n > 0 && par_d > 0 && par_n != par_d)
    return static_cast<int>(std::llround(double(width) * par_n / par_d));
  return width;
}

int VideoStreamInfo::display_height() const {
  const bool swap = rotation == 90 || rotation == 270;
  if (!swap) return height;
  if (par_n > 0 && par_d > 0 && par_n != par_d)
    return static_cast<int>(std::llround(double(width) * par_n / par_d));
  return width;
}

bool parse_resolution(const std::string& text, ResolutionSpec* spec, std::string* error) {
  const size_t x = text.find_first_of("xX");
  if (x == std::string::npos || text.find_first_of("xX", x + 1) != std::string::npos) {
    *error = "Resolution \"" + text +
             "\": expected \"WIDTHx\", \"xHEIGHT\" or \"WIDTHxHEIGHT\" (e.g. \"1280x720\")";
    return false;
  }
  const std::string w = text.substr(0, x), h = text.substr(x + 1);
  if (w.empty() && h.empty()) {
    *error = "Resolution \"" + text + "\": neither a width nor a height is given";
    return false;
  }
  ResolutionSpec out;
  if (!w.empty() && !parse_side(w, text, "width", &out.width, error)) return false;
  if (!h.empty() && !parse_side(h, text, "height", &out.height, error)) return false;
  *spec = out;
  return true;
}

bool parse_scale_type(const std::string& text, ScaleType* type, std::string* error) {
  if (text == "stretch")
    *type = ScaleType::kStretch;
  else if (text == "fit")
    *type = ScaleType::kFit;
  else if (text == "fill")
    *type = ScaleType::kFill;
  else if (text == "crop")
    *type = ScaleType::kCrop;
  else {
    *error = "ScaleType \"" + text + "\": expected \"stretch\", \"fit\", \"fill\" or \"crop\"";
    return false;
  }
  return true;
}

OutputGeometry resolve_geometry(int src_w, int src_h, const ResolutionSpec& spec, ScaleType type,
                                bool adaptive) {
  const double sw = std::max(1, src_w), sh = std::max(1, src_h);
  double w = sw, h = sh;    // the encoded frame size (before even rounding)
  double pw = sw, ph = sh;  // the picture inside it
  if (spec.width > 0 && spec.height > 0) {
    double bw = spec.width, bh = spec.height;
    if (adaptive) {
      const double f = std::min({1.0, sw / bw, sh / bh});
      bw *= f;
      bh *= f;
    }
    w = pw = bw;
    h = ph = bh;
    switch (type) {
      case ScaleType::kStretch:
        break;
      case ScaleType::kFit:
      case ScaleType::kFill: {
        // The side that limits equals the box exactly; the other follows the aspect.
        if (bw / sw <= bh / sh) {
          pw = bw;
          ph = sh * bw / sw;
        } else {
          ph = bh;
          pw = sw * bh / sh;
        }
        if (type == ScaleType::kFit) {
          w = pw;
          h = ph;
        }
        break;
      }
      case ScaleType::kCrop:
        if (bw / sw >= bh / sh) {
          pw = bw;
          ph = sh * bw / sw;
        } else {
          ph = bh;
          pw = sw * bh / sh;
        }
        break;
    }
  } else if (spec.width > 0) {
    w = adaptive ? std::min<double>(spec.width, sw) : spec.width;
    h = sh * w / sw;
    pw = w;
    ph = h;
  } else if (spec.height > 0) {
    h = adaptive ? std::min<double>(spec.height, sh) : spec.height;
    w = sw * h / sh;
    pw = w;
    ph = h;
  }
  OutputGeometry g;
  g.width = even(w);
  g.height = even(h);
  g.picture_width = even(pw);
  g.picture_height = even(ph);
  if (adaptive) {
    // Rounding to even must not go above the source either (641 wide gives 640, not 642).
    const int max_w = std::max(2, src_w & ~1), max_h = std::max(2, src_h & ~1);
    g.width = std::min(g.width, max_w);
    g.height = std::min(g.height, max_h);
    g.picture_width = std::min(g.picture_width, max_w);
    g.picture_height = std::min(g.picture_height, max_h);
  }
  return g;
}

}  // namespace tws
