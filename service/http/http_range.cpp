// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/http/http_range.h"

#include <glib.h>

namespace tws {
namespace {

bool parse_number(const std::string& text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text)
    if (!g_ascii_isdigit(c)) return false;
  *value = g_ascii_strtoull(text.c_str(), nullptr, 10);
  return true;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
  return s.substr(a, b - a);
}

}  // namespace

std::string ByteRange::content_range(uint64_t size) const {
  if (kind != kSatisfiable) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size);
}

ByteRange parse_byte_range(const std::string& header, uint64_t size) {
  ByteRange none;
  const std::string h = trim(header);
  if (h.rfind("bytes=", 0) != 0) return none;
  const std::string spec = trim(h.substr(6));
  if (spec.find(',') != std::string::npos) return none;
  const auto dash = spec.find('-');
  if (dash == std::string::npos) return none;
  const std::string a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  ByteRange r;
  if (a.empty()) {  // the last N bytes
    uint64_t n = 0;
    if (!parse_number(b, &n)) return none;
    if (n == 0 || size == 0) {
      r.kind = ByteRange::kUnsatisfiable;
      return r;
    }
    r.kind = ByteRange::kSatisfiable;
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }
  uint64_t first = 0, last = 0;
  if (!parse_number(a, &first)) return none;
  if (b.empty()) {
    last = size ? size - 1 : 0;
  } else {
    if (!parse_number(b, &last) || last < first) return none;
    if (size && last >= size) last = size - 1;
  }
  if (first >= size) {
    r.kind = ByteRange::kUnsatisfiable;
    return r;
  }
  r.kind = ByteRange::kSatisfiable;
  r.first = first;
  r.last = last;
  return r;
}

}  // namespace tws
