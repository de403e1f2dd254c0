// SPDX-License-Identifier: LGPL-2.1-or-later
// The process-wide block cache between demuxers' many small reads and the storage backends.
//
// Objects are cut into fixed-size blocks; a block is cached under (object key, block size,
// block index), where the object key names the location *and* its identity (ETag / mtime),
// so a replaced object never hits stale blocks. Least recently used blocks are evicted when
// the cached bytes exceed the capacity. Missing contiguous blocks of one read are fetched
// with one backend request; a reader that reads sequentially also fetches `readahead`
// further blocks in that same request. A block being fetched by one reader is waited for,
// not fetched again, by another (single flight per block).
//
// Every rangesrc in the process shares BlockCache::shared(); its stats() are the
// process-wide storage counters the service exports (tws_storage_requests_total,
// tws_storage_bytes_total). Separate instances exist for tests.
#pragma once

#include <glib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "range_backend.h"

namespace tws {

struct BlockCacheStats {
  guint64 backend_requests = 0;  // backend read() calls made through the cache
  guint64 backend_bytes = 0;     // bytes those calls returned
  guint64 hits = 0;              // blocks served from the cache (or from another reader's fetch)
  guint64 misses = 0;            // blocks a read needed and fetched itself (readahead excluded)
  guint64 readahead_blocks = 0;  // blocks fetched ahead of need
  guint64 evictions = 0;         // blocks dropped for the size limit
  guint64 cached_bytes = 0;      // bytes held now
  guint64 cached_blocks = 0;     // blocks held now
  guint64 capacity = 0;          // size limit now, bytes
};

class BlockCache {
 public:
  static constexpr guint64 kDefaultCapacity = 64 * 1024 * 1024;
  static constexpr guint kDefaultBlockSize = 256 * 1024;
  static constexpr guint kDefaultReadahead = 4;

  // Reads [offset, offset + length) of the object, straight from storage: the backend's
  // read() in the shape the cache needs. Returns bytes read (short only at the object's end)
  // or -1 with *error set.
  using Fetch =
      std::function<gssize(guint64 offset, gsize length, guint8* dest, BackendError* error)>;

  explicit BlockCache(guint64 capacity_bytes = kDefaultCapacity);
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // The one cache of the process (never destroyed).
  static BlockCache& shared();

  // Size limit in bytes; 0 keeps nothing (every read goes to the backend, still block-wise).
  // Shrinking evicts at once.
  void set_capacity(guint64 bytes);
  guint64 capacity() const;

  // Drops every block (counters are kept).
  void clear();

  BlockCacheStats stats() const;

  // One reader of one object: remembers where its last read ended, to tell sequential
  // reading (readahead) from random access. One thread at a time per Reader; any number of
  // Readers on one cache.
  class Reader {
   public:
    // object_key: location + identity (see make_object_key). block_size > 0.
    Reader(BlockCache& cache, std::string object_key, guint64 object_size, guint block_size,
           guint readahead, Fetch fetch);

    // Reads go straight to `fetch` into the destination, one backend request each, and are
    // counted in the cache's stats; nothing is cached. For local files, whose cache is the
    // operating system's: no block copies, no memory of the cache's own.
    void set_direct(bool direct) { direct_ = direct; }

    // Copies [offset, offset + length) into dest. Returns the bytes copied: `length`, or
    // fewer only where the object ends (0 at or past the end); -1 with *error set.
    gssize read(guint64 offset, gsize length, guint8* dest, BackendError* error);

    // Next read() is taken as random access (after a seek).
    void reset_pattern() {
      next_block_ = 0;
      have_previous_ = false;
    }

    // Makes reads, and waits for other readers' fetches, fail with kCancelled until
    // set_cancelled(false). Thread-safe. The backend must be cancelled separately.
    void set_cancelled(bool cancelled);

    guint64 object_size() const { return object_size_; }
    guint block_size() const { return block_size_; }

   private:
    // One backend request for exactly [offset, offset + length): what fetch returned, with
    // *error set when it failed or came back short.
    gssize fetch_exactly(guint64 offset, gsize length, guint8* dest, BackendError* error);
    gssize read_direct(guint64 offset, gsize length, guint8* dest, BackendError* error);

    BlockCache& cache_;
    std::string object_key_;
    guint64 object_size_;
    guint block_size_;
    guint readahead_;
    Fetch fetch_;
    // First block after the previous read; a read starting in it (or in the block the
    // previous read ended in) is sequential.
    guint64 next_block_ = 0;
    bool have_previous_ = false;
    bool direct_ = false;
    std::atomic<bool> cancelled_{false};
  };

  // "location\nidentity\nsize": the object key of a Reader.
  static std::string make_object_key(const std::string& location, const std::string& identity,
                                     guint64 size);

 private:
  // A block's bytes: a slice of the buffer one backend request filled. The blocks of one
  // request share that buffer, so fetched bytes are copied once, into the reader's
  // destination. (A buffer lives while any of its blocks is cached; LRU order evicts a
  // request's blocks close together.)
  struct BlockBytes {
    std::shared_ptr<const guint8[]> run;
    const guint8* start;
    gsize length;
    const guint8* data() const { return start; }
    gsize size() const { return length; }
  };
  using Block = std::shared_ptr<const BlockBytes>;

  struct Key {
    std::string object;
    guint block_size;
    guint64 index;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Key key;
    Block data;
  };
  // A block one reader is fetching; others wait on cond_ until done.
  struct Flight {
    bool done = false;
    Block data;  // null when the fetch failed
  };

  // All under mutex_.
  Block lookup_locked(const Key& key);  // touches the LRU
  void insert_locked(const Key& key, Block data);
  void evict_locked();

  mutable std::mutex mutex_;
  std::condition_variable cond_;  // a Flight finished
  guint64 capacity_;
  guint64 bytes_ = 0;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
  std::unordered_map<Key, std::shared_ptr<Flight>, KeyHash> flights_;
  BlockCacheStats stats_;  // counters only; sizes filled in by stats()
};

}  // namespace tws
