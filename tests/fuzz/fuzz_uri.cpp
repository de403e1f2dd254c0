// SPDX-License-Identifier: LGPL-2.1-or-later
// libFuzzer target: everything that turns untrusted text into a key of a bucket: object URIs
// (SourceURI, target URIs), playback paths (percent-decoded), segment names. Whatever is
// accepted must stay inside its bucket: no "..", ".", empty segment, backslash or NUL.
#include <cstddef>
#include <cstdint>
#include <string>

#include "service/core/config.h"
#include "service/core/uri.h"
#include "service/playback/playback_path.h"

namespace {

void check_key(const std::string& key) {
  std::string error;
  if (key.empty() || key.find('\0') != std::string::npos || key.find('\\') != std::string::npos ||
      key.front() == '/' || key.find("//") != std::string::npos || key == ".." ||
      key.rfind("../", 0) == 0 || key.find("/../") != std::string::npos ||
      (key.size() >= 3 && key.compare(key.size() - 3, 3, "/..") == 0) || key == "." ||
      key.rfind("./", 0) == 0 || key.find("/./") != std::string::npos)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  tws::ObjectUri uri;
  if (tws::parse_object_uri(text, &uri, &error)) {
    check_key(uri.key);
    // The HTTP path of an object decodes back to the same object.
    std::string decoded;
    const std::string path = tws::object_http_path(uri);
    if (!tws::percent_decode_path(path.substr(1), &decoded) ||
        decoded != uri.bucket + "/" + uri.key)
      __builtin_trap();
  }
  static tws::Config config = [] {
    tws::Config c;
    c.buckets.push_back({"media", "/srv/media", "", "", "", "", ""});
    return c;
  }();
  tws::Failure failure;
  if (tws::parse_playback_path(config, "/" + text, &uri, &failure)) check_key(uri.key);
  tws::SegmentName name;
  if (tws::parse_segment_key(text, &name) && (name.index < 0 || name.prefix_key.empty()))
    __builtin_trap();
  return 0;
}
