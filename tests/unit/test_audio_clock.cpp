// SPDX-License-Identifier: LGPL-2.1-or-later
// AudioClock: the codec's frame grid recovered from rounded container timestamps, the same
// in every job whichever packet it starts decoding at.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "pipelines/audio_clock.h"

namespace tws {
namespace {

constexpr int64_t kMs = 1000000;

// Packets of `frame` samples at `rate` from `origin_ns`, their times rounded to whole
// milliseconds as FLV, Matroska and ASF store them; packets [first, first + count) are fed.
// Returns the correction for the end of the decoded packet `anchor` (a decoder that stamps
// its output from the rounded timestamp of the packet it starts at).
int64_t job(int frame, int rate, int64_t origin_ns, int first, int count, int anchor) {
  AudioClock clock;
  auto true_ns = [&](int k) { return origin_ns + int64_t(k) * frame * 1000000000LL / rate; };
  auto rounded = [&](int k) { return std::llround(double(true_ns(k)) / kMs) * kMs; };
  for (int k = first; k < first + count; ++k) clock.packet(GstClockTime(rounded(k)));
  clock.decoded(GstClockTime(rounded(anchor)),
                GstClockTime(rounded(anchor) + int64_t(frame) * 1000000000LL / rate), rate);
  // The boundary the decoder's output has, and the one it should have.
  const int64_t decoded_end = rounded(anchor) + int64_t(frame) * 1000000000LL / rate;
  return decoded_end + clock.correction(decoded_end) - true_ns(anchor + 1);
}

TEST(AudioClock, JobsStartingAtDifferentPacketsAgree) {
  // AAC at 44.1 and 48 kHz, MP3, AC3, WMA: what each job's output is off the true grid after
  // the correction must be the same for every job (joins are then exact), within 20 us.
  const struct {
    int frame, rate;
  } codecs[] = {{1024, 44100}, {1024, 48000}, {1152, 44100}, {1536, 48000}, {2048, 44100}};
  for (const auto& c : codecs) {
    const int64_t origin = 57 * kMs + 317000;
    const int64_t a = job(c.frame, c.rate, origin, 0, 80, 30);
    for (int first : {7, 40, 131, 400}) {
      const int64_t b = job(c.frame, c.rate, origin, first, 80, first + 30);
      EXPECT_LT(std::llabs(a - b), 20000) << c.frame << "@" << c.rate << " from packet " << first;
    }
  }
}

TEST(AudioClock, WithoutTheClockJobsDisagree) {
  // The fault it mends: the rounded timestamps of the packets two jobs start at are off the
  // grid by different amounts (up to 1 ms apart).
  const int rate = 44100, frame = 1024;
  auto off = [&](int k) {
    const double t = 57.317 + k * frame * 1000.0 / rate;
    return std::round(t) - t;
  };
  double worst = 0;
  for (int first : {7, 40, 131, 400}) worst = std::max(worst, std::fabs(off(30) - off(first + 30)));
  EXPECT_GT(worst, 0.3);
}

TEST(AudioClock, ExactTimestampsNeedNothing) {
  AudioClock clock;
  for (int k = 0; k < 60; ++k) clock.packet(GstClockTime(k) * 1024 * GST_SECOND / 48000);
  const GstClockTime end = GstClockTime(31) * 1024 * GST_SECOND / 48000;
  clock.decoded(end - 1024 * GST_SECOND / 48000, end, 48000);
  EXPECT_LE(std::llabs(clock.correction(int64_t(end))), 1);
}

TEST(AudioClock, FramesOfVaryingSizeAreLeftAlone) {
  // Vorbis-like packets of 128 and 1024 samples mixed: no grid, no correction.
  AudioClock clock;
  int64_t t = 0;
  for (int k = 0; k < 60; ++k) {
    clock.packet(GstClockTime(std::llround(double(t) / kMs) * kMs));
    t += int64_t(k % 3 == 0 ? 128 : 1024) * GST_SECOND / 44100;
  }
  clock.decoded(0, 20 * kMs, 44100);
  EXPECT_EQ(clock.correction(20 * kMs + 300000), 0);
}

TEST(AudioClock, TooFewPacketsOrAFlushGiveNothing) {
  AudioClock clock;
  clock.packet(0);
  clock.packet(21 * kMs);
  clock.decoded(0, 21 * kMs, 48000);
  EXPECT_EQ(clock.correction(21 * kMs), 0);
  EXPECT_EQ(clock.packets(), 2u);
  clock.reset();
  EXPECT_EQ(clock.packets(), 0u);
  EXPECT_EQ(clock.decoded_rate(), 0);
  EXPECT_EQ(clock.first_decoded_end(), -1);
}

TEST(AudioClock, TheFirstPacketClampedToZeroDoesNotCount) {
  // Opus in WebM: the first packet (-6.5 ms) stored as -7 and clamped to 0 by the demuxer;
  // the others sit at 13.5 + 20k ms, stored rounded up. The grid comes from the others.
  AudioClock clock;
  clock.packet(0);
  for (int k = 1; k < 60; ++k) clock.packet(GstClockTime(14 * kMs + (k - 1) * 20 * kMs));
  clock.decoded(0, 13 * kMs, 48000);
  EXPECT_EQ(clock.correction(13 * kMs), 1 * kMs);
}

}  // namespace
}  // namespace tws
