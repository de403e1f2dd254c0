// SPDX-License-Identifier: LGPL-2.1-or-later
// Turns a validated target request and the probed source into what the pipelines take:
// VideoTarget/AudioTarget and the plan inputs. Streams the source lacks are dropped from the
// target (a video target of an audio-only source is an audio target).
#pragma once

#include <string>
#include <vector>

#include "pipelines/plan.h"
#include "pipelines/source_info.h"
#include "pipelines/target.h"
#include "service/api/request.h"

namespace tws {

struct ResolvedTarget {
  bool has_video = false;
  VideoTarget video;
  bool has_audio = false;
  AudioTarget audio;
  PlanInput plan;
};

constexpr int kDefaultFrameRate = 25;  // when neither the target nor the source gives one

// The source audio streams a target asks for (Audio.Stream; all of them for >= 100; the first
// by default), none when it has no audio.
std::vector<int> audio_streams_of(const TargetRequest& target, const SourceInfo& source);

// The media duration of the request's clip of the source; false when the clip is empty.
bool clipped_duration(const PlaylistRequest& request, const SourceInfo& source, double* duration,
                      std::string* error);

// `index`: the target in request.targets (for error messages); `preset` from the config.
bool resolve_target(const PlaylistRequest& request, size_t index, const SourceInfo& source,
                    const std::string& preset, ResolvedTarget* out, std::string* error);

}  // namespace tws
