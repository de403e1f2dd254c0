// SPDX-License-Identifier: LGPL-2.1-or-later
// Joins MPEG-TS parts made by separate muxers into one stream, as if one muxer had written it:
// the PAT and PMT packets of every part after the first are dropped, each PID's continuity
// counter goes on from the part before, and the discontinuity_indicator a part's first packet
// of a PID carries is cleared. Used to join the GOPs of a segment encoded in parallel
// (segment_split.h). Pure C++, no GStreamer types.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>

namespace tws {

class TsJoin {
 public:
  // Receives whole packets; returning false stops the join (write() returns false).
  using Sink = std::function<bool(const uint8_t* data, size_t size)>;
  static constexpr size_t kPacketSize = 188;

  explicit TsJoin(Sink sink) : sink_(std::move(sink)) {}

  // The bytes written next belong to a new part.
  void begin_part();
  // Any split of a part's bytes. False: the sink refused, or the bytes are not TS packets
  // (error() says which).
  bool write(const uint8_t* data, size_t size);
  // A part must end on a packet boundary: false when bytes of a packet are left over.
  bool end_part();

  uint64_t bytes_out() const { return bytes_out_; }
  const std::string& error() const { return error_; }

 private:
  bool packet(uint8_t* p);
  void note_pat(const uint8_t* p);

  Sink sink_;
  std::array<uint8_t, kPacketSize> partial_{};
  size_t partial_size_ = 0;
  int part_ = -1;
  std::array<int, 8192> next_cc_{};  // per PID: the next counter + 1 (0: PID not seen yet)
  std::set<uint16_t> psi_pids_{0};   // PAT and the PMTs it names
  std::set<uint16_t> seen_in_part_;
  uint64_t bytes_out_ = 0;
  std::string error_;
};

}  // namespace tws
