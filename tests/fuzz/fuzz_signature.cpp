// SPDX-License-Identifier: LGPL-2.1-or-later
// libFuzzer target: playback signature checks (service/playlist/signer.cpp) and Range headers
// (service/http/http_range.cpp) on untrusted query and header text. The input is split at '\n'
// into path, Expires, KeyId, Signature, Range. A signature is accepted only when it is the
// HMAC of that path and Expires with the key's secret; a range, only inside the object.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "service/core/config.h"
#include "service/http/http_range.h"
#include "service/playlist/signer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n' && parts.size() < 5)
      parts.emplace_back();
    else
      parts.back() += char(data[i]);
  }
  parts.resize(5);
  static tws::Config config = [] {
    tws::Config c;
    c.keys.push_back({"dev", "fuzz-secret"});
    c.keys.push_back({"old", "older-secret"});
    return c;
  }();
  std::string why;
  const int64_t now = 1700000000;
  if (tws::verify_signature(config, parts[0], parts[1], parts[2], parts[3], now, &why)) {
    const tws::SigningKey* key = config.find_key(parts[2]);
    const int64_t expires = std::stoll(parts[1]);
    if (!key || expires < now || tws::sign_path(key->secret, parts[0], expires) != parts[3])
      __builtin_trap();
  }
  const uint64_t object_size = size * 37;
  const tws::ByteRange r = tws::parse_byte_range(parts[4], object_size);
  if (r.kind == tws::ByteRange::kSatisfiable && (r.first > r.last || r.last >= object_size))
    __builtin_trap();
  r.content_range(object_size);
  return 0;
}
