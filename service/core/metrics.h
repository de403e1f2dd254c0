// SPDX-License-Identifier: LGPL-2.1-or-later
// Process-wide counters of the service, exported by GET /metrics in the Prometheus text
// format (API.md). Every counter exists from the start, so a scrape before any traffic shows
// zeros. Safe to update from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace tws {

enum class StorageOp { kGet, kHead, kPut, kDelete, kList };

class Metrics {
 public:
  static Metrics& global();

  void segment_transcoded(double seconds);  // one segment published by a transcode
  void segment_served_from_storage() { served_storage_++; }
  void segment_served_from_transcode() { served_transcode_++; }
  void http_response(int status);
  // A response the client did not take whole (it closed the connection first): counted here,
  // never under its status.
  void http_aborted() { aborted_++; }
  void storage_request(StorageOp op) { storage_ops_[size_t(op)]++; }
  void storage_bytes_in(uint64_t n) { bytes_in_ += n; }    // read from storage
  void storage_bytes_out(uint64_t n) { bytes_out_ += n; }  // written to storage

  // The exposition text. queue_depth: segments waiting for a worker now. The rangesrc block
  // cache's backend reads (extra_gets, extra_bytes_in) add to the storage counters.
  // extra_heads: rangesrc's HEADs (S3/http backends' open()), added to op="head".
  std::string text(int64_t queue_depth, uint64_t extra_gets, uint64_t extra_bytes_in,
                   uint64_t extra_heads = 0) const;

  static constexpr std::array<double, 10> kTranscodeBuckets = {0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60};

 private:
  std::atomic<uint64_t> transcoded_{0}, served_storage_{0}, served_transcode_{0};
  std::array<std::atomic<uint64_t>, 5> storage_ops_{};
  std::atomic<uint64_t> bytes_in_{0}, bytes_out_{0};
  std::atomic<uint64_t> aborted_{0};
  mutable std::mutex mutex_;
  std::array<uint64_t, kTranscodeBuckets.size()> buckets_{};  // guarded by mutex_
  double transcode_sum_ = 0;                                  // guarded by mutex_
  std::map<int, uint64_t> http_codes_;                        // guarded by mutex_
};

}  // namespace tws
