// SPDX-License-Identifier: LGPL-2.1-or-later
#include "block_cache.h"

#include <algorithm>
#include <cstring>

namespace tws {

size_t BlockCache::KeyHash::operator()(const Key& k) const {
  size_t h = std::hash<std::string>()(k.object);
  h ^= std::hash<guint64>()(k.index) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= std::hash<guint>()(k.block_size) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

BlockCache::BlockCache(guint64 capacity_bytes) : capacity_(capacity_bytes) {}

BlockCache::~BlockCache() = default;

BlockCache& BlockCache::shared() {
  // Never destroyed: streaming threads may still read while the process exits.
  static BlockCache* cache = new BlockCache(kDefaultCapacity);
  return *cache;
}

void BlockCache::set_capacity(guint64 bytes) {
  std::lock_guard lock(mutex_);
  capacity_ = bytes;
  evict_locked();
}

guint64 BlockCache::capacity() const {
  std::lock_guard lock(mutex_);
  return capacity_;
}

void BlockCache::clear() {
  std::lock_guard lock(mutex_);
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard lock(mutex_);
  BlockCacheStats s = stats_;
  s.cached_bytes = bytes_;
  s.cached_blocks = lru_.size();
  s.capacity = capacity_;
  return s;
}

std::string BlockCache::make_object_key(const std::string& location, const std::string& identity,
                                        guint64 size) {
  return location + "\n" + identity + "\n" + std::to_string(size);
}

BlockCache::Block BlockCache::lookup_locked(const Key& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->data;
}

void BlockCache::insert_locked(const Key& key, Block data) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= it->second->data->size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  bytes_ += data->size();
  lru_.push_front(Entry{key, std::move(data)});
  index_.emplace(key, lru_.begin());
  evict_locked();
}

void BlockCache::evict_locked() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    Entry& victim = lru_.back();
    bytes_ -= victim.data->size();
    index_.erase(victim.key);
    lru_.pop_back();
    stats_.evictions++;
  }
}

BlockCache::Reader::Reader(BlockCache& cache, std::string object_key, guint64 object_size,
                           guint block_size, guint readahead, Fetch fetch)
    : cache_(cache),
      object_key_(std::move(object_key)),
      object_size_(object_size),
      block_size_(block_size ? block_size : kDefaultBlockSize),
      readahead_(readahead),
      fetch_(std::move(fetch)) {}

void BlockCache::Reader::set_cancelled(bool cancelled) {
  cancelled_ = cancelled;
  if (cancelled) {
    // Wake this reader if it waits for another reader's fetch.
    std::lock_guard lock(cache_.mutex_);
    cache_.cond_.notify_all();
  }
}

gssize BlockCache::Reader::fetch_exactly(guint64 offset, gsize length, guint8* dest,
                                         BackendError* error) {
  const gssize got = fetch_(offset, length, dest, error);
  if (got < 0 && !*error) error->set(BackendErrorCode::kIo, "Read failed");
  if (got >= 0 && static_cast<gsize>(got) != length) {
    error->set(BackendErrorCode::kIo,
               "Short read from " + object_key_.substr(0, object_key_.find('\n')),
               "expected " + std::to_string(length) + " bytes at " + std::to_string(offset) +
                   ", got " + std::to_string(got) + " (object changed while reading?)");
  }
  return got;
}

gssize BlockCache::Reader::read_direct(guint64 offset, gsize length, guint8* dest,
                                       BackendError* error) {
  const gssize got = fetch_exactly(offset, length, dest, error);
  std::lock_guard lock(cache_.mutex_);
  cache_.stats_.backend_requests++;
  if (*error) return -1;
  cache_.stats_.backend_bytes += static_cast<guint64>(got);
  return got;
}

gssize BlockCache::Reader::read(guint64 offset, gsize length, guint8* dest, BackendError* error) {
  if (cancelled_) {
    error->set(BackendErrorCode::kCancelled, "Cancelled");
    return -1;
  }
  if (offset >= object_size_ || length == 0) return 0;
  length = static_cast<gsize>(std::min<guint64>(length, object_size_ - offset));
  if (direct_) return read_direct(offset, length, dest, error);

  const guint64 bs = block_size_;
  const guint64 n_object_blocks = (object_size_ + bs - 1) / bs;
  const guint64 first = offset / bs;
  const guint64 last = (offset + length - 1) / bs;
  const size_t n = static_cast<size_t>(last - first + 1);

  // Sequential: starts where the previous read ended (same block or the next one). The
  // very first read of an object is sequential when it starts at the beginning.
  const bool sequential =
      have_previous_ ? (first == next_block_ || first + 1 == next_block_) : first == 0;

  auto block_bytes = [&](guint64 index) -> gsize {
    guint64 start = index * bs;
    return static_cast<gsize>(std::min<guint64>(bs, object_size_ - start));
  };

  std::vector<Block> blocks(n);
  std::unique_lock lock(cache_.mutex_);
  for (;;) {
    if (cancelled_) {
      error->set(BackendErrorCode::kCancelled, "Cancelled");
      return -1;
    }
    std::vector<guint64> claimed;  // absolute block indices this reader fetches, ascending
    std::vector<std::pair<size_t, std::shared_ptr<Flight>>> waits;
    for (size_t i = 0; i < n; i++) {
      if (blocks[i]) continue;
      Key key{object_key_, block_size_, first + i};
      if (Block b = cache_.lookup_locked(key)) {
        blocks[i] = std::move(b);
        cache_.stats_.hits++;
        continue;
      }
      auto fl = cache_.flights_.find(key);
      if (fl != cache_.flights_.end()) {
        waits.emplace_back(i, fl->second);
        continue;
      }
      cache_.flights_.emplace(std::move(key), std::make_shared<Flight>());
      claimed.push_back(first + i);
      cache_.stats_.misses++;
    }
    // Readahead rides along in the request for the read's last block, and only as far as
    // blocks are neither cached nor being fetched, so the request stays one range.
    if (sequential && readahead_ > 0 && !claimed.empty() && claimed.back() == last) {
      for (guint64 idx = last + 1; idx <= last + readahead_ && idx < n_object_blocks; idx++) {
        Key key{object_key_, block_size_, idx};
        if (cache_.index_.count(key) || cache_.flights_.count(key)) break;
        cache_.flights_.emplace(std::move(key), std::make_shared<Flight>());
        claimed.push_back(idx);
        cache_.stats_.readahead_blocks++;
      }
    }
    if (claimed.empty() && waits.empty()) break;

    if (!claimed.empty()) {
      lock.unlock();
      // Fetch each run of contiguous claimed blocks with one request.
      std::vector<std::pair<guint64, Block>> fetched;
      BackendError fetch_error;
      guint64 requests = 0, bytes = 0;
      size_t run_begin = 0;
      while (run_begin < claimed.size() && !fetch_error) {
        size_t run_end = run_begin + 1;
        while (run_end < claimed.size() && claimed[run_end] == claimed[run_end - 1] + 1) run_end++;
        const guint64 start_block = claimed[run_begin];
        const guint64 run_offset = start_block * bs;
        gsize run_length = 0;
        for (size_t k = run_begin; k < run_end; k++) run_length += block_bytes(claimed[k]);
        std::shared_ptr<guint8[]> buf(new guint8[run_length]);  // not zeroed: fetch fills it
        gssize got = -1;
        if (cancelled_) {
          fetch_error.set(BackendErrorCode::kCancelled, "Cancelled");
        } else {
          got = fetch_exactly(run_offset, run_length, buf.get(), &fetch_error);
          requests++;
          if (got >= 0) bytes += static_cast<guint64>(got);
        }
        if (fetch_error) break;
        gsize pos = 0;
        for (size_t k = run_begin; k < run_end; k++) {
          gsize len = block_bytes(claimed[k]);
          fetched.emplace_back(claimed[k], std::make_shared<const BlockBytes>(
                                               BlockBytes{buf, buf.get() + pos, len}));
          pos += len;
        }
        run_begin = run_end;
      }
      lock.lock();
      cache_.stats_.backend_requests += requests;
      cache_.stats_.backend_bytes += bytes;
      for (auto& [idx, data] : fetched) {
        Key key{object_key_, block_size_, idx};
        if (idx >= first && idx <= last) blocks[idx - first] = data;
        auto fl = cache_.flights_.find(key);
        if (fl != cache_.flights_.end()) {
          fl->second->done = true;
          fl->second->data = data;
          cache_.flights_.erase(fl);
        }
        cache_.insert_locked(key, std::move(data));
      }
      if (fetch_error) {
        // Release the blocks not fetched, so waiters try again themselves.
        for (guint64 idx : claimed) {
          auto fl = cache_.flights_.find(Key{object_key_, block_size_, idx});
          if (fl != cache_.flights_.end()) {
            fl->second->done = true;
            cache_.flights_.erase(fl);
          }
        }
        cache_.cond_.notify_all();
        *error = std::move(fetch_error);
        return -1;
      }
      cache_.cond_.notify_all();
    }

    for (auto& wait : waits) {
      const auto& flight = wait.second;  // not a structured binding: clang 14 lambdas
      cache_.cond_.wait(lock, [&] { return flight->done || cancelled_.load(); });
      if (flight->data) {
        blocks[wait.first] = flight->data;
        cache_.stats_.hits++;
      }
      // A failed flight leaves blocks[i] empty: the next round fetches it here.
    }
  }
  lock.unlock();

  gsize copied = 0;
  for (size_t i = 0; i < n; i++) {
    const guint64 block_start = (first + i) * bs;
    const guint64 from = std::max<guint64>(offset, block_start);
    const guint64 to = std::min<guint64>(offset + length, block_start + blocks[i]->size());
    if (to <= from) break;
    std::memcpy(dest + (from - offset), blocks[i]->data() + (from - block_start), to - from);
    copied += static_cast<gsize>(to - from);
  }
  next_block_ = last + 1;
  have_previous_ = true;
  return static_cast<gssize>(copied);
}

}  // namespace tws
