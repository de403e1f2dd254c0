// SPDX-License-Identifier: LGPL-2.1-or-later
// late_pads: which containers are decoded with parsebin, and the decoder taken for a parsed
// stream: one whose pad accepts its caps. (The FLV sources of the upload matrix run the whole
// path: test_upload_matrix.py, web_flv_h264 and web_flv1_mp3.)
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>

#include "common/gref.h"
#include "pipelines/late_pads.h"

namespace tws {
namespace {

GRef<GstCaps> caps(const char* text) { return adopt_ref(gst_caps_from_string(text)); }

std::string factory_of(const GRef<GstElement>& element) {
  if (!element) return "";
  return GST_OBJECT_NAME(gst_element_get_factory(element.get()));
}

TEST(LatePads, FlvIsDecodedPadByPad) {
  EXPECT_TRUE(adds_pads_late(caps("video/x-flv").get()));
  EXPECT_FALSE(adds_pads_late(caps("video/quicktime, variant=iso").get()));
  EXPECT_FALSE(adds_pads_late(caps("video/x-matroska").get()));
  EXPECT_FALSE(adds_pads_late(nullptr));
}

TEST(LatePads, TheDecoderTakenAcceptsTheCaps) {
  const GRef<GstCaps> mp3 = caps(
      "audio/mpeg, mpegversion=(int)1, mpegaudioversion=(int)1, layer=(int)3, rate=(int)44100, "
      "channels=(int)2, parsed=(boolean)true");
  GRef<GstElement> decoder = make_decoder_for(mp3.get());
  ASSERT_TRUE(decoder) << "no MP3 decoder";
  GRef<GstPad> sink = adopt_ref(gst_element_get_static_pad(decoder.get(), "sink"));
  EXPECT_TRUE(gst_pad_query_accept_caps(sink.get(), mp3.get())) << factory_of(decoder);

  const GRef<GstCaps> h264 = caps(
      "video/x-h264, stream-format=(string)avc, alignment=(string)au, width=(int)320, "
      "height=(int)240, framerate=(fraction)25/1, parsed=(boolean)true, "
      "codec_data=(buffer)0164000dffe1001a6764000dacd94141fb011000000300100000030320f1429960"
      "01000568ebecb22c");
  EXPECT_EQ(factory_of(make_decoder_for(h264.get())), "avdec_h264");
  EXPECT_FALSE(make_decoder_for(caps("application/x-no-such-codec").get()));
  EXPECT_FALSE(make_decoder_for(nullptr));
}

}  // namespace
}  // namespace tws
