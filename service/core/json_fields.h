// SPDX-License-Identifier: LGPL-2.1-or-later
// Typed reads of JSON object members with errors that name the field by its full path,
// e.g. "Targets[0].Duration: must be a number".
#pragma once

#include <json-glib/json-glib.h>

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>

namespace tws {

class JsonFields {
 public:
  // `path`: where `object` sits ("" for the document, "Targets[0]", "Targets[0].Video").
  JsonFields(JsonObject* object, std::string path) : object_(object), path_(std::move(path)) {}

  // The full name of a member, for error messages.
  std::string name(const char* member) const {
    return path_.empty() ? member : path_ + "." + member;
  }
  bool has(const char* member) const;  // present and not null

  // Each returns false with *error when the member is present with the wrong type; an absent
  // (or null) member leaves *value unchanged and returns true.
  bool number(const char* member, double* value, std::string* error) const;
  bool integer(const char* member, int64_t* value, std::string* error) const;
  bool string(const char* member, std::string* value, std::string* error) const;
  bool boolean(const char* member, bool* value, std::string* error) const;
  bool object(const char* member, JsonObject** value, std::string* error) const;
  bool array(const char* member, JsonArray** value, std::string* error) const;

  // Strict members: false with *error naming the first member that no read above asked for
  // (and that is not in `also`), with the closest known name when one is near
  // ("Targets[0].Video.TranscodeVideo.Crf: unknown member; did you mean CRF?"). Call it once
  // every member of the object has been read.
  bool no_other_members(std::string* error, std::initializer_list<const char*> also = {}) const;

 private:
  JsonNode* member(const char* name) const;
  JsonObject* object_;
  std::string path_;
  mutable std::set<std::string> asked_;  // every member name a read asked for
};

// A number node (integer or floating) as a double; false for other nodes.
bool json_node_number(JsonNode* node, double* value);

}  // namespace tws
