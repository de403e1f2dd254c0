// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/http/auth.h"

#include <glib.h>

#include "service/core/config.h"

namespace tws {
namespace {

bool same(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

bool bearer_token_ok(const Config& config, const char* authorization) {
  if (!authorization) return false;
  std::string value = authorization;
  if (value.size() < 7 || g_ascii_strncasecmp(value.c_str(), "Bearer ", 7) != 0) return false;
  value = value.substr(7);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  bool ok = false;
  for (const std::string& token : config.api_tokens) ok |= !value.empty() && same(value, token);
  return ok;
}

}  // namespace tws
