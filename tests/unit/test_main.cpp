// SPDX-License-Identifier: LGPL-2.1-or-later
// gtest main: GStreamer initialised once, the tws elements registered statically.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "elements.h"

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  tws_elements_register_static();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
