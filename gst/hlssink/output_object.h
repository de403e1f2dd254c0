// SPDX-License-Identifier: LGPL-2.1-or-later
// Where hlssegsink puts what it writes: a local path (or file:// URI) or an S3 object
// (s3://BUCKET/KEY, common/s3). An object appears whole or not at all: a local file is
// written under a hidden temporary name in its directory and renamed, an S3 object is one
// PUT of the whole body.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/s3/s3_registry.h"

namespace tws {

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual bool append(const uint8_t* data, size_t size, std::string* error) = 0;
  // Makes the object visible under its name; false (and nothing visible) on failure.
  virtual bool commit(std::string* error) = 0;
  // Drops what was written (also done by the destructor of an uncommitted writer).
  virtual void abort() = 0;
};

class ObjectOutput {
 public:
  ObjectOutput(s3::Overrides s3, GCancellable* cancel) : s3_(std::move(s3)), cancel_(cancel) {}

  // nullptr with *error for a location that names no object ("s3://bucket/", a bad URI).
  std::unique_ptr<ObjectWriter> create(const std::string& location, std::string* error) const;
  bool put(const std::string& location, const std::string& data, std::string* error) const;
  // A missing object is not an error.
  bool remove(const std::string& location, std::string* error) const;

 private:
  s3::Overrides s3_;
  GCancellable* cancel_;  // not owned: the sink's, cancelled to unblock a request
};

// The location pattern of segments: exactly one integer conversion (%d, %05d, %u ...);
// "%%" is a literal '%'. False with a one-line reason otherwise.
bool check_index_pattern(const std::string& pattern, std::string* why);
std::string format_index(const std::string& pattern, unsigned index);

// How a playlist at `playlist` names the segment at `segment`: `root` + "/" + the file name
// when root is given; else the path relative to the playlist's folder when the segment is in
// it or below it (same store); else an absolute URI (file:// for a local file). Empty (with
// *why) when a player could not reach the segment (another S3 bucket without a root).
std::string segment_uri(const std::string& segment, const std::string& playlist,
                        const std::string& root, std::string* why);

}  // namespace tws
