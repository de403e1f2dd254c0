// SPDX-License-Identifier: LGPL-2.1-or-later
// A few long-lived threads for the storage requests of playback on remote buckets.
#pragma once

#include <glib.h>

#include <functional>

namespace tws {

// Runs `work` on one of kStorageThreads threads that live as long as the process, then
// `done` on `context`. The threads outlive the requests so that each keeps its S3 client's
// connections (s3_client.h: one SoupSession per thread) from one request to the next; a new
// thread per request would open a new connection (and a TLS handshake) every time. Requests
// beyond the threads wait in order.
inline constexpr int kStorageThreads = 8;
void run_on_storage_thread(GMainContext* context, std::function<void()> work,
                           std::function<void()> done);

}  // namespace tws
