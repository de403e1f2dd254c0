// SPDX-License-Identifier: LGPL-2.1-or-later
// The cores this process may use, for the policies that size threads and parallel work
// (decoder_threads.h, segment_split.h).
#pragma once

namespace tws {

// TWS_CORES when set to a number (a container's CPU quota can be below the CPUs it sees),
// else the CPUs this process may run on.
int available_cores();

}  // namespace tws
