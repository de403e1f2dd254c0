#include "service/json_fields.h"

#include <cmath>

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

JsonNode* JsonFields::member(const char* name) const {
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
  if (JSON_NODE_TYPE(node) != JSON_NODE_VALUE ||
      json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
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
