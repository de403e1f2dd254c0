// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/worker/sandbox.h"

#include <fcntl.h>
#include <gst/gst.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "common/gref.h"

namespace tws::worker {
namespace {

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

// The sanitizers' leak check stops the world with ptrace and reserves terabytes of address
// space: their builds keep ptrace and the address-space limit.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Landlock's own structs of newer ABIs, so this builds against older headers.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

std::string landlock(std::vector<std::string> readable) {
  const long abi =
      syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) return "no Landlock";
  uint64_t fs = (1ULL << 13) - 1;  // ABI 1: execute .. make_sym
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) fs |= 1ULL << 15;  // ioctl_dev
  RulesetAttr attr{fs, 0, 0};
  size_t size = sizeof(uint64_t);
  if (abi >= 4) {
    attr.handled_access_net = (1ULL << 0) | (1ULL << 1);  // bind_tcp, connect_tcp
    size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) {
    attr.scoped = (1ULL << 0) | (1ULL << 1);  // abstract unix sockets, signals
    size = sizeof attr;
  }
  const int ruleset = int(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) return std::string("Landlock refused: ") + strerror(errno);
  const uint64_t read =
      LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  int allowed = 0;
  for (const std::string& path : readable) {
    const int dir = open(path.c_str(), O_PATH | O_CLOEXEC);
    if (dir < 0) continue;
    PathBeneathAttr rule{read, dir};
    // A rule on a file (not a directory) may grant only file rights.
    struct stat st {};
    if (fstat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
      rule.allowed_access = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE;
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0)
      allowed++;
    close(dir);
  }
  const long ok = syscall(SYS_landlock_restrict_self, ruleset, 0);
  close(ruleset);
  if (ok != 0) return std::string("Landlock refused: ") + strerror(errno);
  return "Landlock ABI " + std::to_string(abi) + " (" + std::to_string(allowed) +
         " read-only trees" + (abi >= 4 ? ", no TCP" : "") + (abi >= 6 ? ", signals scoped" : "") +
         ")";
}

std::string seccomp() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return "no seccomp";
  std::vector<int> refused = {
      SCMP_SYS(socket),
      SCMP_SYS(connect),
      SCMP_SYS(bind),
      SCMP_SYS(listen),
      SCMP_SYS(accept),
      SCMP_SYS(accept4),
      SCMP_SYS(execve),
      SCMP_SYS(execveat),
      SCMP_SYS(process_vm_readv),
      SCMP_SYS(process_vm_writev),
      SCMP_SYS(mount),
      SCMP_SYS(umount2),
      SCMP_SYS(pivot_root),
      SCMP_SYS(chroot),
      SCMP_SYS(setns),
      SCMP_SYS(unshare),
      SCMP_SYS(kexec_load),
      SCMP_SYS(init_module),
      SCMP_SYS(finit_module),
      SCMP_SYS(delete_module),
      SCMP_SYS(bpf),
      SCMP_SYS(perf_event_open),
      SCMP_SYS(keyctl),
      SCMP_SYS(add_key),
      SCMP_SYS(request_key),
      SCMP_SYS(userfaultfd),
      SCMP_SYS(io_uring_setup),
      SCMP_SYS(open_by_handle_at),
      SCMP_SYS(name_to_handle_at),
  };
  if (!kSanitized) refused.push_back(SCMP_SYS(ptrace));
  bool ok = true;
  for (int call : refused) ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), call, 0) == 0 && ok;
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok ? "seccomp (" + std::to_string(refused.size()) + " calls refused)" : "seccomp refused";
}

// The directories of every plugin GStreamer knows (loaded later on demand) and of the
// system's libraries they pull in.
std::vector<std::string> readable_trees() {
  std::set<std::string> dirs = {"/usr/lib",
                                "/usr/share",
                                "/lib",
                                "/lib64",
                                "/usr/lib64",
                                "/etc/ld.so.cache",
                                "/sys/devices/system/cpu",
                                "/proc/self"};
  GList* plugins = gst_registry_get_plugin_list(gst_registry_get());
  for (GList* l = plugins; l; l = l->next)
    if (const gchar* file = gst_plugin_get_filename(GST_PLUGIN(l->data))) {
      GUnique<gchar> dir(g_path_get_dirname(file));
      dirs.insert(dir.get());
    }
  gst_plugin_list_free(plugins);
  std::vector<std::string> out;
  for (const std::string& d : dirs) {
    // /proc/self is this process's directory: resolve it now, before the rule names it.
    if (d == "/proc/self")
      out.push_back("/proc/" + std::to_string(getpid()));
    else
      out.push_back(d);
  }
  return out;
}

}  // namespace

std::string isolate_namespaces() {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) return "user+net namespaces";
  if (unshare(CLONE_NEWNET) == 0) return "net namespace";
  return std::string("no namespaces (") + strerror(errno) + ")";
}

std::string enter_sandbox() {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  std::string report = landlock(readable_trees());
  report += ", " + seccomp();
  return report;
}

}  // namespace tws::worker
