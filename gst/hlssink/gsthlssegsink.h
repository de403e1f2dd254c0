// SPDX-License-Identifier: LGPL-2.1-or-later
// hlssegsink: a bin around hlssegmux that writes HLS, segments and a media playlist, to local
// paths or S3 objects (see the element documentation in gsthlssegsink.cpp).
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_HLS_SEG_SINK (gst_hls_seg_sink_get_type())
G_DECLARE_FINAL_TYPE(GstHlsSegSink, gst_hls_seg_sink, GST, HLS_SEG_SINK, GstBin)

#define GST_TYPE_HLS_SEG_SINK_PLAYLIST_TYPE (gst_hls_seg_sink_playlist_type_get_type())
GType gst_hls_seg_sink_playlist_type_get_type(void);

G_END_DECLS
