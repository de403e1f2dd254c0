// SPDX-License-Identifier: LGPL-2.1-or-later
#include "fd_backend.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "file_backend.h"

namespace tws {
namespace {

void put64(guint8* out, guint64 v) {
  for (int i = 0; i < 8; i++) out[i] = guint8(v >> (8 * i));
}
guint64 get64(const guint8* in) {
  guint64 v = 0;
  for (int i = 0; i < 8; i++) v |= guint64(in[i]) << (8 * i);
  return v;
}
void put32(guint8* out, guint32 v) {
  for (int i = 0; i < 4; i++) out[i] = guint8(v >> (8 * i));
}
guint32 get32(const guint8* in) {
  guint32 v = 0;
  for (int i = 0; i < 4; i++) v |= guint32(in[i]) << (8 * i);
  return v;
}

bool write_all(int fd, const guint8* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= size_t(n);
  }
  return true;
}

bool read_all(int fd, guint8* data, size_t size) {
  while (size > 0) {
    const ssize_t n = read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= size_t(n);
  }
  return true;
}

// Reads an object through a socket whose other end answers range requests.
class SocketBackend final : public RangeBackend {
 public:
  SocketBackend(int fd, std::string location) : fd_(fd), location_(std::move(location)) {}

  bool open(ObjectInfo* info, BackendError* error) override {
    guint8 unused;
    std::string identity;
    if (request(0, 0, &unused, &identity, error) < 0) return false;
    info->size = size_;
    // The answer to a size request carries the object's identity as its bytes.
    info->identity = identity.empty() ? location_ : identity;
    return true;
  }

  gssize read(guint64 offset, gsize length, guint8* dest, BackendError* error) override {
    return request(offset, length, dest, nullptr, error);
  }

  // The other end caches and reads ahead (tws serves a worker's source through its block
  // cache): reads go straight to it, as to a local file, with no second cache in front.
  bool local() const override { return true; }

  const std::string& location() const override { return location_; }

 private:
  gssize request(guint64 offset, gsize length, guint8* dest, std::string* identity,
                 BackendError* error) {
    // Every rangesrc of the process that reads this socket takes turns.
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    guint8 req[12];
    put64(req, offset);
    put32(req + 8, guint32(length));
    guint8 head[16];
    if (!write_all(fd_, req, sizeof req) || !read_all(fd_, head, sizeof head)) {
      error->set(BackendErrorCode::kIo, "The source's reader is gone: " + location_,
                 g_strerror(errno));
      return -1;
    }
    const guint32 code = get32(head);
    const guint32 n = get32(head + 4);
    size_ = get64(head + 8);
    if (code != 0 || n > length) {
      std::string message(n, '\0');
      if (!read_all(fd_, reinterpret_cast<guint8*>(message.data()), n)) message = "";
      if (code == 0 && identity) {
        *identity = message;
        return 0;
      }
      error->set(code >= guint32(BackendErrorCode::kNotFound) &&
                         code <= guint32(BackendErrorCode::kCancelled)
                     ? BackendErrorCode(code)
                     : BackendErrorCode::kIo,
                 message.empty() ? "Could not read " + location_ : message);
      return -1;
    }
    if (!read_all(fd_, dest, n)) {
      error->set(BackendErrorCode::kIo, "The source's reader is gone: " + location_);
      return -1;
    }
    return gssize(n);
  }

  int fd_;  // not owned
  std::string location_;
  guint64 size_ = 0;
};

}  // namespace

std::unique_ptr<RangeBackend> make_fd_backend(const std::string& location, BackendError* error) {
  const std::string number = location.substr(strlen("rangefd://"));
  guint64 fd = 0;
  struct stat st {};
  if (number.empty() ||
      !g_ascii_string_to_unsigned(number.c_str(), 10, 0, G_MAXINT, &fd, nullptr) ||
      fstat(int(fd), &st) != 0) {
    error->set(BackendErrorCode::kNotFound, "No open descriptor: " + location);
    return nullptr;
  }
  if (S_ISREG(st.st_mode)) return FileBackend::from_descriptor(int(fd), location);
  if (S_ISSOCK(st.st_mode)) return std::make_unique<SocketBackend>(int(fd), location);
  error->set(BackendErrorCode::kIo, "Neither a file nor a socket: " + location);
  return nullptr;
}

bool answer_range_request(
    int socket, guint64 size, const std::string& identity,
    const std::function<gssize(guint64, gsize, guint8*, BackendError*)>& read) {
  guint8 req[12];
  if (!read_all(socket, req, sizeof req)) return false;
  const guint64 offset = get64(req);
  const gsize length = get32(req + 8);
  guint8 head[16];
  put64(head + 8, size);
  std::vector<guint8> data;
  BackendError error;
  gssize n = 0;
  if (length > 0) {
    // At most what a reader asks at once (its blocks and read-ahead), bounded all the same.
    data.resize(std::min<gsize>(length, 64u << 20));
    n = offset >= size ? 0 : read(offset, data.size(), data.data(), &error);
  }
  if (length == 0) {
    put32(head, 0);
    put32(head + 4, guint32(identity.size()));
    return write_all(socket, head, sizeof head) &&
           write_all(socket, reinterpret_cast<const guint8*>(identity.data()), identity.size());
  }
  if (n < 0) {
    const std::string& message = error.message;
    put32(head,
          guint32(error.code == BackendErrorCode::kNone ? BackendErrorCode::kIo : error.code));
    put32(head + 4, guint32(message.size()));
    return write_all(socket, head, sizeof head) &&
           write_all(socket, reinterpret_cast<const guint8*>(message.data()), message.size());
  }
  put32(head, 0);
  put32(head + 4, guint32(n));
  return write_all(socket, head, sizeof head) && write_all(socket, data.data(), size_t(n));
}

}  // namespace tws
