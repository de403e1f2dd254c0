// SPDX-License-Identifier: LGPL-2.1-or-later
// Opening a configured bucket: picks its backend (a local directory or S3) and wraps it in a
// CountingStorage. Apart from storage.h so that the interface the backends implement does not
// include the backends.
#pragma once

#include <memory>
#include <string>

#include "service/storage/storage.h"

namespace tws {

struct BucketConfig;
struct Config;

// The storage of a configured bucket (a directory or S3); nullptr with *error.
std::unique_ptr<Storage> open_storage(const BucketConfig& bucket, StorageError* error);

// The storage of the config's bucket `name`, or nullptr with UnknownBucket / StorageError.
std::unique_ptr<Storage> open_bucket(const Config& config, const std::string& name,
                                     Failure* failure);

}  // namespace tws
