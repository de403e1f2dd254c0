// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playlist/token.h"

#include <glib.h>

#include "common/gref.h"
#include "service/playlist/record.h"

namespace tws {

std::string token_of_json(JsonNode* node) {
  const std::string text = canonical_json(node);
  GUnique<gchar> hex(g_compute_checksum_for_data(
      G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(text.data()), text.size()));
  return std::string(hex.get(), kTokenLength);
}

std::string compute_token(const PlaylistRecord& record) {
  JsonNodePtr input = record_token_input(record);
  return token_of_json(input.get());
}

std::string compute_master_token(const std::string& master_uri,
                                 const std::vector<std::string>& rendition_tokens) {
  GRef<JsonBuilder> b = adopt_ref(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "MasterURI");
  json_builder_add_string_value(b.get(), master_uri.c_str());
  json_builder_set_member_name(b.get(), "Renditions");
  json_builder_begin_array(b.get());
  for (const auto& t : rendition_tokens) json_builder_add_string_value(b.get(), t.c_str());
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  JsonNodePtr node(json_builder_get_root(b.get()));
  return token_of_json(node.get());
}

bool is_token(const std::string& text) {
  if (text.size() != kTokenLength) return false;
  for (char c : text)
    if (!g_ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  return true;
}

}  // namespace tws
