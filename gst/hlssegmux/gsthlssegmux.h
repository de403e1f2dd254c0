// SPDX-License-Identifier: LGPL-2.1-or-later
// hlssegmux: encoded H.264/H.265 + ADTS AAC in, MPEG-TS HLS segments out, cut at planned
// boundaries, or at the first keyframe after each unless strict (see the element documentation
// in gsthlssegmux.cpp).
#pragma once

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

G_BEGIN_DECLS

#define GST_TYPE_HLS_SEG_MUX (gst_hls_seg_mux_get_type())
G_DECLARE_FINAL_TYPE(GstHlsSegMux, gst_hls_seg_mux, GST, HLS_SEG_MUX, GstAggregator)

G_END_DECLS

namespace tws {

// Parses "0,2,4.5,30.000000001" (seconds, up to 9 fractional digits) exactly into
// nanoseconds. Values must be non-negative and strictly increasing. Empty string: empty list.
// std::nullopt on a syntax error or a value out of order.
std::optional<std::vector<uint64_t>> parse_boundaries(const std::string& text);

// Audio boundary of video boundary `ns` at `rate` Hz: round(ns * rate / 1024 s) * 1024
// samples, rounding half up, in exact integer arithmetic.
uint64_t audio_boundary_samples(uint64_t ns, uint32_t rate);

}  // namespace tws
