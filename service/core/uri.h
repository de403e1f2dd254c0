// SPDX-License-Identifier: LGPL-2.1-or-later
// Object URIs (`oss://NAME/key`, `s3://NAME/key`), key validation and the percent-encoded
// HTTP path of an object (API.md "URIs"). Keys never leave their bucket.
#pragma once

#include <string>

namespace tws {

struct Config;

struct ObjectUri {
  std::string bucket;  // the tws bucket (a config section)
  std::string key;     // validated: relative, no "." / ".." / empty segments, no '\\' or NUL
  std::string to_string() const { return "oss://" + bucket + "/" + key; }
  bool operator==(const ObjectUri&) const = default;
};

// Checks a key: non-empty, no leading '/', no empty/"."/".." segments, no '\\', no NUL,
// no control characters. Returns false with the reason.
bool validate_key(const std::string& key, std::string* error);

// Parses the syntax only (any bucket name).
bool parse_object_uri(const std::string& text, ObjectUri* uri, std::string* error);

// Parses and checks that the bucket is configured ("unknown bucket \"x\"").
bool resolve_object_uri(const Config& config, const std::string& text, ObjectUri* uri,
                        std::string* error);

// Percent-encodes each segment of a '/'-separated path: RFC 3986 unreserved characters
// (ALPHA DIGIT - . _ ~) and '/' are kept, every other byte becomes %XX (upper case).
std::string percent_encode_path(const std::string& path);

// Reverses percent_encode_path; false on a malformed escape or an encoded NUL.
bool percent_decode_path(const std::string& encoded, std::string* path);

// "/NAME/key", encoded: the HTTP path of the object and the string its signature covers.
std::string object_http_path(const ObjectUri& uri);

}  // namespace tws
