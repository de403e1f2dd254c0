// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/json_fields.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tws {

bool json_node_number(JsonNode* node, double* value) {
  if (!node || JSON_NODE_TYPE(node) != JSON_NODE_VALUE) return false;
  const GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64) {
    *value = double(json_node_get_int(node));
    return true;
  }
  if (type == G_TYPE_DOUBLE) {
    *value = json_node_get_double(node);
    return std::isfinite(*value);
  }
  return false;
}

namespace {

// Edits (insert, delete, replace) between two names, letters compared without case.
size_t distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const bool same = g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

bool JsonFields::no_other_members(std::string* error,
                                  std::initializer_list<const char*> also) const {
  std::set<std::string> known = asked_;
  known.insert(also.begin(), also.end());
  GList* members = json_object_get_members(object_);
  std::string unknown;
  for (GList* m = members; m && unknown.empty(); m = m->next)
    if (!known.count(static_cast<const char*>(m->data)))
      unknown = static_cast<const char*>(m->data);
  g_list_free(members);
  if (unknown.empty()) return true;
  *error = name(unknown.c_str()) + ": unknown member";
  std::string best;
  size_t best_distance = 3;  // nearer than this, or the same but for case
  for (const std::string& k : known) {
    const size_t d = distance(unknown, k);
    if (d < best_distance && d * 3 < std::max(k.size(), size_t(3)) + 1) {
      best = k;
      best_distance = d;
    }
  }
  if (!best.empty()) *error += "; did you mean " + best + "?";
  return false;
}

JsonNode* JsonFields::member(const char* name) const {
  asked_.insert(name);
  JsonNode* node = json_object_get_member(object_, name);
  return node && !JSON_NODE_HOLDS_NULL(node) ? node : nullptr;
}

bool JsonFields::has(const char* member_name) const { return member(member_name) != nullptr; }

bool JsonFields::number(const char* member_name, double* value, std::string* error) const {
  JsonNode* node = member(member_name);
  if (!node) return true;
  if (!json_node_number(node, value)) {
    *error = name(member_name) + ": must be a number";
    return false;
  }
  return true;
}

bool JsonFields::integer(const char* member_name, int64_t* value, std::string* error) const {
  JsonNode* node = member(member_name);
  if (!node) return true;
  double v = 0;
  if (!json_node_number(node, &v) || v != std::floor(v) || std::fabs(v) > 9.0e15) {
    *error = name(member_name) + ": must be an integer";
    return false;
  }
  *value = int64_t(v);
  return true;
}

bool JsonFields::string(const char* member_name, std::string* value, std::string* error) const {
  JsonNode* node = member(member_name);
  if (!node) return true;
  if (JSON_NODE_TYPE(node) != JSON_NODE_VALUE || json_node_get_value_type(node) != G_TYPE_STRING) {
    *error = name(member_name) + ": must be a string";
    return false;
  }
  *value = json_node_get_string(node);
  return true;
}

bool JsonFields::boolean(const char* member_name, bool* value, std::string* error) const {
  JsonNode* node = member(member_name);
  if (!node) return true;
  if (JSON_NODE_TYPE(node) != JSON_NODE_VALUE || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
    *error = name(member_name) + ": must be true or false";
    return false;
  }
  *value = json_node_get_boolean(node);
  return true;
}

bool JsonFields::object(const char* member_name, JsonObject** value, std::string* error) const {
  JsonNode* node = member(member_name);
  if (!node) return true;
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    *error = name(member_name) + ": must be an object";
    return false;
  }
  *value = json_node_get_object(node);
  return true;
}

bool JsonFields::array(const char* member_name, JsonArray** value, std::string* error) const {
  JsonNode* node = member(member_name);
  if (!node) return true;
  if (!JSON_NODE_HOLDS_ARRAY(node)) {
    *error = name(member_name) + ": must be an array";
    return false;
  }
  *value = json_node_get_array(node);
  return true;
}

}  // namespace tws
