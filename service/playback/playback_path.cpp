// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playback/playback_path.h"

#include <glib.h>

#include <cstring>

#include "service/core/config.h"
#include "service/playlist/token.h"

namespace tws {

bool parse_playback_path(const Config& config, const std::string& encoded_path, ObjectUri* uri,
                         Failure* failure) {
  std::string path;
  if (encoded_path.empty() || encoded_path[0] != '/' ||
      !percent_decode_path(encoded_path.substr(1), &path))
    return set_failure(failure, ErrorCode::kInvalidURI, "malformed path");
  const auto slash = path.find('/');
  if (slash == std::string::npos || slash == 0)
    return set_failure(failure, ErrorCode::kInvalidURI, "expected /BUCKET/KEY");
  ObjectUri parsed{path.substr(0, slash), path.substr(slash + 1)};
  if (!config.find_bucket(parsed.bucket))
    return set_failure(failure, ErrorCode::kUnknownBucket,
                       "unknown bucket \"" + parsed.bucket + "\"");
  std::string error;
  if (!validate_key(parsed.key, &error)) return set_failure(failure, ErrorCode::kInvalidURI, error);
  *uri = std::move(parsed);
  return true;
}

bool parse_segment_key(const std::string& key, SegmentName* name) {
  const char* extension = g_str_has_suffix(key.c_str(), ".ts")    ? ".ts"
                          : g_str_has_suffix(key.c_str(), ".vtt") ? ".vtt"
                                                                  : nullptr;
  if (!extension) return false;
  const std::string stem = key.substr(0, key.size() - strlen(extension));
  const auto dash = stem.rfind('-');
  if (dash == std::string::npos || dash + 1 == stem.size() || stem.size() - dash - 1 > 7)
    return false;
  const std::string digits = stem.substr(dash + 1);
  for (char c : digits)
    if (!g_ascii_isdigit(c)) return false;
  if (digits.size() > 1 && digits[0] == '0') return false;
  if (dash < kTokenLength + 2 || stem[dash - kTokenLength - 1] != '-') return false;
  const std::string token = stem.substr(dash - kTokenLength, kTokenLength);
  if (!is_token(token)) return false;
  const std::string prefix = stem.substr(0, dash - kTokenLength - 1);
  if (prefix.empty() || prefix.back() == '/') return false;
  name->prefix_key = prefix;
  name->token = token;
  name->index = std::stoi(digits);
  name->extension = extension;
  return true;
}

}  // namespace tws
