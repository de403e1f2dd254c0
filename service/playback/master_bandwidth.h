// SPDX-License-Identifier: LGPL-2.1-or-later
// A served master playlist's BANDWIDTH and AVERAGE-BANDWIDTH, refined from the segments
// already in storage: the stored master carries estimates (master_playlist.h), which for CRF
// targets can be far from the real rate. Measured per variant: its own segments plus the
// audio group's renditions (the highest peak; the DEFAULT one's average).
#pragma once

#include <string>

#include "service/core/config.h"
#include "service/core/uri.h"

namespace tws {

// Segments of one rendition measured from storage (bits per second).
struct MeasuredRate {
  int64_t peak = 0, average = 0;
  int known = 0, total = 0;  // segments in storage, in the plan
  bool complete() const { return total > 0 && known == total; }
};

// Measures the stored segments of the tws media playlist at `playlist` (at most `limit` of
// them, in index order); known = 0 when it is not a tws playlist or nothing is stored.
MeasuredRate measure_rendition(const Config& config, const ObjectUri& playlist, int limit = 400);

// `text` with each #EXT-X-STREAM-INF's BANDWIDTH and AVERAGE-BANDWIDTH replaced where its
// video and every audio rendition of its group have stored segments: all known, the measured
// peak; some known, the larger of the estimate and the measured peak. Otherwise unchanged.
std::string refine_master_bandwidth(const Config& config, const ObjectUri& master,
                                    const std::string& text);

}  // namespace tws
