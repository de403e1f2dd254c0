// SPDX-License-Identifier: LGPL-2.1-or-later
// The Range header of a segment request (RFC 9110 14.2), for one range of bytes. A header
// that is malformed or asks for several ranges is ignored (the whole object is sent).
#pragma once

#include <cstdint>
#include <string>

namespace tws {

struct ByteRange {
  enum Kind { kNone, kSatisfiable, kUnsatisfiable } kind = kNone;
  uint64_t first = 0, last = 0;                    // inclusive, when kSatisfiable
  std::string content_range(uint64_t size) const;  // "bytes a-b/size" or "bytes */size"
};

ByteRange parse_byte_range(const std::string& header, uint64_t size);

}  // namespace tws
