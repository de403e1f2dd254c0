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

// plugin_init of libgsttws.so and of the static registration.
gboolean tws_elements_plugin_init(GstPlugin* plugin);

G_END_DECLS
