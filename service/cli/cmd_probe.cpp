// SPDX-License-Identifier: LGPL-2.1-or-later
// tws probe [--config FILE] SOURCE_URI
#include <cstdio>

#include "pipelines/probe.h"
#include "service/cli/commands.h"
#include "service/core/errors.h"
#include "service/storage/open_storage.h"
#include "service/worker/isolated.h"

namespace tws {

int cmd_probe(const Args& args) {
  CommandLine line;
  std::string error;
  if (!parse_command_line(args, {}, 1, 1, &line, &error))
    return fail(kExitUsage, "probe: " + error + " (tws probe [--config FILE] SOURCE_URI)");
  Config config;
  if (!load_command_config(line, &config, &error)) return fail(kExitFailure, error);
  ObjectUri uri;
  if (!resolve_object_uri(config, line.positional[0], &uri, &error))
    return fail(kExitFailure, error);
  Failure failure;
  auto storage = open_bucket(config, uri.bucket, &failure);
  if (!storage) return fail(kExitFailure, failure.message);
  ObjectStat stat;
  StorageError stored;
  switch (storage->stat(uri.key, &stat, &stored)) {
    case StorageStatus::kOk:
      break;
    case StorageStatus::kNotFound:
      return fail(kExitFailure, "no such object " + uri.to_string());
    case StorageStatus::kDenied:
    case StorageStatus::kUnavailable:
    case StorageStatus::kError:
      return fail(kExitFailure, stored.message);
  }
  SourceInfo info;
  MediaError probed;
  if (!probe_isolated(storage->source_location(uri.key), &info, &probed))
    return fail(kExitFailure, "invalid source: " + probed.message);
  info.uri = uri.to_string();
  info.size = stat.size;  // the storage's view, the one playlists record
  info.identity = stat.identity;
  std::printf("%s\n", source_info_to_json(info).c_str());
  return kExitOk;
}

}  // namespace tws
