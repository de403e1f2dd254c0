// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/api/generate.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "common/gref.h"
#include "pipelines/probe.h"
#include "pipelines/subtitle_cues.h"
#include "pipelines/subtitle_extract.h"
#include "service/api/resolve.h"
#include "service/core/json_text.h"
#include "service/playlist/master_playlist.h"
#include "service/playlist/playlist_file.h"
#include "service/playlist/record.h"
#include "service/playlist/token.h"
#include "service/storage/open_storage.h"
#include "service/storage/storage.h"
#include "service/transcode/probe_cache.h"

namespace tws {
namespace {

constexpr uint64_t kMaxSubtitleFileBytes = 16 << 20;

// One media playlist the request writes: a target's, or an audio or subtitle rendition of the
// master (DESIGN.md "Naming": MASTER-audio-<n>, MASTER-sub-<n>).
struct Rendition {
  enum Kind { kTarget, kAudio, kSubtitle } kind = kTarget;
  std::string bucket, prefix_key, playlist_key;
  Storage* storage = nullptr;
  PlaylistRecord record;
  Plan plan;
  std::string name;  // #EXT-X-MEDIA NAME of an audio/subtitle rendition
  int index = 0;     // n of MASTER-audio-<n> / MASTER-sub-<n>
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

}  // namespace

ErrorCode probe_failure_code(const MediaError& error) {
  if (error.source_not_found()) return ErrorCode::kNotFound;
  if (error.source_unavailable()) return ErrorCode::kServiceUnavailable;
  if (error.source_denied()) return ErrorCode::kStorageError;
  return ErrorCode::kInvalidSource;
}

namespace {

// Writes `text` at `key` unless skip_existing finds an object there. *existing: its text.
bool write_object(Storage* storage, const ObjectUri& where, const std::string& text,
                  bool skip_existing, std::string* existing, Failure* failure) {
  StorageError error;
  if (skip_existing) {
    const StorageStatus s = storage->get(where.key, existing, &error);
    if (s == StorageStatus::kOk) return true;
    if (storage_failed(s)) return storage_failure(failure, error);
    existing->clear();
  }
  if (storage->put(where.key, text, &error) != StorageStatus::kOk)
    return storage_failure(failure, error);
  return true;
}

void add_member(JsonBuilder* b, const char* name, const std::string& value) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value.c_str());
}

void add_int_member(JsonBuilder* b, const char* name, int64_t value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
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
  enum List { kVideoList, kAudioList, kSubtitleList };
  for (List list : {kVideoList, kAudioList, kSubtitleList}) {
    json_builder_set_member_name(b.get(), list == kVideoList   ? "VideoPlaylist"
                                          : list == kAudioList ? "AudioPlaylist"
                                                               : "SubtitlePlaylist");
    json_builder_begin_array(b.get());
    for (const Rendition& r : renditions) {
      const PlaylistRecord& rec = r.record;
      const List in = rec.has_subtitle ? kSubtitleList : rec.has_video ? kVideoList : kAudioList;
      if (in != list) continue;
      json_builder_begin_object(b.get());
      add_member(b.get(), "URI", ObjectUri{r.bucket, r.playlist_key}.to_string());
      add_member(b.get(), "Token", rec.token);
      if (list == kVideoList) {
        add_member(b.get(), "Resolution",
                   std::to_string(rec.video.width) + "x" + std::to_string(rec.video.height));
        add_member(b.get(), "FrameRate", frame_rate_text(rec.video.frame_rate));
      } else if (list == kAudioList) {
        add_int_member(b.get(), "Channels", rec.audio.channels);
        if (r.kind == Rendition::kAudio) add_int_member(b.get(), "Stream", rec.audio.stream);
      } else {
        add_member(b.get(), "Language", rec.subtitle.language);
        add_int_member(b.get(), "Index", r.index);
      }
      json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
  }
  json_builder_end_object(b.get());
  JsonNodePtr root(json_builder_get_root(b.get()));
  return json_to_text(root.get(), false);
}

// A NAME unique in its group: the title tag, else the language, else "<fallback> <n+1>".
std::string media_name(const std::string& title, const std::string& language,
                       const std::string& fallback, int index, std::set<std::string>* taken) {
  std::string name = !title.empty()      ? title
                     : !language.empty() ? language
                                         : fallback + " " + std::to_string(index + 1);
  const std::string base = name;
  for (int i = 2; taken->count(name); ++i) name = base + " (" + std::to_string(i) + ")";
  taken->insert(name);
  return name;
}

// The n-th audio or subtitle rendition of the master: MASTER-audio-<n> / MASTER-sub-<n>.
Rendition master_rendition(const PlaylistRequest& request, Rendition::Kind kind, int n,
                           std::string name) {
  Rendition r;
  r.kind = kind;
  r.index = n;
  r.bucket = request.master.bucket;
  r.prefix_key = prefix_of_playlist_key(request.master.key) +
                 (kind == Rendition::kAudio ? "-audio-" : "-sub-") + std::to_string(n);
  r.playlist_key = playlist_key_for_prefix(r.prefix_key);
  r.name = std::move(name);
  return r;
}

// The audio renditions of a master whose targets ask for more than one source audio stream:
// each stream once, at the highest TranscodeAudio settings among the targets.
bool add_audio_renditions(const PlaylistRequest& request, const SourceInfo& info,
                          const PlanInput& reference_plan, std::vector<Rendition>* renditions,
                          Failure* failure) {
  std::vector<int> streams;
  AudioTarget best;
  best.bitrate = best.sample_rate = 0;
  int max_channels = 0;
  for (size_t i = 0; i < request.targets.size(); ++i) {
    const Rendition& target = (*renditions)[i];
    if (!target.record.has_audio) continue;
    for (int s : audio_streams_of(request.targets[i], info))
      if (std::find(streams.begin(), streams.end(), s) == streams.end()) streams.push_back(s);
    const AudioTarget& a = target.record.audio;
    best.bitrate = std::max(best.bitrate, a.bitrate);
    best.sample_rate = std::max(best.sample_rate, a.sample_rate);
    max_channels = std::max(max_channels, request.targets[i].audio.channels);
  }
  if (streams.size() <= 1) return true;
  if (!request.has_master)
    return set_failure(failure, ErrorCode::kInvalidArgument,
                       "MasterURI: required with more than one audio stream");
  if (!reference_plan.frame_rate.valid())
    return set_failure(failure, ErrorCode::kInvalidArgument,
                       "Targets: more than one audio stream needs a target with Video");
  // The video variants carry no audio: the renditions are their sound.
  for (Rendition& r : *renditions) {
    if (!r.record.has_video) continue;
    r.record.has_audio = false;
    r.record.plan.audio_rate = 0;
  }
  std::set<std::string> names;
  for (size_t n = 0; n < streams.size(); ++n) {
    const AudioStreamInfo& src = info.audio[size_t(streams[n])];
    Rendition r = master_rendition(request, Rendition::kAudio, int(n),
                                   media_name(src.title, src.language, "Audio", int(n), &names));
    PlaylistRecord& rec = r.record;
    rec.has_audio = true;
    rec.audio = best;
    rec.audio.stream = streams[n];
    const int wanted = max_channels > 0 ? max_channels : 2;
    rec.audio.channels = src.channels > 0 ? std::min(src.channels, wanted) : wanted;
    rec.plan = reference_plan;  // the video grid, so every boundary falls where the video's does
    rec.plan.audio_rate = best.sample_rate;
    renditions->push_back(std::move(r));
  }
  return true;
}

// Reads and parses a SourceSubtitles file; its stat goes into the record.
bool read_subtitle_file(Storage* storage, const SourceSubtitle& sub, const std::string& field,
                        SubtitleTrack* track, Failure* failure) {
  std::string text;
  StorageError error;
  ObjectStat st;
  StorageStatus s = storage->stat(sub.uri.key, &st, &error);
  if (s == StorageStatus::kOk && st.size > kMaxSubtitleFileBytes)
    return set_failure(failure, ErrorCode::kInvalidArgument,
                       field + ": larger than 16 MiB; not a subtitle file");
  if (s == StorageStatus::kOk) s = storage->get(sub.uri.key, &text, &error);
  if (s == StorageStatus::kNotFound)
    return set_failure(failure, ErrorCode::kInvalidArgument,
                       field + ": no such object " + sub.uri.to_string());
  if (storage_failed(s)) return storage_failure(failure, error);
  std::vector<Cue> cues;
  std::string why;
  if (!parse_subtitles(text, &cues, &why))
    return set_failure(failure, ErrorCode::kInvalidArgument, field + ": " + why);
  track->uri = sub.uri.to_string();
  track->size = st.size;
  track->identity = st.identity;
  track->language = sub.language;
  return true;
}

// The subtitle renditions: the SourceSubtitles files, then the chosen text streams of the
// source (Targets[].Subtitle.Stream; every one when no target says), on the reference plan.
bool add_subtitle_renditions(const PlaylistRequest& request, const SourceInfo& info,
                             const PlanInput& reference_plan, Storages* storages,
                             std::vector<Rendition>* renditions, Failure* failure) {
  if (!request.has_master) return true;
  std::vector<SubtitleTrack> tracks;
  std::vector<std::string> titles;
  for (size_t i = 0; i < request.subtitles.size(); ++i) {
    const SourceSubtitle& sub = request.subtitles[i];
    Storage* storage = storages->get(sub.uri.bucket, failure);
    SubtitleTrack t;
    if (!storage || !read_subtitle_file(storage, sub, "SourceSubtitles[" + std::to_string(i) + "]",
                                        &t, failure))
      return false;
    tracks.push_back(t);
    titles.emplace_back();
  }
  std::vector<int> streams;
  bool any_choice = false;
  for (size_t i = 0; i < request.targets.size(); ++i) {
    const TargetRequest& t = request.targets[i];
    if (!t.has_subtitle) continue;
    any_choice = true;
    const std::string field = "Targets[" + std::to_string(i) + "].Subtitle.Stream";
    for (int s : t.subtitle.streams) {
      if (s >= int(info.subtitles.size()))
        return set_failure(failure, ErrorCode::kInvalidArgument,
                           field + ": " + std::to_string(s) + " is out of range: the source has " +
                               std::to_string(info.subtitles.size()) + " subtitle stream(s)");
      if (!is_text_subtitle_codec(info.subtitles[size_t(s)].codec))
        return set_failure(failure, ErrorCode::kInvalidArgument,
                           field + ": stream " + std::to_string(s) + " is not text subtitles (" +
                               info.subtitles[size_t(s)].codec + ")");
      if (std::find(streams.begin(), streams.end(), s) == streams.end()) streams.push_back(s);
    }
    if (t.subtitle.all_streams)
      for (size_t s = 0; s < info.subtitles.size(); ++s)
        if (is_text_subtitle_codec(info.subtitles[s].codec) &&
            std::find(streams.begin(), streams.end(), int(s)) == streams.end())
          streams.push_back(int(s));
  }
  if (!any_choice)
    for (size_t s = 0; s < info.subtitles.size(); ++s)
      if (is_text_subtitle_codec(info.subtitles[s].codec)) streams.push_back(int(s));
  for (int s : streams) {
    SubtitleTrack t;
    t.stream = s;
    t.language = info.subtitles[size_t(s)].language;
    tracks.push_back(t);
    titles.push_back(info.subtitles[size_t(s)].title);
  }
  std::set<std::string> names;
  for (size_t n = 0; n < tracks.size(); ++n) {
    Rendition r =
        master_rendition(request, Rendition::kSubtitle, int(n),
                         media_name(titles[n], tracks[n].language, "Subtitles", int(n), &names));
    r.record.has_subtitle = true;
    r.record.subtitle = tracks[n];
    r.record.plan = reference_plan;
    if (r.record.plan.frame_rate.valid()) r.record.plan.audio_rate = 0;
    renditions->push_back(std::move(r));
  }
  return true;
}

}  // namespace

bool generate_playlists(const Config& config, const PlaylistRequest& request, std::string* response,
                        Failure* failure, std::vector<ObjectUri>* media_playlists) {
  Storages storages(config);
  // Every bucket is checked before the source is read and before anything is written.
  Storage* source_storage = storages.get(request.source.bucket, failure);
  if (!source_storage) return false;
  for (const TargetRequest& t : request.targets)
    if (!storages.get(t.uri.bucket, failure)) return false;
  for (const SourceSubtitle& s : request.subtitles)
    if (!storages.get(s.uri.bucket, failure)) return false;

  StorageError stored;
  ObjectStat stat;
  switch (source_storage->stat(request.source.key, &stat, &stored)) {
    case StorageStatus::kOk:
      break;
    case StorageStatus::kNotFound:
      return set_failure(failure, ErrorCode::kNotFound,
                         "no such object " + request.source.to_string());
    case StorageStatus::kDenied:
    case StorageStatus::kUnavailable:
    case StorageStatus::kError:
      return storage_failure(failure, stored);
  }
  SourceInfo info;
  MediaError probed;
  if (!probe_source_cached(source_storage->source_location(request.source.key), stat, &info,
                           &probed))
    return set_failure(failure, probe_failure_code(probed), probed.message);
  std::string error;
  if (!(info.duration > 0))
    return set_failure(failure, ErrorCode::kInvalidSource, "the source has no duration");

  std::vector<Rendition> renditions;
  PlanInput reference_plan;  // the first video target's, else the first target's
  for (size_t i = 0; i < request.targets.size(); ++i) {
    const TargetRequest& t = request.targets[i];
    ResolvedTarget resolved;
    if (!resolve_target(request, i, info, config.preset, &resolved, &error))
      return set_failure(failure, ErrorCode::kInvalidArgument, error);
    Rendition r;
    r.bucket = t.uri.bucket;
    r.prefix_key = t.uri.key;
    r.playlist_key = playlist_key_for_prefix(t.uri.key);
    PlaylistRecord& rec = r.record;
    rec.has_video = resolved.has_video;
    rec.video = resolved.video;
    rec.has_audio = resolved.has_audio;
    rec.audio = resolved.audio;
    rec.plan = resolved.plan;
    rec.initial_transcode = t.initial_transcode;
    rec.transcode_ahead = t.transcode_ahead;
    if (i == 0 || (rec.has_video && !reference_plan.frame_rate.valid())) reference_plan = rec.plan;
    renditions.push_back(std::move(r));
  }
  if (!add_audio_renditions(request, info, reference_plan, &renditions, failure) ||
      !add_subtitle_renditions(request, info, reference_plan, &storages, &renditions, failure))
    return false;

  for (size_t i = 0; i < renditions.size(); ++i) {
    Rendition& r = renditions[i];
    r.storage = storages.get(r.bucket, failure);
    if (!r.storage) return false;
    PlaylistRecord& rec = r.record;
    rec.source_uri = request.source.to_string();
    rec.source_size = stat.size;
    rec.source_identity = stat.identity;
    rec.source_start = request.source_start;
    rec.tags = request.tags;
    rec.user_data = request.user_data;
    if (r.kind != Rendition::kTarget) {  // the first target's service hints
      rec.initial_transcode = renditions.front().record.initial_transcode;
      rec.transcode_ahead = renditions.front().record.transcode_ahead;
      if (r.kind == Rendition::kSubtitle) rec.initial_transcode = 0;  // made on demand: cheap
    }
    rec.token = compute_token(rec);
    if (!make_plan(rec.plan, &r.plan, &error))
      return set_failure(failure, ErrorCode::kInvalidSource, r.playlist_key + ": " + error);
  }

  std::vector<std::string> tokens;
  for (Rendition& r : renditions) {
    const ObjectUri where{r.bucket, r.playlist_key};
    std::string existing;
    if (!write_object(r.storage, where, media_playlist_text(r.prefix_key, r.record, r.plan),
                      request.skip_existing, &existing, failure))
      return false;
    PlaylistRecord kept;
    if (!existing.empty() && parse_media_playlist(existing, &kept, &error))
      r.record = kept;  // skip-existing: report what is stored
    tokens.push_back(r.record.token);
  }

  std::string master_token;
  if (request.has_master) {
    master_token = compute_master_token(request.master.to_string(), tokens);
    std::vector<MasterMedia> media;
    const AudioTarget* group_audio = nullptr;
    bool subtitles = false;
    for (const Rendition& r : renditions) {
      if (r.kind == Rendition::kTarget) continue;
      MasterMedia m;
      m.subtitles = r.kind == Rendition::kSubtitle;
      m.playlist_key = r.playlist_key;
      m.name = r.name;
      m.language = m.subtitles ? r.record.subtitle.language : "";
      if (!m.subtitles) {
        m.language = info.audio[size_t(r.record.audio.stream)].language;
        m.channels = r.record.audio.channels;
        m.is_default = r.index == 0;
        group_audio = &r.record.audio;  // all alike but for the stream
      }
      subtitles = subtitles || m.subtitles;
      media.push_back(m);
    }
    std::vector<MasterVariant> variants;
    for (const Rendition& r : renditions) {
      if (r.kind != Rendition::kTarget || !r.record.has_video) continue;
      MasterVariant v = make_variant(r.playlist_key, r.record.video,
                                     r.record.has_audio ? &r.record.audio : nullptr,
                                     r.record.has_audio ? nullptr : group_audio);
      v.subtitle_group = subtitles;
      variants.push_back(v);
    }
    if (!variants.empty()) {
      std::string existing;
      if (!write_object(storages.get(request.master.bucket, failure), request.master,
                        master_playlist_text(request.master.key, variants, media),
                        request.skip_existing, &existing, failure))
        return false;
    }
  }
  if (media_playlists)
    for (const Rendition& r : renditions) media_playlists->push_back({r.bucket, r.playlist_key});
  const double duration = renditions.front().record.plan.duration;
  *response = response_json(request, duration, master_token, renditions);
  return true;
}

}  // namespace tws
