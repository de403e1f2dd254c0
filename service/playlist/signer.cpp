// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playlist/signer.h"

#include <glib.h>

#include "common/gref.h"
#include "service/core/config.h"
#include "service/core/uri.h"

namespace tws {
namespace {

std::string base64url(const guint8* data, gsize size) {
  GUnique<gchar> b64(g_base64_encode(data, size));
  std::string out;
  for (const char* p = b64.get(); *p; ++p) {
    if (*p == '+')
      out += '-';
    else if (*p == '/')
      out += '_';
    else if (*p != '=')
      out += *p;
  }
  return out;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::string sign_path(const std::string& secret, const std::string& encoded_path, int64_t expires) {
  GUnique<GHmac> hmac(
      g_hmac_new(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(secret.data()), secret.size()));
  const std::string message = "GET\n" + encoded_path + "\n" + std::to_string(expires);
  g_hmac_update(hmac.get(), reinterpret_cast<const guchar*>(message.data()),
                gssize(message.size()));
  guint8 digest[32];
  gsize length = sizeof digest;
  g_hmac_get_digest(hmac.get(), digest, &length);
  return base64url(digest, length);
}

bool signed_url(const Config& config, const ObjectUri& uri, int64_t expires, std::string* url,
                std::string* error) {
  if (config.keys.empty()) {
    *error = "the config has no signing key ([key NAME] secret=...)";
    return false;
  }
  const SigningKey& key = config.keys.front();
  const std::string path = object_http_path(uri);
  *url = config.public_url + path + "?Expires=" + std::to_string(expires) +
         "&KeyId=" + percent_encode_path(key.id) +
         "&Signature=" + sign_path(key.secret, path, expires);
  return true;
}

bool verify_signature(const Config& config, const std::string& encoded_path,
                      const std::string& expires, const std::string& key_id,
                      const std::string& signature, int64_t now, std::string* error) {
  if (expires.empty() || key_id.empty() || signature.empty()) {
    *error = "missing Expires, KeyId or Signature";
    return false;
  }
  if (expires.size() > 18) {
    *error = "malformed Expires";
    return false;
  }
  for (char c : expires) {
    if (!g_ascii_isdigit(c)) {
      *error = "malformed Expires";
      return false;
    }
  }
  const int64_t when = g_ascii_strtoll(expires.c_str(), nullptr, 10);
  if (when < now) {
    *error = "the URL has expired";
    return false;
  }
  const SigningKey* key = config.find_key(key_id);
  if (!key) {
    *error = "unknown KeyId";
    return false;
  }
  if (!constant_time_equal(sign_path(key->secret, encoded_path, when), signature)) {
    *error = "wrong signature";
    return false;
  }
  return true;
}

}  // namespace tws
