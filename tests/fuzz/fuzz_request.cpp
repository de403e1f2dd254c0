// SPDX-License-Identifier: LGPL-2.1-or-later
// libFuzzer target: the POST /v1/playlists body, parsed and validated (service/api/request.cpp and
// the JSON guards of service/core/json_text.cpp), as `tws serve` gets it from anyone with a token.
// Also the JSON writer on whatever parsed: what reads must write back and read again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "service/api/request.h"
#include "service/core/json_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  tws::PlaylistRequest request;
  tws::Failure failure;
  if (!tws::parse_playlist_request(body, &request, &failure) && failure.message.empty())
    __builtin_trap();  // every refusal says why
  std::string error;
  if (tws::JsonNodePtr node = tws::json_from_text(body, &error)) {
    const std::string text = tws::canonical_json(node.get());
    tws::JsonNodePtr again = tws::json_from_text(text, &error);
    if (!again || tws::canonical_json(again.get()) != text) __builtin_trap();
  }
  return 0;
}
