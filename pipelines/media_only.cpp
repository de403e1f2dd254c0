// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/media_only.h"

#include <gst/gst.h>

#include "common/gref.h"

namespace tws {
namespace {

// Media types of playlists and manifests that GStreamer's typefinders recognise.
constexpr const char* kManifestTypes[] = {
    "application/x-hls",     "application/dash+xml", "application/vnd.ms-sstr+xml",
    "application/x-mpegurl", "audio/x-mpegurl",      "text/uri-list",
    "application/x-ms-asx",  "audio/x-scpls",        "application/smil",
    "application/x-smil",    "application/xspf+xml",
};

bool takes_manifest(GstElementFactory* factory) {
  for (const GList* l = gst_element_factory_get_static_pad_templates(factory); l; l = l->next) {
    auto* tmpl = static_cast<GstStaticPadTemplate*>(l->data);
    if (tmpl->direction != GST_PAD_SINK) continue;
    GRef<GstCaps> caps = adopt_ref(gst_static_pad_template_get_caps(tmpl));
    if (!caps || gst_caps_is_any(caps.get())) continue;
    for (guint i = 0; i < gst_caps_get_size(caps.get()); ++i)
      if (names_manifest_type(gst_structure_get_name(gst_caps_get_structure(caps.get(), i))))
        return true;
  }
  return false;
}

}  // namespace

bool names_manifest_type(const std::string& text) {
  for (const char* type : kManifestTypes)
    if (text.find(type) != std::string::npos) return true;
  return false;
}

void refuse_manifest_elements() {
  GList* factories =
      gst_element_factory_list_get_elements(GST_ELEMENT_FACTORY_TYPE_ANY, GST_RANK_NONE);
  for (GList* l = factories; l; l = l->next) {
    auto* factory = static_cast<GstElementFactory*>(l->data);
    // Demuxers of playlists and manifests (hlsdemux, dashdemux, mssdemux and their "2"s, ...)
    // and libav's demuxers that open other files by themselves (concat, hls, dash, ...).
    const std::string name = GST_OBJECT_NAME(factory);
    const bool libav_fetcher = name == "avdemux_concat" || name == "avdemux_hls" ||
                               name == "avdemux_applehttp" || name == "avdemux_dash" ||
                               name == "avdemux_ffmetadata" || name == "avdemux_image2";
    if (libav_fetcher || takes_manifest(factory))
      gst_plugin_feature_set_rank(GST_PLUGIN_FEATURE(factory), GST_RANK_NONE);
  }
  gst_plugin_feature_list_free(factories);
}

}  // namespace tws
