// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-hdrtonemap
 * @title: hdrtonemap
 *
 * hdrtonemap converts HDR video, 10 or 12 bits per component with the SMPTE ST 2084 (PQ) or
 * ARIB STD-B67 (HLG) transfer and BT.2020 primaries, into 8-bit SDR I420 tagged BT.709
 * (limited range), so that an H.264 encode of it looks right on an SDR display instead of
 * washed out. Per pixel: Y'CbCr -> R'G'B' (the input matrix, BT.2020 non-constant luminance
 * normally) -> linear light (PQ EOTF; HLG inverse OETF and a gamma 1.2 OOTF for a 1000
 * cd/m² display), where 1.0 is #GstHdrToneMap:reference-white -> BT.709 primaries -> the
 * tone curve on the brightest component, all three scaled alike -> BT.709 R'G'B' through the
 * inverse BT.1886 EOTF (gamma 1/2.4) -> BT.709 Y'CbCr, chroma averaged over 2x2 blocks.
 *
 * It matches ffmpeg's chain
 * `zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv`
 * (libavfilter vf_tonemap.c with the zimg library): the curves are vf_tonemap's — hable
 * (John Hable's filmic curve from Uncharted 2), mobius, reinhard, clip — with the same
 * parameters; like zimg, the HLG OOTF is applied per component and the SDR encoding is
 * display-referred (gamma 1/2.4), and out-of-gamut components are kept negative rather
 * than clipped. The signal peak is #GstHdrToneMap:peak, or by default MaxCLL of the
 * content-light-level caps field, else the maximum luminance of the mastering display, else
 * 10 (1000 cd/m²: what vf_tonemap uses for a linear frame without HDR metadata).
 *
 * Transfer functions and gamma encoding are tables (input R' over 16384 steps; linear
 * light on a square-root grid), the curves are rational functions: no pow() per pixel.
 * SDR input (any other transfer) is converted to 8-bit BT.709 I420 too, with the BT.1886
 * EOTF and no tone curve; tws only inserts the element for PQ and HLG sources.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=pq.mkv ! decodebin ! videoconvert ! hdrtonemap ! \
 *     x264enc ! mp4mux ! filesink location=sdr.mp4
 * ]| Re-encodes a PQ (HDR10) video as SDR H.264 with the hable curve.
 * |[
 * gst-launch-1.0 filesrc location=hlg.mkv ! decodebin ! hdrtonemap curve=mobius ! \
 *     videoconvert ! autovideosink
 * ]| Shows an HLG video on an SDR display with the mobius curve.
 */
#include "gsttonemap.h"

#include <gst/video/video.h>

#include <memory>

#include "common/gref.h"
#include "elements.h"
#include "tone_curve.h"

GST_DEBUG_CATEGORY_STATIC(gst_hdr_tone_map_debug);
#define GST_CAT_DEFAULT gst_hdr_tone_map_debug

using tws::adopt_ref;
using tws::GRef;
namespace tone = tws::tonemap;

namespace {

constexpr tone::Curve DEFAULT_CURVE = tone::Curve::kHable;
constexpr double DEFAULT_PEAK = 0;  // auto
constexpr double DEFAULT_REFERENCE_WHITE = 100;
constexpr double DEFAULT_DESAT = 0;

enum {
  PROP_0,
  PROP_CURVE,
  PROP_PEAK,
  PROP_REFERENCE_WHITE,
  PROP_DESAT,
};

#define SINK_FORMATS                                                     \
  "{ I420_10LE, I420_12LE, I422_10LE, I422_12LE, Y444_10LE, Y444_12LE, " \
  "P010_10LE, P012_LE }"

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(SINK_FORMATS)));

GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("I420") ", colorimetry = (string) bt709"));

// Fields of the input that do not describe the output.
constexpr const char* kColourFields[] = {"format", "colorimetry", "chroma-site",
                                         "mastering-display-info", "content-light-level"};

struct Settings {
  tone::Curve curve = DEFAULT_CURVE;
  double peak = DEFAULT_PEAK;
  double reference_white = DEFAULT_REFERENCE_WHITE;
  double desat = DEFAULT_DESAT;
};

// The signal peak in units of reference white: the property, else the stream's HDR
// metadata (as ffmpeg's ff_determine_signal_peak reads it), else tone::kDefaultPeak.
double signal_peak(const Settings& settings, GstCaps* caps) {
  if (settings.peak > 0) return settings.peak;
  GstVideoContentLightLevel cll;
  if (gst_video_content_light_level_from_caps(&cll, caps) && cll.max_content_light_level > 0)
    return cll.max_content_light_level / settings.reference_white;
  GstVideoMasteringDisplayInfo mdi;
  if (gst_video_mastering_display_info_from_caps(&mdi, caps) &&
      mdi.max_display_mastering_luminance > 0)  // units of 0.0001 cd/m²
    return mdi.max_display_mastering_luminance / 10000.0 / settings.reference_white;
  return tone::kDefaultPeak;
}

// The input signal from its caps; unknown primaries/matrix: BT.2020 for HDR, else BT.709.
tone::InputFormat input_format(const GstVideoInfo* info) {
  const GstVideoColorimetry& c = info->colorimetry;
  tone::InputFormat f;
  switch (c.transfer) {
    case GST_VIDEO_TRANSFER_SMPTE2084:
      f.transfer = tone::Transfer::kPq;
      break;
    case GST_VIDEO_TRANSFER_ARIB_STD_B67:
      f.transfer = tone::Transfer::kHlg;
      break;
    default:
      f.transfer = tone::Transfer::kSdr;
      break;
  }
  const bool hdr = f.transfer != tone::Transfer::kSdr;
  const GstVideoColorPrimariesInfo* p = gst_video_color_primaries_get_info(c.primaries);
  if (c.primaries != GST_VIDEO_COLOR_PRIMARIES_UNKNOWN && p)
    f.primaries = {p->Rx, p->Ry, p->Gx, p->Gy, p->Bx, p->By, p->Wx, p->Wy};
  else
    f.primaries = hdr ? tone::kBt2020Primaries : tone::kBt709Primaries;
  gdouble kr = 0, kb = 0;
  if (!gst_video_color_matrix_get_Kr_Kb(c.matrix, &kr, &kb))
    gst_video_color_matrix_get_Kr_Kb(
        hdr ? GST_VIDEO_COLOR_MATRIX_BT2020 : GST_VIDEO_COLOR_MATRIX_BT709, &kr, &kb);
  f.kr = kr;
  f.kb = kb;
  f.full_range = c.range == GST_VIDEO_COLOR_RANGE_0_255;
  f.depth = static_cast<int>(GST_VIDEO_INFO_COMP_DEPTH(info, 0));
  return f;
}

}  // namespace

struct GstHdrToneMapPrivate {
  // Settings: GST_OBJECT_LOCK; read in set_info().
  Settings settings;
  // Streaming state: set_info() and transform_frame() (the streaming thread).
  std::unique_ptr<tone::ToneMapper> mapper;
};

struct _GstHdrToneMap {
  GstVideoFilter parent;
  GstHdrToneMapPrivate* priv;
};

G_DEFINE_TYPE(GstHdrToneMap, gst_hdr_tone_map, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(hdrtonemap, "hdrtonemap", GST_RANK_NONE, GST_TYPE_HDR_TONE_MAP)

GType gst_hdr_tone_map_curve_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(tone::Curve::kHable), "John Hable's filmic curve (ffmpeg tonemap=hable)",
       "hable"},
      {static_cast<gint>(tone::Curve::kMobius),
       "Linear to 0.3, then a Möbius transform (ffmpeg tonemap=mobius)", "mobius"},
      {static_cast<gint>(tone::Curve::kReinhard), "Reinhard, param 0.5 (ffmpeg tonemap=reinhard)",
       "reinhard"},
      {static_cast<gint>(tone::Curve::kClip), "Clip at reference white (ffmpeg tonemap=clip)",
       "clip"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstHdrToneMapCurve", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

static GstCaps* gst_hdr_tone_map_transform_caps(GstBaseTransform* trans, GstPadDirection direction,
                                                GstCaps* caps, GstCaps* filter) {
  GRef<GstCaps> result = adopt_ref(gst_caps_new_empty());
  for (guint i = 0; i < gst_caps_get_size(caps); i++) {
    GstStructure* s = gst_structure_copy(gst_caps_get_structure(caps, i));
    for (const char* field : kColourFields) gst_structure_remove_field(s, field);
    if (direction == GST_PAD_SINK) {
      gst_structure_set(s, "format", G_TYPE_STRING, "I420", "colorimetry", G_TYPE_STRING, "bt709",
                        nullptr);
    } else {
      GRef<GstCaps> templ = adopt_ref(gst_static_pad_template_get_caps(&sink_template));
      gst_structure_set_value(
          s, "format", gst_structure_get_value(gst_caps_get_structure(templ.get(), 0), "format"));
    }
    result = adopt_ref(gst_caps_merge_structure(result.release(), s));
  }
  if (filter)
    result = adopt_ref(gst_caps_intersect_full(filter, result.get(), GST_CAPS_INTERSECT_FIRST));
  GST_DEBUG_OBJECT(trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", caps, result.get());
  return result.release();
}

static gboolean gst_hdr_tone_map_set_info(GstVideoFilter* filter, GstCaps* incaps,
                                          GstVideoInfo* in_info, GstCaps*, GstVideoInfo*) {
  GstHdrToneMap* self = GST_HDR_TONE_MAP(filter);
  GST_OBJECT_LOCK(self);
  tone::Settings settings;
  settings.curve = self->priv->settings.curve;
  settings.reference_white = self->priv->settings.reference_white;
  settings.desat = self->priv->settings.desat;
  settings.peak = signal_peak(self->priv->settings, incaps);
  GST_OBJECT_UNLOCK(self);
  const tone::InputFormat input = input_format(in_info);
  GST_INFO_OBJECT(self, "transfer %d, depth %d, %s range, Kr %.4f Kb %.4f, peak %.2f x %.0f cd/m²",
                  static_cast<int>(input.transfer), input.depth,
                  input.full_range ? "full" : "limited", input.kr, input.kb, settings.peak,
                  settings.reference_white);
  self->priv->mapper = std::make_unique<tone::ToneMapper>(input, settings);
  return TRUE;
}

static GstFlowReturn gst_hdr_tone_map_transform_frame(GstVideoFilter* filter, GstVideoFrame* in,
                                                      GstVideoFrame* out) {
  GstHdrToneMap* self = GST_HDR_TONE_MAP(filter);
  if (!self->priv->mapper) return GST_FLOW_NOT_NEGOTIATED;
  const GstVideoFormatInfo* finfo = in->info.finfo;
  tone::InputPlane planes[3];
  for (int c = 0; c < 3; c++) {
    // GStreamer 1.22 gives P010/P012's V the byte offset 1 (its format table reuses NV12's):
    // in a plane of 16-bit words, V is the second word. Odd offsets mean that here.
    guint offset = GST_VIDEO_FORMAT_INFO_POFFSET(finfo, c);
    if (offset % 2) offset *= 2;
    planes[c].data = static_cast<const uint8_t*>(
                         GST_VIDEO_FRAME_PLANE_DATA(in, GST_VIDEO_FORMAT_INFO_PLANE(finfo, c))) +
                     offset;
    planes[c].stride = GST_VIDEO_FRAME_COMP_STRIDE(in, c);
    planes[c].pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE(in, c);
    planes[c].shift = static_cast<int>(GST_VIDEO_FORMAT_INFO_SHIFT(finfo, c));
    planes[c].wsub = static_cast<int>(GST_VIDEO_FORMAT_INFO_W_SUB(finfo, c));
    planes[c].hsub = static_cast<int>(GST_VIDEO_FORMAT_INFO_H_SUB(finfo, c));
  }
  tone::OutputPlanes o;
  o.y = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(out, GST_VIDEO_COMP_Y));
  o.y_stride = GST_VIDEO_FRAME_COMP_STRIDE(out, GST_VIDEO_COMP_Y);
  o.u = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(out, GST_VIDEO_COMP_U));
  o.u_stride = GST_VIDEO_FRAME_COMP_STRIDE(out, GST_VIDEO_COMP_U);
  o.v = static_cast<uint8_t*>(GST_VIDEO_FRAME_COMP_DATA(out, GST_VIDEO_COMP_V));
  o.v_stride = GST_VIDEO_FRAME_COMP_STRIDE(out, GST_VIDEO_COMP_V);
  const int width = GST_VIDEO_FRAME_WIDTH(in), height = GST_VIDEO_FRAME_HEIGHT(in);
  self->priv->mapper->convert(planes, o, width, height, 0, height);
  return GST_FLOW_OK;
}

static gboolean gst_hdr_tone_map_stop(GstBaseTransform* trans) {
  GST_HDR_TONE_MAP(trans)->priv->mapper.reset();
  return TRUE;
}

static void gst_hdr_tone_map_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  GstHdrToneMap* self = GST_HDR_TONE_MAP(object);
  Settings& settings = self->priv->settings;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_CURVE:
      settings.curve = static_cast<tone::Curve>(g_value_get_enum(value));
      break;
    case PROP_PEAK:
      settings.peak = g_value_get_double(value);
      break;
    case PROP_REFERENCE_WHITE:
      settings.reference_white = g_value_get_double(value);
      break;
    case PROP_DESAT:
      settings.desat = g_value_get_double(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_hdr_tone_map_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  GstHdrToneMap* self = GST_HDR_TONE_MAP(object);
  const Settings& settings = self->priv->settings;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_CURVE:
      g_value_set_enum(value, static_cast<gint>(settings.curve));
      break;
    case PROP_PEAK:
      g_value_set_double(value, settings.peak);
      break;
    case PROP_REFERENCE_WHITE:
      g_value_set_double(value, settings.reference_white);
      break;
    case PROP_DESAT:
      g_value_set_double(value, settings.desat);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_hdr_tone_map_finalize(GObject* object) {
  GstHdrToneMap* self = GST_HDR_TONE_MAP(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_hdr_tone_map_parent_class)->finalize(object);
}

static void gst_hdr_tone_map_init(GstHdrToneMap* self) { self->priv = new GstHdrToneMapPrivate(); }

static void gst_hdr_tone_map_class_init(GstHdrToneMapClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_hdr_tone_map_debug, "hdrtonemap", 0, "HDR to SDR tone mapping");

  gobject_class->set_property = gst_hdr_tone_map_set_property;
  gobject_class->get_property = gst_hdr_tone_map_get_property;
  gobject_class->finalize = gst_hdr_tone_map_finalize;

  constexpr auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_CURVE,
      g_param_spec_enum("curve", "Curve",
                        "Tone curve applied to the brightest component of each pixel in linear "
                        "light, as ffmpeg's tonemap filter names it",
                        GST_TYPE_HDR_TONE_MAP_CURVE, static_cast<gint>(DEFAULT_CURVE), flags));
  g_object_class_install_property(
      gobject_class, PROP_PEAK,
      g_param_spec_double("peak", "Signal peak",
                          "Brightest signal in units of reference-white (10 = 1000 cd/m² at "
                          "the default white), mapped to SDR white. 0: auto (MaxCLL, else "
                          "mastering display maximum, else 10)",
                          0, 10000, DEFAULT_PEAK, flags));
  g_object_class_install_property(
      gobject_class, PROP_REFERENCE_WHITE,
      g_param_spec_double("reference-white", "Reference white",
                          "Luminance in cd/m² that becomes linear 1.0 before the tone curve "
                          "(zscale's npl; HLG's display peak is 1000 cd/m²)",
                          1, 10000, DEFAULT_REFERENCE_WHITE, flags));
  g_object_class_install_property(
      gobject_class, PROP_DESAT,
      g_param_spec_double("desat", "Desaturation",
                          "ffmpeg's desat: components of pixels brighter than this (units of "
                          "reference white) are pulled towards their luma. 0: off",
                          0, 1000, DEFAULT_DESAT, flags));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "HDR to SDR tone mapper", "Filter/Converter/Video",
      "Converts 10/12-bit PQ or HLG BT.2020 video to 8-bit BT.709 SDR I420 with ffmpeg's tone "
      "curves (hable, mobius, reinhard, clip)",
      "tws authors");

  trans_class->transform_caps = gst_hdr_tone_map_transform_caps;
  trans_class->stop = gst_hdr_tone_map_stop;
  filter_class->set_info = gst_hdr_tone_map_set_info;
  filter_class->transform_frame = gst_hdr_tone_map_transform_frame;

  gst_type_mark_as_plugin_api(GST_TYPE_HDR_TONE_MAP_CURVE, static_cast<GstPluginAPIFlags>(0));
}
