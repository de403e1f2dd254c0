#include "service/generate.h"

#include <glib.h>

#include <cmath>
#include <map>
#include <memory>

#include "common/gref.h"
#include "pipelines/probe.h"
#include "service/json_text.h"
#include "service/master_playlist.h"
#include "service/playlist_file.h"
#include "service/record.h"
#include "service/resolve.h"
#include "service/storage.h"
#include "service/token.h"

namespace tws {
namespace {

struct Rendition {
  std::string bucket, prefix_key, playlist_key;
  Storage* storage = nullptr;
  PlaylistRecord record;
  Plan plan;
};

class Storages {
 public:
  explicit Storages(const Config& config) : config_(config) {}
  Storage* get(const std::string& bucket, Failure* failure) {
    auto it = open_.find(bucket);
    if (it != open_.end()) return it->second.get();
    auto storage = open_bucket(config_, bucket, failure);
    if (!storage) return nullptr;
    return (open_[bucket] = std::move(storage)).get();
  }

 private:
  const Config& config_;
  std::map<std::string, std::unique_ptr<Storage>> open_;
};

// Writes `text` at `key` unless skip_existing finds an object there. *existing: its text.
bool write_object(Storage* storage, const ObjectUri& where, const std::string& text,
                  bool skip_existing, std::string* existing, Failure* failure) {
  std::string error;
  if (skip_existing) {
    const StorageStatus s = storage->get(where.key, existing, &error);
    if (s == StorageStatus::kOk) return true;
    if (s == StorageStatus::kError) return storage_failure(failure, error);
    existing->clear();
  }
  if (!storage->put(where.key, text, &error)) return storage_failure(failure, error);
  return true;
}

void add_member(JsonBuilder* b, const char* name, const std::string& value) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value.c_str());
}

std::string response_json(const PlaylistRequest& request, double duration,
                          const std::string& master_token,
                          const std::vector<Rendition>& renditions) {
  GRef<JsonBuilder> b = adopt_ref(json_builder_new());
  GUnique<gchar> request_id(g_uuid_string_random());
  json_builder_begin_object(b.get());
  add_member(b.get(), "RequestId", request_id.get());
  json_builder_set_member_name(b.get(), "Duration");
  json_builder_add_double_value(b.get(), std::round(duration * 1000) / 1000);
  if (request.has_master) {
    add_member(b.get(), "MasterURI", request.master.to_string());
    add_member(b.get(), "Token", master_token);
  }
  for (bool video : {true, false}) {
    json_builder_set_member_name(b.get(), video ? "VideoPlaylist" : "AudioPlaylist");
    json_builder_begin_array(b.get());
    for (const Rendition& r : renditions) {
      if (r.record.has_video != video) continue;
      json_builder_begin_object(b.get());
      add_member(b.get(), "URI", ObjectUri{r.bucket, r.playlist_key}.to_string());
      add_member(b.get(), "Token", r.record.token);
      if (video) {
        add_member(b.get(), "Resolution", std::to_string(r.record.video.width) + "x" +
                                              std::to_string(r.record.video.height));
        add_member(b.get(), "FrameRate", frame_rate_text(r.record.video.frame_rate));
      } else {
        json_builder_set_member_name(b.get(), "Channels");
        json_builder_add_int_value(b.get(), r.record.audio.channels);
      }
      json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
  }
  json_builder_set_member_name(b.get(), "SubtitlePlaylist");
  json_builder_begin_array(b.get());
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  JsonNodePtr root(json_builder_get_root(b.get()));
  return json_to_text(root.get(), false);
}

}  // namespace

bool generate_playlists(const Config& config, const PlaylistRequest& request,
                        std::string* response, Failure* failure) {
  Storages storages(config);
  // Every bucket is checked before the source is read and before anything is written.
  Storage* source_storage = storages.get(request.source.bucket, failure);
  if (!source_storage) return false;
  for (const TargetRequest& t : request.targets)
    if (!storages.get(t.uri.bucket, failure)) return false;

  std::string error;
  ObjectStat stat;
  switch (source_storage->stat(request.source.key, &stat, &error)) {
    case StorageStatus::kOk: break;
    case StorageStatus::kNotFound:
      return set_failure(failure, ErrorCode::kNotFound,
                         "no such object " + request.source.to_string());
    case StorageStatus::kError: return storage_failure(failure, error);
  }
  SourceInfo info;
  if (!probe_source(source_storage->source_location(request.source.key), &info, &error))
    return set_failure(failure, ErrorCode::kInvalidSource, error);
  if (!(info.duration > 0))
    return set_failure(failure, ErrorCode::kInvalidSource, "the source has no duration");

  std::vector<Rendition> renditions;
  for (size_t i = 0; i < request.targets.size(); ++i) {
    const TargetRequest& t = request.targets[i];
    ResolvedTarget resolved;
    if (!resolve_target(request, i, info, config.preset, &resolved, &error))
      return set_failure(failure, ErrorCode::kInvalidArgument, error);
    Rendition r;
    r.bucket = t.uri.bucket;
    r.prefix_key = t.uri.key;
    r.playlist_key = playlist_key_for_prefix(t.uri.key);
    r.storage = storages.get(t.uri.bucket, failure);
    PlaylistRecord& rec = r.record;
    rec.source_uri = request.source.to_string();
    rec.source_size = stat.size;
    rec.source_identity = stat.identity;
    rec.source_start = request.source_start;
    rec.has_video = resolved.has_video;
    rec.video = resolved.video;
    rec.has_audio = resolved.has_audio;
    rec.audio = resolved.audio;
    rec.plan = resolved.plan;
    rec.initial_transcode = t.initial_transcode;
    rec.transcode_ahead = t.transcode_ahead;
    rec.token = compute_token(rec);
    if (!make_plan(rec.plan, &r.plan, &error))
      return set_failure(failure, ErrorCode::kInvalidSource,
                         "Targets[" + std::to_string(i) + "]: " + error);
    renditions.push_back(std::move(r));
  }

  std::vector<std::string> tokens;
  std::vector<MasterVariant> variants;
  for (size_t i = 0; i < renditions.size(); ++i) {
    Rendition& r = renditions[i];
    const ObjectUri where{r.bucket, r.playlist_key};
    std::string existing;
    if (!write_object(r.storage, where, media_playlist_text(r.prefix_key, r.record, r.plan),
                      request.skip_existing, &existing, failure))
      return false;
    PlaylistRecord kept;
    if (!existing.empty() && parse_media_playlist(existing, &kept, &error))
      r.record = kept;  // skip-existing: report what is stored
    tokens.push_back(r.record.token);
    if (r.record.has_video)
      variants.push_back(make_variant(r.playlist_key, r.record.video,
                                      r.record.has_audio ? &r.record.audio : nullptr));
  }
  std::string master_token;
  if (request.has_master) {
    master_token = compute_master_token(request.master.to_string(), tokens);
    if (!variants.empty()) {
      std::string existing;
      if (!write_object(storages.get(request.master.bucket, failure), request.master,
                        master_playlist_text(request.master.key, variants),
                        request.skip_existing, &existing, failure))
        return false;
    }
  }
  const double duration = renditions.front().record.plan.duration;
  *response = response_json(request, duration, master_token, renditions);
  return true;
}

}  // namespace tws
