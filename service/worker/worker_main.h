// SPDX-License-Identifier: LGPL-2.1-or-later
// `tws worker`: a media worker process (protocol.h). Started by tws itself, never by a user:
// descriptor 3 is its socket to the process that started it.
#pragma once

namespace tws::worker {

// Returns the exit status.
int run_worker();

}  // namespace tws::worker
