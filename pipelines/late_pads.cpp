// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/late_pads.h"

#include <utility>

namespace tws {

bool adds_pads_late(const GstCaps* container) {
  if (!container || gst_caps_is_empty(container) || gst_caps_is_any(container)) return false;
  return gst_structure_has_name(gst_caps_get_structure(container, 0), "video/x-flv");
}

GRef<GstElement> make_decoder_for(const GstCaps* caps) {
  if (!caps) return {};
  GList* decoders =
      gst_element_factory_list_get_elements(GST_ELEMENT_FACTORY_TYPE_DECODER, GST_RANK_MARGINAL);
  GList* fitting = gst_element_factory_list_filter(decoders, caps, GST_PAD_SINK, FALSE);
  fitting = g_list_sort(fitting, gst_plugin_feature_rank_compare_func);
  // A template that intersects the caps is not enough (avdec_mp1float's takes any MPEG-1
  // audio layer and then refuses layer 3): the pad must accept them, as decodebin3 checks.
  GRef<GstElement> decoder;
  for (GList* f = fitting; f && !decoder; f = f->next) {
    GRef<GstElement> candidate =
        adopt_ref(gst_element_factory_create(GST_ELEMENT_FACTORY(f->data), nullptr));
    if (!candidate) continue;
    GRef<GstPad> sink = adopt_ref(gst_element_get_static_pad(candidate.get(), "sink"));
    if (sink && (!gst_caps_is_fixed(caps) ||
                 gst_pad_query_accept_caps(sink.get(), const_cast<GstCaps*>(caps))))
      decoder = std::move(candidate);
  }
  gst_plugin_feature_list_free(fitting);
  gst_plugin_feature_list_free(decoders);
  return decoder;
}

}  // namespace tws
