// SPDX-License-Identifier: LGPL-2.1-or-later
// JSON text from json-glib nodes, written the same way on every machine: compact, numbers
// in the shortest form that reads back to the same double, integral numbers as integers.
// With sort_keys it is the canonical JSON that tokens hash (object keys in byte order).
#pragma once

#include <json-glib/json-glib.h>

#include <memory>
#include <string>

namespace tws {

struct JsonNodeUnref {
  void operator()(JsonNode* node) const {
    if (node) json_node_unref(node);
  }
};
using JsonNodePtr = std::unique_ptr<JsonNode, JsonNodeUnref>;

std::string json_to_text(JsonNode* node, bool sort_keys);
inline std::string canonical_json(JsonNode* node) { return json_to_text(node, true); }

// Deepest nesting of arrays and objects json_from_text() takes (requests need 4).
constexpr int kMaxJsonDepth = 32;

// Parses JSON text; returns nullptr with a one-line reason.
JsonNodePtr json_from_text(const std::string& text, std::string* error);

}  // namespace tws
