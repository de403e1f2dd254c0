// SPDX-License-Identifier: LGPL-2.1-or-later
// decoder_threads' policy, and limit_decoder_threads on a real avdec_h264: the caps event sets
// max-threads before the decoder opens the codec with them.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "common/gref.h"
#include "pipelines/decoder_threads.h"

namespace tws {
namespace {

TEST(DecoderThreads, OneThreadUpTo1080pOnTwoCores) {
  EXPECT_EQ(decoder_threads(1920, 1080, 2), 1);
  EXPECT_EQ(decoder_threads(1920, 1088, 1), 1);
  EXPECT_EQ(decoder_threads(720, 576, 2), 1);
  EXPECT_EQ(decoder_threads(1080, 1920, 2), 1);  // portrait
}

TEST(DecoderThreads, DecoderChoosesForBiggerSourcesMoreCoresOrUnknownSize) {
  EXPECT_EQ(decoder_threads(3840, 2160, 2), 0);
  EXPECT_EQ(decoder_threads(2560, 1440, 2), 0);
  EXPECT_EQ(decoder_threads(1920, 1080, 4), 0);
  EXPECT_EQ(decoder_threads(0, 0, 2), 0);
}

int max_threads_after_caps(const char* caps) {
  GstHarness* h = gst_harness_new("avdec_h264");
  gint threads = -1;
  {
    GRef<GstElement> decoder = adopt_ref(gst_harness_find_element(h, "avdec_h264"));
    g_object_set(decoder.get(), "max-threads", 7, nullptr);  // the probe must replace it
    limit_decoder_threads(decoder.get());
    gst_harness_set_src_caps_str(h, caps);
    g_object_get(decoder.get(), "max-threads", &threads, nullptr);
  }
  gst_harness_teardown(h);
  return threads;
}

TEST(DecoderThreads, CapsEventSetsMaxThreads) {
  const int cores = int(g_get_num_processors());
  EXPECT_EQ(max_threads_after_caps("video/x-h264,stream-format=byte-stream,alignment=au,"
                                   "width=1280,height=720,framerate=25/1"),
            decoder_threads(1280, 720, cores));
  EXPECT_EQ(max_threads_after_caps("video/x-h264,stream-format=byte-stream,alignment=au,"
                                   "width=3840,height=2160,framerate=25/1"),
            0);
}

}  // namespace
}  // namespace tws
