// SPDX-License-Identifier: LGPL-2.1-or-later
// Element registration of the tws plugin (GstRegistry entries: rangesrc, hlssegmux,
// hlssegsink, hdrtonemap).
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE(rangesrc);
GST_ELEMENT_REGISTER_DECLARE(hlssegmux);
GST_ELEMENT_REGISTER_DECLARE(hdrtonemap);
GST_ELEMENT_REGISTER_DECLARE(hlssegsink);

// Registers every tws element with the default registry, once per process, as a static
// plugin: for the tws binary and the tests, which must not depend on GST_PLUGIN_PATH.
void tws_elements_register_static(void);

// The plugin's description (gst-inspect-1.0 tws), the same for libgsttws.so and the static
// registration.
#define TWS_PLUGIN_DESCRIPTION                                                                \
  "Transcode while streaming: a byte-range source over files, S3 and HTTP(S) (rangesrc), an " \
  "HLS segment muxer (hlssegmux) and sink (hlssegsink), an HDR to SDR tone mapper "           \
  "(hdrtonemap)"

// plugin_init of libgsttws.so and of the static registration.
gboolean tws_elements_plugin_init(GstPlugin* plugin);

G_END_DECLS
