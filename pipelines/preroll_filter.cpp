// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/preroll_filter.h"

#include <memory>

#include "common/gref.h"

GST_DEBUG_CATEGORY_STATIC(tws_preroll_debug);
#define GST_CAT_DEFAULT tws_preroll_debug

namespace tws {
namespace {

constexpr int kNalSlice = 1, kNalIdrSlice = 5;

// Visits the NAL units of an access unit; false when the data does not parse.
template <typename Visit>
bool for_each_nal(const uint8_t* data, size_t size, int nal_length_size, Visit visit) {
  if (nal_length_size > 0) {
    size_t pos = 0;
    while (pos < size) {
      if (size - pos < size_t(nal_length_size)) return false;
      size_t length = 0;
      for (int i = 0; i < nal_length_size; ++i) length = (length << 8) | data[pos + i];
      pos += size_t(nal_length_size);
      if (length == 0 || length > size - pos) return false;
      visit(data[pos]);
      pos += length;
    }
    return true;
  }
  // Byte-stream: a NAL unit starts after each 00 00 01.
  bool any = false;
  for (size_t i = 0; i + 3 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      visit(data[i + 3]);
      any = true;
      i += 2;
    }
  }
  return any;
}

struct Filter {
  std::atomic<int64_t>* dropped = nullptr;
  // -1: not known yet; -2: not H.264 (pass everything); 0: byte-stream; 1-4: avc.
  int nal_length_size = -1;
};

int nal_length_size_of(GstPad* pad) {
  GRef<GstCaps> caps = adopt_ref(gst_pad_get_current_caps(pad));
  if (!caps || gst_caps_is_empty(caps.get())) return -1;
  const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
  if (!gst_structure_has_name(s, "video/x-h264")) return -2;
  const char* format = gst_structure_get_string(s, "stream-format");
  const char* alignment = gst_structure_get_string(s, "alignment");
  if (!alignment || g_strcmp0(alignment, "au") != 0) return -2;  // a buffer must be a frame
  if (g_strcmp0(format, "byte-stream") == 0) return 0;
  if (g_strcmp0(format, "avc") != 0 && g_strcmp0(format, "avc3") != 0) return -2;
  const GValue* value = gst_structure_get_value(s, "codec_data");
  if (!value || !GST_VALUE_HOLDS_BUFFER(value)) return -2;
  GstBuffer* codec_data = gst_value_get_buffer(value);
  guint8 byte = 0;
  if (gst_buffer_extract(codec_data, 4, &byte, 1) != 1) return -2;
  return (byte & 0x03) + 1;
}

GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* filter = static_cast<Filter*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buffer) || !GST_BUFFER_DURATION_IS_VALID(buffer) ||
      !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT))
    return GST_PAD_PROBE_OK;
  GRef<GstEvent> event = adopt_ref(gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0));
  if (!event) return GST_PAD_PROBE_OK;
  const GstSegment* segment = nullptr;
  gst_event_parse_segment(event.get(), &segment);
  // Only what the decoder would clip: a frame that ends before the segment starts.
  if (segment->format != GST_FORMAT_TIME || segment->rate < 0 ||
      GST_BUFFER_PTS(buffer) + GST_BUFFER_DURATION(buffer) > segment->start)
    return GST_PAD_PROBE_OK;
  if (filter->nal_length_size == -1) filter->nal_length_size = nal_length_size_of(pad);
  if (filter->nal_length_size < 0) return GST_PAD_PROBE_OK;
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_PAD_PROBE_OK;
  const bool unreferenced =
      h264_access_unit_unreferenced(map.data, map.size, filter->nal_length_size);
  gst_buffer_unmap(buffer, &map);
  if (!unreferenced) return GST_PAD_PROBE_OK;
  GST_LOG_OBJECT(pad, "dropping unreferenced pre-roll frame at %" GST_TIME_FORMAT,
                 GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
  if (filter->dropped) ++*filter->dropped;
  return GST_PAD_PROBE_DROP;
}

GstPadProbeReturn on_event(GstPad*, GstPadProbeInfo* info, gpointer data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS)
    static_cast<Filter*>(data)->nal_length_size = -1;  // read again at the next frame
  return GST_PAD_PROBE_OK;
}

}  // namespace

bool h264_access_unit_unreferenced(const uint8_t* data, size_t size, int nal_length_size) {
  bool slice = false, reference = false;
  const bool parsed = for_each_nal(data, size, nal_length_size, [&](uint8_t header) {
    const int type = header & 0x1f;
    if (type == kNalSlice || type == kNalIdrSlice || (type >= 2 && type <= 4)) {
      slice = true;
      if (((header >> 5) & 0x03) != 0 || type == kNalIdrSlice) reference = true;
    }
  });
  return parsed && slice && !reference;
}

void drop_unreferenced_preroll(GstElement* decoder, std::atomic<int64_t>* dropped) {
  static const bool once = [] {
    GST_DEBUG_CATEGORY_INIT(tws_preroll_debug, "twspreroll", 0,
                            "pre-roll frames dropped before the decoder");
    return true;
  }();
  (void)once;
  GRef<GstPad> pad = adopt_ref(gst_element_get_static_pad(decoder, "sink"));
  if (!pad) return;
  auto* filter = new Filter{dropped};
  // Both probes share the filter; the buffer probe owns it (one streaming thread uses it).
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, filter, nullptr);
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, on_buffer, filter,
                    [](gpointer data) { delete static_cast<Filter*>(data); });
}

}  // namespace tws
