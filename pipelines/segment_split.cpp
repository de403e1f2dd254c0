// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/segment_split.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "pipelines/pipeline_util.h"
#include "pipelines/ts_join.h"

namespace tws {

constexpr double kMinChunkSeconds = 2.0;

int segment_chunks(const Plan& plan, int k, int cores) {
  if (cores <= 2 || !plan.has_video() || k < 0 || k >= int(plan.segments.size())) return 1;
  const PlannedSegment& s = plan.segments[k];
  const int64_t by_length = int64_t(s.extinf / kMinChunkSeconds + 1e-9);
  return int(std::max<int64_t>(1, std::min<int64_t>(cores / 2, by_length)));
}

Plan split_plan(const Plan& plan, int k, int n) {
  const PlannedSegment& s = plan.segments[k];
  const int64_t frames = s.end_frame - s.first_frame;
  std::vector<int64_t> cuts;
  for (int i = 1; i < n; ++i) cuts.push_back(s.first_frame + frames * i / n);
  return split_plan_at(plan, k, cuts);
}

Plan split_plan_at(const Plan& plan, int k, const std::vector<int64_t>& cuts) {
  const PlannedSegment& s = plan.segments[k];
  const Rate r = plan.input.frame_rate;
  const int n = int(cuts.size()) + 1;
  Plan sub;
  sub.input = plan.input;
  // The chunks of a quick-start segment are encoded as quick-start segments.
  sub.input.initial_segments.assign(k < quick_start_segments(plan) ? n : 0, s.extinf / n);
  int64_t sample = s.first_sample;
  double longest = 0;
  for (int i = 0; i < n; ++i) {
    PlannedSegment c;
    c.index = i;
    c.first_frame = i == 0 ? s.first_frame : cuts[i - 1];
    c.end_frame = i == n - 1 ? s.end_frame : cuts[i];
    PlannedSegment next;
    next.first_frame = c.end_frame;
    if (plan.has_audio()) {
      c.first_sample = sample;
      if (i == n - 1) {
        c.end_sample = s.end_sample;
      } else {
        const double at = double(next.video_start_ns(r)) * plan.input.audio_rate / 1e9;
        const int64_t cut = std::llround(at / double(kAacFrame)) * kAacFrame;
        c.end_sample = std::clamp(cut, c.first_sample, s.end_sample);
      }
      sample = c.end_sample;
    }
    c.extinf = double(c.end_frame - c.first_frame) * r.den / r.num;
    c.start_ns = c.video_start_ns(r);
    c.end_ns = i == n - 1 ? s.end_ns : next.video_start_ns(r);
    longest = std::max(longest, c.extinf);
    sub.segments.push_back(c);
  }
  sub.target_duration = int(std::ceil(longest - 1e-9));
  return sub;
}

int64_t hint_cut_frame(const Plan& plan, int k, double hint) {
  if (!plan.has_video() || k < quick_start_segments(plan) || k >= int(plan.segments.size()) ||
      !(hint >= 0) || !std::isfinite(hint))
    return 0;
  const PlannedSegment& s = plan.segments[k];
  const Rate r = plan.input.frame_rate;
  const int64_t frame = int64_t(std::floor(hint * r.num / r.den + 1e-6));
  const int64_t min_draft = int64_t(std::ceil(kMinDraftSeconds * r.num / r.den));
  if (frame - s.first_frame < min_draft || frame >= s.end_frame) return 0;
  return frame;
}

namespace {

struct Chunk {
  std::vector<uint8_t> held;  // bytes made before the chunks ahead of it were out
  SegmentReport report;
  bool done = false, ok = false, stalled = false;
  MediaError error;
};

}  // namespace

bool run_split_segment_job(const SegmentJob& job, const SegmentSink& sink, MediaError* error,
                           bool* stalled) {
  const int k = job.first;
  // A hint cuts the segment into its draft and the rest; otherwise job.chunks GOPs.
  const int64_t cut = job.waited ? hint_cut_frame(job.plan, k, job.hint) : 0;
  const int n = cut > 0 ? 2 : job.chunks;
  const Plan sub = cut > 0 ? split_plan_at(job.plan, k, {cut}) : split_plan(job.plan, k, n);
  std::vector<Chunk> chunks(n);
  std::mutex mutex;  // guards chunks, out, failed and the join
  int out = 0;       // the chunk whose bytes go out as they are made
  bool failed = false;
  TsJoin join([&](const uint8_t* data, size_t size) { return sink.data(k, data, size); });

  // Under the lock: the chunks done, in order, go out, and the next one's held bytes after them.
  auto advance = [&] {
    while (!failed && out < n && chunks[out].done) {
      if (!join.end_part()) {
        failed = true;
        break;
      }
      if (++out == n) break;
      join.begin_part();
      Chunk& next = chunks[out];
      if (!join.write(next.held.data(), next.held.size())) failed = true;
      next.held = {};
    }
  };

  auto run_chunk = [&](int i) {
    SegmentJob part = job;
    part.plan = sub;
    part.first = part.last = i;
    part.chunks = 1;
    part.hint = -1;
    part.draft = cut > 0 && i == 0;
    SegmentReport report;
    SegmentSink chunk_sink;
    chunk_sink.begin = [](int) {};
    chunk_sink.data = [&](int, const uint8_t* data, size_t size) {
      std::lock_guard<std::mutex> lock(mutex);
      if (failed) return false;
      if (i != out) {
        chunks[i].held.insert(chunks[i].held.end(), data, data + size);
        return true;
      }
      if (!join.write(data, size)) failed = true;
      return !failed;
    };
    chunk_sink.end = [&](const SegmentReport& r) { report = r; };
    MediaError chunk_error;
    bool chunk_stalled = false;
    bool ok = run_segment_job(part, chunk_sink, &chunk_error, &chunk_stalled);
    std::string why;
    if (ok && !check_segment(part, report, &why)) {
      ok = false;
      chunk_error = MediaError::reason(why);
    }
    std::lock_guard<std::mutex> lock(mutex);
    Chunk& c = chunks[i];
    c.done = true;
    c.ok = ok;
    c.report = report;
    c.stalled = chunk_stalled;
    c.error = chunk_error;
    if (!ok) failed = true;
    advance();
  };

  sink.begin(k);
  join.begin_part();
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(run_chunk, i);
  run_chunk(0);
  for (std::thread& t : threads) t.join();

  for (int i = 0; i < n; ++i) {
    if (stalled && chunks[i].stalled) *stalled = true;
    if (!chunks[i].ok || !chunks[i].error.message.empty()) {
      // The chunk's error, its domain and code kept, named by its GOP.
      *error = chunks[i].error;
      error->message = "GOP " + std::to_string(i + 1) + " of " + std::to_string(n) + ": " +
                       (error->message.empty() ? "failed" : error->message);
      return false;
    }
  }
  if (failed || out != n) {
    *error = MediaError::reason(join.error().empty() ? "joining the GOPs failed"
                                                     : "joining the GOPs: " + join.error());
    return false;
  }
  SegmentReport report;
  report.index = k;
  report.bytes = join.bytes_out();
  report.starts_with_keyframe = chunks[0].report.starts_with_keyframe;
  for (const Chunk& c : chunks) {
    report.video_frames += c.report.video_frames;
    report.audio_samples += c.report.audio_samples;
  }
  sink.end(report);
  return true;
}

}  // namespace tws
