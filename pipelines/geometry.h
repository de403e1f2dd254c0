// SPDX-License-Identifier: LGPL-2.1-or-later
// Output picture geometry: Resolution ("1280x", "x720", "1280x720") and ScaleType applied to a
// source's display size, with *Option adaptive (never above the source). Pure functions.
#pragma once

#include <string>

#include "pipelines/target.h"

namespace tws {

struct ResolutionSpec {
  int width = 0;   // 0: not given
  int height = 0;  // 0: not given
};

// Parses "1280x", "x720", "1280x720"; each side 1..4096. Returns false with the reason.
bool parse_resolution(const std::string& text, ResolutionSpec* spec, std::string* error);

// Parses "stretch" | "fit" | "fill" | "crop".
bool parse_scale_type(const std::string& text, ScaleType* type, std::string* error);

struct OutputGeometry {
  int width = 0, height = 0;                  // the encoded frame size, even
  int picture_width = 0, picture_height = 0;  // the scaled source picture: equal to width/height
                                              // except kFill (smaller: padded) and kCrop (larger:
                                              // cropped), each even
};

// src_w/src_h: the source's display size (square pixels, rotation applied).
// adaptive: the requested box shrinks (keeping its shape) so that it is never above the source.
OutputGeometry resolve_geometry(int src_w, int src_h, const ResolutionSpec& spec, ScaleType type,
                                bool adaptive);

}  // namespace tws
