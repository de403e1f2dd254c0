// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/storage/local_storage.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <list>
#include <mutex>

#include "common/gref.h"
#include "service/core/uri.h"

namespace tws {
namespace {

std::string errno_text(const std::string& what, int err) { return what + ": " + g_strerror(err); }

// A failed system call as a storage failure: a refused permission is kDenied, the rest kError.
StorageStatus errno_fail(StorageError* error, const std::string& what, int err) {
  return storage_fail(
      error, err == EACCES || err == EPERM ? StorageStatus::kDenied : StorageStatus::kError,
      errno_text(what, err));
}

StorageStatus not_found(StorageError* error, const std::string& key) {
  return storage_fail(error, StorageStatus::kNotFound, key + ": no such object");
}

std::string dirname_of(const std::string& path) {
  GUnique<gchar> d(g_path_get_dirname(path.c_str()));
  return d.get();
}

bool real_path(const std::string& path, std::string* out) {
  char buf[PATH_MAX];
  if (!realpath(path.c_str(), buf)) return false;
  *out = buf;
  return true;
}

void fsync_dir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

// Creates the directories of `key` below `root` one at a time without following a symbolic
// link, so no key makes a directory outside its bucket, whatever links the bucket holds.
bool create_key_directories(const std::string& root, const std::string& key, StorageError* error) {
  int dir = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    errno_fail(error, "the bucket's directory", errno);
    return false;
  }
  size_t start = 0;
  for (size_t slash; (slash = key.find('/', start)) != std::string::npos; start = slash + 1) {
    const std::string name = key.substr(start, slash - start);
    if (mkdirat(dir, name.c_str(), 0755) != 0 && errno != EEXIST) {
      errno_fail(error, "cannot create the directories of key \"" + key + "\"", errno);
      close(dir);
      return false;
    }
    const int next = openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dir);
    if (next < 0) {
      if (errno == ELOOP || errno == ENOTDIR)
        storage_fail(error, StorageStatus::kDenied, "key \"" + key + "\" leads outside its bucket");
      else
        errno_fail(error, "cannot create the directories of key \"" + key + "\"", errno);
      return false;
    }
    dir = next;
  }
  close(dir);
  return true;
}

class LocalWriter : public StorageWriter {
 public:
  // `key` names the object in messages (never the server's path).
  LocalWriter(int fd, std::string tmp, std::string path, std::string key)
      : fd_(fd), tmp_(std::move(tmp)), path_(std::move(path)), key_(std::move(key)) {}
  ~LocalWriter() override { abort(); }

  StorageStatus write(const void* data, size_t size, StorageError* error) override {
    if (fd_ < 0) return storage_fail(error, StorageStatus::kError, "write after commit or abort");
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_fail(error, "cannot write " + key_, errno);
      p += n;
      size -= size_t(n);
    }
    return StorageStatus::kOk;
  }

  StorageStatus commit(StorageError* error) override {
    if (fd_ < 0) return storage_fail(error, StorageStatus::kError, "commit after commit or abort");
    if (fsync(fd_) != 0 || close(std::exchange(fd_, -1)) != 0) {
      errno_fail(error, "cannot write " + key_, errno);
      abort();
      return error->status;
    }
    if (rename(tmp_.c_str(), path_.c_str()) != 0) {
      errno_fail(error, "cannot publish " + key_, errno);
      abort();
      return error->status;
    }
    tmp_.clear();
    fsync_dir(dirname_of(path_));
    return StorageStatus::kOk;
  }

  void abort() override {
    if (fd_ >= 0) close(std::exchange(fd_, -1));
    if (!tmp_.empty()) g_unlink(std::exchange(tmp_, std::string()).c_str());
  }

 private:
  int fd_;
  std::string tmp_;  // empty once published or dropped
  std::string path_;
  std::string key_;
};

void walk(const std::string& root, const std::string& rel, const std::string& prefix,
          std::vector<std::string>* keys) {
  const std::string dir = rel.empty() ? root : root + "/" + rel;
  GUnique<GDir> d(g_dir_open(dir.c_str(), 0, nullptr));
  if (!d) return;
  while (const char* name = g_dir_read_name(d.get())) {
    if (g_str_has_prefix(name, LocalStorage::kTempPrefix)) continue;
    const std::string key = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (lstat((root + "/" + key).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      // Descend only where keys below can still match the prefix.
      const std::string as_dir = key + "/";
      if (as_dir.compare(0, std::min(as_dir.size(), prefix.size()), prefix, 0,
                         std::min(as_dir.size(), prefix.size())) == 0)
        walk(root, key, prefix, keys);
    } else if (S_ISREG(st.st_mode) && key.compare(0, prefix.size(), prefix) == 0) {
      keys->push_back(key);
    }
  }
}

}  // namespace

LocalStorage::LocalStorage(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

bool LocalStorage::path_for(const std::string& key, bool create_dirs, std::string* path,
                            StorageError* error) {
  std::string why;
  if (!validate_key(key, &why)) {
    storage_fail(error, StorageStatus::kError, "invalid key \"" + key + "\": " + why);
    return false;
  }
  std::string real_root;
  if (!real_path(root_, &real_root)) {
    errno_fail(error, "the bucket's directory", errno);
    return false;
  }
  *path = root_ + "/" + key;
  const std::string parent = dirname_of(*path);
  if (create_dirs && !create_key_directories(root_, key, error)) return false;
  std::string real_parent;
  if (!real_path(parent, &real_parent)) return true;  // missing: the caller's open says so
  if (real_parent != real_root && real_parent.rfind(real_root + "/", 0) != 0) {
    storage_fail(error, StorageStatus::kDenied, "key \"" + key + "\" leads outside its bucket");
    return false;
  }
  return true;
}

StorageStatus LocalStorage::stat(const std::string& key, ObjectStat* st, StorageError* error) {
  std::string path;
  if (!path_for(key, false, &path, error)) return error->status;
  struct stat s;
  if (lstat(path.c_str(), &s) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return not_found(error, key);
    return errno_fail(error, "cannot read " + key, errno);
  }
  if (!S_ISREG(s.st_mode)) return not_found(error, key);  // directories, symlinks
  st->size = uint64_t(s.st_size);
  st->identity =
      "mtime:" + std::to_string(int64_t(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec);
  return StorageStatus::kOk;
}

namespace {

// The last files mapped, process-wide: serving a segment again takes no new mapping (and no
// page faults). Entries are checked against the file's inode, size and mtime on every use.
class MappingCache {
 public:
  static MappingCache& shared() {
    static MappingCache cache;
    return cache;
  }
  GBytes* find(const std::string& path, const struct stat& s) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->path != path) continue;
      if (it->ino == s.st_ino && it->dev == s.st_dev && it->size == s.st_size &&
          it->mtime_ns == mtime_ns(s)) {
        entries_.splice(entries_.begin(), entries_, it);  // most recent first
        return g_bytes_ref(it->bytes.get());
      }
      entries_.erase(it);
      return nullptr;
    }
    return nullptr;
  }
  void add(const std::string& path, const struct stat& s, GBytes* bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.push_front(
        {path, s.st_dev, s.st_ino, s.st_size, mtime_ns(s), GUnique<GBytes>(g_bytes_ref(bytes))});
    if (entries_.size() > kEntries) entries_.pop_back();
  }

 private:
  static constexpr size_t kEntries = 64;
  static int64_t mtime_ns(const struct stat& s) {
    return int64_t(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec;
  }
  struct Entry {
    std::string path;
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    GUnique<GBytes> bytes;
  };
  std::mutex mutex_;
  std::list<Entry> entries_;  // guarded by mutex_
};

}  // namespace

static int remove_stale_below(const std::string& dir, int64_t oldest_ns, int depth) {
  GUnique<GDir> d(g_dir_open(dir.c_str(), 0, nullptr));
  if (!d || depth > 64) return 0;
  int removed = 0;
  while (const char* name = g_dir_read_name(d.get())) {
    const std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      removed += remove_stale_below(path, oldest_ns, depth + 1);
    } else if (S_ISREG(st.st_mode) && g_str_has_prefix(name, LocalStorage::kTempPrefix) &&
               int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec < oldest_ns &&
               unlink(path.c_str()) == 0) {
      ++removed;
    }
  }
  return removed;
}

int LocalStorage::remove_stale_temp_files(const std::string& root, int64_t max_age_s) {
  const int64_t oldest_ns = (g_get_real_time() - max_age_s * G_USEC_PER_SEC) * 1000;
  return remove_stale_below(root, oldest_ns, 0);
}

StorageStatus LocalStorage::get_bytes(const std::string& key, GUnique<GBytes>* bytes,
                                      ObjectStat* st, StorageError* error) {
  std::string path;
  if (!path_for(key, false, &path, error)) return error->status;
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return not_found(error, key);
    return errno_fail(error, "cannot read " + key, errno);
  }
  struct stat s;
  if (fstat(fd, &s) != 0 || !S_ISREG(s.st_mode)) {
    close(fd);
    return not_found(error, key);
  }
  st->size = uint64_t(s.st_size);
  st->identity =
      "mtime:" + std::to_string(int64_t(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec);
  // Objects are replaced by rename, never rewritten in place: a mapping stays valid. Small
  // ones are cheaper to read.
  constexpr off_t kMapFrom = 64 * 1024;
  if (s.st_size >= kMapFrom) {
    if (GBytes* cached = MappingCache::shared().find(path, s)) {
      close(fd);
      bytes->reset(cached);
      return StorageStatus::kOk;
    }
    GError* gerr = nullptr;
    GMappedFile* mapped = g_mapped_file_new_from_fd(fd, FALSE, &gerr);
    close(fd);
    if (!mapped) {
      storage_fail(error, StorageStatus::kError, "cannot read " + key + ": " + gerr->message);
      g_error_free(gerr);
      return StorageStatus::kError;
    }
    bytes->reset(g_mapped_file_get_bytes(mapped));
    g_mapped_file_unref(mapped);  // the bytes hold the mapping
    MappingCache::shared().add(path, s, bytes->get());
    return StorageStatus::kOk;
  }
  std::string data(size_t(s.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      errno_fail(error, "cannot read " + key, n < 0 ? errno : EIO);
      close(fd);
      return error->status;
    }
    got += size_t(n);
  }
  close(fd);
  bytes->reset(bytes_of(std::move(data)));
  return StorageStatus::kOk;
}

StorageStatus LocalStorage::get(const std::string& key, std::string* data, StorageError* error) {
  GUnique<GBytes> bytes;
  ObjectStat st;
  const StorageStatus status = get_bytes(key, &bytes, &st, error);
  if (status != StorageStatus::kOk) return status;
  gsize size = 0;
  const auto* p = static_cast<const char*>(g_bytes_get_data(bytes.get(), &size));
  data->assign(p ? p : "", size);
  return StorageStatus::kOk;
}

StorageStatus LocalStorage::put(const std::string& key, const std::string& data,
                                StorageError* error) {
  auto writer = open_writer(key, error);
  if (!writer) return error->status;
  const StorageStatus written = writer->write(data.data(), data.size(), error);
  return written == StorageStatus::kOk ? writer->commit(error) : written;
}

std::unique_ptr<StorageWriter> LocalStorage::open_writer(const std::string& key,
                                                         StorageError* error) {
  std::string path;
  if (!path_for(key, true, &path, error)) return nullptr;
  GUnique<gchar> base(g_path_get_basename(path.c_str()));
  std::string tmp = dirname_of(path) + "/" + kTempPrefix + base.get() + "-XXXXXX";
  int fd = g_mkstemp_full(tmp.data(), O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    errno_fail(error, "cannot create " + key, errno);
    return nullptr;
  }
  fchmod(fd, 0644);  // mkstemp may apply 0600 whatever the mode asked
  return std::make_unique<LocalWriter>(fd, std::move(tmp), std::move(path), key);
}

StorageStatus LocalStorage::remove(const std::string& key, StorageError* error) {
  std::string path;
  if (!path_for(key, false, &path, error)) return error->status;
  struct stat s;
  if (lstat(path.c_str(), &s) != 0 || !S_ISREG(s.st_mode)) return not_found(error, key);
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return not_found(error, key);
    return errno_fail(error, "cannot delete " + key, errno);
  }
  return StorageStatus::kOk;
}

StorageStatus LocalStorage::list(const std::string& prefix, std::vector<std::string>* keys,
                                 StorageError* error) {
  std::string why;
  if (!prefix.empty() && !validate_key(prefix + "x", &why))
    return storage_fail(error, StorageStatus::kError, "invalid prefix \"" + prefix + "\": " + why);
  keys->clear();
  walk(root_, "", prefix, keys);
  std::sort(keys->begin(), keys->end());
  return StorageStatus::kOk;
}

std::string LocalStorage::source_location(const std::string& key) const {
  return root_ + "/" + key;
}

}  // namespace tws
