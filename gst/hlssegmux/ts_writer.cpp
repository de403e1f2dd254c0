// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ts_writer.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace tws {

namespace {

constexpr uint64_t kMask33 = (uint64_t{1} << 33) - 1;
constexpr size_t kPayloadMax = TsWriter::kPacketSize - 4;
constexpr uint8_t kAudH264[] = {0x00, 0x00, 0x00, 0x01, 0x09, 0xF0};
constexpr uint8_t kAudH265[] = {0x00, 0x00, 0x00, 0x01, 0x46, 0x01, 0x50};

// Writes a 33-bit timestamp in the 5-byte PES form with the given 4-bit prefix.
void put_timestamp(uint8_t* p, uint8_t prefix, uint64_t ts) {
  ts &= kMask33;
  p[0] = static_cast<uint8_t>((prefix << 4) | (((ts >> 30) & 0x07) << 1) | 1);
  p[1] = static_cast<uint8_t>(ts >> 22);
  p[2] = static_cast<uint8_t>((((ts >> 15) & 0x7F) << 1) | 1);
  p[3] = static_cast<uint8_t>(ts >> 7);
  p[4] = static_cast<uint8_t>(((ts & 0x7F) << 1) | 1);
}

// True when the Annex B access unit starts with an access unit delimiter NAL.
bool starts_with_aud(const uint8_t* data, size_t size, TsWriter::VideoCodec codec) {
  size_t i = 0;
  if (size >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 1)
    i = 4;
  else if (size >= 3 && data[0] == 0 && data[1] == 0 && data[2] == 1)
    i = 3;
  else
    return false;
  if (i >= size) return false;
  if (codec == TsWriter::VideoCodec::kH265) return ((data[i] >> 1) & 0x3F) == 35;
  return (data[i] & 0x1F) == 9;
}

}  // namespace

TsWriter::TsWriter(Sink sink) : sink_(std::move(sink)) {}

TsWriter::TsWriter(std::vector<uint8_t>* out)
    : sink_([out](const uint8_t* data, size_t size) {
        out->insert(out->end(), data, data + size);
      }) {}

void TsWriter::configure(VideoCodec video, bool audio) {
  video_ = video;
  audio_ = audio;
}

uint32_t TsWriter::crc32(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i << 24;
      for (int k = 0; k < 8; k++) c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : (c << 1);
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; i++) crc = (crc << 8) ^ table[((crc >> 24) ^ data[i]) & 0xFF];
  return crc;
}

size_t TsWriter::adts_frame_size(const uint8_t* data, size_t size) {
  if (size < 7 || data[0] != 0xFF || (data[1] & 0xF6) != 0xF0) return 0;
  size_t len = (static_cast<size_t>(data[3] & 0x03) << 11) | (static_cast<size_t>(data[4]) << 3) |
               (data[5] >> 5);
  return len >= 7 ? len : 0;
}

uint32_t TsWriter::adts_sample_rate(const uint8_t* data, size_t size) {
  static constexpr uint32_t kRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                        22050, 16000, 12000, 11025, 8000,  7350};
  if (adts_frame_size(data, size) == 0) return 0;
  unsigned idx = (data[2] >> 2) & 0x0F;
  return idx < std::size(kRates) ? kRates[idx] : 0;
}

TsWriter::PidState& TsWriter::pid_state(uint16_t pid) {
  switch (pid) {
    case kPatPid:
      return pat_;
    case kPmtPid:
      return pmt_;
    case kVideoPid:
      return video_state_;
    default:
      return audio_state_;
  }
}

void TsWriter::emit(const uint8_t* packet) {
  sink_(packet, kPacketSize);
  bytes_written_ += kPacketSize;
}

void TsWriter::begin_segment() {
  for (PidState* s : {&pat_, &pmt_, &video_state_, &audio_state_}) *s = PidState{};

  // PAT: program 1 -> PMT PID.
  std::vector<uint8_t> pat = {0x00,
                              0xB0,
                              0x00,
                              0x00,
                              0x01,
                              0xC1,
                              0x00,
                              0x00,
                              static_cast<uint8_t>(kProgramNumber >> 8),
                              static_cast<uint8_t>(kProgramNumber & 0xFF),
                              static_cast<uint8_t>(0xE0 | (kPmtPid >> 8)),
                              static_cast<uint8_t>(kPmtPid & 0xFF)};
  write_section(kPatPid, pat);

  uint16_t pcr_pid = video_ != VideoCodec::kNone ? kVideoPid : kAudioPid;
  std::vector<uint8_t> pmt = {0x02,
                              0xB0,
                              0x00,
                              static_cast<uint8_t>(kProgramNumber >> 8),
                              static_cast<uint8_t>(kProgramNumber & 0xFF),
                              0xC1,
                              0x00,
                              0x00,
                              static_cast<uint8_t>(0xE0 | (pcr_pid >> 8)),
                              static_cast<uint8_t>(pcr_pid & 0xFF),
                              0xF0,
                              0x00};
  auto add_stream = [&pmt](uint8_t type, uint16_t pid) {
    pmt.insert(pmt.end(), {type, static_cast<uint8_t>(0xE0 | (pid >> 8)),
                           static_cast<uint8_t>(pid & 0xFF), 0xF0, 0x00});
  };
  if (video_ != VideoCodec::kNone)
    add_stream(video_ == VideoCodec::kH265 ? kStreamTypeH265 : kStreamTypeH264, kVideoPid);
  if (audio_) add_stream(kStreamTypeAdtsAac, kAudioPid);
  write_section(kPmtPid, pmt);
}

// `section` holds the section without CRC; its section_length is filled in here.
void TsWriter::write_section(uint16_t pid, const std::vector<uint8_t>& section) {
  std::vector<uint8_t> s = section;
  size_t section_length = s.size() - 3 + 4;
  s[1] = static_cast<uint8_t>((s[1] & 0xF0) | ((section_length >> 8) & 0x0F));
  s[2] = static_cast<uint8_t>(section_length & 0xFF);
  uint32_t crc = crc32(s.data(), s.size());
  s.insert(s.end(), {static_cast<uint8_t>(crc >> 24), static_cast<uint8_t>(crc >> 16),
                     static_cast<uint8_t>(crc >> 8), static_cast<uint8_t>(crc)});

  PidState& st = pid_state(pid);
  uint8_t pkt[kPacketSize];
  std::memset(pkt, 0xFF, sizeof(pkt));
  pkt[0] = 0x47;
  pkt[1] = static_cast<uint8_t>(0x40 | (pid >> 8));  // payload_unit_start_indicator
  pkt[2] = static_cast<uint8_t>(pid & 0xFF);
  size_t pos = 4;
  if (st.discontinuity) {
    pkt[3] = static_cast<uint8_t>(0x30 | (st.cc & 0x0F));
    pkt[4] = 1;     // adaptation_field_length
    pkt[5] = 0x80;  // discontinuity_indicator
    pos = 6;
    st.discontinuity = false;
  } else {
    pkt[3] = static_cast<uint8_t>(0x10 | (st.cc & 0x0F));
  }
  st.cc = (st.cc + 1) & 0x0F;
  pkt[pos++] = 0x00;  // pointer_field
  // Sections here are tiny (at most 2 streams): always one packet; 0xFF fills the rest,
  // as PSI allows.
  std::memcpy(pkt + pos, s.data(), std::min(s.size(), kPacketSize - pos));
  emit(pkt);
}

void TsWriter::write_pes(uint16_t pid, const uint8_t* header, size_t header_size,
                         const uint8_t* prefix, size_t prefix_size, const uint8_t* data,
                         size_t size, const AdaptationFields& first_af) {
  // The payload is the concatenation header | prefix | data, read in order.
  const uint8_t* parts[3] = {header, prefix, data};
  size_t sizes[3] = {header_size, prefix_size, size};
  int part = 0;
  size_t part_pos = 0;
  size_t remaining = header_size + prefix_size + size;

  PidState& st = pid_state(pid);
  bool first = true;
  while (remaining > 0) {
    uint8_t pkt[kPacketSize];
    pkt[0] = 0x47;
    pkt[1] = static_cast<uint8_t>((first ? 0x40 : 0x00) | (pid >> 8));
    pkt[2] = static_cast<uint8_t>(pid & 0xFF);

    uint8_t flags = 0;
    bool has_pcr = false;
    if (st.discontinuity) flags |= 0x80;
    if (first && first_af.random_access) flags |= 0x40;
    if (first && first_af.has_pcr) {
      flags |= 0x10;
      has_pcr = true;
    }
    // Adaptation field size including its length byte; 0 when none is needed.
    size_t af_size = flags ? 2 + (has_pcr ? 6 : 0) : 0;
    size_t payload = std::min(remaining, kPayloadMax - af_size);
    if (payload < kPayloadMax - af_size) af_size = kPayloadMax - payload;  // stuffing

    pkt[3] = static_cast<uint8_t>((af_size ? 0x30 : 0x10) | (st.cc & 0x0F));
    st.cc = (st.cc + 1) & 0x0F;
    st.discontinuity = false;

    size_t pos = 4;
    if (af_size > 0) {
      pkt[4] = static_cast<uint8_t>(af_size - 1);  // adaptation_field_length
      pos = 5;
      if (af_size > 1) {
        pkt[pos++] = flags;
        if (has_pcr) {
          uint64_t base = first_af.pcr_base & kMask33;
          pkt[pos++] = static_cast<uint8_t>(base >> 25);
          pkt[pos++] = static_cast<uint8_t>(base >> 17);
          pkt[pos++] = static_cast<uint8_t>(base >> 9);
          pkt[pos++] = static_cast<uint8_t>(base >> 1);
          pkt[pos++] = static_cast<uint8_t>(((base & 1) << 7) | 0x7E);  // + reserved, ext 0
          pkt[pos++] = 0x00;
        }
        std::memset(pkt + pos, 0xFF, 4 + af_size - pos);
        pos = 4 + af_size;
      }
    }

    size_t to_copy = payload;
    while (to_copy > 0) {
      while (part_pos >= sizes[part]) {
        part++;
        part_pos = 0;
      }
      size_t n = std::min(to_copy, sizes[part] - part_pos);
      std::memcpy(pkt + pos, parts[part] + part_pos, n);
      pos += n;
      part_pos += n;
      to_copy -= n;
    }
    remaining -= payload;
    first = false;
    emit(pkt);
  }
}

void TsWriter::write_video(const uint8_t* data, size_t size, uint64_t pts90k, uint64_t dts90k,
                           bool keyframe) {
  pts90k &= kMask33;
  dts90k &= kMask33;
  bool with_dts = dts90k != pts90k;
  uint8_t header[19] = {0x00,
                        0x00,
                        0x01,
                        0xE0,
                        0x00,
                        0x00,  // PES_packet_length 0
                        0x84,  // data_alignment_indicator
                        static_cast<uint8_t>(with_dts ? 0xC0 : 0x80),
                        static_cast<uint8_t>(with_dts ? 10 : 5)};
  put_timestamp(header + 9, with_dts ? 0x3 : 0x2, pts90k);
  if (with_dts) put_timestamp(header + 14, 0x1, dts90k);
  size_t header_size = with_dts ? 19 : 14;

  const uint8_t* aud = nullptr;
  size_t aud_size = 0;
  if (!starts_with_aud(data, size, video_)) {
    if (video_ == VideoCodec::kH265) {
      aud = kAudH265;
      aud_size = sizeof(kAudH265);
    } else {
      aud = kAudH264;
      aud_size = sizeof(kAudH264);
    }
  }

  AdaptationFields af;
  af.random_access = keyframe;
  af.has_pcr = true;
  af.pcr_base = dts90k >= kPcrLead90k ? dts90k - kPcrLead90k : 0;
  write_pes(kVideoPid, header, header_size, aud, aud_size, data, size, af);
}

void TsWriter::write_audio(const uint8_t* data, size_t size, uint64_t pts90k) {
  uint32_t rate = adts_sample_rate(data, size);
  size_t offset = 0;
  uint64_t frame = 0;
  while (offset < size) {
    size_t frame_size = adts_frame_size(data + offset, size - offset);
    // Not ADTS (or truncated): write the rest as one PES rather than lose it.
    if (frame_size == 0 || frame_size > size - offset) frame_size = size - offset;
    uint64_t pts = pts90k + (rate ? frame * 1024 * 90000 / rate : 0);
    pts &= kMask33;

    size_t pes_length = 3 + 5 + frame_size;
    if (pes_length > 0xFFFF) pes_length = 0;
    uint8_t header[14] = {0x00,
                          0x00,
                          0x01,
                          0xC0,
                          static_cast<uint8_t>(pes_length >> 8),
                          static_cast<uint8_t>(pes_length & 0xFF),
                          0x84,
                          0x80,
                          5};
    put_timestamp(header + 9, 0x2, pts);

    AdaptationFields af;
    if (video_ == VideoCodec::kNone) {
      af.has_pcr = true;
      af.pcr_base = pts >= kPcrLead90k ? pts - kPcrLead90k : 0;
    }
    write_pes(kAudioPid, header, sizeof(header), nullptr, 0, data + offset, frame_size, af);
    offset += frame_size;
    frame++;
  }
}

}  // namespace tws
