// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/media_init.h"

#include <gst/gst.h>

#include <mutex>

#include "elements.h"
#include "pipelines/media_only.h"

namespace tws {

void init_media() {
  static std::once_flag once;
  std::call_once(once, [] {
    gst_init(nullptr, nullptr);
    tws_elements_register_static();
    refuse_manifest_elements();
  });
}

}  // namespace tws
