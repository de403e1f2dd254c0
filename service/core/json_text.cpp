// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/json_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "common/gref.h"

namespace tws {
namespace {

void write_string(const char* s, std::string* out) {
  *out += '"';
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(s); *p; ++p) {
    switch (*p) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (*p < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", *p);
          *out += buf;
        } else {
          *out += char(*p);  // UTF-8 as is
        }
    }
  }
  *out += '"';
}

void write_double(double v, std::string* out) {
  if (!std::isfinite(v)) {
    *out += "null";  // JSON has no NaN/Infinity
    return;
  }
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    *out += std::to_string(static_cast<long long>(v));
    return;
  }
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (const char* fmt : {"%.15g", "%.16g", "%.17g"}) {
    g_ascii_formatd(buf, sizeof buf, fmt, v);
    if (g_ascii_strtod(buf, nullptr) == v) break;
  }
  *out += buf;
}

void write_node(JsonNode* node, bool sort_keys, std::string* out) {
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_NULL:
      *out += "null";
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type(node)) {
        case G_TYPE_INT64:
          *out += std::to_string(json_node_get_int(node));
          break;
        case G_TYPE_DOUBLE:
          write_double(json_node_get_double(node), out);
          break;
        case G_TYPE_BOOLEAN:
          *out += json_node_get_boolean(node) ? "true" : "false";
          break;
        case G_TYPE_STRING:
          write_string(json_node_get_string(node), out);
          break;
        default:
          *out += "null";
      }
      break;
    case JSON_NODE_ARRAY: {
      JsonArray* array = json_node_get_array(node);
      *out += '[';
      for (guint i = 0; i < json_array_get_length(array); ++i) {
        if (i) *out += ',';
        write_node(json_array_get_element(array, i), sort_keys, out);
      }
      *out += ']';
      break;
    }
    case JSON_NODE_OBJECT: {
      JsonObject* object = json_node_get_object(node);
      GList* members = json_object_get_members(object);  // insertion order
      std::vector<const char*> names;
      for (GList* l = members; l; l = l->next) names.push_back(static_cast<const char*>(l->data));
      g_list_free(members);
      if (sort_keys)
        std::sort(names.begin(), names.end(),
                  [](const char* a, const char* b) { return std::strcmp(a, b) < 0; });
      *out += '{';
      bool first = true;
      for (const char* name : names) {
        if (!first) *out += ',';
        first = false;
        write_string(name, out);
        *out += ':';
        write_node(json_object_get_member(object, name), sort_keys, out);
      }
      *out += '}';
      break;
    }
  }
}

// What json-glib would take badly, found before it parses: invalid UTF-8, nesting deeper than
// kMaxJsonDepth (it parses recursively: a body of a million '[' exhausts the stack) and NUL
// in a string (a C string ends there: "a.mp4\u0000.txt" would read as "a.mp4"). Returns
// the reason, or "" when the text may be parsed.
std::string unsafe_json(const std::string& text) {
  // json-glib let invalid UTF-8 through inside some strings and then refused the same text
  // written back (found by fuzz_request).
  if (!g_utf8_validate_len(text.data(), text.size(), nullptr)) return "the text is not UTF-8";
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        if (text.compare(i + 1, 5, "u0000") == 0) return "a string holds NUL (\\u0000)";
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return "";
}

// Whether every string and member name below `node` is UTF-8: json-glib turns an escaped
// lone surrogate ("\ud800") into bytes that are not (found by fuzz_request).
bool strings_are_utf8(JsonNode* node) {
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_VALUE:
      return json_node_get_value_type(node) != G_TYPE_STRING ||
             g_utf8_validate(json_node_get_string(node), -1, nullptr);
    case JSON_NODE_ARRAY: {
      JsonArray* a = json_node_get_array(node);
      for (guint i = 0; i < json_array_get_length(a); ++i)
        if (!strings_are_utf8(json_array_get_element(a, i))) return false;
      return true;
    }
    case JSON_NODE_OBJECT: {
      JsonObjectIter it;
      const gchar* name = nullptr;
      JsonNode* member = nullptr;
      json_object_iter_init(&it, json_node_get_object(node));
      while (json_object_iter_next(&it, &name, &member))
        if (!g_utf8_validate(name, -1, nullptr) || !strings_are_utf8(member)) return false;
      return true;
    }
    case JSON_NODE_NULL:
      return true;
  }
  return true;
}

}  // namespace

std::string json_to_text(JsonNode* node, bool sort_keys) {
  std::string out;
  write_node(node, sort_keys, &out);
  return out;
}

namespace {

// RFC 8259 and nothing more: json-glib also takes comments, trailing data and a member twice
// (the last one wins), which would let a typo or a smuggled value through silently.
class StrictJson {
 public:
  explicit StrictJson(const std::string& text) : s_(text) {}

  // "" when the text is one strict JSON document; else what is wrong, and where.
  std::string problem() {
    space();
    if (!value("")) return why_;
    space();
    if (!why_.empty()) return why_;
    if (i_ != s_.size()) return "data after the document (at byte " + std::to_string(i_) + ")";
    return "";
  }

 private:
  bool fail(const std::string& why) {
    if (why_.empty()) why_ = why + " (at byte " + std::to_string(i_) + ")";
    return false;
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
    if (s_.compare(i_, 2, "//") == 0 || s_.compare(i_, 2, "/*") == 0 ||
        (i_ < s_.size() && s_[i_] == '#'))
      fail("a comment");
  }
  bool value(const std::string& path) {
    if (!why_.empty()) return false;
    if (i_ >= s_.size()) return fail("the document ends early");
    const char c = s_[i_];
    if (c == '{') return object(path);
    if (c == '[') return array(path);
    if (c == '"') return string(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (const char* word : {"true", "false", "null"})
      if (s_.compare(i_, strlen(word), word) == 0) {
        i_ += strlen(word);
        return true;
      }
    return fail("not a JSON value");
  }
  bool object(const std::string& path) {
    ++i_;
    std::set<std::string> names;
    space();
    if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
    for (;;) {
      space();
      std::string name;
      if (i_ >= s_.size() || s_[i_] != '"') return fail("a member name must be a string");
      if (!string(&name)) return false;
      const std::string at = path.empty() ? name : path + "." + name;
      if (!names.insert(name).second) return fail("member " + at + " given twice");
      space();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("':' missing");
      ++i_;
      space();
      if (!value(at)) return false;
      space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      return fail("',' or '}' missing");
    }
  }
  bool array(const std::string& path) {
    ++i_;
    space();
    if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
    for (size_t n = 0;; ++n) {
      space();
      if (!value(path + "[" + std::to_string(n) + "]")) return false;
      space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      return fail("',' or ']' missing");
    }
  }
  bool string(std::string* out) {
    ++i_;
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return fail("a control character in a string");
      if (c != '\\') {
        if (out) *out += char(c);
        ++i_;
        continue;
      }
      if (i_ + 1 >= s_.size()) break;
      const char e = s_[i_ + 1];
      if (e == 'u') {
        if (i_ + 6 > s_.size() || !std::all_of(s_.begin() + long(i_) + 2, s_.begin() + long(i_) + 6,
                                               [](char h) { return g_ascii_isxdigit(h); }))
          return fail("a bad \\u escape");
        // Names are compared as written, with \u escapes of ASCII letters decoded.
        const unsigned code = unsigned(std::stoul(s_.substr(i_ + 2, 4), nullptr, 16));
        if (out) *out += code < 0x80 ? std::string(1, char(code)) : s_.substr(i_, 6);
        i_ += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", e)) return fail("a bad escape in a string");
      if (out) *out += e;
      i_ += 2;
    }
    return fail("a string that does not end");
  }
  bool number() {
    const size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (i_ < s_.size() && s_[i_] >= '1' && s_[i_] <= '9') {
      while (i_ < s_.size() && g_ascii_isdigit(s_[i_])) ++i_;
    } else {
      return fail("a bad number");
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !g_ascii_isdigit(s_[i_])) return fail("a bad number");
      while (i_ < s_.size() && g_ascii_isdigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !g_ascii_isdigit(s_[i_])) return fail("a bad number");
      while (i_ < s_.size() && g_ascii_isdigit(s_[i_])) ++i_;
    }
    return i_ > start;
  }

  const std::string& s_;
  size_t i_ = 0;
  std::string why_;
};

}  // namespace

JsonNodePtr json_from_text(const std::string& text, std::string* error) {
  if (std::string why = unsafe_json(text); !why.empty()) {
    *error = why;
    return nullptr;
  }
  if (std::string why = StrictJson(text).problem(); !why.empty()) {
    *error = why;
    return nullptr;
  }
  GRef<JsonParser> parser = adopt_ref(json_parser_new());
  GError* gerr = nullptr;
  if (!json_parser_load_from_data(parser.get(), text.data(), gssize(text.size()), &gerr)) {
    *error = gerr->message;
    g_error_free(gerr);
    return nullptr;
  }
  JsonNode* root = json_parser_get_root(parser.get());
  if (!root) {
    *error = "empty document";
    return nullptr;
  }
  if (!strings_are_utf8(root)) {
    *error = "a string is not UTF-8 (an escaped lone surrogate?)";
    return nullptr;
  }
  return JsonNodePtr(json_node_copy(root));
}

}  // namespace tws
