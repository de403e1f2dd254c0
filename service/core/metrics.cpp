// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/metrics.h"

#include <glib.h>

#include <sstream>

namespace tws {
namespace {

std::string number(double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_dtostr(buf, sizeof buf, v);
}

}  // namespace

Metrics& Metrics::global() {
  static Metrics metrics;
  return metrics;
}

void Metrics::segment_transcoded(double seconds) {
  transcoded_++;
  std::lock_guard<std::mutex> lock(mutex_);
  transcode_sum_ += seconds;
  for (size_t i = 0; i < kTranscodeBuckets.size(); ++i)
    if (seconds <= kTranscodeBuckets[i]) buckets_[i]++;
}

void Metrics::http_response(int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  http_codes_[status]++;
}

std::string Metrics::text(int64_t queue_depth, uint64_t extra_gets, uint64_t extra_bytes_in,
                          uint64_t extra_heads) const {
  std::ostringstream out;
  out << "# HELP tws_segments_transcoded_total Segments transcoded and published.\n"
      << "# TYPE tws_segments_transcoded_total counter\n"
      << "tws_segments_transcoded_total " << transcoded_.load() << "\n"
      << "# HELP tws_segments_served_total Segment responses completed, by where the bytes came "
         "from.\n"
      << "# TYPE tws_segments_served_total counter\n"
      << "tws_segments_served_total{source=\"storage\"} " << served_storage_.load() << "\n"
      << "tws_segments_served_total{source=\"transcode\"} " << served_transcode_.load() << "\n";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out << "# HELP tws_transcode_seconds Time to transcode one segment.\n"
        << "# TYPE tws_transcode_seconds histogram\n";
    for (size_t i = 0; i < kTranscodeBuckets.size(); ++i)
      out << "tws_transcode_seconds_bucket{le=\"" << number(kTranscodeBuckets[i]) << "\"} "
          << buckets_[i] << "\n";
    out << "tws_transcode_seconds_bucket{le=\"+Inf\"} " << transcoded_.load() << "\n"
        << "tws_transcode_seconds_sum " << number(transcode_sum_) << "\n"
        << "tws_transcode_seconds_count " << transcoded_.load() << "\n";
    out << "# HELP tws_http_requests_total HTTP responses by status code.\n"
        << "# TYPE tws_http_requests_total counter\n";
    std::map<int, uint64_t> codes = http_codes_;
    for (int code : {200, 404}) codes.emplace(code, 0);  // present from the start
    for (const auto& [code, n] : codes)
      out << "tws_http_requests_total{code=\"" << code << "\"} " << n << "\n";
  }
  out << "# HELP tws_http_aborted_total Responses the client closed the connection on before "
         "their end (players do on every seek); not counted by status.\n"
      << "# TYPE tws_http_aborted_total counter\n"
      << "tws_http_aborted_total " << aborted_.load() << "\n";
  out << "# HELP tws_queue_depth Segments waiting for a transcode worker.\n"
      << "# TYPE tws_queue_depth gauge\n"
      << "tws_queue_depth " << queue_depth << "\n";
  static const char* kOps[] = {"get", "head", "put", "delete", "list"};
  out << "# HELP tws_storage_requests_total Requests to object storage, by operation.\n"
      << "# TYPE tws_storage_requests_total counter\n";
  for (size_t i = 0; i < 5; ++i) {
    uint64_t n = storage_ops_[i].load();
    if (i == size_t(StorageOp::kGet)) n += extra_gets;
    if (i == size_t(StorageOp::kHead)) n += extra_heads;
    out << "tws_storage_requests_total{op=\"" << kOps[i] << "\"} " << n << "\n";
  }
  out << "# HELP tws_storage_bytes_total Bytes read from (in) and written to (out) object "
         "storage.\n"
      << "# TYPE tws_storage_bytes_total counter\n"
      << "tws_storage_bytes_total{dir=\"in\"} " << bytes_in_.load() + extra_bytes_in << "\n"
      << "tws_storage_bytes_total{dir=\"out\"} " << bytes_out_.load() << "\n";
  return out.str();
}

}  // namespace tws
