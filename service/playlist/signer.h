// SPDX-License-Identifier: LGPL-2.1-or-later
// Signed playback URLs (API.md "Playback"): Signature = base64url (no padding) of
// HMAC-SHA256(secret, "GET\n" + encoded path + "\n" + Expires).
#pragma once

#include <cstdint>
#include <string>

namespace tws {

struct Config;
struct ObjectUri;

constexpr int64_t kDefaultSignSeconds = 3600;
constexpr int64_t kMaxSignSeconds = 7 * 24 * 3600;

// The signature of an encoded path (as object_http_path gives) valid until `expires`.
std::string sign_path(const std::string& secret, const std::string& encoded_path, int64_t expires);

// public-url + encoded path + "?Expires=..&KeyId=..&Signature=..", signed with the first key.
// False when the config has no signing key.
bool signed_url(const Config& config, const ObjectUri& uri, int64_t expires, std::string* url,
                std::string* error);

// Checks a request's signature: a known KeyId, Expires (unix seconds) not before `now`, and
// the signature (compared in constant time). False with the reason.
bool verify_signature(const Config& config, const std::string& encoded_path,
                      const std::string& expires, const std::string& key_id,
                      const std::string& signature, int64_t now, std::string* error);

}  // namespace tws
