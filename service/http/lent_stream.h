// SPDX-License-Identifier: LGPL-2.1-or-later
// The GIOStream the HTTP listener lends libsoup for one request: reads and writes a socket's
// descriptor without owning it, and tells its owner once when libsoup closes or drops it, so
// the listener closes the socket then (libsoup 3.2 never closes a stream it did not accept
// itself).
#pragma once

#include <gio/gio.h>

#include <functional>

#include "common/gref.h"

namespace tws {

// `prefix`: bytes already read from the socket, read first (may be null). `on_released` runs
// once, on the stream's first close or at its finalization, whichever comes first.
GRef<GIOStream> lent_stream_new(int fd, GBytes* prefix, std::function<void()> on_released);

}  // namespace tws
