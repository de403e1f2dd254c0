// SPDX-License-Identifier: LGPL-2.1-or-later
// What the process holds right now (descriptors, threads, memory, CPU), read from /proc/self
// for /metrics under the Prometheus process-collector names, so an operator sees a leak
// before it bites.
#pragma once

#include <cstdint>
#include <string>

namespace tws {

struct ProcessStats {
  int64_t open_fds = 0;
  int64_t max_fds = 0;  // the soft RLIMIT_NOFILE
  int64_t threads = 0;
  int64_t resident_bytes = 0;
  int64_t virtual_bytes = 0;
  double cpu_seconds = 0;         // user + system
  double start_time_seconds = 0;  // unix time
};

ProcessStats read_process_stats();

// The Prometheus text of `stats` (process_open_fds, process_max_fds, process_threads,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
// process_start_time_seconds).
std::string process_metrics_text(const ProcessStats& stats);

}  // namespace tws
