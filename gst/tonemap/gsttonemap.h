// SPDX-License-Identifier: LGPL-2.1-or-later
// hdrtonemap: 10/12-bit PQ or HLG (BT.2020) video in, 8-bit BT.709 SDR I420 out, tone mapped
// as ffmpeg's zscale + tonemap chain does (see the element documentation in gsttonemap.cpp).
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_HDR_TONE_MAP (gst_hdr_tone_map_get_type())
G_DECLARE_FINAL_TYPE(GstHdrToneMap, gst_hdr_tone_map, GST, HDR_TONE_MAP, GstVideoFilter)

#define GST_TYPE_HDR_TONE_MAP_CURVE (gst_hdr_tone_map_curve_get_type())
GType gst_hdr_tone_map_curve_get_type(void);

G_END_DECLS
