// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/playlist/stored_playlist.h"

#include "service/playlist/playlist_file.h"
#include "service/storage/open_storage.h"

namespace tws {

bool load_stored_playlist(const Config& config, const ObjectUri& uri, StoredPlaylist* playlist,
                          Failure* failure) {
  if (prefix_of_playlist_key(uri.key).empty())
    return set_failure(failure, ErrorCode::kInvalidURI, uri.to_string() + ": not a .m3u8 key");
  auto storage = open_bucket(config, uri.bucket, failure);
  if (!storage) return false;
  std::string text;
  StorageError error;
  switch (storage->get(uri.key, &text, &error)) {
    case StorageStatus::kOk:
      break;
    case StorageStatus::kNotFound:
      return set_failure(failure, ErrorCode::kNotFound, "no playlist at " + uri.to_string());
    case StorageStatus::kDenied:
    case StorageStatus::kUnavailable:
    case StorageStatus::kError:
      return storage_failure(failure, error);
  }
  return parse_stored_playlist(uri, text, playlist, failure);
}

bool parse_stored_playlist(const ObjectUri& uri, const std::string& text, StoredPlaylist* playlist,
                           Failure* failure) {
  StoredPlaylist p;
  p.uri = uri;
  p.prefix_key = prefix_of_playlist_key(uri.key);
  if (p.prefix_key.empty())
    return set_failure(failure, ErrorCode::kInvalidURI, uri.to_string() + ": not a .m3u8 key");
  std::string error;
  if (!parse_media_playlist(text, &p.record, &error))
    return set_failure(failure, ErrorCode::kInvalidArgument, uri.to_string() + ": " + error);
  if (!make_plan(p.record.plan, &p.plan, &error))
    return set_failure(failure, ErrorCode::kInvalidArgument, uri.to_string() + ": " + error);
  *playlist = std::move(p);
  return true;
}

bool check_unchanged(Storage* storage, const std::string& key, const std::string& uri_text,
                     uint64_t size, const std::string& identity, const std::string& what,
                     Failure* failure) {
  ObjectStat stat;
  StorageError error;
  switch (storage->stat(key, &stat, &error)) {
    case StorageStatus::kOk:
      break;
    case StorageStatus::kNotFound:
      return set_failure(failure, ErrorCode::kSourceChanged,
                         what + " changed since the playlist was made (" + uri_text + " is gone)");
    case StorageStatus::kDenied:
    case StorageStatus::kUnavailable:
    case StorageStatus::kError:
      return storage_failure(failure, error);
  }
  if (stat.size != size || stat.identity != identity)
    return set_failure(failure, ErrorCode::kSourceChanged,
                       what + " changed since the playlist was made");
  return true;
}

bool open_playlist_source(const Config& config, const StoredPlaylist& playlist,
                          std::string* location, std::unique_ptr<Storage>* out, Failure* failure) {
  const PlaylistRecord& rec = playlist.record;
  ObjectUri source;
  std::string error;
  if (!parse_object_uri(rec.source_uri, &source, &error))
    return set_failure(failure, ErrorCode::kInvalidURI, "the record's source: " + error);
  auto source_storage = open_bucket(config, source.bucket, failure);
  auto output = open_bucket(config, playlist.uri.bucket, failure);
  if (!source_storage || !output) return false;
  if (!check_unchanged(source_storage.get(), source.key, rec.source_uri, rec.source_size,
                       rec.source_identity, "source", failure))
    return false;
  *location = source_storage->source_location(source.key);
  *out = std::move(output);
  return true;
}

}  // namespace tws
