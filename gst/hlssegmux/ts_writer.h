// SPDX-License-Identifier: LGPL-2.1-or-later
// A small MPEG-TS writer for HLS segments: one program, at most one video stream (H.264 or
// H.265) and one ADTS AAC stream. Pure C++ (no GStreamer types), so it is unit-tested alone.
//
// Each segment is self-contained: begin_segment() writes PAT + PMT and restarts every
// continuity counter at 0; the first packet of every PID in a segment carries the
// discontinuity_indicator, so segments written by separate jobs concatenate cleanly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace tws {

class TsWriter {
 public:
  static constexpr size_t kPacketSize = 188;
  static constexpr uint16_t kPatPid = 0x0000;
  static constexpr uint16_t kPmtPid = 0x1000;
  static constexpr uint16_t kVideoPid = 0x0100;
  static constexpr uint16_t kAudioPid = 0x0101;
  static constexpr uint16_t kProgramNumber = 1;
  static constexpr uint8_t kStreamTypeH264 = 0x1B;
  static constexpr uint8_t kStreamTypeH265 = 0x24;
  static constexpr uint8_t kStreamTypeAdtsAac = 0x0F;
  // PCR = DTS minus this many 90 kHz ticks (100 ms): each access unit arrives 100 ms before
  // it is decoded.
  static constexpr uint64_t kPcrLead90k = 9000;

  enum class VideoCodec { kNone, kH264, kH265 };

  // Receives whole packets (a multiple of 188 bytes).
  using Sink = std::function<void(const uint8_t* data, size_t size)>;

  explicit TsWriter(Sink sink);
  // Appends to *out (which must outlive the writer).
  explicit TsWriter(std::vector<uint8_t>* out);

  // Streams of the program; takes effect in the next PMT (begin_segment()).
  void configure(VideoCodec video, bool audio);
  VideoCodec video_codec() const { return video_; }
  bool has_audio() const { return audio_; }

  // Starts a segment: PAT + PMT, continuity counters from 0, discontinuity flags armed.
  void begin_segment();

  // One access unit (Annex B byte stream) as one PES. Timestamps in 90 kHz, wrapped to 33 bits.
  void write_video(const uint8_t* data, size_t size, uint64_t pts90k, uint64_t dts90k,
                   bool keyframe);
  // One or more ADTS frames, one PES each; frames after the first get PTS + 1024 samples each.
  void write_audio(const uint8_t* data, size_t size, uint64_t pts90k);

  // Bytes written since construction.
  uint64_t bytes_written() const { return bytes_written_; }

  // MPEG-2 CRC32 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final xor).
  static uint32_t crc32(const uint8_t* data, size_t size);

  // Size in bytes of the ADTS frame at data (0 when it is not a valid ADTS header).
  static size_t adts_frame_size(const uint8_t* data, size_t size);
  // Sample rate of the ADTS header at data (0 when unknown).
  static uint32_t adts_sample_rate(const uint8_t* data, size_t size);

 private:
  struct PidState {
    uint8_t cc = 0;
    bool discontinuity = true;
  };
  struct AdaptationFields {
    bool random_access = false;
    bool has_pcr = false;
    uint64_t pcr_base = 0;  // 90 kHz, 33 bits
  };

  void write_section(uint16_t pid, const std::vector<uint8_t>& section);
  // Writes `size` bytes of one PES as packets; the first packet gets `first_af`.
  void write_pes(uint16_t pid, const uint8_t* header, size_t header_size, const uint8_t* prefix,
                 size_t prefix_size, const uint8_t* data, size_t size,
                 const AdaptationFields& first_af);
  PidState& pid_state(uint16_t pid);
  void emit(const uint8_t* packet);

  Sink sink_;
  VideoCodec video_ = VideoCodec::kNone;
  bool audio_ = false;
  PidState pat_, pmt_, video_state_, audio_state_;
  uint64_t bytes_written_ = 0;
};

}  // namespace tws
