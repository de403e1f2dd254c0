# SPDX-License-Identifier: LGPL-2.1-or-later
"""A Dolby Vision profile 8.4 test source, as phones record it: an HEVC stream whose base layer
is HLG (BT.2020), with an RPU NAL unit (type 62) closing every access unit, in an MP4 whose
sample entry is `dvh1` with its `dvcC` record.

ffmpeg 5.1 writes neither the RPUs nor the record, so both are added here: the HLG stream is
made by ffmpeg as raw HEVC, an RPU-shaped NAL unit (type 62, the RPU's header bytes then
pseudo-random metadata, with emulation prevention) is put after the last slice of each
access unit, ffmpeg copies the result into MP4 with AAC, and the sample entry is renamed and
given the record (profile 8, compatibility id 4: HLG). The RPUs carry no valid metadata (no
tool here writes one), so a decoder that reads them (libavcodec) warns and goes on with the
base layer, as players without Dolby Vision do with real ones.
"""

import hashlib
import os
import struct
import subprocess

import media

NAL_RPU = 62
_VCL_MAX = 31  # NAL unit types 0-31 are slices
_PARAMETER_SETS = (32, 33, 34, 35)  # VPS, SPS, PPS, AUD: each starts an access unit


def _nal_units(es):
    """The NAL units of an Annex B stream, without start codes."""
    starts = []
    i = 0
    while True:
        i = es.find(b"\x00\x00\x01", i)
        if i < 0:
            break
        starts.append(i + 3)
        i += 3
    units = []
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(es)
        unit = es[s:end]
        # A four-byte start code leaves its leading zero at the end of the unit before.
        units.append(unit.rstrip(b"\x00") if k + 1 < len(starts) else unit)
    return units


def _nal_type(unit):
    return (unit[0] >> 1) & 0x3F


def _first_slice(unit):
    return _nal_type(unit) <= _VCL_MAX and len(unit) > 2 and unit[2] & 0x80


def _escape(payload):
    """Emulation prevention: 0x000000-03 never appear in a NAL unit's payload."""
    out = bytearray()
    zeros = 0
    for b in payload:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _rpu(index):
    """An RPU-shaped NAL unit: header (type 62, layer 0, temporal id 1), rpu_type 2 prefix
    (0x19), pseudo-random metadata, the RBSP stop bit."""
    body = b"\x19\x08\x09"
    seed = b"tws-rpu-%d" % index
    while len(body) < 96:
        seed = hashlib.sha256(seed).digest()
        body += seed
    return bytes([NAL_RPU << 1, 1]) + _escape(body[:96] + b"\x80")


def add_rpus(es):
    """The stream with an RPU after the last slice of each access unit."""
    units = _nal_units(es)
    out = []
    frame = 0
    for k, unit in enumerate(units):
        out.append(unit)
        nxt = units[k + 1] if k + 1 < len(units) else None
        au_ends = nxt is None or _nal_type(nxt) in _PARAMETER_SETS or _first_slice(nxt)
        if _nal_type(unit) <= _VCL_MAX and au_ends:
            out.append(_rpu(frame))
            frame += 1
    return b"".join(b"\x00\x00\x00\x01" + u for u in out), frame


def _boxes(data, start, end):
    """(type, offset, size) of the boxes in data[start:end]."""
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        if size < 8:
            raise ValueError(f"box {kind!r} at {i}: size {size}")
        yield kind, i, size
        i += size


def _child(data, parent, kind):
    _, off, size = parent
    for box in _boxes(data, off + 8, off + size):
        if box[0] == kind:
            return box
    raise ValueError(f"no {kind!r} box")


def dvcc(profile=8, level=1, compatibility=4):
    """A DOVIDecoderConfigurationRecord box: version 1.0, RPU and base layer present."""
    flags = (profile << 9) | (level << 3) | (1 << 2) | (0 << 1) | 1
    body = struct.pack(">BBHI", 1, 0, flags, compatibility << 28) + bytes(16)
    return struct.pack(">I4s", 8 + len(body), b"dvcC") + body


def as_profile_84(mp4):
    """The MP4 (moov after mdat, one hvc1 track) with the track's sample entry made dvh1 and
    given a dvcC record: every box on the way grows by the record's size."""
    data = bytearray(mp4)
    top = list(_boxes(data, 0, len(data)))
    kinds = [b[0] for b in top]
    if b"moov" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat"):
        raise ValueError("expected mdat before moov (no chunk offsets to move)")
    moov = top[kinds.index(b"moov")]
    for trak in (b for b in _boxes(data, moov[1] + 8, moov[1] + moov[2]) if b[0] == b"trak"):
        path = [moov, trak]
        for kind in (b"mdia", b"minf", b"stbl", b"stsd"):
            path.append(_child(data, path[-1], kind))
        stsd = path[-1]
        entry = next(_boxes(data, stsd[1] + 16, stsd[1] + stsd[2]))
        if entry[0] != b"hvc1":
            continue
        record = dvcc()
        at = entry[1] + entry[2]
        data[at:at] = record
        data[entry[1] + 4:entry[1] + 8] = b"dvh1"
        for _, off, size in path + [entry]:
            data[off:off + 4] = struct.pack(">I", size + len(record))
        return bytes(data)
    raise ValueError("no hvc1 track")


def source(seconds=4, size="640x360"):
    """Path of the cached profile 8.4 source: 10-bit HLG HEVC 25 fps (no B-frames), keyframes
    every 2 s, an RPU per frame, and a 440 Hz AAC tone."""
    # No B-frames: the raw stream carries no times, and ffmpeg stamps it in decode order.
    x265 = ("log-level=error:keyint=50:min-keyint=50:scenecut=0:bframes=0:colorprim=bt2020:"
            "transfer=arib-std-b67:colormatrix=bt2020nc")
    video = media._video_in(size, "25", seconds) + [
        "-vf", "format=yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-crf", "20",
        "-pix_fmt", "yuv420p10le", "-x265-params", x265, "-color_primaries", "bt2020",
        "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc", "-color_range", "tv", "-f",
        "hevc"]
    audio = media._audio_in(seconds, 48000)
    digest = hashlib.sha256(repr((video, audio, open(__file__, "rb").read())).encode()).hexdigest()
    path = os.path.join(media.cache_dir(), f"src-dv84-{digest[:10]}.mp4")
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return path
    ffmpeg = [media.FFMPEG, "-nostdin", "-y", "-hide_banner", "-loglevel", "error"]
    es_path, mp4_path = path + ".hevc", path + ".part.mp4"
    subprocess.run(ffmpeg + video + [es_path], check=True, capture_output=True, timeout=300)
    with open(es_path, "rb") as f:
        es, frames = add_rpus(f.read())
    if frames != seconds * 25:
        raise RuntimeError(f"{frames} access units found in the HEVC stream, made {seconds * 25}")
    with open(es_path, "wb") as f:
        f.write(es)
    subprocess.run(ffmpeg + ["-framerate", "25", "-i", es_path] + audio +
                   ["-map", "0:v", "-map", "1:a", "-c:v", "copy", "-tag:v", "hvc1"] + media.AAC +
                   [mp4_path], check=True, capture_output=True, timeout=300)
    with open(mp4_path, "rb") as f:
        patched = as_profile_84(f.read())
    with open(mp4_path, "wb") as f:
        f.write(patched)
    os.replace(mp4_path, path)
    os.remove(es_path)
    return path
