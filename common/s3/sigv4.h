// SPDX-License-Identifier: LGPL-2.1-or-later
// AWS Signature Version 4 for S3 (header authentication): pure functions, no network.
//
// sign() takes a request whose path and query are NOT yet encoded (the object key as it
// is, "/bucket/my file+1.mp4"), encodes them the S3 way (each path segment: RFC 3986
// unreserved characters kept, everything else %XX in upper case, '/' kept; query names and
// values: '/' encoded too) and returns the headers to send: host, x-amz-date,
// x-amz-content-sha256 and Authorization. The canonical request, string to sign and
// signing key are exposed for tests against AWS's published examples.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tws::s3 {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

inline constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string sha256_hex(std::string_view data);
std::string hex(std::string_view bytes);
// Raw (binary) HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);

// AWS UriEncode: unreserved characters (A-Z a-z 0-9 - _ . ~) kept, every other byte %XX
// (upper-case hex); '/' kept unless encode_slash.
std::string uri_encode(std::string_view s, bool encode_slash);

// "name=value&..." sorted by encoded name then value; a name without value gives "name=".
std::string canonical_query(const Params& query);

// "20130524T000000Z" for a UNIX time.
std::string amz_date(std::time_t t);

struct SignInput {
  std::string method;        // "GET"
  std::string path;          // absolute, not encoded: "/examplebucket/test$file.text"
  Params query;              // not encoded
  Params headers;            // names in any case; host must be among them
  std::string payload_hash;  // sha256_hex(body), kEmptySha256 or kUnsignedPayload
};

// The canonical request; *signed_headers gets "host;range;x-amz-date" (lowercase, sorted).
std::string canonical_request(const SignInput& in, std::string* signed_headers);
std::string string_to_sign(const std::string& amz_date, const std::string& scope,
                           const std::string& canonical_request);
// "20130524/us-east-1/s3/aws4_request"
std::string credential_scope(const std::string& amz_date, const std::string& region,
                             const std::string& service = "s3");
// Raw signing key: HMAC chain over date, region, service, "aws4_request".
std::string signing_key(const std::string& secret, const std::string& date8,
                        const std::string& region, const std::string& service = "s3");

struct Signed {
  Params headers;  // host, x-amz-date, x-amz-content-sha256, authorization (plus the input's)
  std::string authorization;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
};

// Signs `in` at `amz_date` (adds x-amz-date and x-amz-content-sha256 to the headers when
// missing; the input's headers are all signed).
Signed sign(SignInput in, const Credentials& creds, const std::string& region,
            const std::string& amz_date, const std::string& service = "s3");

}  // namespace tws::s3
