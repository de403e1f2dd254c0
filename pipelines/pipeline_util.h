// Small helpers shared by the per-request pipelines: element creation with clear errors,
// exact time conversions on the output grids, encoder set-up.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>

#include "pipelines/plan.h"
#include "pipelines/segment_job.h"
#include "pipelines/target.h"

namespace tws {

// A new element (floating reference: hand it to gst_bin_add) or nullptr with *error set.
GstElement* make_element(const char* factory, const char* name, std::string* error);

// Links src's "src" pad to a new request pad of `mux` from pad template `templ`.
bool link_to_request_pad(GstElement* src, GstElement* mux, const char* templ);

// A non-live, blocking, TIME-format appsrc holding at most `max_bytes`.
void configure_appsrc(GstElement* appsrc, GstCaps* caps, guint64 max_bytes);

// x264enc / x265enc set up from the target (CRF or bitrate, VBV, B-frames, refs, preset),
// with the GOP left open until the next forced IDR at a segment boundary.
GstElement* make_video_encoder(const VideoTarget& video, const Plan& plan, std::string* error);

uint64_t frames_to_ns(int64_t frames, const Rate& rate);
uint64_t samples_to_ns(int64_t samples, int rate);
// Exact decimal seconds, e.g. "2.002000000" (the hlssegmux boundary format).
std::string ns_to_seconds(uint64_t ns);

// The fields of hlssegmux's "hlssegmux-segment-end" event.
SegmentReport report_from_structure(const GstStructure* s);

// "element: message (debug)" of an ERROR/WARNING message, one line.
std::string describe_message(GstMessage* message);

}  // namespace tws
