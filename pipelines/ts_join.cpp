// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pipelines/ts_join.h"

#include <cstring>

namespace tws {

void TsJoin::begin_part() {
  ++part_;
  seen_in_part_.clear();
}

bool TsJoin::end_part() {
  if (partial_size_ == 0) return true;
  error_ = "a part ends inside a TS packet";
  return false;
}

bool TsJoin::write(const uint8_t* data, size_t size) {
  if (part_ < 0) begin_part();
  while (size > 0) {
    const size_t n = std::min(size, kPacketSize - partial_size_);
    std::memcpy(partial_.data() + partial_size_, data, n);
    partial_size_ += n;
    data += n;
    size -= n;
    if (partial_size_ < kPacketSize) break;
    partial_size_ = 0;
    if (!packet(partial_.data())) return false;
  }
  return true;
}

// The PMT PIDs a PAT names (a PAT in one packet, as every muxer here writes it).
void TsJoin::note_pat(const uint8_t* p) {
  const int afc = (p[3] >> 4) & 3;
  size_t at = 4 + ((afc & 2) ? 1 + p[4] : 0);
  if (!(p[1] & 0x40) || at >= kPacketSize) return;
  at += 1 + p[at];  // pointer_field
  if (at + 8 > kPacketSize || p[at] != 0x00) return;
  const size_t section_length = ((p[at + 1] & 0x0f) << 8) | p[at + 2];
  const size_t end = std::min(kPacketSize, at + 3 + section_length - 4);  // before the CRC
  for (size_t e = at + 8; e + 4 <= end; e += 4) {
    const uint16_t program = uint16_t((p[e] << 8) | p[e + 1]);
    if (program != 0) psi_pids_.insert(uint16_t(((p[e + 2] & 0x1f) << 8) | p[e + 3]));
  }
}

bool TsJoin::packet(uint8_t* p) {
  if (p[0] != 0x47) {
    error_ = "not a TS packet (no sync byte)";
    return false;
  }
  const uint16_t pid = uint16_t(((p[1] & 0x1f) << 8) | p[2]);
  if (pid == 0) note_pat(p);
  if (part_ > 0 && psi_pids_.count(pid)) return true;  // the first part's PAT and PMT serve
  const int afc = (p[3] >> 4) & 3;
  const bool first_in_part = seen_in_part_.insert(pid).second;
  if (part_ > 0 && first_in_part && (afc & 2) && p[4] > 0) p[5] &= 0x7f;  // discontinuity off
  if (part_ > 0 && next_cc_[pid] > 0) {
    const int cc = next_cc_[pid] - 1;
    // Packets without payload repeat the counter of the one before.
    p[3] = uint8_t((p[3] & 0xf0) | ((afc & 1) ? cc : (cc + 15) & 15));
  }
  if (afc & 1) next_cc_[pid] = ((p[3] & 0x0f) + 1) % 16 + 1;
  if (!sink_(p, kPacketSize)) {
    error_ = "the output refused the bytes";
    return false;
  }
  bytes_out_ += kPacketSize;
  return true;
}

}  // namespace tws
