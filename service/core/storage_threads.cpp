// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/storage_threads.h"

#include <memory>

#include "service/core/main_context.h"

namespace tws {
namespace {

struct Task {
  GMainContext* context;
  std::function<void()> work, done;
};

GThreadPool* pool() {
  static GThreadPool* threads = [] {
    return g_thread_pool_new(
        [](gpointer data, gpointer) {
          std::unique_ptr<Task> task(static_cast<Task*>(data));
          task->work();
          call_on(task->context, std::move(task->done));
        },
        nullptr, kStorageThreads, TRUE /* exclusive: the threads stay */, nullptr);
  }();
  return threads;
}

}  // namespace

void run_on_storage_thread(GMainContext* context, std::function<void()> work,
                           std::function<void()> done) {
  g_thread_pool_push(pool(), new Task{context, std::move(work), std::move(done)}, nullptr);
}

}  // namespace tws
