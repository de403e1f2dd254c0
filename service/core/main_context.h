// SPDX-License-Identifier: LGPL-2.1-or-later
// Hands work to the thread running a GMainContext (the server's main loop): libsoup and the
// transcoder's bookkeeping are touched from there only.
#pragma once

#include <glib.h>

#include <functional>

namespace tws {

// Runs `fn` on `context`'s thread at its next iteration; never right away in the caller, even
// when nobody runs the context (g_main_context_invoke would then run it in the caller's
// thread: a worker thread joining itself at shutdown, libsoup touched from two threads).
void call_on(GMainContext* context, std::function<void()> fn);

}  // namespace tws
