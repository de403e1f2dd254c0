// SPDX-License-Identifier: LGPL-2.1-or-later
// How many threads a video decoder of a segment job runs.
//
// libav's frame threading decodes several frames at once. On a 2-core machine, where the
// encoder already keeps both cores busy, it costs more than it gives: decoding the 60 s
// 1080p H.264 bench source alone takes 3.0 s of CPU in one thread and 4.0 s with frame
// threads, for a wall time only 18 % shorter; in a job the encoder would have used that CPU.
// A source too big for one thread to keep up with the encoder keeps the decoder's threads.
// A segment a client waits for gets one thread too: its pre-roll decodes while the encoder
// idles, but in the start-up bench (Chromium sharing the cores) the cold seek took 2.1-2.8 s
// (median 2.43, 6 runs) with one thread against 2.4-3.7 s (median 3.06) with the threads.
#pragma once

#include <gst/gst.h>

namespace tws {

// The decoder's max-threads for a width x height source on a machine with `cores` cores:
// 1 where one thread is enough (at most 1920x1088 on at most 2 cores), 0 (the decoder's
// own choice) elsewhere or when the size is unknown (0).
int decoder_threads(int width, int height, int cores);

// Sets `decoder`'s max-threads from decoder_threads() for the size its input caps carry,
// before it opens the codec with them. No-op for an element without that property.
void limit_decoder_threads(GstElement* decoder);

}  // namespace tws
