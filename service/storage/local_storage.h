// SPDX-License-Identifier: LGPL-2.1-or-later
// A bucket that is a local directory. Objects are files under the root; writes go to a
// temporary file in the same directory, fsync'd and renamed into place.
#pragma once

#include "service/storage/storage.h"

namespace tws {

class LocalStorage : public Storage {
 public:
  explicit LocalStorage(std::string root);  // an existing directory, absolute

  StorageStatus stat(const std::string& key, ObjectStat* st, StorageError* error) override;
  StorageStatus get(const std::string& key, std::string* data, StorageError* error) override;
  StorageStatus get_bytes(const std::string& key, GUnique<GBytes>* bytes, ObjectStat* st,
                          StorageError* error) override;
  bool get_bytes_is_one_request() const override { return true; }
  StorageStatus put(const std::string& key, const std::string& data, StorageError* error) override;
  std::unique_ptr<StorageWriter> open_writer(const std::string& key, StorageError* error) override;
  StorageStatus remove(const std::string& key, StorageError* error) override;
  StorageStatus list(const std::string& prefix, std::vector<std::string>* keys,
                     StorageError* error) override;
  std::string source_location(const std::string& key) const override;

  // Temporary files start with this; list() never shows them.
  static constexpr const char* kTempPrefix = ".tws-tmp-";

  // Removes the temporary files below `root` not written for `max_age_s` seconds: what a
  // process killed while writing left behind (a live writer writes at least every stall
  // timeout). Returns how many were removed.
  static int remove_stale_temp_files(const std::string& root, int64_t max_age_s);

 private:
  // The file path of a valid key whose existing parent directories stay inside the root
  // (no symlink leads out). create_dirs: make the missing parents.
  bool path_for(const std::string& key, bool create_dirs, std::string* path, StorageError* error);

  std::string root_;
};

}  // namespace tws
