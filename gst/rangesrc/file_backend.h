// SPDX-License-Identifier: LGPL-2.1-or-later
// RangeBackend for local files: open(2) + fstat for size and identity, pread(2) for ranges.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "range_backend.h"

namespace tws {

class FileBackend final : public RangeBackend {
 public:
  // `path` is a filesystem path (a file:// URI already converted); `location` what the user
  // gave, for messages.
  FileBackend(std::string path, std::string location);
  // A file already open as descriptor `fd` (not owned: open() duplicates it), as a process
  // that may open no file by name is handed its source (fd_backend.h).
  static std::unique_ptr<FileBackend> from_descriptor(int fd, std::string location);
  ~FileBackend() override;
  FileBackend(const FileBackend&) = delete;
  FileBackend& operator=(const FileBackend&) = delete;

  bool open(ObjectInfo* info, BackendError* error) override;
  gssize read(guint64 offset, gsize length, guint8* dest, BackendError* error) override;
  void cancel() override { cancelled_ = true; }
  void reset_cancel() override { cancelled_ = false; }
  bool local() const override { return true; }
  const std::string& location() const override { return location_; }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string location_;
  int fd_ = -1;
  int inherited_fd_ = -1;  // from_descriptor(): duplicated by open() instead of opening path_
  guint64 size_ = 0;
  // Local reads do not block for long; checked between pread() calls of one read.
  std::atomic<bool> cancelled_{false};
};

}  // namespace tws
