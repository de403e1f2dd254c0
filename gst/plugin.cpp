// SPDX-License-Identifier: LGPL-2.1-or-later
// libgsttws.so: the tws elements as a GStreamer plugin for gst-launch-1.0 and any app.
#include "elements.h"

static gboolean plugin_init(GstPlugin* plugin) { return tws_elements_plugin_init(plugin); }

GST_PLUGIN_DEFINE(
    GST_VERSION_MAJOR, GST_VERSION_MINOR, tws,
    "tws: transcode while streaming elements (rangesrc, hlssegmux, hlssegsink, hdrtonemap)",
    plugin_init, VERSION, "LGPL", "tws", "Unknown package origin")
