// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/decoder_threads.h"

#include "common/gref.h"
#include "pipelines/cores.h"

namespace tws {

int decoder_threads(int width, int height, int cores) {
  constexpr int64_t kOneThreadPixels = 1920 * 1088;
  if (width <= 0 || height <= 0 || cores > 2) return 0;
  return int64_t(width) * height <= kOneThreadPixels ? 1 : 0;
}

// The caps event reaches the probe before the decoder: gst-libav reads max-threads when it
// opens the codec for new caps.
static GstPadProbeReturn on_decoder_event(GstPad* pad, GstPadProbeInfo* info, gpointer) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  int width = 0, height = 0;
  if (caps && gst_caps_get_size(caps) > 0) {
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(s, "width", &width);
    gst_structure_get_int(s, "height", &height);
  }
  GRef<GstElement> decoder = adopt_ref(gst_pad_get_parent_element(pad));
  if (decoder)
    g_object_set(decoder.get(), "max-threads", decoder_threads(width, height, available_cores()),
                 nullptr);
  return GST_PAD_PROBE_OK;
}

void limit_decoder_threads(GstElement* decoder) {
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(decoder), "max-threads")) return;
  GRef<GstPad> sink = adopt_ref(gst_element_get_static_pad(decoder, "sink"));
  if (sink)
    gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_decoder_event, nullptr,
                      nullptr);
}

}  // namespace tws
