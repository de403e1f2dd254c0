// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/storyboard_files.h"

#include <glib.h>

#include <algorithm>
#include <memory>

#include "pipelines/storyboard.h"
#include "service/storage/open_storage.h"
#include "service/storage/storage.h"
#include "service/worker/isolated.h"

namespace tws {
namespace {

constexpr const char* kInfix = "-storyboard";
constexpr int kTileWidth = 160;
constexpr int kColumns = 10, kRows = 10;
constexpr int64_t kSecond = 1000000000;
constexpr int64_t kMinIntervalNs = 2 * kSecond;
constexpr int64_t kMaxThumbnails = 300;

bool is_token(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return g_ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::string file_name(const std::string& key) {
  const auto slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

}  // namespace

std::string storyboard_vtt_key(const std::string& prefix_key, const std::string& token) {
  return prefix_key + "-" + token + kInfix + ".vtt";
}

std::string storyboard_sprite_key(const std::string& prefix_key, const std::string& token,
                                  int sprite) {
  return prefix_key + "-" + token + kInfix + "-" + std::to_string(sprite) + ".jpg";
}

bool parse_storyboard_key(const std::string& key, StoryboardName* name) {
  StoryboardName n;
  std::string rest;
  if (g_str_has_suffix(key.c_str(), ".vtt")) {
    rest = key.substr(0, key.size() - 4);
    if (!g_str_has_suffix(rest.c_str(), kInfix)) return false;
    rest.resize(rest.size() - strlen(kInfix));
  } else if (g_str_has_suffix(key.c_str(), ".jpg")) {
    rest = key.substr(0, key.size() - 4);
    const auto dash = rest.rfind('-');
    if (dash == std::string::npos) return false;
    const std::string digits = rest.substr(dash + 1);
    guint64 v = 0;
    if (digits.empty() || digits.size() > 6 || (digits.size() > 1 && digits[0] == '0') ||
        !g_ascii_string_to_unsigned(digits.c_str(), 10, 0, 999999, &v, nullptr))
      return false;
    n.sprite = int(v);
    rest.resize(dash);
    if (!g_str_has_suffix(rest.c_str(), kInfix)) return false;
    rest.resize(rest.size() - strlen(kInfix));
  } else {
    return false;
  }
  const auto dash = rest.rfind('-');
  if (dash == std::string::npos || dash == 0) return false;
  n.token = rest.substr(dash + 1);
  n.prefix_key = rest.substr(0, dash);
  if (!is_token(n.token) || n.prefix_key.empty() || n.prefix_key.back() == '/') return false;
  *name = std::move(n);
  return true;
}

bool has_storyboard(const PlaylistRecord& record) {
  return record.has_video && !record.has_subtitle;
}

bool make_storyboard_files(const Config& config, const StoredPlaylist& playlist, std::string* vtt,
                           std::vector<std::string>* stored, Failure* failure) {
  const PlaylistRecord& rec = playlist.record;
  if (!has_storyboard(rec) || playlist.plan.segments.empty())
    return set_failure(failure, ErrorCode::kNotFound,
                       playlist.uri.to_string() + " has no video: no storyboard");
  StoryboardRequest request;
  std::unique_ptr<Storage> out;
  if (!open_playlist_source(config, playlist, &request.source, &out, failure)) return false;
  request.source_start_ns = int64_t(rec.source_start * 1e9 + 0.5);
  request.duration_ns = int64_t(playlist.plan.segments.back().end_ns);
  request.tile_width = kTileWidth;
  request.interval_ns = std::max(kMinIntervalNs, request.duration_ns / kMaxThumbnails);
  request.columns = kColumns;
  request.rows = kRows;
  request.timeout_ns = int64_t(std::max(60.0, double(config.stall_timeout) * 4)) * kSecond;
  Storyboard board;
  std::string error;
  if (!make_storyboard_isolated(request, &board, &error))
    return set_failure(failure, ErrorCode::kTranscodeFailed, "storyboard: " + error);

  StorageError why;
  for (size_t i = 0; i < board.sprites.size(); ++i) {
    const std::string key = storyboard_sprite_key(playlist.prefix_key, rec.token, int(i));
    if (out->put(key, board.sprites[i], &why) != StorageStatus::kOk)
      return storage_failure(failure, why);
    stored->push_back(key);
  }
  *vtt = storyboard_vtt(board, request.duration_ns, [&](int sprite) {
    return file_name(storyboard_sprite_key(playlist.prefix_key, rec.token, sprite));
  });
  const std::string key = storyboard_vtt_key(playlist.prefix_key, rec.token);
  if (out->put(key, *vtt, &why) != StorageStatus::kOk) return storage_failure(failure, why);
  stored->push_back(key);
  return true;
}

}  // namespace tws
