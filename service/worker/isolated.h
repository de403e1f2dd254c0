// SPDX-License-Identifier: LGPL-2.1-or-later
// The media work of tws, each call run in a sandboxed worker process (worker_pool.h) instead
// of this one: the same contracts as probe_source(), run_segment_job() and
// extract_subtitle_cues(), plus the failures of a process. The server hands the worker its
// source: a local file as an open read-only descriptor, a remote object (S3, HTTP) as a
// socket on which this thread answers the worker's range reads through the process's block
// cache (so workers share its hits). It watches the worker from outside: a worker that makes
// no progress for the stall timeout is killed (SIGKILL works on a deadlock), one that crashes
// fails its call with the signal named; either way it is replaced.
#pragma once

#include <string>
#include <vector>

#include "pipelines/media_error.h"
#include "pipelines/segment_job.h"
#include "pipelines/source_info.h"
#include "pipelines/storyboard.h"
#include "pipelines/subtitle_cues.h"
#include "pipelines/subtitle_extract.h"

namespace tws {

// How long a probe may go without an answer before its worker is killed.
constexpr int kProbeDeadlineSeconds = 75;

// False with *error: the worker's MediaError (its domain, code and the source server's HTTP
// status kept across the process boundary), the source's resource error when this process
// could not open it, or a reason (a crash, the deadline). *timed_out (optional) when the
// worker was killed for its deadline.
bool probe_isolated(const std::string& location, SourceInfo* info, MediaError* error,
                    bool* timed_out = nullptr);

// As run_segment_job(); job.gate holds the worker (SIGSTOP) while it is held, and cancelling
// it or a sink that returns false kills the worker.
bool run_segment_job_isolated(const SegmentJob& job, const SegmentSink& sink, MediaError* error,
                              bool* stalled = nullptr);
// The same with the error's one-line message only.
bool run_segment_job_isolated(const SegmentJob& job, const SegmentSink& sink, std::string* error,
                              bool* stalled = nullptr);

// Asks a worker to try what its sandbox must refuse (protocol.h kSandboxCheck); its report,
// led by what the sandbox enforces. False with *error when no worker could be asked.
bool check_sandbox(int port, const std::vector<std::string>& paths,
                   const std::vector<std::string>& secrets, std::string* report,
                   std::string* error);

bool extract_subtitle_cues_isolated(const SubtitleWindow& window, std::vector<Cue>* cues,
                                    std::string* error);

// As make_storyboard(), in a worker; request.source is the location the server reads.
bool make_storyboard_isolated(const StoryboardRequest& request, Storyboard* board,
                              std::string* error);

}  // namespace tws
