// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/process_stats.h"

#include <glib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string>

#include "common/gref.h"

namespace tws {
namespace {

int64_t count_open_fds() {
  GUnique<GDir> dir(g_dir_open("/proc/self/fd", 0, nullptr));
  if (!dir) return 0;
  int64_t n = 0;
  while (g_dir_read_name(dir.get())) n++;
  return n - 1;  // the directory's own descriptor
}

double boot_time_seconds() {
  FILE* f = fopen("/proc/stat", "re");
  if (!f) return 0;
  char line[256];
  double btime = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "btime %lf", &btime) == 1) break;
  fclose(f);
  return btime;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats s;
  s.open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) s.max_fds = int64_t(limit.rlim_cur);
  gchar* text = nullptr;
  if (!g_file_get_contents("/proc/self/stat", &text, nullptr, nullptr)) return s;
  GUnique<gchar> owned(text);
  // Fields after the command name, which may hold spaces: it ends at the last ')'.
  const char* rest = strrchr(text, ')');
  if (!rest) return s;
  unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
  long long threads = 0, rss_pages = 0;
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
  // cstime priority nice num_threads itrealvalue starttime vsize rss
  if (sscanf(rest + 1,
             " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %lld %*d "
             "%llu %llu %lld",
             &utime, &stime, &threads, &start, &vsize, &rss_pages) != 6)
    return s;
  const double ticks = double(sysconf(_SC_CLK_TCK));
  s.threads = threads;
  s.virtual_bytes = int64_t(vsize);
  s.resident_bytes = rss_pages * sysconf(_SC_PAGESIZE);
  s.cpu_seconds = double(utime + stime) / ticks;
  s.start_time_seconds = boot_time_seconds() + double(start) / ticks;
  return s;
}

std::string process_metrics_text(const ProcessStats& s) {
  std::ostringstream out;
  out.precision(15);
  const auto gauge = [&out](const char* name, const char* help, double value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n"
        << name << ' ' << value << '\n';
  };
  gauge("process_open_fds", "Open file descriptors.", double(s.open_fds));
  gauge("process_max_fds", "The limit on open file descriptors.", double(s.max_fds));
  gauge("process_threads", "Threads of the process.", double(s.threads));
  gauge("process_resident_memory_bytes", "Resident memory in bytes.", double(s.resident_bytes));
  gauge("process_virtual_memory_bytes", "Virtual memory in bytes.", double(s.virtual_bytes));
  gauge("process_start_time_seconds", "Start time of the process since the unix epoch.",
        s.start_time_seconds);
  out << "# HELP process_cpu_seconds_total User and system CPU time in seconds.\n"
      << "# TYPE process_cpu_seconds_total counter\n"
      << "process_cpu_seconds_total " << s.cpu_seconds << '\n';
  return out.str();
}

}  // namespace tws
