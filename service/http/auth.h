// SPDX-License-Identifier: LGPL-2.1-or-later
// The API token check of /v1/* (API.md: Authorization: Bearer <token from [api] tokens>).
#pragma once

#include <string>

namespace tws {

struct Config;

// True when `authorization` (the header's value, maybe null) carries a configured token;
// each token is compared in constant time.
bool bearer_token_ok(const Config& config, const char* authorization);

}  // namespace tws
