// SPDX-License-Identifier: LGPL-2.1-or-later
// Decoding sources whose demuxer adds its streams one by one.
//
// flvdemux adds a stream's pad when that stream's first packet comes (an FLV1/MP3 file: the
// audio first). decodebin3 1.22 posts a collection for every pad, takes the first, partial
// one's default selection and sets a selection asked for on the next aside as for a "future
// collection", which it often never applies: the video stream is never exposed (a fresh
// decodebin3 gets it right now and then; segment jobs rebuilt theirs, 8 s apart, and took
// 30-40 s) and a rebuilt one can stop with "Internal data stream error". A segment job
// decodes such a source with parsebin and a decoder of its own on the one stream it wants,
// linked when the stream's pad comes.
#pragma once

#include <gst/gst.h>

#include "common/gref.h"

namespace tws {

// True for a container (typefind's caps) whose demuxer adds its pads one by one.
bool adds_pads_late(const GstCaps* container);

// The decoder decodebin3 would take for a parsed stream's caps: the decoder of highest rank
// whose sink pad accepts them. nullptr when none does.
GRef<GstElement> make_decoder_for(const GstCaps* caps);

}  // namespace tws
