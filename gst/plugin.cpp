// SPDX-License-Identifier: LGPL-2.1-or-later
// libgsttws.so: the tws elements as a GStreamer plugin for gst-launch-1.0 and any app.
#include "elements.h"

static gboolean plugin_init(GstPlugin* plugin) { return tws_elements_plugin_init(plugin); }

// PACKAGE_ORIGIN: the package-origin meson option (by default the installed docs' file:// URL).
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, tws, TWS_PLUGIN_DESCRIPTION, plugin_init,
                  VERSION, "LGPL", PACKAGE, PACKAGE_ORIGIN)
