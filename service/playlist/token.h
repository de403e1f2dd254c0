// SPDX-License-Identifier: LGPL-2.1-or-later
// Tokens name a target's segments: other source or other parameters, other token, other
// files (DESIGN.md "Naming").
#pragma once

#include <string>
#include <vector>

#include "service/core/json_text.h"

namespace tws {

struct PlaylistRecord;

constexpr size_t kTokenLength = 32;

// The first 32 hex digits of SHA-256 over the canonical JSON of `node`.
std::string token_of_json(JsonNode* node);

// A target's token: over the source identity (URI, Size, Identity, StartTime), the normalised
// VideoTarget/AudioTarget and the plan inputs (record_token_input).
std::string compute_token(const PlaylistRecord& record);

// A master playlist's token: over its URI and its renditions' tokens, in order.
std::string compute_master_token(const std::string& master_uri,
                                 const std::vector<std::string>& rendition_tokens);

bool is_token(const std::string& text);  // 32 lower-case hex digits

}  // namespace tws
