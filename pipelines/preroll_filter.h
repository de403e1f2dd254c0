// SPDX-License-Identifier: LGPL-2.1-or-later
// Drops, before the decoder, the compressed frames of the pre-roll that nothing refers to.
//
// A segment made alone decodes from the keyframe before its start (DESIGN.md "Producing
// segment k alone"); the frames before the start are decoded only because later frames refer
// to them, then dropped. A frame no other frame refers to (an H.264 access unit whose slices
// all have nal_ref_idc 0: most B-frames) that ends before the start is needed by nobody: it is
// dropped undecoded. The decoder's output is the same, minus frames it would have clipped.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tws {

// True when the H.264 access unit has at least one slice and no slice is a reference
// (nal_ref_idc 0 on every VCL NAL unit). nal_length_size: 1-4 for stream-format avc (the NAL
// length prefix from avcC), 0 for byte-stream (start codes).
bool h264_access_unit_unreferenced(const uint8_t* data, size_t size, int nal_length_size);

// Installs the filter on the sink pad of `decoder` (an H.264 video decoder; any other caps
// leave it passing everything). `dropped` (optional) counts the frames dropped.
void drop_unreferenced_preroll(GstElement* decoder, std::atomic<int64_t>* dropped);

}  // namespace tws
