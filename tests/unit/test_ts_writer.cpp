// SPDX-License-Identifier: LGPL-2.1-or-later
// TsWriter: packets parsed back field by field; a synthetic stream read by ffprobe.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "hlssegmux/ts_writer.h"

using tws::TsWriter;

namespace {

struct Packet {
  uint16_t pid = 0;
  bool pusi = false;
  uint8_t cc = 0;
  bool has_af = false;
  bool discontinuity = false;
  bool random_access = false;
  bool has_pcr = false;
  uint64_t pcr = 0;         // 27 MHz
  std::vector<uint8_t> af;  // adaptation field bytes after the length byte
  std::vector<uint8_t> payload;
};

std::vector<Packet> parse(const std::vector<uint8_t>& ts) {
  EXPECT_EQ(ts.size() % 188, 0u);
  std::vector<Packet> out;
  for (size_t off = 0; off + 188 <= ts.size(); off += 188) {
    const uint8_t* p = ts.data() + off;
    EXPECT_EQ(p[0], 0x47) << "sync byte at " << off;
    Packet pkt;
    pkt.pusi = p[1] & 0x40;
    pkt.pid = static_cast<uint16_t>(((p[1] & 0x1F) << 8) | p[2]);
    uint8_t afc = (p[3] >> 4) & 3;
    pkt.cc = p[3] & 0x0F;
    size_t pos = 4;
    if (afc & 2) {
      pkt.has_af = true;
      size_t len = p[4];
      pkt.af.assign(p + 5, p + 5 + len);
      if (len > 0) {
        pkt.discontinuity = p[5] & 0x80;
        pkt.random_access = p[5] & 0x40;
        pkt.has_pcr = p[5] & 0x10;
        if (pkt.has_pcr) {
          uint64_t base = (uint64_t(p[6]) << 25) | (uint64_t(p[7]) << 17) | (uint64_t(p[8]) << 9) |
                          (uint64_t(p[9]) << 1) | (p[10] >> 7);
          uint64_t ext = (uint64_t(p[10] & 1) << 8) | p[11];
          pkt.pcr = base * 300 + ext;
        }
      }
      pos = 5 + len;
    }
    if (afc & 1) pkt.payload.assign(p + pos, p + 188);
    out.push_back(std::move(pkt));
  }
  return out;
}

uint64_t read_ts(const uint8_t* p) {
  return (uint64_t((p[0] >> 1) & 7) << 30) | (uint64_t(p[1]) << 22) | (uint64_t(p[2] >> 1) << 15) |
         (uint64_t(p[3]) << 7) | (p[4] >> 1);
}

struct Pes {
  uint16_t pid;
  uint8_t stream_id;
  uint16_t length;
  bool has_pts = false, has_dts = false;
  uint64_t pts = 0, dts = 0;
  std::vector<uint8_t> data;  // elementary stream bytes
  bool random_access = false;
  bool has_pcr = false;
  uint64_t pcr = 0;
};

// Reassembles the PES packets of `pid`.
std::vector<Pes> pes_of(const std::vector<Packet>& packets, uint16_t pid) {
  std::vector<Pes> out;
  std::vector<uint8_t> cur;
  Pes meta{};
  auto finish = [&] {
    if (cur.empty()) return;
    EXPECT_GE(cur.size(), 9u);
    EXPECT_EQ(cur[0], 0);
    EXPECT_EQ(cur[1], 0);
    EXPECT_EQ(cur[2], 1);
    Pes pes = meta;
    pes.pid = pid;
    pes.stream_id = cur[3];
    pes.length = static_cast<uint16_t>((cur[4] << 8) | cur[5]);
    uint8_t flags = cur[7];
    size_t hlen = cur[8];
    pes.has_pts = flags & 0x80;
    pes.has_dts = flags & 0x40;
    if (pes.has_pts) pes.pts = read_ts(&cur[9]);
    if (pes.has_dts) pes.dts = read_ts(&cur[14]);
    if (pes.length) {
      EXPECT_EQ(pes.length, cur.size() - 6);
    }
    pes.data.assign(cur.begin() + 9 + hlen, cur.end());
    out.push_back(std::move(pes));
    cur.clear();
  };
  for (const Packet& p : packets) {
    if (p.pid != pid) continue;
    if (p.pusi) {
      finish();
      meta = Pes{};
      meta.random_access = p.random_access;
      meta.has_pcr = p.has_pcr;
      meta.pcr = p.pcr;
    }
    cur.insert(cur.end(), p.payload.begin(), p.payload.end());
  }
  finish();
  return out;
}

// The section carried in a PSI packet (pointer field skipped), CRC included.
std::vector<uint8_t> section_of(const Packet& p) {
  EXPECT_TRUE(p.pusi);
  size_t ptr = p.payload.at(0);
  const uint8_t* s = p.payload.data() + 1 + ptr;
  size_t len = ((s[1] & 0x0F) << 8) | s[2];
  return std::vector<uint8_t>(s, s + 3 + len);
}

std::vector<uint8_t> adts_frame(size_t payload, uint8_t fill) {
  size_t len = payload + 7;
  // AAC LC, 44100 Hz (index 4), stereo, no CRC.
  std::vector<uint8_t> f = {0xFF,
                            0xF1,
                            0x50,
                            static_cast<uint8_t>(0x80 | (len >> 11)),
                            static_cast<uint8_t>(len >> 3),
                            static_cast<uint8_t>(((len & 7) << 5) | 0x1F),
                            0xFC};
  f.resize(len, fill);
  return f;
}

std::vector<uint8_t> h264_au(size_t size, bool idr, bool with_aud) {
  std::vector<uint8_t> au;
  if (with_aud) au = {0, 0, 0, 1, 0x09, 0xF0};
  std::vector<uint8_t> nal = {0, 0, 0, 1, static_cast<uint8_t>(idr ? 0x65 : 0x41)};
  au.insert(au.end(), nal.begin(), nal.end());
  while (au.size() < size) au.push_back(static_cast<uint8_t>(0x10 + au.size() % 0x70));
  return au;
}

}  // namespace

TEST(TsWriter, Crc32MatchesMpeg2) {
  const char* check = "123456789";
  EXPECT_EQ(TsWriter::crc32(reinterpret_cast<const uint8_t*>(check), 9), 0x0376E6E7u);
}

TEST(TsWriter, PatAndPmtFirstWithValidCrc) {
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kH264, true);
  w.begin_segment();
  auto packets = parse(out);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].pid, TsWriter::kPatPid);
  EXPECT_EQ(packets[1].pid, TsWriter::kPmtPid);
  for (const Packet& p : packets) {
    EXPECT_TRUE(p.discontinuity);
    EXPECT_EQ(p.cc, 0);
    auto s = section_of(p);
    EXPECT_EQ(TsWriter::crc32(s.data(), s.size()), 0u) << "CRC over section incl. CRC is 0";
  }
  auto pat = section_of(packets[0]);
  EXPECT_EQ(pat[0], 0x00);
  EXPECT_EQ((pat[8] << 8) | pat[9], 1);  // program_number
  EXPECT_EQ(((pat[10] & 0x1F) << 8) | pat[11], TsWriter::kPmtPid);
  auto pmt = section_of(packets[1]);
  EXPECT_EQ(pmt[0], 0x02);
  EXPECT_EQ(((pmt[8] & 0x1F) << 8) | pmt[9], TsWriter::kVideoPid);  // PCR PID
  ASSERT_EQ(pmt.size(), 12u + 2 * 5 + 4);
  EXPECT_EQ(pmt[12], 0x1B);
  EXPECT_EQ(((pmt[13] & 0x1F) << 8) | pmt[14], TsWriter::kVideoPid);
  EXPECT_EQ(pmt[17], 0x0F);
  EXPECT_EQ(((pmt[18] & 0x1F) << 8) | pmt[19], TsWriter::kAudioPid);
}

TEST(TsWriter, HevcStreamTypeAndAudioOnlyPcrPid) {
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kH265, false);
  w.begin_segment();
  auto pmt = section_of(parse(out)[1]);
  EXPECT_EQ(pmt[12], 0x24);
  out.clear();
  w.configure(TsWriter::VideoCodec::kNone, true);
  w.begin_segment();
  pmt = section_of(parse(out)[1]);
  EXPECT_EQ(((pmt[8] & 0x1F) << 8) | pmt[9], TsWriter::kAudioPid);
  EXPECT_EQ(pmt[12], 0x0F);
}

TEST(TsWriter, VideoPesTimestampsPcrAudAndStuffing) {
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kH264, true);
  w.begin_segment();
  auto idr = h264_au(1000, true, false);
  auto p1 = h264_au(50, false, true);
  const uint64_t wrap = uint64_t{1} << 33;
  w.write_video(idr.data(), idr.size(), 903600, 900000, true);
  w.write_video(p1.data(), p1.size(), wrap + 5, wrap + 5, false);  // wraps to 5, no DTS
  auto packets = parse(out);

  // Continuity counters per PID from 0; discontinuity only on the first packet of each PID.
  std::map<uint16_t, int> next_cc, count;
  for (const Packet& p : packets) {
    EXPECT_EQ(p.cc, next_cc[p.pid]) << "pid " << p.pid;
    next_cc[p.pid] = (next_cc[p.pid] + 1) & 0xF;
    EXPECT_EQ(p.discontinuity, count[p.pid]++ == 0) << "pid " << p.pid;
    // Stuffing lives only in the adaptation field: payload never ends with PES padding.
    if (p.pid == TsWriter::kVideoPid && p.has_af && p.af.size() > 1 && !p.has_pcr) {
      for (size_t i = 1; i < p.af.size(); i++) EXPECT_EQ(p.af[i], 0xFF);
    }
  }

  auto pes = pes_of(packets, TsWriter::kVideoPid);
  ASSERT_EQ(pes.size(), 2u);
  EXPECT_EQ(pes[0].stream_id, 0xE0);
  EXPECT_EQ(pes[0].length, 0);
  EXPECT_TRUE(pes[0].has_pts);
  EXPECT_TRUE(pes[0].has_dts);
  EXPECT_EQ(pes[0].pts, 903600u);
  EXPECT_EQ(pes[0].dts, 900000u);
  EXPECT_TRUE(pes[0].random_access);
  EXPECT_TRUE(pes[0].has_pcr);
  EXPECT_EQ(pes[0].pcr, (900000u - 9000u) * 300u);
  // AUD prepended once, then the AU unchanged.
  std::vector<uint8_t> expect = {0, 0, 0, 1, 0x09, 0xF0};
  expect.insert(expect.end(), idr.begin(), idr.end());
  EXPECT_EQ(pes[0].data, expect);

  EXPECT_EQ(pes[1].pts, 5u);
  EXPECT_FALSE(pes[1].has_dts);
  EXPECT_FALSE(pes[1].random_access);
  EXPECT_EQ(pes[1].pcr, 0u) << "PCR clamps at 0";
  EXPECT_EQ(pes[1].data, p1) << "an AU that starts with an AUD is kept as it is";
}

TEST(TsWriter, HevcAudInserted) {
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kH265, false);
  w.begin_segment();
  std::vector<uint8_t> au = {0, 0, 0, 1, 0x26, 0x01, 0xAF, 0x11, 0x22};
  w.write_video(au.data(), au.size(), 1000, 1000, true);
  auto pes = pes_of(parse(out), TsWriter::kVideoPid);
  ASSERT_EQ(pes.size(), 1u);
  std::vector<uint8_t> expect = {0, 0, 0, 1, 0x46, 0x01, 0x50};
  expect.insert(expect.end(), au.begin(), au.end());
  EXPECT_EQ(pes[0].data, expect);
}

TEST(TsWriter, AudioOnePesPerAdtsFrameWithLengthAndPcrWithoutVideo) {
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kNone, true);
  w.begin_segment();
  auto a = adts_frame(300, 0x11);
  auto b = adts_frame(170, 0x22);
  std::vector<uint8_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  w.write_audio(both.data(), both.size(), 900000);
  auto packets = parse(out);
  auto pes = pes_of(packets, TsWriter::kAudioPid);
  ASSERT_EQ(pes.size(), 2u);
  EXPECT_EQ(pes[0].stream_id, 0xC0);
  EXPECT_EQ(pes[0].length, 3 + 5 + a.size());
  EXPECT_EQ(pes[0].data, a);
  EXPECT_EQ(pes[1].data, b);
  EXPECT_EQ(pes[0].pts, 900000u);
  EXPECT_EQ(pes[1].pts, 900000u + 1024u * 90000u / 44100u);
  EXPECT_FALSE(pes[0].has_dts);
  EXPECT_TRUE(pes[0].has_pcr);
  EXPECT_TRUE(pes[1].has_pcr);
  EXPECT_EQ(pes[0].pcr, (900000u - 9000u) * 300u);
}

TEST(TsWriter, SecondSegmentRestartsCountersWithDiscontinuity) {
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kH264, false);
  w.begin_segment();
  auto au = h264_au(400, true, false);
  for (int i = 0; i < 5; i++)
    w.write_video(au.data(), au.size(), 900000 + i * 3600, 900000 + i * 3600, i == 0);
  size_t first_size = out.size();
  w.begin_segment();
  w.write_video(au.data(), au.size(), 918000, 918000, true);
  std::vector<uint8_t> second(out.begin() + first_size, out.end());
  auto packets = parse(second);
  ASSERT_GE(packets.size(), 3u);
  EXPECT_EQ(packets[0].pid, TsWriter::kPatPid);
  EXPECT_EQ(packets[2].pid, TsWriter::kVideoPid);
  EXPECT_EQ(packets[2].cc, 0);
  EXPECT_TRUE(packets[2].discontinuity);
  EXPECT_EQ(w.bytes_written(), out.size());
}

TEST(TsWriter, FfprobeReadsSyntheticStream) {
  if (std::system("ffprobe -version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no ffprobe";
  // Audio-only: a valid ADTS stream of silence frames (AAC LC, 44.1 kHz, stereo).
  std::vector<uint8_t> out;
  TsWriter w(&out);
  w.configure(TsWriter::VideoCodec::kNone, true);
  w.begin_segment();
  // Smallest valid stereo silent raw_data_block: CPE with zeroed spectra, then END.
  const std::vector<uint8_t> silence = {0x21, 0x10, 0x04, 0x60, 0x8C, 0x1C};
  for (int i = 0; i < 50; i++) {
    std::vector<uint8_t> f = adts_frame(silence.size(), 0);
    std::copy(silence.begin(), silence.end(), f.begin() + 7);
    w.write_audio(f.data(), f.size(), 900000 + uint64_t(i) * 1024 * 90000 / 44100);
  }
  std::string path = ::testing::TempDir() + "tswriter-probe.ts";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  std::string cmd =
      "ffprobe -v error -show_entries stream=codec_name,start_time -of csv=p=0 " + path;
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char line[256] = {};
  std::string got;
  // ffprobe lists the stream once in its program and once on its own.
  if (fgets(line, sizeof line, f)) got = line;
  while (fgets(line, sizeof line, f)) {
  }
  pclose(f);
  EXPECT_EQ(got, "aac,10.000000\n");
  std::remove(path.c_str());
}
