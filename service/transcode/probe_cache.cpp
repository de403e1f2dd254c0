// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/transcode/probe_cache.h"

#include <list>
#include <mutex>
#include <utility>

#include "pipelines/probe.h"
#include "service/worker/isolated.h"

namespace tws {
namespace {

constexpr size_t kEntries = 256;

std::mutex cache_mutex;
std::list<std::pair<std::string, SourceInfo>> cache;  // most recent first; guarded by cache_mutex

}  // namespace

bool probe_source_cached(const std::string& location, const ObjectStat& stat, SourceInfo* info,
                         MediaError* error) {
  const std::string key = location + "\n" + std::to_string(stat.size) + "\n" + stat.identity;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    for (auto it = cache.begin(); it != cache.end(); ++it) {
      if (it->first != key) continue;
      cache.splice(cache.begin(), cache, it);
      *info = it->second;
      return true;
    }
  }
  if (!probe_isolated(location, info, error)) return false;
  std::lock_guard<std::mutex> lock(cache_mutex);
  cache.emplace_front(key, *info);
  if (cache.size() > kEntries) cache.pop_back();
  return true;
}

}  // namespace tws
