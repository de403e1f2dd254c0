// SPDX-License-Identifier: LGPL-2.1-or-later
// Object storage behind a bucket: a small interface with one backend per kind of bucket
// (local_storage.h: a directory; s3/s3_storage.h: S3; open_storage.h picks one). Every object
// appears whole or not at all.
#pragma once

#include <glib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/gref.h"

namespace tws {

struct Failure;

enum class StorageStatus { kOk, kNotFound, kError };

// Two kinds of failure (kError, or false from the bool calls), as API.md's error table wants
// them told apart:
//  - the store answered an error (403 AccessDenied, 400 InvalidBucketName, a bad key, a local
//    I/O error): 502 StorageError, the message naming the store's error code;
//  - the store could not be reached, timed out, or kept answering 5xx after the retries:
//    503 ServiceUnavailable with Retry-After (worth trying again later).
// The second kind is marked in the one-line error message itself, so that it survives every
// layer that passes storage errors on as text (CountingStorage, writers, segment publishing):
// the message starts with kStorageUnavailablePrefix. Backends make such messages with
// storage_unavailable_message(); callers turn any storage error into a Failure with
// storage_failure().
inline constexpr const char* kStorageUnavailablePrefix = "storage unavailable: ";
std::string storage_unavailable_message(const std::string& error);
bool is_storage_unavailable(const std::string& error);
// Sets *failure to ServiceUnavailable or StorageError (by the message) and returns false.
bool storage_failure(Failure* failure, const std::string& error);

// A GBytes owning `data` (moved, not copied).
GBytes* bytes_of(std::string&& data);

struct ObjectStat {
  uint64_t size = 0;
  std::string identity;  // changes whenever the object does: "mtime:<ns>" for files, else ETag
};

// Writes one object; nothing is visible under its key before commit().
class StorageWriter {
 public:
  virtual ~StorageWriter() = default;  // an uncommitted writer aborts
  virtual bool write(const void* data, size_t size, std::string* error) = 0;
  virtual bool commit(std::string* error) = 0;  // publishes the object whole
  virtual void abort() = 0;                     // drops everything written
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Keys are validated (uri.h validate_key) by every call; errors are one line.
  virtual StorageStatus stat(const std::string& key, ObjectStat* st, std::string* error) = 0;
  virtual StorageStatus get(const std::string& key, std::string* data, std::string* error) = 0;
  // The object and its stat, without copies where the storage can (a local file is mapped).
  // By default stat() then get(): two requests, unless get_bytes_is_one_request().
  virtual StorageStatus get_bytes(const std::string& key, GUnique<GBytes>* bytes, ObjectStat* st,
                                  std::string* error);
  virtual bool get_bytes_is_one_request() const { return false; }
  virtual bool put(const std::string& key, const std::string& data, std::string* error) = 0;
  virtual std::unique_ptr<StorageWriter> open_writer(const std::string& key,
                                                     std::string* error) = 0;
  virtual StorageStatus remove(const std::string& key, std::string* error) = 0;
  // Keys starting with `prefix`, sorted.
  virtual bool list(const std::string& prefix, std::vector<std::string>* keys,
                    std::string* error) = 0;
  // What rangesrc takes to read the object (for a local bucket: the absolute file path).
  virtual std::string source_location(const std::string& key) const = 0;
};

}  // namespace tws
