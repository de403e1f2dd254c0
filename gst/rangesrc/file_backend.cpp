// SPDX-License-Identifier: LGPL-2.1-or-later
#include "file_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace tws {

FileBackend::FileBackend(std::string path, std::string location)
    : path_(std::move(path)), location_(std::move(location)) {}

std::unique_ptr<FileBackend> FileBackend::from_descriptor(int fd, std::string location) {
  auto backend = std::make_unique<FileBackend>(location, location);
  backend->inherited_fd_ = fd;
  return backend;
}

FileBackend::~FileBackend() {
  if (fd_ >= 0) close(fd_);
}

bool FileBackend::open(ObjectInfo* info, BackendError* error) {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  int fd = inherited_fd_ >= 0 ? fcntl(inherited_fd_, F_DUPFD_CLOEXEC, 0)
                              : ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      error->set(BackendErrorCode::kNotFound, "No such file: " + path_, g_strerror(e));
    else if (e == EACCES || e == EPERM)
      error->set(BackendErrorCode::kPermissionDenied, "Permission denied: " + path_, g_strerror(e));
    else
      error->set(BackendErrorCode::kIo, "Could not open file: " + path_, g_strerror(e));
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    error->set(BackendErrorCode::kIo, "Could not stat file: " + path_, g_strerror(e));
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    error->set(BackendErrorCode::kIo, "Is a directory: " + path_, "EISDIR");
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    // Pipes and character devices have no size and no random access.
    close(fd);
    error->set(BackendErrorCode::kIo, "Not a regular file: " + path_, "");
    return false;
  }
  fd_ = fd;
  size_ = static_cast<guint64>(st.st_size);
  guint64 mtime_ns = static_cast<guint64>(st.st_mtim.tv_sec) * 1000000000ull +
                     static_cast<guint64>(st.st_mtim.tv_nsec);
  info->size = size_;
  info->identity = "mtime:" + std::to_string(mtime_ns);
  return true;
}

gssize FileBackend::read(guint64 offset, gsize length, guint8* dest, BackendError* error) {
  if (fd_ < 0) {
    error->set(BackendErrorCode::kIo, "File not open: " + path_);
    return -1;
  }
  gsize done = 0;
  while (done < length) {
    if (cancelled_) {
      error->set(BackendErrorCode::kCancelled, "Cancelled");
      return -1;
    }
    ssize_t n = pread(fd_, dest + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      error->set(BackendErrorCode::kIo, "Could not read file: " + path_, g_strerror(e));
      return -1;
    }
    if (n == 0) break;  // end of file
    done += static_cast<gsize>(n);
  }
  return static_cast<gssize>(done);
}

}  // namespace tws
