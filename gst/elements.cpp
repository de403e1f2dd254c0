// SPDX-License-Identifier: LGPL-2.1-or-later
#include "elements.h"

#include <mutex>

gboolean tws_elements_plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(rangesrc, plugin);
  ok |= GST_ELEMENT_REGISTER(hlssegmux, plugin);
  ok |= GST_ELEMENT_REGISTER(hlssegsink, plugin);
  ok |= GST_ELEMENT_REGISTER(hdrtonemap, plugin);
  return ok;
}

void tws_elements_register_static(void) {
  static std::once_flag once;
  std::call_once(once, [] {
    gst_plugin_register_static(GST_VERSION_MAJOR, GST_VERSION_MINOR, "tws", TWS_PLUGIN_DESCRIPTION,
                               tws_elements_plugin_init, VERSION, "LGPL", PACKAGE, PACKAGE,
                               PACKAGE_ORIGIN);
  });
}
