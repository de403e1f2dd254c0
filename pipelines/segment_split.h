// SPDX-License-Identifier: LGPL-2.1-or-later
// One segment encoded as GOPs in parallel, joined into one segment: on a machine with cores to
// spare, a segment a client waits for is cut into chunks of whole frames (each at least 2 s,
// its own GOP starting with an IDR), each made by its own segment job on its own threads, and
// the chunks' MPEG-TS joined in order (ts_join.h). The first chunk's bytes go out as they are
// made; each later chunk's once the chunks before it are out. Every chunk sits on the global
// output timeline like any segment, so the join is seamless by the same rules that join
// segments made by separate jobs (DESIGN.md "Producing segment k alone").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipelines/cores.h"
#include "pipelines/plan.h"
#include "pipelines/segment_job.h"

namespace tws {

// How many chunks segment k of the plan is best made in on a machine with `cores` cores: 1
// on 2 cores or fewer (one encoder already keeps them busy), on a target without video, or
// for a segment shorter than 4 s; else one chunk per 2 free cores, each at least 2 s long.
int segment_chunks(const Plan& plan, int k, int cores);

// A plan whose segments are segment k of `plan` cut into n chunks of whole frames (as equal
// as the frames allow), audio cut on the AAC grid nearest each video cut. Chunk i has index i.
Plan split_plan(const Plan& plan, int k, int n);
// The same cut before each of `cuts` (frames on the target's grid, ascending, inside the
// segment): cuts.size() + 1 chunks.
Plan split_plan_at(const Plan& plan, int k, const std::vector<int64_t>& cuts);

// A seek hint (segment_job.h SegmentJob::hint): the frame of segment k shown at `hint`
// seconds, where the segment is cut into a draft before it and the rest; 0 when the hint
// does not pay: not inside the segment, within kMinDraftSeconds of its start (the draft would
// save little), or in a quick-start segment (short already).
constexpr double kMinDraftSeconds = 1.0;
int64_t hint_cut_frame(const Plan& plan, int k, double hint);

// run_segment_job() for a job of one segment with job.chunks > 1 or a hint that cuts it
// (run_segment_job calls it). A hinted segment is two chunks: the draft and the rest.
bool run_split_segment_job(const SegmentJob& job, const SegmentSink& sink, MediaError* error,
                           bool* stalled);

}  // namespace tws
