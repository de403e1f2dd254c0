// SPDX-License-Identifier: LGPL-2.1-or-later
// What confines a media worker, enforced by the kernel (DESIGN.md "Process model"):
//   - network: a new user and network namespace (no interface but a down loopback), Landlock's
//     TCP rules (ABI 4+: no bind, no connect), and seccomp refusing socket(), connect(),
//     bind(), listen() and accept();
//   - files: Landlock (ABI 1+) allows reading only the directories of the loaded GStreamer
//     plugins, the system's library directories, /sys/devices/system/cpu and the worker's own
//     /proc entry; nothing may be written, created or removed anywhere (stderr, inherited open,
//     is the log).
//     The source comes as a descriptor that is already open;
//   - other processes: seccomp refuses ptrace, process_vm_readv/writev, execve, mount,
//     namespaces, bpf and module calls; Landlock ABI 6+ scopes signals and abstract Unix
//     sockets to the worker; the worker is not dumpable and dies with its parent.
// Each layer is applied where the kernel has it; what is in force is reported (one line).
#pragma once

#include <string>

namespace tws::worker {

// Enters the namespaces. Must run first, while the process has one thread.
std::string isolate_namespaces();

// Applies the rest; after it the process may open no file and make no connection.
std::string enter_sandbox();

}  // namespace tws::worker
