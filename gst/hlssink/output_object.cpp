// SPDX-License-Identifier: LGPL-2.1-or-later
#include "output_object.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cstring>

#include "common/gref.h"
#include "common/s3/s3_client.h"

namespace tws {

namespace {

// A location split into its store ("" for the local file system, "s3://BUCKET" for S3) and
// its path in that store (absolute, '/'-separated).
struct Place {
  std::string store;
  std::string path;
  s3::Location s3;  // for S3
};

bool parse_place(const std::string& location, Place* out, std::string* error) {
  if (location.empty()) {
    *error = "no location given";
    return false;
  }
  if (location.find("://") == std::string::npos) {
    GUnique<gchar> abs(g_canonicalize_filename(location.c_str(), nullptr));
    out->path = abs.get();
    return true;
  }
  GUnique<gchar> scheme(g_uri_parse_scheme(location.c_str()));
  if (scheme && g_ascii_strcasecmp(scheme.get(), "file") == 0) {
    GError* raw = nullptr;
    GUnique<gchar> path(g_filename_from_uri(location.c_str(), nullptr, &raw));
    GUnique<GError> err(raw);
    if (!path) {
      *error = "invalid file URI " + location + (err ? std::string(": ") + err->message : "");
      return false;
    }
    out->path = path.get();
    return true;
  }
  if (scheme && g_ascii_strcasecmp(scheme.get(), "s3") == 0) {
    std::string why;
    if (!s3::parse_location(location, &out->s3, &why)) {
      *error = "invalid S3 location " + location + ": " + why;
      return false;
    }
    if (out->s3.key.empty() || out->s3.key.back() == '/') {
      *error = "S3 location names no object: " + location;
      return false;
    }
    out->store = "s3://" + out->s3.bucket;
    out->path = "/" + out->s3.key;
    return true;
  }
  *error = "unsupported location " + location + " (a path, file:// or s3:// URI)";
  return false;
}

std::string errno_text(int e) { return g_strerror(e); }

class FileWriter final : public ObjectWriter {
 public:
  FileWriter(std::string path, std::string tmp, int fd)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  ~FileWriter() override { abort(); }

  bool append(const uint8_t* data, size_t size, std::string* error) override {
    while (size > 0) {
      ssize_t n = write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *error = "could not write " + path_ + ": " + errno_text(errno);
        return false;
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  bool commit(std::string* error) override {
    int fd = std::exchange(fd_, -1);
    if (close(fd) != 0) {
      *error = "could not write " + path_ + ": " + errno_text(errno);
      abort();
      return false;
    }
    if (g_rename(tmp_.c_str(), path_.c_str()) != 0) {
      *error = "could not rename " + tmp_ + " to " + path_ + ": " + errno_text(errno);
      abort();
      return false;
    }
    tmp_.clear();
    return true;
  }

  void abort() override {
    if (fd_ >= 0) close(std::exchange(fd_, -1));
    if (!tmp_.empty()) g_unlink(std::exchange(tmp_, std::string()).c_str());
  }

 private:
  std::string path_;
  std::string tmp_;  // empty once renamed or removed
  int fd_;
};

class S3Writer final : public ObjectWriter {
 public:
  S3Writer(s3::Target target, std::string key, GCancellable* cancel)
      : client_(std::move(target)), key_(std::move(key)), cancel_(cancel) {}

  bool append(const uint8_t* data, size_t size, std::string* /*error*/) override {
    body_.append(reinterpret_cast<const char*>(data), size);
    return true;
  }
  bool commit(std::string* error) override {
    s3::Error e;
    bool ok = client_.put(key_, body_, &e, cancel_) == s3::Result::kOk;
    if (!ok) *error = e.message;
    body_.clear();
    return ok;
  }
  void abort() override { body_.clear(); }

 private:
  s3::Client client_;
  std::string key_;
  GCancellable* cancel_;
  std::string body_;
};

std::unique_ptr<FileWriter> open_file(const std::string& path, std::string* error) {
  GUnique<gchar> dir(g_path_get_dirname(path.c_str()));
  GUnique<gchar> base(g_path_get_basename(path.c_str()));
  if (g_mkdir_with_parents(dir.get(), 0755) != 0) {
    *error = "could not create folder " + std::string(dir.get()) + ": " + errno_text(errno);
    return nullptr;
  }
  GUnique<gchar> tmpl(
      g_build_filename(dir.get(), ("." + std::string(base.get()) + ".XXXXXX").c_str(), nullptr));
  int fd = g_mkstemp_full(tmpl.get(), O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0) {
    *error = "could not create a file in " + std::string(dir.get()) + ": " + errno_text(errno);
    return nullptr;
  }
  return std::make_unique<FileWriter>(path, tmpl.get(), fd);
}

}  // namespace

std::unique_ptr<ObjectWriter> ObjectOutput::create(const std::string& location,
                                                   std::string* error) const {
  Place p;
  if (!parse_place(location, &p, error)) return nullptr;
  if (p.store.empty()) return open_file(p.path, error);
  return std::make_unique<S3Writer>(s3::resolve_target(p.s3, s3_), p.s3.key, cancel_);
}

bool ObjectOutput::put(const std::string& location, const std::string& data,
                       std::string* error) const {
  auto w = create(location, error);
  return w && w->append(reinterpret_cast<const uint8_t*>(data.data()), data.size(), error) &&
         w->commit(error);
}

bool ObjectOutput::remove(const std::string& location, std::string* error) const {
  Place p;
  if (!parse_place(location, &p, error)) return false;
  if (p.store.empty()) {
    if (g_unlink(p.path.c_str()) == 0 || errno == ENOENT) return true;
    *error = "could not remove " + p.path + ": " + errno_text(errno);
    return false;
  }
  s3::Client client(s3::resolve_target(p.s3, s3_));
  s3::Error e;
  s3::Result r = client.remove(p.s3.key, &e, cancel_);
  if (r == s3::Result::kOk || r == s3::Result::kNotFound) return true;
  *error = e.message;
  return false;
}

bool check_index_pattern(const std::string& pattern, std::string* why) {
  int conversions = 0;
  for (size_t i = 0; i < pattern.size(); i++) {
    if (pattern[i] != '%') continue;
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      i++;
      continue;
    }
    size_t j = i + 1;
    while (j < pattern.size() && (g_ascii_isdigit(pattern[j]) || pattern[j] == '-')) j++;
    if (j >= pattern.size() || (pattern[j] != 'd' && pattern[j] != 'u' && pattern[j] != 'i') ||
        j - i > 4) {
      *why = "location \"" + pattern + "\" has a conversion other than %d, %u or %05d";
      return false;
    }
    conversions++;
    i = j;
  }
  if (conversions != 1) {
    *why = "location \"" + pattern + "\" needs exactly one %d (the segment index), has " +
           std::to_string(conversions);
    return false;
  }
  return true;
}

std::string format_index(const std::string& pattern, unsigned index) {
  // check_index_pattern() vetted the one conversion; %u of an unsigned is exact for all.
  std::string fmt = pattern;
  for (size_t i = 0; i < fmt.size(); i++) {
    if (fmt[i] != '%') continue;
    if (fmt[i + 1] == '%') {
      i++;
      continue;
    }
    size_t j = i + 1;
    while (fmt[j] != 'd' && fmt[j] != 'u' && fmt[j] != 'i') j++;
    fmt[j] = 'u';
    break;
  }
  GUnique<gchar> out(g_strdup_printf(fmt.c_str(), index));
  return out.get();
}

std::string segment_uri(const std::string& segment, const std::string& playlist,
                        const std::string& root, std::string* why) {
  Place seg, pl;
  if (!parse_place(segment, &seg, why) || !parse_place(playlist, &pl, why)) return "";
  GUnique<gchar> base(g_path_get_basename(seg.path.c_str()));
  if (!root.empty()) {
    std::string r = root;
    while (!r.empty() && r.back() == '/') r.pop_back();
    return r + "/" + base.get();
  }
  if (seg.store == pl.store) {
    std::string dir = pl.path.substr(0, pl.path.rfind('/') + 1);
    if (seg.path.compare(0, dir.size(), dir) == 0) return seg.path.substr(dir.size());
  }
  if (seg.store.empty()) {
    GUnique<gchar> uri(g_filename_to_uri(seg.path.c_str(), nullptr, nullptr));
    if (uri) return uri.get();
  }
  *why = "a player of " + playlist + " cannot reach " + segment +
         ": put the segments beside the playlist or set playlist-root";
  return "";
}

}  // namespace tws
