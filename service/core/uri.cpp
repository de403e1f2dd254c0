// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/uri.h"

#include <glib.h>

#include "service/core/config.h"

namespace tws {

bool validate_key(const std::string& key, std::string* error) {
  if (key.empty()) {
    *error = "the key is empty";
    return false;
  }
  if (key.size() > 1024) {
    *error = "the key is longer than 1024 bytes";
    return false;
  }
  if (key.front() == '/') {
    *error = "the key must not start with '/'";
    return false;
  }
  for (unsigned char c : key) {
    if (c == '\0') {
      *error = "the key contains NUL";
      return false;
    }
    if (c == '\\') {
      *error = "the key contains a backslash";
      return false;
    }
    if (c < 0x20 || c == 0x7f) {
      *error = "the key contains a control character";
      return false;
    }
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    const std::string segment = key.substr(start, end - start);
    if (segment.empty()) {
      *error = "the key has an empty path segment";
      return false;
    }
    if (segment == "." || segment == "..") {
      *error = "the key has a \"" + segment + "\" path segment";
      return false;
    }
    start = end + 1;
  }
  if (!g_utf8_validate(key.data(), gssize(key.size()), nullptr)) {
    *error = "the key is not UTF-8";
    return false;
  }
  return true;
}

bool parse_object_uri(const std::string& text, ObjectUri* uri, std::string* error) {
  std::string rest;
  if (text.rfind("oss://", 0) == 0)
    rest = text.substr(6);
  else if (text.rfind("s3://", 0) == 0)
    rest = text.substr(5);
  else {
    *error = "\"" + text + "\" is not an oss:// or s3:// URI";
    return false;
  }
  const auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0) {
    *error = "\"" + text + "\": expected oss://BUCKET/KEY";
    return false;
  }
  ObjectUri parsed{rest.substr(0, slash), rest.substr(slash + 1)};
  if (!valid_bucket_name(parsed.bucket)) {
    *error = "\"" + text + "\": the bucket name must be letters, digits, '-', '_', '.'";
    return false;
  }
  std::string why;
  if (!validate_key(parsed.key, &why)) {
    *error = "\"" + text + "\": " + why;
    return false;
  }
  *uri = std::move(parsed);
  return true;
}

bool resolve_object_uri(const Config& config, const std::string& text, ObjectUri* uri,
                        std::string* error) {
  ObjectUri parsed;
  if (!parse_object_uri(text, &parsed, error)) return false;
  if (!config.find_bucket(parsed.bucket)) {
    *error = "unknown bucket \"" + parsed.bucket + "\"";
    return false;
  }
  *uri = std::move(parsed);
  return true;
}

std::string percent_encode_path(const std::string& path) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool percent_decode_path(const std::string& encoded, std::string* path) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out += encoded[i];
      continue;
    }
    if (i + 2 >= encoded.size()) return false;
    const int hi = g_ascii_xdigit_value(encoded[i + 1]);
    const int lo = hi < 0 ? -1 : g_ascii_xdigit_value(encoded[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char c = char(hi * 16 + lo);
    if (c == '\0') return false;
    out += c;
    i += 2;
  }
  *path = std::move(out);
  return true;
}

std::string object_http_path(const ObjectUri& uri) {
  return "/" + percent_encode_path(uri.bucket) + "/" + percent_encode_path(uri.key);
}

}  // namespace tws
