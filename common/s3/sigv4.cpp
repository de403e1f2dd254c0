// SPDX-License-Identifier: LGPL-2.1-or-later
#include "common/s3/sigv4.h"

#include <glib.h>

#include <algorithm>
#include <map>

#include "common/gref.h"

namespace tws::s3 {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  GUnique<GChecksum> sum(g_checksum_new(G_CHECKSUM_SHA256));
  g_checksum_update(sum.get(), reinterpret_cast<const guchar*>(data.data()),
                    static_cast<gssize>(data.size()));
  return g_checksum_get_string(sum.get());
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  GUnique<GHmac> mac(
      g_hmac_new(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(key.data()), key.size()));
  g_hmac_update(mac.get(), reinterpret_cast<const guchar*>(data.data()),
                static_cast<gssize>(data.size()));
  guint8 digest[32];
  gsize len = sizeof digest;
  g_hmac_get_digest(mac.get(), digest, &len);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string uri_encode(std::string_view s, bool encode_slash) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (c == '/' && !encode_slash)) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

std::string canonical_query(const Params& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(uri_encode(k, true), uri_encode(v, true));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string amz_date(std::time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

namespace {

// Trimmed, inner runs of spaces collapsed to one.
std::string canonical_value(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string lower(const std::string& s) {
  GUnique<gchar> l(g_ascii_strdown(s.c_str(), -1));
  return l.get();
}

}  // namespace

std::string canonical_request(const SignInput& in, std::string* signed_headers) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : in.headers) {
    std::string& slot = headers[lower(name)];
    if (!slot.empty()) slot.push_back(',');
    slot += canonical_value(value);
  }
  std::string canon_headers;
  signed_headers->clear();
  for (const auto& [name, value] : headers) {
    canon_headers += name + ":" + value + "\n";
    if (!signed_headers->empty()) signed_headers->push_back(';');
    *signed_headers += name;
  }
  std::string path = in.path.empty() ? "/" : in.path;
  return in.method + "\n" + uri_encode(path, false) + "\n" + canonical_query(in.query) + "\n" +
         canon_headers + "\n" + *signed_headers + "\n" + in.payload_hash;
}

std::string credential_scope(const std::string& amz_date, const std::string& region,
                             const std::string& service) {
  return amz_date.substr(0, 8) + "/" + region + "/" + service + "/aws4_request";
}

std::string string_to_sign(const std::string& amz_date, const std::string& scope,
                           const std::string& canonical_request) {
  return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256_hex(canonical_request);
}

std::string signing_key(const std::string& secret, const std::string& date8,
                        const std::string& region, const std::string& service) {
  std::string k = hmac_sha256("AWS4" + secret, date8);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  return hmac_sha256(k, "aws4_request");
}

Signed sign(SignInput in, const Credentials& creds, const std::string& region,
            const std::string& date, const std::string& service) {
  auto has = [&](const char* name) {
    return std::any_of(in.headers.begin(), in.headers.end(), [&](const auto& h) {
      return g_ascii_strcasecmp(h.first.c_str(), name) == 0;
    });
  };
  if (!has("x-amz-date")) in.headers.emplace_back("x-amz-date", date);
  if (!has("x-amz-content-sha256"))
    in.headers.emplace_back("x-amz-content-sha256", in.payload_hash);
  Signed out;
  std::string signed_headers;
  out.canonical_request = canonical_request(in, &signed_headers);
  const std::string scope = credential_scope(date, region, service);
  out.string_to_sign = string_to_sign(date, scope, out.canonical_request);
  out.signature =
      hex(hmac_sha256(signing_key(creds.secret_access_key, date.substr(0, 8), region, service),
                      out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;
  out.headers = std::move(in.headers);
  out.headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace tws::s3
