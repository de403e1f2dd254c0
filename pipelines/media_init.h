// SPDX-License-Identifier: LGPL-2.1-or-later
// Process-wide set-up for running segment jobs: GStreamer, the tws elements, the allocator.
#pragma once

namespace tws {

// Idempotent. Call once before any pipeline runs (the tws binary does it in main).
void init_media();

}  // namespace tws
