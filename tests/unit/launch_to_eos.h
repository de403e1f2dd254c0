// SPDX-License-Identifier: LGPL-2.1-or-later
// Runs a gst-launch description to its end, for tests that make their media in-process.
#pragma once

#include <gst/gst.h>

#include <string>

#include "common/gref.h"

namespace tws {

// Plays `launch` until EOS; false when it does not parse, posts an error or takes more than
// a minute.
inline bool launch_to_eos(const std::string& launch) {
  GError* err = nullptr;
  GRef<GstElement> pipeline = adopt_ref(gst_parse_launch(launch.c_str(), &err));
  if (err) g_error_free(err);
  if (!pipeline || err) return false;
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  GRef<GstBus> bus = adopt_ref(gst_pipeline_get_bus(GST_PIPELINE(pipeline.get())));
  GRef<GstMessage> msg = adopt_ref(gst_bus_timed_pop_filtered(
      bus.get(), 60 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS;
}

}  // namespace tws
