// SPDX-License-Identifier: LGPL-2.1-or-later
// tws: one binary, one thin dispatcher; each command lives in its own cmd_*.cpp.
#include <gst/gst.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "pipelines/media_init.h"
#include "service/cli/commands.h"
#include "service/core/memory_reuse.h"
#include "service/worker/worker_main.h"

int main(int argc, char** argv) {
  using namespace tws;
  if (argc < 2) {
    std::fputs(usage_text(), stderr);
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage_text(), stdout);
    return kExitOk;
  }
  const Args args(argv + 2, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(usage_text(), stdout);
      return kExitOk;
    }
  }
  if (command == "sign") return cmd_sign(args);
  // A media worker started by tws itself (service/worker/protocol.h): before GStreamer
  // starts any thread, it enters its namespaces.
  if (command == "worker") return worker::run_worker();
  int (*run)(const Args&) = nullptr;
  if (command == "serve") run = cmd_serve;
  if (command == "playlist") run = cmd_playlist;
  if (command == "segment") run = cmd_segment;
  if (command == "storyboard") run = cmd_storyboard;
  if (command == "probe") run = cmd_probe;
  if (command == "sandbox-check") run = cmd_sandbox_check;
  if (!run) return fail(kExitUsage, "unknown command \"" + command + "\" (tws --help)");
  // Before any thread: malloc fixes its arena limit when the second thread allocates.
  if (run == cmd_serve) keep_freed_memory_for_reuse();
  init_media();
  return run(args);
}
