// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playlist/playlist_signing.h"

#include <sstream>
#include <vector>

#include "service/core/config.h"
#include "service/playlist/playlist_file.h"
#include "service/playlist/signer.h"

namespace tws {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

std::string sign_line_attributes(const std::string& line, const ObjectUri& base,
                                 const SigningKey& key, int64_t expires) {
  static const std::string kAttr = "URI=\"";
  std::string out;
  size_t pos = 0;
  for (;;) {
    const auto at = line.find(kAttr, pos);
    if (at == std::string::npos) break;
    // The attribute name must start there (not e.g. "XURI=").
    if (at > 0 && line[at - 1] != ':' && line[at - 1] != ',') {
      out += line.substr(pos, at + kAttr.size() - pos);
      pos = at + kAttr.size();
      continue;
    }
    const auto value_start = at + kAttr.size();
    const auto value_end = line.find('"', value_start);
    if (value_end == std::string::npos) break;
    out += line.substr(pos, value_start - pos);
    out += sign_playlist_reference(base, line.substr(value_start, value_end - value_start), key,
                                   expires);
    pos = value_end;
  }
  out += line.substr(pos);
  return out;
}

}  // namespace

bool resolve_playlist_reference(const ObjectUri& base, const std::string& reference,
                                ObjectUri* target) {
  std::string path = reference.substr(0, reference.find_first_of("?#"));
  if (path.empty()) return false;
  if (path.find("://") != std::string::npos || path.rfind("//", 0) == 0) return false;
  // A scheme ("data:", "skd:") before the first '/'.
  const auto colon = path.find(':');
  if (colon != std::string::npos && colon < path.find('/')) return false;
  std::vector<std::string> parts;
  if (path.front() == '/') {
    std::vector<std::string> abs = split_path(path.substr(1));
    if (abs.size() < 2) return false;
    std::string bucket;
    if (!percent_decode_path(abs.front(), &bucket) || bucket != base.bucket) return false;
    abs.erase(abs.begin());
    path = join_path(abs);
  } else {
    parts = split_path(base.key);
    parts.pop_back();  // the playlist's directory
  }
  for (const std::string& encoded : split_path(path)) {
    std::string part;
    if (!percent_decode_path(encoded, &part)) return false;
    if (part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return false;  // above the bucket
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  ObjectUri out{base.bucket, join_path(parts)};
  std::string error;
  if (!validate_key(out.key, &error)) return false;
  *target = std::move(out);
  return true;
}

std::string sign_playlist_reference(const ObjectUri& base, const std::string& reference,
                                    const SigningKey& key, int64_t expires) {
  ObjectUri target;
  if (!resolve_playlist_reference(base, reference, &target)) return reference;
  const auto hash = reference.find('#');
  const std::string before = reference.substr(0, hash);
  const std::string fragment = hash == std::string::npos ? "" : reference.substr(hash);
  const std::string path = object_http_path(target);
  return before + (before.find('?') == std::string::npos ? "?" : "&") +
         "Expires=" + std::to_string(expires) + "&KeyId=" + percent_encode_path(key.id) +
         "&Signature=" + sign_path(key.secret, path, expires) + fragment;
}

std::string signed_playlist_text(const std::string& text, const ObjectUri& playlist,
                                 const SigningKey& key, int64_t expires) {
  std::istringstream in(text);
  std::ostringstream out;
  std::string line;
  const std::string record_tag = std::string(kRecordPrefix).substr(0, 13);  // "## tws-record"
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(record_tag, 0) == 0) continue;
    if (line.empty()) {
      out << "\n";
    } else if (line[0] == '#') {
      out << (line.rfind("#EXT", 0) == 0 ? sign_line_attributes(line, playlist, key, expires)
                                         : line)
          << "\n";
    } else {
      out << sign_playlist_reference(playlist, line, key, expires) << "\n";
    }
  }
  return out.str();
}

}  // namespace tws
