# SPDX-License-Identifier: LGPL-2.1-or-later
"""Edits MPEG-TS timestamps in place, to make deliberately broken streams for testing the checker:
shift_timestamps(path, ticks, kind) adds `ticks` (90 kHz) to the PTS/DTS of every PES of the
video or audio elementary stream (and to the PCR when it rides on that PID)."""

import struct


def _read_ts(b):
    return (((b[0] >> 1) & 0x07) << 30) | (b[1] << 22) | ((b[2] >> 1) << 15) | (b[3] << 7) | (b[4] >> 1)


def _write_ts(prefix_nibble, v):
    v &= (1 << 33) - 1
    return bytes([(prefix_nibble << 4) | (((v >> 30) & 0x07) << 1) | 1, (v >> 22) & 0xFF,
                  (((v >> 15) & 0x7F) << 1) | 1, (v >> 7) & 0xFF, ((v & 0x7F) << 1) | 1])


def _pmt_streams(data):
    """{pid: stream_type} from the first PMT found after the PAT."""
    pmt_pid = None
    for off in range(0, len(data) - 187, 188):
        pid = ((data[off + 1] & 0x1F) << 8) | data[off + 2]
        pus = data[off + 1] & 0x40
        if not pus:
            continue
        p = off + 4
        if data[off + 3] & 0x20:
            p += 1 + data[p]
        p += 1 + data[p]
        if pid == 0 and pmt_pid is None:
            sl = ((data[p + 1] & 0x0F) << 8) | data[p + 2]
            progs = data[p + 8:p + 3 + sl - 4]
            for i in range(0, len(progs), 4):
                if struct.unpack(">H", progs[i:i + 2])[0] != 0:
                    pmt_pid = ((progs[i + 2] & 0x1F) << 8) | progs[i + 3]
                    break
        elif pid == pmt_pid:
            sl = ((data[p + 1] & 0x0F) << 8) | data[p + 2]
            pil = ((data[p + 10] & 0x0F) << 8) | data[p + 11]
            q = p + 12 + pil
            end = p + 3 + sl - 4
            out = {}
            while q < end:
                st = data[q]
                epid = ((data[q + 1] & 0x1F) << 8) | data[q + 2]
                esl = ((data[q + 3] & 0x0F) << 8) | data[q + 4]
                out[epid] = st
                q += 5 + esl
            return out
    return {}


VIDEO_TYPES = {0x01, 0x02, 0x10, 0x1B, 0x24}
AUDIO_TYPES = {0x03, 0x04, 0x0F, 0x11, 0x81}


def shift_timestamps(path, ticks, kind="video"):
    data = bytearray(open(path, "rb").read())
    streams = _pmt_streams(data)
    types = VIDEO_TYPES if kind == "video" else AUDIO_TYPES
    pids = {pid for pid, st in streams.items() if st in types}
    for off in range(0, len(data) - 187, 188):
        pid = ((data[off + 1] & 0x1F) << 8) | data[off + 2]
        if pid not in pids:
            continue
        p = off + 4
        if data[off + 3] & 0x20:
            alen = data[p]
            if alen and data[p + 1] & 0x10:  # PCR
                base = (data[p + 2] << 25) | (data[p + 3] << 17) | (data[p + 4] << 9) | \
                       (data[p + 5] << 1) | (data[p + 6] >> 7)
                base = (base + ticks) & ((1 << 33) - 1)
                data[p + 2] = (base >> 25) & 0xFF
                data[p + 3] = (base >> 17) & 0xFF
                data[p + 4] = (base >> 9) & 0xFF
                data[p + 5] = (base >> 1) & 0xFF
                data[p + 6] = ((base & 1) << 7) | (data[p + 6] & 0x7F)
            p += 1 + alen
        if not (data[off + 1] & 0x40) or data[p:p + 3] != b"\x00\x00\x01":
            continue
        flags = data[p + 7] >> 6
        if flags & 2:
            v = _read_ts(data[p + 9:p + 14])
            data[p + 9:p + 14] = _write_ts(3 if flags == 3 else 2, v + ticks)
        if flags == 3:
            v = _read_ts(data[p + 14:p + 19])
            data[p + 14:p + 19] = _write_ts(1, v + ticks)
    with open(path, "wb") as f:
        f.write(bytes(data))
