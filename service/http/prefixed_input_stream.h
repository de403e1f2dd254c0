// SPDX-License-Identifier: LGPL-2.1-or-later
// An input stream that yields some bytes already read from a connection, then the connection's
// own stream: how the HTTP listener hands libsoup a connection whose next request it has
// partly read already (a pipelining client). Pollable, as libsoup's server needs.
#pragma once

#include <gio/gio.h>

#include "common/gref.h"

namespace tws {

// `prefix` (may be empty) first, then `base` (pollable). Closing it closes `base`.
GRef<GInputStream> prefixed_input_stream_new(GBytes* prefix, GInputStream* base);

}  // namespace tws
