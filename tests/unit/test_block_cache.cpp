// SPDX-License-Identifier: LGPL-2.1-or-later
// BlockCache with a fake backend: request counts, readahead, eviction, identity keys,
// errors, single flight and concurrent readers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "rangesrc/block_cache.h"

namespace {

using tws::BackendError;
using tws::BackendErrorCode;
using tws::BlockCache;
using tws::BlockCacheStats;

constexpr guint kBlock = 256 * 1024;

// An in-memory object that counts requests like a storage backend would.
class FakeObject {
 public:
  explicit FakeObject(gsize size, guint8 seed = 1) : data_(size) {
    for (gsize i = 0; i < size; i++)
      data_[i] = static_cast<guint8>((i * 31 + seed * 7 + (i >> 12)) & 0xff);
  }
  BlockCache::Fetch fetch() {
    return [this](guint64 offset, gsize length, guint8* dest, BackendError* error) -> gssize {
      requests++;
      if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      if (fail) {
        error->set(BackendErrorCode::kIo, "injected failure");
        return -1;
      }
      if (offset >= data_.size()) return 0;
      gsize n = std::min<gsize>(length, data_.size() - offset);
      std::memcpy(dest, data_.data() + offset, n);
      bytes += n;
      return static_cast<gssize>(n);
    };
  }
  const std::vector<guint8>& data() const { return data_; }
  gsize size() const { return data_.size(); }

  std::atomic<int> requests{0};
  std::atomic<guint64> bytes{0};
  std::atomic<int> delay_ms{0};
  std::atomic<bool> fail{false};

 private:
  std::vector<guint8> data_;
};

// Reads [offset, offset+length) and checks the bytes against the object.
void expect_read(BlockCache::Reader& reader, const FakeObject& obj, guint64 offset, gsize length) {
  std::vector<guint8> buf(length);
  BackendError err;
  gssize n = reader.read(offset, length, buf.data(), &err);
  ASSERT_GE(n, 0) << err.message;
  gsize expected = offset >= obj.size() ? 0 : std::min<gsize>(length, obj.size() - offset);
  ASSERT_EQ(static_cast<gsize>(n), expected) << "at " << offset;
  ASSERT_EQ(0, std::memcmp(buf.data(), obj.data().data() + std::min<gsize>(offset, obj.size()), n))
      << "data differs at " << offset;
}

TEST(BlockCache, SequentialSmallReadsUseReadahead) {
  BlockCache cache(64 * 1024 * 1024);
  FakeObject obj(10 * 1024 * 1024);
  BlockCache::Reader reader(cache, "obj\nid\n1", obj.size(), kBlock, 4, obj.fetch());
  for (guint64 off = 0; off < obj.size(); off += 4096) expect_read(reader, obj, off, 4096);
  // 40 blocks, each request one missing block + 4 ahead.
  EXPECT_EQ(obj.requests, 8);
  EXPECT_EQ(obj.bytes, obj.size());
  BlockCacheStats s = cache.stats();
  EXPECT_EQ(s.backend_requests, 8u);
  EXPECT_EQ(s.backend_bytes, obj.size());
  EXPECT_EQ(s.misses, 8u);
  EXPECT_EQ(s.readahead_blocks, 32u);
  EXPECT_EQ(s.cached_bytes, obj.size());
  EXPECT_EQ(s.cached_blocks, 40u);
}

TEST(BlockCache, DirectReaderFetchesEachReadStraightAndCachesNothing) {
  BlockCache cache(64 * 1024 * 1024);
  FakeObject obj(3 * kBlock + 100);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 4, obj.fetch());
  reader.set_direct(true);
  for (guint64 off = 0; off < obj.size(); off += 1000) expect_read(reader, obj, off, 1000);
  expect_read(reader, obj, 5, 2 * kBlock);       // across blocks: still one request
  expect_read(reader, obj, obj.size() + 1, 10);  // past the end: no request
  const int reads = static_cast<int>((obj.size() + 999) / 1000) + 1;
  EXPECT_EQ(obj.requests.load(), reads);
  BlockCacheStats s = cache.stats();
  EXPECT_EQ(s.backend_requests, guint64(reads));
  EXPECT_EQ(s.backend_bytes, obj.bytes.load());
  EXPECT_EQ(s.cached_blocks, 0u);
  EXPECT_EQ(s.hits + s.misses + s.readahead_blocks, 0u);

  obj.fail = true;
  std::vector<guint8> buf(10);
  BackendError err;
  EXPECT_EQ(reader.read(0, 10, buf.data(), &err), -1);
  EXPECT_EQ(err.code, BackendErrorCode::kIo);
}

TEST(BlockCache, DirectReaderShortReadIsAnError) {
  BlockCache cache;
  FakeObject obj(1000);
  // The object claims 2000 bytes: the file shrank after open.
  BlockCache::Reader reader(cache, "obj\nid\n2000", 2000, kBlock, 0, obj.fetch());
  reader.set_direct(true);
  std::vector<guint8> buf(1500);
  BackendError err;
  EXPECT_EQ(reader.read(0, 1500, buf.data(), &err), -1);
  EXPECT_EQ(err.code, BackendErrorCode::kIo);
  EXPECT_NE(err.message.find("Short read from obj"), std::string::npos) << err.message;
}

TEST(BlockCache, SequentialWithoutReadaheadOneRequestPerBlock) {
  BlockCache cache;
  FakeObject obj(10 * 1024 * 1024);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
  for (guint64 off = 0; off < obj.size(); off += 4096) expect_read(reader, obj, off, 4096);
  EXPECT_EQ(obj.requests, 40);
  EXPECT_EQ(cache.stats().hits, 2560u - 40u);
}

TEST(BlockCache, ReadSpanningBlocksIsOneRequest) {
  BlockCache cache;
  FakeObject obj(4 * 1024 * 1024);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
  expect_read(reader, obj, 100, 1024 * 1024);  // blocks 0..4
  EXPECT_EQ(obj.requests, 1);
  EXPECT_EQ(obj.bytes, 5u * kBlock);
  expect_read(reader, obj, 3000, 900 * 1024);  // all cached
  EXPECT_EQ(obj.requests, 1);
}

TEST(BlockCache, OnlyMissingRunsAreFetched) {
  BlockCache cache;
  FakeObject obj(4 * 1024 * 1024);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
  expect_read(reader, obj, 1 * kBlock + 10, 10);
  expect_read(reader, obj, 3 * kBlock + 10, 10);
  EXPECT_EQ(obj.requests, 2);
  expect_read(reader, obj, 0, 5 * kBlock);  // missing 0, 2, 4: three runs
  EXPECT_EQ(obj.requests, 5);
  EXPECT_EQ(obj.bytes, 5u * kBlock);
}

TEST(BlockCache, RandomReadsFetchNoReadaheadAndEachBlockOnce) {
  BlockCache cache;
  FakeObject obj(8 * 1024 * 1024 + 12345);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 4, obj.fetch());
  expect_read(reader, obj, 10 * kBlock + 5, 100);  // not at 0: random, one block
  EXPECT_EQ(obj.requests, 1);
  EXPECT_EQ(obj.bytes, kBlock);

  std::mt19937 rng(42);
  std::uniform_int_distribution<guint64> off(0, obj.size() + 1000);
  std::uniform_int_distribution<gsize> len(1, 600 * 1024);
  for (int i = 0; i < 500; i++) expect_read(reader, obj, off(rng), len(rng));
  // Everything fits in the cache: no byte is fetched twice.
  EXPECT_LE(obj.bytes, obj.size());
  EXPECT_LE(obj.requests, 33);
}

TEST(BlockCache, EndOfObject) {
  BlockCache cache;
  FakeObject obj(kBlock * 2 + 100);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 4, obj.fetch());
  expect_read(reader, obj, 0, 10);
  EXPECT_EQ(obj.requests, 1);  // all three blocks (the last one short) in one request
  EXPECT_EQ(obj.bytes, obj.size());
  expect_read(reader, obj, obj.size() - 50, 4096);  // short read
  expect_read(reader, obj, obj.size(), 4096);       // 0 at the end
  expect_read(reader, obj, obj.size() + 10, 4096);  // 0 past the end
  EXPECT_EQ(obj.requests, 1);
}

TEST(BlockCache, EvictsLeastRecentlyUsedAtTheSizeLimit) {
  BlockCache cache(4 * kBlock);
  FakeObject obj(8 * kBlock);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
  for (guint i = 0; i < 8; i++) expect_read(reader, obj, i * kBlock, 10);
  BlockCacheStats s = cache.stats();
  EXPECT_EQ(s.cached_bytes, 4u * kBlock);
  EXPECT_EQ(s.evictions, 4u);
  EXPECT_EQ(obj.requests, 8);
  expect_read(reader, obj, 7 * kBlock, 10);  // still cached
  EXPECT_EQ(obj.requests, 8);
  expect_read(reader, obj, 4 * kBlock, 10);  // touch 4: now most recent
  expect_read(reader, obj, 0, 10);           // evicted: fetched again, evicts 5
  EXPECT_EQ(obj.requests, 9);
  expect_read(reader, obj, 4 * kBlock, 10);
  EXPECT_EQ(obj.requests, 9);
  expect_read(reader, obj, 5 * kBlock, 10);
  EXPECT_EQ(obj.requests, 10);
}

TEST(BlockCache, ShrinkingEvictsAndZeroCachesNothing) {
  BlockCache cache;
  FakeObject obj(8 * kBlock);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
  expect_read(reader, obj, 0, obj.size());
  EXPECT_EQ(cache.stats().cached_bytes, 8u * kBlock);
  cache.set_capacity(2 * kBlock);
  EXPECT_EQ(cache.stats().cached_bytes, 2u * kBlock);
  EXPECT_EQ(cache.capacity(), 2u * kBlock);
  cache.set_capacity(0);
  EXPECT_EQ(cache.stats().cached_bytes, 0u);
  int before = obj.requests;
  expect_read(reader, obj, 100, 1000);
  expect_read(reader, obj, 100, 1000);
  EXPECT_EQ(obj.requests, before + 2);
  EXPECT_EQ(cache.stats().cached_bytes, 0u);
}

TEST(BlockCache, IdentityIsPartOfTheKey) {
  BlockCache cache;
  FakeObject v1(2 * kBlock, 1), v2(2 * kBlock, 2);
  std::string k1 = BlockCache::make_object_key("/a.mp4", "mtime:1", v1.size());
  std::string k2 = BlockCache::make_object_key("/a.mp4", "mtime:2", v2.size());
  EXPECT_NE(k1, k2);
  BlockCache::Reader r1(cache, k1, v1.size(), kBlock, 0, v1.fetch());
  BlockCache::Reader r2(cache, k2, v2.size(), kBlock, 0, v2.fetch());
  BlockCache::Reader r1b(cache, k1, v1.size(), kBlock, 0, v1.fetch());
  expect_read(r1, v1, 0, 1000);
  expect_read(r2, v2, 0, 1000);  // new identity: fetched, new content
  EXPECT_EQ(v2.requests, 1);
  expect_read(r1b, v1, 0, 1000);  // same identity: shared
  EXPECT_EQ(v1.requests, 1);
  // A different block size is a different block.
  BlockCache::Reader r1c(cache, k1, v1.size(), kBlock / 2, 0, v1.fetch());
  expect_read(r1c, v1, 0, 1000);
  EXPECT_EQ(v1.requests, 2);
}

TEST(BlockCache, ErrorsPropagateAndAreRetried) {
  BlockCache cache;
  FakeObject obj(4 * kBlock);
  BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 4, obj.fetch());
  obj.fail = true;
  std::vector<guint8> buf(100);
  BackendError err;
  EXPECT_EQ(reader.read(0, 100, buf.data(), &err), -1);
  EXPECT_EQ(err.code, BackendErrorCode::kIo);
  EXPECT_EQ(cache.stats().cached_blocks, 0u);
  obj.fail = false;
  expect_read(reader, obj, 0, 100);
  EXPECT_EQ(obj.requests, 2);
}

TEST(BlockCache, ShortBackendReadIsAnError) {
  BlockCache cache;
  FakeObject obj(kBlock);
  // The object claims to be bigger than the backend's bytes: it shrank.
  BlockCache::Reader reader(cache, "obj", 2 * kBlock, kBlock, 0, obj.fetch());
  std::vector<guint8> buf(100);
  BackendError err;
  EXPECT_EQ(reader.read(kBlock + 10, 100, buf.data(), &err), -1);
  EXPECT_EQ(err.code, BackendErrorCode::kIo);
}

TEST(BlockCache, SingleFlightPerBlock) {
  BlockCache cache;
  FakeObject obj(4 * kBlock);
  obj.delay_ms = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&] {
      BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
      expect_read(reader, obj, kBlock + 7, 1000);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(obj.requests, 1);
  EXPECT_EQ(cache.stats().hits, 3u);
}

TEST(BlockCache, ConcurrentReadersSeeCorrectData) {
  BlockCache cache(6 * kBlock);  // smaller than the object: evictions while reading
  FakeObject obj(16 * kBlock + 999);
  obj.delay_ms = 1;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      BlockCache::Reader reader(cache, "obj", obj.size(), kBlock, t % 2 ? 4 : 0, obj.fetch());
      std::mt19937 rng(t);
      std::uniform_int_distribution<guint64> off(0, obj.size());
      std::uniform_int_distribution<gsize> len(1, 300 * 1024);
      for (int i = 0; i < 100; i++) {
        if (t % 2)
          expect_read(reader, obj, (i * 65536) % obj.size(), 65536);  // sequential-ish
        else
          expect_read(reader, obj, off(rng), len(rng));
      }
    });
  }
  for (auto& th : threads) th.join();
  BlockCacheStats s = cache.stats();
  EXPECT_LE(s.cached_bytes, 6u * kBlock);
  EXPECT_EQ(s.backend_requests, static_cast<guint64>(obj.requests.load()));
}

TEST(BlockCache, CancelWakesAWaiter) {
  BlockCache cache;
  FakeObject obj(2 * kBlock);
  obj.delay_ms = 500;
  BlockCache::Reader slow(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
  BlockCache::Reader waiter(cache, "obj", obj.size(), kBlock, 0, obj.fetch());
  std::thread t([&] { expect_read(slow, obj, 0, 10); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread c([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    waiter.set_cancelled(true);
  });
  auto start = std::chrono::steady_clock::now();
  std::vector<guint8> buf(10);
  BackendError err;
  EXPECT_EQ(waiter.read(0, 10, buf.data(), &err), -1);
  EXPECT_EQ(err.code, BackendErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400));
  c.join();
  t.join();
  waiter.set_cancelled(false);
  expect_read(waiter, obj, 0, 10);
  EXPECT_EQ(obj.requests, 1);
}

TEST(BlockCache, SharedInstance) {
  BlockCache& a = BlockCache::shared();
  EXPECT_EQ(&a, &BlockCache::shared());
  EXPECT_GT(a.capacity(), 0u);
}

}  // namespace
