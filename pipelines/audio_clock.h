// SPDX-License-Identifier: LGPL-2.1-or-later
// The codec's sample grid, recovered from the timestamps a container gives its audio packets.
//
// Containers that store milliseconds (FLV, Matroska/WebM, ASF) round every packet's time:
// AAC at 48 kHz has 21.333 ms frames, so its packets sit up to 0.5 ms off their true times.
// A decoder stamps its output from the packet it starts at (the first after a seek), so two
// jobs that start decoding at different packets put the same samples up to 1 ms apart: a
// jump in the tone where their segments join. Demuxers give the packets no durations, but a
// codec's packets are whole frames of a fixed number of samples (AAC 1024, MP3 1152, AC3
// 1536, Opus 960, WMA 2048 ...): that number comes from the packets' mean spacing, rounded to
// whole samples. The true time of packet k is then one unknown origin plus k frames; the
// middle of the range of (timestamp - k frames) over the packets seen estimates that origin
// the same way in every job (the rounding pattern repeats, or spreads evenly over the
// rounding step: the estimate is then within about step / packets), and the decoder's output
// is moved onto it. The first packet after a flush is left out (a demuxer may clamp it to 0).
// Codecs whose frames vary in size (Vorbis: short and long blocks) show a spread of more than
// the rounding; where the decoder stamps each decoded buffer with its packet's time (vorbisdec,
// avdec_*), the decoded buffers' sizes give each packet's length instead, and the same
// estimate follows. Containers whose timestamps are exact leave nothing to move.
//
// Fed from two pad probes (decoder input packets, decoder output), read by the SampleGrid;
// all methods are thread-safe.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace tws {

class AudioClock {
 public:
  AudioClock();
  // A packet going into the decoder, in decoding order (one without a time, a codec header,
  // is left out).
  void packet(GstClockTime pts);
  // A decoded buffer [pts, end) at `rate` leaving the decoder.
  void decoded(GstClockTime pts, GstClockTime end, int rate);
  // A flush (seek): what was seen before no longer continues.
  void reset();
  // Packets observed from the first decoded buffer on (the ones the estimate uses).
  size_t packets() const;
  // The estimate is final: kPackets packets seen (it uses those and no more, so that every
  // run of the same job places the audio alike).
  bool settled() const;
  // Rate of the decoded audio (0 until the first decoded buffer).
  int decoded_rate() const;
  // End of the first decoded buffer after the flush (-1 none yet): where the timeline of a
  // resampler after the decoder is anchored.
  int64_t first_decoded_end() const;
  // Nanoseconds to add to `boundary`, the end of a decoded frame (a buffer timestamp of the
  // decoder's output), to put it on the grid; 0 when there is nothing to go by (too few
  // packets) or the packets are not on a grid (frames of varying size, gaps).
  int64_t correction(int64_t boundary) const;

  // Packets the estimate uses: AAC 1.4-1.5 s of audio, WMA 3 s; the estimate is then within
  // about 1 ms / 64 of the grid.
  static constexpr size_t kPackets = 64;
  // Largest correction applied (a container's rounding is at most 1 ms; more is a gap).
  static constexpr int64_t kMaxCorrection = 1500 * 1000;
  // Largest spread of (timestamp - k frames) taken as rounding (1 ms, and some slack).
  static constexpr int64_t kMaxSpread = 1100 * 1000;
  // Decoded buffers kept: those of the packets the estimate uses, and the pre-roll after them
  // where the first buffer placed on the output is.
  static constexpr size_t kMaxDecoded = 512;

 private:
  mutable std::mutex mu_;
  int64_t fixed_frames(int64_t boundary) const;
  int64_t sized_frames(int64_t boundary) const;

  // Packets before the first decoded buffer (a decoder may start well before where its output
  // does: the accurate seek of a demuxer without index decodes from the start and drops
  // what comes before), the latest kRecent of them; then the packets from the first decoded
  // buffer's time on, the first kPackets: what the estimate uses.
  static constexpr size_t kRecent = 1024;
  std::deque<int64_t> recent_;
  std::vector<int64_t> pts_;
  std::vector<std::pair<int64_t, int64_t>> decoded_;  // decoded buffers [pts, end)
  int64_t decoded_end_ = -1;  // end of the first decoded buffer, -1 none yet
  int rate_ = 0;              // its sample rate
};

}  // namespace tws
