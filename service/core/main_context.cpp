// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service/core/main_context.h"

#include "common/gref.h"

namespace tws {

void call_on(GMainContext* context, std::function<void()> fn) {
  GUnique<GSource> source(g_idle_source_new());
  g_source_set_priority(source.get(), G_PRIORITY_DEFAULT);
  g_source_set_callback(
      source.get(),
      [](gpointer p) {
        (*static_cast<std::function<void()>*>(p))();
        return G_SOURCE_REMOVE;
      },
      new std::function<void()>(std::move(fn)),
      [](gpointer p) { delete static_cast<std::function<void()>*>(p); });
  g_source_attach(source.get(), context);
}

}  // namespace tws
