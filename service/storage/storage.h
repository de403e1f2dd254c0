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
enum class ErrorCode;

// What a storage call came to. The failures are told apart as API.md's error table wants:
//   kOk
//   kNotFound     no object under the key
//   kDenied       the store refused (S3 401/403 AccessDenied, a local EACCES, a key that
//                 leads outside its bucket): 502 StorageError, the message naming the store's
//                 Code
//   kUnavailable  the store could not be reached, timed out, or kept answering 5xx (or 429)
//                 after the client's retries: 503 ServiceUnavailable with Retry-After
//   kError        the store answered another error (400 InvalidBucketName, an invalid key,
//                 local I/O): 502 StorageError
// A wrapper (CountingStorage, a writer, segment publishing) passes the status on as it came.
enum class StorageStatus { kOk, kNotFound, kDenied, kUnavailable, kError };

const char* storage_status_name(StorageStatus status);  // "ok", "not found", ...

// A failed storage call as a value: its status and a one-line message. Each Storage and
// StorageWriter call returns the status and, for anything but kOk, sets *error to it.
struct StorageError {
  StorageStatus status = StorageStatus::kOk;
  std::string message;  // one line; names the key (never the server's path)
};

// Sets *error and returns `status` (a backend's one way to fail a call).
StorageStatus storage_fail(StorageError* error, StorageStatus status, std::string message);
// A failure other than kNotFound (which callers usually answer in their own words).
inline bool storage_failed(StorageStatus status) {
  return status != StorageStatus::kOk && status != StorageStatus::kNotFound;
}

// The answer API.md gives a storage failure: kNotFound NotFound (404), kUnavailable
// ServiceUnavailable (503), kDenied and kError StorageError (502).
ErrorCode error_code_of(StorageStatus status);
// Sets *failure to the error's code (error_code_of) and message; returns false.
bool storage_failure(Failure* failure, const StorageError& error);

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
  virtual StorageStatus write(const void* data, size_t size, StorageError* error) = 0;
  virtual StorageStatus commit(StorageError* error) = 0;  // publishes the object whole
  virtual void abort() = 0;                               // drops everything written
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Keys are validated (uri.h validate_key) by every call. Each call returns its status and
  // sets *error unless it is kOk.
  virtual StorageStatus stat(const std::string& key, ObjectStat* st, StorageError* error) = 0;
  virtual StorageStatus get(const std::string& key, std::string* data, StorageError* error) = 0;
  // The object and its stat, without copies where the storage can (a local file is mapped).
  // By default stat() then get(): two requests, unless get_bytes_is_one_request().
  virtual StorageStatus get_bytes(const std::string& key, GUnique<GBytes>* bytes, ObjectStat* st,
                                  StorageError* error);
  virtual bool get_bytes_is_one_request() const { return false; }
  virtual StorageStatus put(const std::string& key, const std::string& data,
                            StorageError* error) = 0;
  // nullptr with *error when no writer could be opened.
  virtual std::unique_ptr<StorageWriter> open_writer(const std::string& key,
                                                     StorageError* error) = 0;
  virtual StorageStatus remove(const std::string& key, StorageError* error) = 0;
  // Keys starting with `prefix`, sorted.
  virtual StorageStatus list(const std::string& prefix, std::vector<std::string>* keys,
                             StorageError* error) = 0;
  // What rangesrc takes to read the object (for a local bucket: the absolute file path).
  virtual std::string source_location(const std::string& key) const = 0;
};

}  // namespace tws
