# SPDX-License-Identifier: LGPL-2.1-or-later
"""The strict check of an HLS stream on disk (DESIGN.md "The segment plan", issue 2 "Done means").

check_stream(playlist_path, ...) returns a list of failures (strings); empty means the stream
passed. Each check is small and named, so that a failure says what broke and where:

- playlist: #EXTM3U, VERSION >= 3, VOD + ENDLIST, no DISCONTINUITY, TARGETDURATION =
  ceil(max EXTINF), relative segment URIs named PREFIX-<32 hex token>-<k>.ts, k = 0, 1, ...
- per segment (read with ffprobe, and the TS bytes directly): whole 188-byte packets, PAT first
  and its PMT second; the first video packet is a keyframe and the first frame shown (an audio
  packet may come before it: muxers order by DTS);
  video on a constant frame grid; DTS increasing; audio gapless inside the segment; video
  duration (frames x frame duration) and audio duration (samples / rate) = EXTINF within one
  frame (one AAC frame for audio); audio and video start within one AAC frame of each other.
- across boundaries: the next segment's first video PTS = previous last PTS + one frame
  (<= 1 tick of 90 kHz); audio start = previous audio end (<= 1 ms), and no drift overall.
- the concatenation decodes in ffmpeg with nothing on stderr at -v error; it plays through
  GStreamer's playbin/hlsdemux (served over a local HTTP server) to EOS, for about the
  playlist's duration; no click at a boundary (second difference of the decoded tone).
"""

import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = 90000
PROBE_TIMEOUT = 120


class CheckError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# Playlist

def parse_playlist(path):
    """Parses a media playlist. Returns a dict: version, target_duration, playlist_type,
    endlist, discontinuity, segments [{extinf, uri, path}], header (first line), comments."""
    text = open(path, encoding="utf-8").read()
    lines = [l.strip() for l in text.splitlines()]
    pl = {"header": lines[0] if lines else "", "version": None, "target_duration": None,
          "playlist_type": None, "endlist": False, "discontinuity": False, "segments": [],
          "media_sequence": 0, "comments": []}
    base = os.path.dirname(os.path.abspath(path))
    extinf = None
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith("#EXT-X-VERSION:"):
            pl["version"] = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            pl["target_duration"] = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            pl["playlist_type"] = line.split(":", 1)[1]
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            pl["media_sequence"] = int(line.split(":", 1)[1])
        elif line == "#EXT-X-ENDLIST":
            pl["endlist"] = True
        elif line.startswith("#EXT-X-DISCONTINUITY"):
            pl["discontinuity"] = True
        elif line.startswith("#EXTINF:"):
            extinf = float(line.split(":", 1)[1].split(",")[0])
        elif line.startswith("#"):
            pl["comments"].append(line)
        else:
            if extinf is None:
                raise CheckError(f"{path}: URI without #EXTINF: {line}")
            p = line.split("?", 1)[0]
            pl["segments"].append({"extinf": extinf, "uri": line,
                                   "path": os.path.normpath(os.path.join(base, p))})
            extinf = None
    return pl


def check_playlist(pl, token=None, service_names=True):
    """The playlist's own checks. service_names: segment URIs are tws's PREFIX-<token>-<k>.ts;
    False (another writer, e.g. hlssegsink): relative and distinct, any name."""
    f = []
    if pl["header"] != "#EXTM3U":
        f.append("playlist: first line is not #EXTM3U")
    if pl["version"] is None or pl["version"] < 3:
        f.append(f"playlist: EXT-X-VERSION {pl['version']} (want >= 3)")
    if not pl["endlist"]:
        f.append("playlist: no #EXT-X-ENDLIST")
    if pl["playlist_type"] != "VOD":
        f.append(f"playlist: EXT-X-PLAYLIST-TYPE {pl['playlist_type']} (want VOD)")
    if pl["discontinuity"]:
        f.append("playlist: has EXT-X-DISCONTINUITY")
    if not pl["segments"]:
        f.append("playlist: no segments")
        return f
    want_td = math.ceil(max(s["extinf"] for s in pl["segments"]) - 1e-9)
    if pl["target_duration"] != want_td:
        f.append(f"playlist: TARGETDURATION {pl['target_duration']} != ceil(max EXTINF) {want_td}")
    tokens = set()
    for k, s in enumerate(pl["segments"]):
        uri = s["uri"]
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri) or uri.startswith("/"):
            f.append(f"playlist: segment URI {uri} is not relative")
        if s["extinf"] <= 0:
            f.append(f"playlist: segment {k} EXTINF {s['extinf']}")
        if not service_names:
            continue
        m = re.search(r"-([0-9a-f]{32})-(\d+)\.ts$", uri.split("?")[0])
        if not m:
            f.append(f"playlist: segment URI {uri} is not PREFIX-<token>-<k>.ts")
            continue
        tokens.add(m.group(1))
        if int(m.group(2)) != k:
            f.append(f"playlist: segment {k} is named with index {m.group(2)}")
    if len({s["uri"] for s in pl["segments"]}) != len(pl["segments"]):
        f.append("playlist: a segment URI is listed twice")
    if len(tokens) > 1:
        f.append(f"playlist: segments carry {len(tokens)} different tokens")
    if token is not None and tokens and tokens != {token}:
        f.append(f"playlist: segment token {tokens} != response Token {token}")
    return f


# ----------------------------------------------------------------------------------------------
# One segment

def ts_structure(path):
    """Checks the raw TS: whole packets, sync bytes, PAT (PID 0) first, its PMT PID second.
    Returns a list of failures."""
    f = []
    data = open(path, "rb").read()
    name = os.path.basename(path)
    if not data:
        return [f"{name}: empty"]
    if len(data) % 188:
        f.append(f"{name}: size {len(data)} is not a multiple of 188")
    bad_sync = sum(1 for i in range(0, len(data) - len(data) % 188, 188) if data[i] != 0x47)
    if bad_sync:
        f.append(f"{name}: {bad_sync} packets without the 0x47 sync byte")
        return f
    pid = lambda off: ((data[off + 1] & 0x1F) << 8) | data[off + 2]
    if pid(0) != 0:
        f.append(f"{name}: first TS packet has PID {pid(0):#x}, not the PAT (0)")
        return f
    # PAT: payload_unit_start, pointer field, table; first program's PMT PID.
    off = 4
    if data[3] & 0x20:  # adaptation field
        off += 1 + data[4]
    off += 1 + data[off]  # pointer field
    table = data[off:]
    if table[0] != 0x00:
        f.append(f"{name}: PAT table_id {table[0]:#x}")
        return f
    section_length = ((table[1] & 0x0F) << 8) | table[2]
    programs = table[8:3 + section_length - 4]
    pmt_pid = None
    for i in range(0, len(programs), 4):
        prog = struct.unpack(">H", programs[i:i + 2])[0]
        if prog != 0:
            pmt_pid = ((programs[i + 2] & 0x1F) << 8) | programs[i + 3]
            break
    if pmt_pid is None:
        f.append(f"{name}: PAT lists no program")
    elif len(data) < 376 or pid(188) != pmt_pid:
        f.append(f"{name}: second TS packet is not the PMT (PID {pmt_pid:#x})")
    return f


def _ffprobe_json(args, timeout=PROBE_TIMEOUT):
    r = subprocess.run(["ffprobe", "-v", "error", "-of", "json"] + args, capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        raise CheckError(f"ffprobe {' '.join(args)} failed: {r.stderr.strip()}")
    return json.loads(r.stdout or "{}")


def probe_segment(path):
    """Reads a segment: streams, video packets (decode order) and audio frames.
    Returns {"streams": [...], "video": [{pts, dts, key}], "audio": [{pts, samples}],
    "first_packet": "video"|"audio"|None, "sample_rate": S or None}."""
    j = _ffprobe_json(["-show_streams", "-show_packets", path])
    streams = j.get("streams", [])
    vstreams = [s for s in streams if s.get("codec_type") == "video"]
    astreams = [s for s in streams if s.get("codec_type") == "audio"]
    out = {"streams": streams, "video": [], "audio": [], "first_packet": None, "sample_rate": None,
           "stderr": ""}
    vidx = {s["index"] for s in vstreams}
    aidx = {s["index"] for s in astreams}
    for i, p in enumerate(j.get("packets", [])):
        kind = "video" if p["stream_index"] in vidx else "audio" if p["stream_index"] in aidx else None
        if i == 0:
            out["first_packet"] = kind
        if kind == "video":
            out["video"].append({"pts": _int(p.get("pts")), "dts": _int(p.get("dts")),
                                 "key": "K" in p.get("flags", "")})
    if astreams:
        out["sample_rate"] = int(astreams[0]["sample_rate"])
        fj = _ffprobe_json(["-select_streams", "a:0", "-show_entries",
                            "frame=pts,nb_samples,sample_rate", "-show_frames", path])
        for fr in fj.get("frames", []):
            out["audio"].append({"pts": _int(fr.get("pts")), "samples": int(fr["nb_samples"])})
    return out


def _int(v):
    return None if v in (None, "N/A") else int(v)


def timing_signature(info):
    """What must be equal when a segment is made twice: timestamps, keyframes, geometry."""
    def stream_key(s):
        keys = ("codec_type", "codec_name", "width", "height", "sample_rate", "channels",
                "sample_aspect_ratio", "pix_fmt")
        return tuple((k, s.get(k)) for k in keys)
    return {
        "streams": sorted(stream_key(s) for s in info["streams"]),
        "video": [(p["pts"], p["dts"], p["key"]) for p in info["video"]],
        "audio": [(a["pts"], a["samples"]) for a in info["audio"]],
    }


def compare_timing(path_a, path_b, label=""):
    """The same segment made twice gives the same timing: failures (list of strings)."""
    a, b = timing_signature(probe_segment(path_a)), timing_signature(probe_segment(path_b))
    f = []
    for part in ("streams", "video", "audio"):
        if a[part] != b[part]:
            la, lb = a[part], b[part]
            first = next((i for i in range(min(len(la), len(lb))) if la[i] != lb[i]), min(len(la), len(lb)))
            f.append(f"{label}same timing: {part} differ ({len(la)} vs {len(lb)} entries; first "
                     f"difference at {first}: {la[first] if first < len(la) else None} vs "
                     f"{lb[first] if first < len(lb) else None})")
    return f


def _mode(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0] if counts else None


# ----------------------------------------------------------------------------------------------
# The whole stream

def check_stream(playlist_path, expect_video=True, expect_audio=True, token=None,
                 expect_duration=None, playback=True, clicks=True, frame_rate=None, infos=None,
                 service_names=True):
    """Runs every check on the stream of `playlist_path`. Returns (failures, summary).
    `infos`, when a dict, is filled with the per-segment probe results (key: segment index)."""
    failures = []
    summary = {}
    pl = parse_playlist(playlist_path)
    failures += check_playlist(pl, token, service_names)
    segs = pl["segments"]
    summary["segments"] = len(segs)
    summary["extinf"] = [s["extinf"] for s in segs]
    if not segs:
        return failures, summary
    missing = [s["path"] for s in segs if not os.path.exists(s["path"])]
    if missing:
        failures.append(f"segment count: {len(missing)} of {len(segs)} segments missing: "
                        + ", ".join(os.path.basename(m) for m in missing[:3]))
        return failures, summary
    total_extinf = sum(s["extinf"] for s in segs)
    summary["duration"] = total_extinf
    if expect_duration is not None and abs(total_extinf - expect_duration) > 0.25:
        failures.append(f"playlist: EXTINF total {total_extinf:.3f} s, source {expect_duration:.3f} s")

    probes = []
    for k, s in enumerate(segs):
        failures += [f"segment {k}: {m}" for m in ts_structure(s["path"])]
        info = probe_segment(s["path"])
        probes.append(info)
        if infos is not None:
            infos[k] = info

    has_video = any(p["video"] for p in probes)
    has_audio = any(p["audio"] for p in probes)
    if has_video != expect_video:
        failures.append(f"streams: video {'present' if has_video else 'absent'}, expected "
                        f"{'present' if expect_video else 'absent'}")
    if has_audio != expect_audio:
        failures.append(f"streams: audio {'present' if has_audio else 'absent'}, expected "
                        f"{'present' if expect_audio else 'absent'}")

    # Frame duration on the 90 kHz clock: the most common PTS step over all segments.
    fd = None
    if has_video:
        steps = []
        for p in probes:
            pts = sorted(v["pts"] for v in p["video"] if v["pts"] is not None)
            steps += [b - a for a, b in zip(pts, pts[1:])]
        fd = _mode(steps) if steps else None
        if frame_rate is not None:
            want = TICK / frame_rate
            if fd is None or abs(fd - want) > 1:
                failures.append(f"video: frame duration {fd} ticks, expected {want:.2f} ({frame_rate} fps)")
        summary["frame_duration_ticks"] = fd
    S = next((p["sample_rate"] for p in probes if p["sample_rate"]), None)
    summary["sample_rate"] = S
    aac_frame = 1024.0 / S if S else None

    prev = None
    audio_total = 0          # samples before the current segment
    audio_origin = None      # first audio PTS of the stream
    boundaries = []          # sample index of every boundary in the concatenated audio
    for k, (s, p) in enumerate(zip(segs, probes)):
        tag = f"segment {k}"
        cur = {}
        if expect_video:
            v = p["video"]
            if not v:
                failures.append(f"{tag}: no video packets")
            else:
                if not v[0]["key"]:
                    failures.append(f"{tag}: first video packet is not a keyframe")
                if any(x["pts"] is None or x["dts"] is None for x in v):
                    failures.append(f"{tag}: video packet without PTS/DTS")
                    v = [x for x in v if x["pts"] is not None and x["dts"] is not None]
                dts = [x["dts"] for x in v]
                if any(b <= a for a, b in zip(dts, dts[1:])):
                    failures.append(f"{tag}: video DTS not strictly increasing")
                if any(x["dts"] > x["pts"] for x in v):
                    failures.append(f"{tag}: video DTS after PTS")
                pts = sorted(x["pts"] for x in v)
                if pts and v[0]["pts"] != pts[0]:
                    failures.append(f"{tag}: the keyframe (PTS {v[0]['pts']}) is not the first "
                                    f"frame shown (PTS {pts[0]})")
                if fd:
                    off = [b - a for a, b in zip(pts, pts[1:]) if abs((b - a) - fd) > 1]
                    if off:
                        failures.append(f"{tag}: video not on a constant frame grid ({len(off)} "
                                        f"steps != {fd} ticks, e.g. {off[:3]})")
                    dur = len(v) * fd / TICK
                    if abs(dur - s["extinf"]) > fd / TICK + 1e-6:
                        failures.append(f"{tag}: video duration {len(v)} frames = {dur:.6f} s, "
                                        f"EXTINF {s['extinf']:.6f}")
                if pts:
                    cur["v_first"], cur["v_last"], cur["v_dts_last"] = pts[0], pts[-1], dts[-1]
                    cur["v_dts_first"] = dts[0]
        if expect_audio:
            a = p["audio"]
            if not a:
                failures.append(f"{tag}: no audio frames")
            else:
                if not expect_video and p["first_packet"] != "audio":
                    failures.append(f"{tag}: first packet is {p['first_packet']}")
                samples = sum(x["samples"] for x in a)
                # Gapless inside the segment.
                t = a[0]["pts"]
                acc = 0
                worst = 0
                for x in a:
                    want = t + acc * TICK / S
                    worst = max(worst, abs(x["pts"] - want))
                    acc += x["samples"]
                if worst > TICK / 1000:
                    failures.append(f"{tag}: audio not gapless inside the segment "
                                    f"(off by {worst / 90:.2f} ms)")
                dur = samples / S
                last = k == len(segs) - 1
                tol = aac_frame * (2 if last else 1) + 5e-4
                if abs(dur - s["extinf"]) > tol:
                    failures.append(f"{tag}: audio duration {samples} samples = {dur:.6f} s, "
                                    f"EXTINF {s['extinf']:.6f} (tolerance {tol * 1000:.1f} ms)")
                cur["a_first"] = a[0]["pts"]
                cur["a_end"] = a[0]["pts"] + samples * TICK / S
                if audio_origin is None:
                    audio_origin = a[0]["pts"]
                else:
                    boundaries.append(audio_total)
                    drift = a[0]["pts"] - (audio_origin + audio_total * TICK / S)
                    if abs(drift) > TICK / 1000:
                        failures.append(f"{tag}: audio starts {drift / 90:.2f} ms off the gapless "
                                        f"timeline (sum of the samples before it)")
                audio_total += samples
                if expect_video and "v_first" in cur:
                    d = abs(cur["a_first"] - cur["v_first"])
                    if d > 1024 * TICK / S + 1:
                        failures.append(f"{tag}: audio starts {d / 90:.2f} ms from video "
                                        f"(more than one AAC frame)")
        if prev is not None:
            if "v_first" in cur and "v_last" in prev and fd:
                gap = cur["v_first"] - (prev["v_last"] + fd)
                if abs(gap) > 1:
                    failures.append(f"boundary {k - 1}|{k}: video PTS jumps by {gap} ticks "
                                    f"({gap / 90:.2f} ms) from the previous segment's last frame + 1")
                if cur["v_dts_first"] <= prev["v_dts_last"]:
                    failures.append(f"boundary {k - 1}|{k}: video DTS goes back")
            if "a_first" in cur and "a_end" in prev:
                gap = cur["a_first"] - prev["a_end"]
                if abs(gap) > TICK / 1000:
                    failures.append(f"boundary {k - 1}|{k}: audio {'gap' if gap > 0 else 'overlap'} "
                                    f"of {abs(gap) / 90:.2f} ms")
        prev = cur

    # The concatenation: decodes without errors, no clicks.
    with tempfile.TemporaryDirectory(prefix="tws-check-") as tmp:
        concat = os.path.join(tmp, "concat.ts")
        with open(concat, "wb") as out:
            for s in segs:
                with open(s["path"], "rb") as f:
                    out.write(f.read())
        r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", concat, "-f", "null", "-"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or r.stderr.strip():
            lines = r.stderr.strip().splitlines()
            failures.append(f"decode: ffmpeg reports {len(lines)} error lines on the concatenation, "
                            f"e.g. {lines[:2]} (rc {r.returncode})")
        if clicks and expect_audio and has_audio and boundaries:
            x = decode_audio(concat)
            ratios = click_ratios(x, boundaries, 44100.0 / S if S != 44100 else 1.0)
            summary["click_ratios"] = [round(q, 2) for q in ratios]
            for k, q in enumerate(ratios):
                if q > CLICK_LIMIT:
                    failures.append(f"boundary {k}|{k + 1}: click (second difference {q:.1f}x its "
                                    f"level elsewhere, limit {CLICK_LIMIT})")
            scale = 44100.0 / S if S != 44100 else 1.0
            joins = tone_joins(x, boundaries, scale)
            # The same measures between the joins: how much the codecs alone wobble the tone.
            inner = [(a + b) / 2 for a, b in zip([0] + boundaries, boundaries + [audio_total])]
            wobble = [j for j in tone_joins(x, inner, scale) if "skipped" not in j]
            summary["tone_joins"] = joins
            summary["tone_wobble"] = wobble
            failures += tone_join_failures(joins, wobble)

    if playback:
        res = gst_play(playlist_path)
        summary["gst"] = res
        if not res.get("ok"):
            failures.append(f"gstreamer: playbin did not reach EOS: {res.get('error')}")
        else:
            for kind_ in (["video"] if expect_video else []) + (["audio"] if expect_audio else []):
                d = res.get(kind_)
                if d is None:
                    failures.append(f"gstreamer: no {kind_} played")
                elif abs(d - total_extinf) > 0.15:
                    failures.append(f"gstreamer: played {d:.3f} s of {kind_}, playlist {total_extinf:.3f} s")
    return failures, summary


# ----------------------------------------------------------------------------------------------
# Clicks

CLICK_LIMIT = 3.0
CLICK_HALF_WINDOW = 0.002  # seconds each side of a boundary


def decode_audio(path, rate=44100):
    """Decodes the first audio stream to mono float32 at `rate` (numpy array)."""
    import numpy as np
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1",
                        "-ar", str(rate), "-f", "f32le", "-"], capture_output=True, timeout=300)
    if r.returncode != 0:
        raise CheckError(f"decoding audio of {path}: {r.stderr.decode(errors='replace').strip()}")
    return np.frombuffer(r.stdout, dtype="<f4").astype(np.float64)


def click_ratios(x, boundaries, scale=1.0, rate=44100):
    """For each boundary (sample index in the stream's own rate, times `scale` to get the index
    in `x`), the max of the second difference |x[n] - 2x[n-1] + x[n-2]| within +-2 ms of it,
    divided by the tone's level elsewhere: the median, over windows of the same length away
    from every boundary and the stream's ends, of the per-window maxima."""
    import numpy as np
    d2 = np.abs(x[2:] - 2 * x[1:-1] + x[:-2])
    d2 = np.concatenate([[0.0, 0.0], d2])  # d2[n] is the second difference ending at x[n]
    half = int(round(CLICK_HALF_WINDOW * rate))
    win = 2 * half
    pos = [int(round(b * scale)) for b in boundaries]
    edge = int(0.02 * rate)
    level_windows = []
    for start in range(edge, len(x) - edge - win, win):
        if any(abs(start + half - p) < 5 * win for p in pos):
            continue
        level_windows.append(d2[start:start + win].max())
    level = float(np.median(level_windows)) if level_windows else float(d2.max())
    level = max(level, 1e-9)
    out = []
    for p in pos:
        lo, hi = max(0, p - half), min(len(d2), p + half + 2)
        out.append(float(d2[lo:hi].max()) / level if hi > lo else float("inf"))
    return out


# ----------------------------------------------------------------------------------------------
# Tone continuity across joins

# A join is sample-exact when the tone after it is the tone before it, continued: its phase
# does not jump (a jump of 0.05 ms is 2 samples at 44.1 kHz, under what the click ratio sees)
# and the first tens of milliseconds after it follow the tone (an encoder started cold at the
# join, without its pre-roll, strays by 0.95-1.5x the tone's amplitude there; primed, 0.03-0.1x
# at 64 kbit/s with M/S stereo, up to 0.4x without it, where each channel gets half the bits).
TONE_JUMP_LIMIT_MS = 0.05
TONE_RESIDUAL_LIMIT = 0.5   # of the tone's amplitude, within TONE_NEAR of a join
TONE_FIT = 0.1              # s: the clean stretch fitted either side
TONE_NEAR = 0.05            # s: the stretch either side of a join held to the fit
TONE_STEADY = 0.25          # a fit whose residual (RMS) exceeds this share of the amplitude:
                            # not a steady tone (a chirp, silence, speech): not checked
TONE_SAME_HZ = 1.0          # the fits either side differ by more: not one tone (a chirp)
# Lossy codecs at low rates wobble a tone's phase by themselves (WMA 64k decoded and coded again
# as AAC 64k: up to 0.07 ms between two fits 0.1 s apart, no join in between). The jump limit
# is TONE_JUMP_LIMIT_MS or this many times the median wobble measured the same way midway
# between the joins, whichever is larger.
TONE_WOBBLE_FACTOR = 3.0


def fit_tone(x, start, stop, freq, rate=44100):
    """Least-squares fit of a*cos + b*sin + c at `freq` (refined: four-parameter sine fit, IEEE
    1057) over x[start:stop]. Returns (freq, amplitude, phase function t -> radians, RMS
    residual / amplitude)."""
    import numpy as np
    n = np.arange(start, stop)
    t = (n - start) / rate
    y = x[start:stop]
    w = 2 * np.pi * freq
    for _ in range(4):
        a = np.stack([np.cos(w * t), np.sin(w * t), np.ones_like(t)], 1)
        (ca, cb, _c), *_ = np.linalg.lstsq(a, y, rcond=None)
        # One Gauss-Newton step on the frequency as a fourth parameter.
        d = t * (-ca * np.sin(w * t) + cb * np.cos(w * t))
        a4 = np.concatenate([a, d[:, None]], 1)
        (ca, cb, _c, dw), *_ = np.linalg.lstsq(a4, y, rcond=None)
        w += dw
    a = np.stack([np.cos(w * t), np.sin(w * t), np.ones_like(t)], 1)
    (ca, cb, c), *_ = np.linalg.lstsq(a, y, rcond=None)
    amp = float(np.hypot(ca, cb))
    resid = float(np.sqrt(np.mean((y - a @ np.array([ca, cb, c])) ** 2))) / max(amp, 1e-12)
    phase0 = float(np.arctan2(-cb, ca))  # y = amp * cos(w t + phase0) + c

    def phase(sample):
        return phase0 + w * (sample - start) / rate

    def value(samples):
        return amp * np.cos(phase0 + w * (samples - start) / rate) + c
    return w / (2 * np.pi), amp, phase, value, resid


def tone_joins(x, boundaries, scale=1.0, rate=44100):
    """Per boundary (sample index in the stream's rate; times `scale` in x): the tone's time
    jump across it (ms: the phase of the fit after it, against the fit before it carried on to
    the join) and the largest deviation from the tone within TONE_NEAR either side (of the
    amplitude), or {"skipped": why} where the audio there is not a steady tone."""
    import numpy as np
    fit_n, near_n, gap = int(TONE_FIT * rate), int(TONE_NEAR * rate), int(0.002 * rate)
    out = []
    freq0 = None
    for b in boundaries:
        p = int(round(b * scale))
        lo0, hi0 = p - near_n - fit_n, p - near_n
        lo1, hi1 = p + near_n, p + near_n + fit_n
        if lo0 < 0 or hi1 > len(x):
            out.append({"skipped": "too near an end"})
            continue
        if freq0 is None:
            freq0 = tone_frequency(x[max(0, lo0 - 8 * fit_n):hi0], rate)
        f0, amp0, ph0, val0, r0 = fit_tone(x, lo0, hi0, freq0, rate)
        if amp0 < 1e-3 or r0 > TONE_STEADY:
            out.append({"skipped": f"no steady tone before it (residual {r0:.2f})"})
            continue
        f1, amp1, ph1, val1, r1 = fit_tone(x, lo1, hi1, f0, rate)
        if abs(f1 - f0) > TONE_SAME_HZ:
            out.append({"skipped": f"the tone changes frequency ({f0:.1f} -> {f1:.1f} Hz)"})
            continue
        w = 2 * np.pi * (f0 + f1) / 2
        dph = (ph1(p) - ph0(p) + np.pi) % (2 * np.pi) - np.pi
        near = np.arange(p - near_n, p + near_n)
        before = np.abs(x[p - near_n:p] - val0(near[:near_n])).max()
        after = np.abs(x[p:p + near_n] - val1(near[near_n:])).max()
        out.append({"jump_ms": round(float(-dph / w * 1000), 4),
                    "residual": round(float(max(before, after)) / amp0, 3),
                    "fit_residual": round(max(r0, r1), 4), "freq": round(f0, 2)})
    return out


def tone_jump_limit(wobble):
    jumps = sorted(abs(j["jump_ms"]) for j in wobble or [] if "jump_ms" in j)
    typical = jumps[len(jumps) // 2] if jumps else 0.0
    return max(TONE_JUMP_LIMIT_MS, TONE_WOBBLE_FACTOR * typical)


def tone_join_failures(joins, wobble=None):
    f = []
    limit = tone_jump_limit(wobble)
    for k, j in enumerate(joins):
        if "skipped" in j:
            continue
        if j["fit_residual"] > TONE_STEADY:
            f.append(f"boundary {k}|{k + 1}: the tone is not clean after the join "
                     f"(fit residual {j['fit_residual']:.2f} of its amplitude)")
        elif abs(j["jump_ms"]) > limit:
            f.append(f"boundary {k}|{k + 1}: the tone jumps {j['jump_ms']:+.3f} ms at the join "
                     f"(limit {limit:.3f} ms)")
        if j["residual"] > TONE_RESIDUAL_LIMIT:
            f.append(f"boundary {k}|{k + 1}: the audio strays from the tone by {j['residual']:.2f}x "
                     f"its amplitude near the join (limit {TONE_RESIDUAL_LIMIT})")
    return f


# ----------------------------------------------------------------------------------------------
# GStreamer playback

def gst_play(playlist, timeout=180):
    """Plays the playlist (a local path, served from a local HTTP server, or an http URL) with
    playbin (hlsdemux); returns {ok, error, video: seconds played, audio: seconds played,
    video_frames}."""
    target = playlist if "://" in playlist else os.path.abspath(playlist)
    cmd = ["/usr/bin/python3", os.path.join(HERE, "gstplay.py"), target]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout} s"}
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "error": f"rc {r.returncode}: {r.stderr.strip()[-500:]}"}
    if r.returncode != 0:
        res["ok"] = False
    return res


# ----------------------------------------------------------------------------------------------
# Master playlists, WebVTT, playback and tone helpers (test_master.py)

_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^",]*)')


def parse_attribute_list(text):
    """An HLS attribute list ('A=1,B="x,y",C=z') -> {name: value}, quoted values without their
    quotes (they may hold commas). Raises CheckError on text that is not an attribute list or
    on a repeated attribute."""
    out = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _ATTR.match(text, pos)
        if not m:
            raise CheckError(f"attribute list {text!r}: cannot parse at {text[pos:pos + 30]!r}")
        name, value = m.group(1), m.group(2)
        if name in out:
            raise CheckError(f"attribute list {text!r}: {name} given twice")
        out[name] = value[1:-1] if value.startswith('"') else value
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise CheckError(f"attribute list {text!r}: expected ',' at {text[pos:pos + 30]!r}")
            pos += 1
    return out


def parse_master_text(text):
    """Parses a master playlist. Returns {header, version, media: [attrs], variants:
    [{attrs, uri}], other_tags: [line]}. A STREAM-INF's URI is the next line that is neither
    empty nor a comment/tag. Raises CheckError on a STREAM-INF without a URI."""
    lines = [l.strip() for l in text.splitlines()]
    out = {"header": lines[0] if lines else "", "version": None, "media": [], "variants": [],
           "other_tags": []}
    pending = None
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith("#EXT-X-VERSION:"):
            out["version"] = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MEDIA:"):
            out["media"].append(parse_attribute_list(line.split(":", 1)[1]))
        elif line.startswith("#EXT-X-STREAM-INF:"):
            if pending is not None:
                raise CheckError(f"master: #EXT-X-STREAM-INF without a URI before {line!r}")
            pending = parse_attribute_list(line.split(":", 1)[1])
        elif line.startswith("#"):
            out["other_tags"].append(line)
        else:
            if pending is None:
                raise CheckError(f"master: URI line {line!r} without #EXT-X-STREAM-INF")
            out["variants"].append({"attrs": pending, "uri": line})
            pending = None
    if pending is not None:
        raise CheckError("master: the last #EXT-X-STREAM-INF has no URI")
    return out


_VTT_TIME = re.compile(r"^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$")


def vtt_time(s):
    """'00:01:02.345' or '01:02.345' -> seconds (float). Raises CheckError otherwise."""
    m = _VTT_TIME.match(s.strip())
    if not m:
        raise CheckError(f"WebVTT timestamp {s.strip()!r} is not [hh:]mm:ss.ttt")
    h, mi, se, ms = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + se + ms / 1000.0


def parse_webvtt(text):
    """Parses a WebVTT file. Returns {first_line, header: [lines before the first blank line],
    timestamp_map: {"MPEGTS": int, "LOCAL": seconds} or None, cues: [{id, start, end, settings,
    text}]}. NOTE/STYLE/REGION blocks are skipped. Raises CheckError on a malformed cue timing."""
    text = text.lstrip("\ufeff")
    blocks, cur = [], []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip() == "":
            if cur:
                blocks.append(cur)
                cur = []
        else:
            cur.append(line)
    if cur:
        blocks.append(cur)
    out = {"first_line": blocks[0][0] if blocks else "", "header": blocks[0] if blocks else [],
           "timestamp_map": None, "cues": []}
    for line in out["header"][1:]:
        if line.startswith("X-TIMESTAMP-MAP="):
            tm = {}
            for part in line.split("=", 1)[1].split(","):
                k, _, v = part.partition(":")
                if k == "MPEGTS":
                    tm["MPEGTS"] = int(v)
                elif k == "LOCAL":
                    tm["LOCAL"] = vtt_time(v)
            out["timestamp_map"] = tm
    for block in blocks[1:]:
        first = block[0]
        if first.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first:
            continue
        if first.startswith("X-TIMESTAMP-MAP="):
            raise CheckError(f"WebVTT: {first!r} comes after the blank line that ends the header")
        cue_id, lines = None, block
        if "-->" not in first:
            cue_id, lines = first, block[1:]
        if not lines or "-->" not in lines[0]:
            raise CheckError(f"WebVTT block without a timing line: {block!r}")
        left, right = lines[0].split("-->", 1)
        right = right.strip().split()
        if not right:
            raise CheckError(f"WebVTT timing line without an end time: {lines[0]!r}")
        out["cues"].append({"id": cue_id, "start": vtt_time(left), "end": vtt_time(right[0]),
                            "settings": " ".join(right[1:]), "text": "\n".join(lines[1:])})
    return out


# profile name (ffprobe) -> profile_idc
H264_PROFILE_IDC = {"Baseline": 66, "Constrained Baseline": 66, "Main": 77, "Extended": 88,
                    "High": 100, "High 10": 110, "High 4:2:2": 122, "High 4:4:4 Predictive": 244}


def avc1_expectation(profile_name, level):
    """What CODECS' avc1.PPCCLL must carry for a stream ffprobe reports as (profile, level):
    (PP, LL) as two-digit upper-case hex, or None for a profile not in the table."""
    idc = H264_PROFILE_IDC.get(profile_name)
    if idc is None or level in (None, "", "N/A"):
        return None
    return f"{idc:02X}", f"{int(level):02X}"


def ffmpeg_play_file(playlist_path, timeout=300):
    """`ffmpeg -v error -i PLAYLIST -map 0 -f null -` on a playlist on disk (its segments read
    through the hls demuxer, file protocol only). Returns (failures, {frames, seconds}): frames
    and seconds as ffmpeg's -progress reports them at the end."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file",
           "-i", playlist_path, "-map", "0", "-f", "null", "-", "-progress", "pipe:1", "-nostats"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [f"ffmpeg on {os.path.basename(playlist_path)} did not finish in {timeout} s"], {}
    info = {"frames": None, "seconds": None}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        if k == "frame" and v.strip().isdigit():
            info["frames"] = int(v)
        elif k == "out_time_us" and v.strip().lstrip("-").isdigit():
            info["seconds"] = int(v) / 1e6
    f = []
    if r.returncode != 0 or r.stderr.strip():
        lines = r.stderr.strip().splitlines()
        f.append(f"ffmpeg -i {os.path.basename(playlist_path)}: exit {r.returncode}, {len(lines)} "
                 f"lines at -v error, e.g. {lines[:3]}")
    return f, info


def tone_frequency(x, rate=44100):
    """The strongest frequency of a signal (Hz), from its spectrum (Hann window, parabolic
    interpolation of the peak)."""
    import numpy as np
    if len(x) < 16:
        raise CheckError(f"tone_frequency: only {len(x)} samples")
    w = np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x * w))
    spec[0] = 0
    k = int(np.argmax(spec))
    if 0 < k < len(spec) - 1:
        a, b, c = np.log(spec[k - 1] + 1e-30), np.log(spec[k] + 1e-30), np.log(spec[k + 1] + 1e-30)
        k = k + 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else k
    return k * rate / len(x)


def zero_crossing_frequency(x, rate=44100):
    """Mean frequency (Hz) of a tone over x from its sign changes: (crossings / 2) / duration,
    counted between the first and last crossing."""
    import numpy as np
    s = np.signbit(x)
    idx = np.nonzero(s[1:] != s[:-1])[0]
    if len(idx) < 3:
        raise CheckError(f"zero_crossing_frequency: {len(idx)} sign changes in {len(x)} samples")
    return (len(idx) - 1) / 2.0 / ((idx[-1] - idx[0]) / rate)


if __name__ == "__main__":
    fails, summ = check_stream(sys.argv[1], expect_video="--no-video" not in sys.argv,
                               expect_audio="--no-audio" not in sys.argv)
    print(json.dumps(summ, indent=1))
    for f in fails:
        print("FAIL", f)
    sys.exit(1 if fails else 0)
