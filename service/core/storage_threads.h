// SPDX-License-Identifier: LGPL-2.1-or-later
// The server's one way off its main loop for blocking calls: a bounded set of long-lived
// threads (the executor) for storage requests and the API's blocking work.
#pragma once

#include <glib.h>

#include <functional>

namespace tws {

// Runs `work` on one of kStorageThreads threads that live as long as the process, then
// `done` on `context`: playback's reads of remote buckets, the scheduler's storage checks,
// playlist creation (storage and the probe) and subtitle segments. The threads outlive the
// requests so that each keeps its S3 client's connections (s3_client.h: one SoupSession per
// thread) from one request to the next; a new thread per request would open a new
// connection (and a TLS handshake) every time, and a flood of requests would make a flood of
// threads. Requests beyond the threads wait in order. (Transcodes have a thread each,
// bounded by [server] workers: it supervises the transcode's worker process.)
inline constexpr int kStorageThreads = 16;
void run_on_storage_thread(GMainContext* context, std::function<void()> work,
                           std::function<void()> done);

}  // namespace tws
