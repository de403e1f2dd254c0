#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end engine test (issue 2 "Done means" 2, 3, 5, 6), with the `tws` binary ($TWS):

For every source format (lib/media.py): `tws playlist`, then every segment made by its own
`tws segment` process in shuffled order, then the strict check (lib/check.py) of the stream;
the output files are exactly the playlist and its segments; then every file but the source and
the playlist is deleted and the segments are made again (another order): same playlist, same
timing; one segment made again over itself: same timing; and the whole run K..N in one
`tws segment` process: same timing as one at a time.
Rotated sources come out upright; non-square pixels come out square with the display aspect
kept; ScaleType fit/fill/crop/stretch give the sizes in API.md. Bad sources make `tws playlist`
exit 1 with one line on stderr and write nothing.

TWS_E2E_ONLY=mkv,scale (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the
temporary buckets.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
from harness import Runner  # noqa: E402
from tws import Env, TwsError  # noqa: E402

VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x240"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}
OUT_HEIGHT = 240

# First PTS of segment 0 per format: media time 0 + the one fixed offset, whatever the source's
# own start timestamp (DESIGN.md: rebased to 0).
START_PTS = {}

# Output frame rate per source (the target has no FrameRate: the source's).
FRAME_RATE = {"mov": 24.0, "ntsc": 30000 / 1001}


def source_info(path):
    j = check._ffprobe_json(["-show_format", "-show_streams", path])
    v = next((s for s in j["streams"] if s["codec_type"] == "video"), None)
    a = next((s for s in j["streams"] if s["codec_type"] == "audio"), None)
    return {"duration": float(j["format"]["duration"]), "video": v, "audio": a}


def display_rotation(v):
    """Rotation in degrees of a video stream's display matrix (ffprobe side data), 0 without."""
    rot = 0
    for sd in v.get("side_data_list", []):
        if "rotation" in sd:
            rot = int(float(sd["rotation"]))
    return rot


def display_aspect(v):
    """Display aspect ratio of a source video stream (SAR and rotation applied)."""
    w, h = int(v["width"]), int(v["height"])
    sar = v.get("sample_aspect_ratio", "1:1")
    num, den = (int(x) for x in sar.split(":")) if sar not in ("0:1", "N/A", None) else (1, 1)
    dar = w * num / (h * den)
    return 1 / dar if display_rotation(v) % 180 else dar


def output_streams(seg_path):
    j = check._ffprobe_json(["-show_streams", seg_path])
    v = next((s for s in j["streams"] if s["codec_type"] == "video"), None)
    a = next((s for s in j["streams"] if s["codec_type"] == "audio"), None)
    return v, a


def square(v):
    return v.get("sample_aspect_ratio") in (None, "1:1", "0:1", "N/A")


class Stream:
    """One target made from one source in one Env: request, playlist, segments."""

    def __init__(self, env, src_path, name, video=True, audio=True, extra_video=None,
                 segment_length=5, initial=(2, 2)):
        self.env = env
        self.name = name
        ext = os.path.splitext(src_path)[1]
        self.source_key = f"in/{name}{ext}"
        self.source_uri = env.put(src_path, self.source_key)
        self.prefix = f"oss://media/out/{name}/{name}"
        self.playlist_uri = self.prefix + ".m3u8"
        target = {"URI": self.prefix, "Duration": segment_length, "InitialSegments": list(initial),
                  "InitialTranscode": 0}
        if video:
            target["Video"] = {"TranscodeVideo": dict(VIDEO["TranscodeVideo"], **(extra_video or {}))}
        if audio:
            target["Audio"] = AUDIO
        self.request = {"SourceURI": self.source_uri, "Targets": [target]}
        self.video, self.audio = video, audio
        self.response = None

    @property
    def playlist_path(self):
        return self.env.path(self.playlist_uri)

    @property
    def out_dir(self):
        return os.path.dirname(self.playlist_path)

    def make_playlist(self):
        self.response = self.env.playlist(self.request)
        return self.response

    def token(self):
        lists = (self.response or {}).get("VideoPlaylist" if self.video else "AudioPlaylist") or []
        if not lists and self.response:
            lists = self.response.get("AudioPlaylist") or self.response.get("VideoPlaylist") or []
        return lists[0].get("Token") if lists else None

    def segment_paths(self):
        return [s["path"] for s in check.parse_playlist(self.playlist_path)["segments"]]

    def make_segments(self, order):
        for k in order:
            self.env.segment(self.playlist_uri, k)


def check_response(st, src):
    f = []
    r = st.response
    if not isinstance(r, dict):
        return [f"response is not a JSON object: {r!r}"]
    for field in ("RequestId", "Duration"):
        if field not in r:
            f.append(f"response: no {field}")
    if "Duration" in r and abs(float(r["Duration"]) - src["duration"]) > 0.3:
        f.append(f"response: Duration {r['Duration']} but the source lasts {src['duration']:.3f} s")
    lists = (r.get("VideoPlaylist") or []) + (r.get("AudioPlaylist") or [])
    if not any(p.get("URI") == st.playlist_uri for p in lists):
        f.append(f"response: no playlist entry with URI {st.playlist_uri}: {lists}")
    tok = st.token()
    if tok is not None and not re.fullmatch(r"[0-9a-f]{32}", tok):
        f.append(f"response: Token {tok!r} is not 32 hex digits")
    if st.video and r.get("VideoPlaylist"):
        vp = r["VideoPlaylist"][0]
        res = vp.get("Resolution", "")
        if not re.fullmatch(r"\d+x\d+", res):
            f.append(f"response: VideoPlaylist Resolution {res!r}")
    return f


def files_of_stream(st):
    """Relative names in the output folder: exactly the playlist and its segments."""
    want = {os.path.basename(st.playlist_path)} | {os.path.basename(p) for p in st.segment_paths()}
    have = set(os.listdir(st.out_dir))
    f = []
    if have != want:
        extra, missing = sorted(have - want), sorted(want - have)
        f.append(f"output folder: extra files {extra[:5]}, missing {missing[:5]}")
    return f


def delete_all_but_source_and_playlist(env, st):
    keep = {os.path.abspath(env.path(st.source_key)), os.path.abspath(st.playlist_path)}
    for root, _dirs, files in os.walk(env.bucket):
        for fn in files:
            p = os.path.abspath(os.path.join(root, fn))
            if p not in keep:
                os.remove(p)


def format_case(name):
    src_path = media.source(name)
    src = source_info(src_path)
    kind = media.kind(name)
    f = []
    with Env(name) as env:
        st = Stream(env, src_path, name, video=kind != "audio", audio=kind != "video")
        listing0 = env.listing()
        st.make_playlist()
        f += check_response(st, src)
        if not os.path.exists(st.playlist_path):
            return f + [f"no playlist at {st.playlist_path}"]
        segs = st.segment_paths()
        n = len(segs)
        made_early = [os.path.basename(p) for p in segs if os.path.exists(p)]
        if made_early:
            f.append(f"tws playlist (InitialTranscode 0) already wrote segments {made_early}")
        added = sorted(set(x[0] for x in env.listing()) - set(x[0] for x in listing0))
        if added != [os.path.relpath(st.playlist_path, env.bucket)]:
            f.append(f"tws playlist wrote {added}, expected only the playlist")
        playlist_bytes = open(st.playlist_path, "rb").read()

        # Every segment by its own process, shuffled.
        order = list(range(n))
        random.Random(name).shuffle(order)
        st.make_segments(order)
        f += files_of_stream(st)
        infos = {}
        fails, summary = check.check_stream(
            st.playlist_path, expect_video=st.video, expect_audio=st.audio, token=st.token(),
            expect_duration=src["duration"], frame_rate=FRAME_RATE.get(name, 25.0) if st.video else None,
            infos=infos)
        f += fails
        first = infos.get(0, {}).get("video" if st.video else "audio") or []
        if first:
            START_PTS[name] = ("video" if st.video else "audio", min(p["pts"] for p in first))
        print(f"     {name}: {n} segments, EXTINF {summary.get('extinf')}, clicks "
              f"{summary.get('click_ratios')}, gst {summary.get('gst', {}).get('demuxer')}", flush=True)

        # Geometry of the output.
        v, a = output_streams(segs[0])
        if st.video and v:
            f += check_geometry(name, src, v)
        if st.audio and a:
            if a.get("codec_name") != "aac" or int(a.get("sample_rate", 0)) != 44100:
                f.append(f"audio: {a.get('codec_name')} at {a.get('sample_rate')} Hz (want aac 44100)")
            want_ch = min(int(src["audio"]["channels"]), 2)
            if int(a.get("channels", 0)) != want_ch:
                f.append(f"audio: {a.get('channels')} channels, want {want_ch}")
        if st.video and v and v.get("codec_name") != "h264":
            f.append(f"video: codec {v.get('codec_name')}, want h264")

        # Keep the first run's segments, then regenerate from the source and the playlist alone.
        keep = tempfile.mkdtemp(prefix=f"tws-{name}-first-")
        try:
            for p in segs:
                shutil.copy(p, keep)
            first = [os.path.join(keep, os.path.basename(p)) for p in segs]

            delete_all_but_source_and_playlist(env, st)
            st.make_segments(list(reversed(order)))
            if open(st.playlist_path, "rb").read() != playlist_bytes:
                f.append("regenerate: tws segment changed the playlist")
            for k, p in enumerate(segs):
                f += check.compare_timing(first[k], p, f"regenerate segment {k}: ")

            # One segment made again over the stored one.
            k = n // 2
            env.segment(st.playlist_uri, k)
            f += check.compare_timing(first[k], segs[k], f"segment {k} made twice: ")

            # The whole run in one process gives the same segments.
            if n > 1:
                for p in segs:
                    os.remove(p)
                env.segment(st.playlist_uri, 0, n - 1)
                f += files_of_stream(st)
                for k, p in enumerate(segs):
                    if os.path.exists(p):
                        f += check.compare_timing(first[k], p, f"run 0..{n - 1}, segment {k}: ")
        finally:
            shutil.rmtree(keep, ignore_errors=True)
    return f


def gop_parallel_case():
    """A segment made as GOPs encoded in parallel (TWS_CORES=8: each 6 s segment in 3 chunks of
    2 s, pipelines/segment_split.h) passes the strict check, has a keyframe at each chunk
    start, and the frames and audio timestamps of the same segment made in one pass (2 cores:
    one chunk)."""
    f = []
    with Env("gop") as env:
        st = Stream(env, media.source("mp4"), "gop", segment_length=6, initial=())
        st.make_playlist()
        segs = st.segment_paths()
        order = list(range(len(segs)))
        random.Random("gop").shuffle(order)
        os.environ["TWS_CORES"] = "8"
        try:
            st.make_segments(order)
        finally:
            del os.environ["TWS_CORES"]
        fails, _summary = check.check_stream(
            st.playlist_path, expect_video=True, expect_audio=True, token=st.token(),
            expect_duration=source_info(media.source("mp4"))["duration"], frame_rate=25.0)
        f += fails
        split = [check.probe_segment(p) for p in segs]
        for p in segs:
            os.remove(p)
        os.environ["TWS_CORES"] = "2"
        try:
            st.make_segments(order)
        finally:
            del os.environ["TWS_CORES"]
        for k, p in enumerate(segs):
            one = check.probe_segment(p)
            keys_split = [v["pts"] for v in split[k]["video"] if v["key"]]
            keys_one = [v["pts"] for v in one["video"] if v["key"]]
            if len(keys_split) != 3 or len(keys_one) != 1:
                f.append(f"segment {k}: keyframes at {keys_split} made in chunks, {keys_one} in one "
                         f"pass (want 3 and 1)")
            # The frames' order in the stream differs where a GOP closes early (B-frames), so
            # the video compares as presentation times.
            for part, fields in (("video", ("pts",)), ("audio", ("pts", "samples"))):
                a = sorted(tuple(x[fl] for fl in fields) for x in split[k][part])
                b = sorted(tuple(x[fl] for fl in fields) for x in one[part])
                if a != b:
                    first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), None)
                    f.append(f"segment {k}: {part} timing differs from one pass ({len(a)} vs {len(b)}, "
                             f"first at {first})")
    return f


def fixed_offset_case():
    if len(START_PTS) < 2:
        return [f"only {len(START_PTS)} streams to compare (did the format cases fail early?)"]
    f = []
    for kind in ("video", "audio"):
        vals = {n: pts for n, (k, pts) in START_PTS.items() if k == kind}
        if len(set(vals.values())) > 1:
            f.append(f"{kind}: segment 0 starts at different PTS: {vals}")
    v = [pts for k, pts in START_PTS.values() if k == "video"]
    a = [pts for k, pts in START_PTS.values() if k == "audio"]
    if v and a and abs(v[0] - a[0]) > 1024 * 90000 / 44100:
        f.append(f"video-led streams start at PTS {v[0]}, audio-only ones at {a[0]}")
    return f


def check_geometry(name, src, v):
    f = []
    w, h = int(v["width"]), int(v["height"])
    if h != OUT_HEIGHT:
        f.append(f"video: height {h}, want {OUT_HEIGHT} (Resolution x{OUT_HEIGHT})")
    if w % 2 or h % 2:
        f.append(f"video: odd size {w}x{h}")
    if not square(v):
        f.append(f"video: sample aspect ratio {v.get('sample_aspect_ratio')}, want square pixels")
    dar = display_aspect(src["video"])
    if abs(w / h - dar) / dar > 0.01 + 2 / w:
        f.append(f"video: {w}x{h} (aspect {w / h:.4f}) does not keep the display aspect {dar:.4f}")
    if name == "rotated" and not h > w:
        f.append(f"video: rotated source came out {w}x{h}, not upright (height > width)")
    if v.get("pix_fmt") != "yuv420p":
        f.append(f"video: pixel format {v.get('pix_fmt')}, want yuv420p (8-bit 4:2:0)")
    if v.get("field_order") not in (None, "unknown", "progressive"):
        f.append(f"video: field order {v.get('field_order')}, want progressive (deinterlaced)")
    if name == "nonsquare" and abs(w / h - dar) / dar > 0.01:
        f.append(f"video: non-square source: {w}x{h} aspect {w / h:.4f}, display aspect {dar:.4f}")
    return f


# ---------------------------------------------------------------------------------------------
# ScaleType

SCALE_SIZES = {"stretch": (160, 160), "fit": (160, 120), "fill": (160, 160), "crop": (160, 160)}


def luma_plane(path, w, h, autorotate=False):
    """Luma of the first decoded frame, h rows of w. Without autorotate, the picture as coded;
    with it, as ffmpeg shows it (turned by the file's display matrix)."""
    import numpy as np
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error"] + ([] if autorotate else ["-noautorotate"]) +
                       ["-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                       capture_output=True, timeout=120)
    y = np.frombuffer(r.stdout, dtype=np.uint8)
    if y.size != w * h:
        raise RuntimeError(f"decoded {y.size} luma samples, want {w * h}")
    return y.reshape(h, w).astype(float)


def luma_rows(seg_path, w, h):
    """Mean luma of each row of the first decoded frame."""
    return luma_plane(seg_path, w, h).mean(axis=1)


SIDES = ["top", "right", "bottom", "left"]  # clockwise


def white_side(path, w, h, autorotate=False):
    """Which half of the first frame is white: 'top', 'bottom', 'left' or 'right' (the one
    whose mean luma exceeds the opposite half's by the most)."""
    y = luma_plane(path, w, h, autorotate)
    halves = {"top": y[: h // 2].mean(), "bottom": y[h // 2:].mean(),
              "left": y[:, : w // 2].mean(), "right": y[:, w // 2:].mean()}
    opposite = {"top": "bottom", "bottom": "top", "left": "right", "right": "left"}
    return max(halves, key=lambda s: halves[s] - halves[opposite[s]])


def scale_case(scale_type):
    f = []
    with Env(f"scale-{scale_type}") as env:
        st = Stream(env, media.source("scale43"), f"scale-{scale_type}", audio=False,
                    extra_video={"Resolution": "160x160", "ScaleType": scale_type})
        st.make_playlist()
        st.make_segments([0])
        seg = st.segment_paths()[0]
        v, _ = output_streams(seg)
        want = SCALE_SIZES[scale_type]
        got = (int(v["width"]), int(v["height"]))
        if got != want:
            f.append(f"{scale_type}: {got[0]}x{got[1]}, want {want[0]}x{want[1]}")
        if not square(v):
            f.append(f"{scale_type}: sample aspect ratio {v.get('sample_aspect_ratio')}")
        if got == want and want == (160, 160):
            rows = luma_rows(seg, *want)
            bars = rows[:16].max() < 24 and rows[-16:].max() < 24  # black padding top and bottom
            if scale_type == "fill" and not bars:
                f.append(f"fill: no black bars above/below the picture (row luma {rows[:3]} ...)")
            if scale_type != "fill" and bars:
                f.append(f"{scale_type}: black bars where the picture should fill the frame")
    return f


def rotation_case():
    """Rotated source with a square box: the output is the upright picture fitted inside."""
    f = []
    with Env("rotation-fit") as env:
        st = Stream(env, media.source("rotated"), "rotfit", audio=False,
                    extra_video={"Resolution": "240x240", "ScaleType": "fit"})
        st.make_playlist()
        st.make_segments([0])
        v, _ = output_streams(st.segment_paths()[0])
        got = (int(v["width"]), int(v["height"]))
        if got != (180, 240):
            f.append(f"rotated 320x240 (rotate 90), fit into 240x240: {got}, want (180, 240)")
        vp = (st.response.get("VideoPlaylist") or [{}])[0]
        if vp.get("Resolution") not in (None, "180x240"):
            f.append(f"response Resolution {vp.get('Resolution')}, want 180x240")
    return f


def orientation_case(source, rotation, want_size):
    """The picture itself is turned, not only the frame size: the source's white half lands
    where ffmpeg shows it (the oracle for the orientation tag: upright as players display it),
    then turned clockwise by the target's Rotation."""
    f = []
    src = media.source(source)
    sv = next(s for s in check._ffprobe_json(["-show_streams", src])["streams"]
              if s["codec_type"] == "video")
    shown = (int(sv["width"]), int(sv["height"]))
    if display_rotation(sv) % 180:
        shown = shown[::-1]
    displayed = white_side(src, *shown, autorotate=True)
    want_side = SIDES[(SIDES.index(displayed) + rotation // 90) % 4]
    with Env("orient") as env:
        # The height asked for is the expected one: the width follows from the turned aspect.
        extra = {"Resolution": f"x{want_size[1]}", **({"Rotation": rotation} if rotation else {})}
        st = Stream(env, src, f"orient{rotation}", audio=False, extra_video=extra,
                    segment_length=5, initial=())
        st.make_playlist()
        st.make_segments([0])
        seg = st.segment_paths()[0]
        v, _ = output_streams(seg)
        got = (int(v["width"]), int(v["height"]))
        if got != want_size:
            f.append(f"size {got}, want {want_size}")
        elif (side := white_side(seg, *got)) != want_side:
            f.append(f"the white half came out at the {side}, want {want_side} (ffmpeg shows the "
                     f"source with it at the {displayed}; Rotation {rotation})")
    return f


# ---------------------------------------------------------------------------------------------
# Bad sources and bad requests

def bad_source_case(fname, data_path):
    f = []
    with Env("bad") as env:
        uri = env.put(data_path, f"in/{fname}")
        before = env.listing()
        req = {"SourceURI": uri, "Targets": [{"URI": "oss://media/out/bad/bad", "Duration": 5,
                                              "Video": VIDEO, "Audio": AUDIO}]}
        r = env.playlist_raw(req, timeout=120)
        if r.rc != 1:
            f.append(f"exit status {r.rc}, want 1 (stdout {r.stdout[:200]!r})")
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        if len(lines) != 1:
            f.append(f"stderr has {len(lines)} lines, want exactly one: {lines[:6]}")
        elif len(lines[0]) < 10:
            f.append(f"stderr line says too little: {lines[0]!r}")
        after = env.listing()
        if after != before:
            f.append(f"the bucket changed: {sorted(set(after) ^ set(before))[:5]}")
    return f


def bad_segment_index_case():
    f = []
    with Env("badk") as env:
        st = Stream(env, media.source("short"), "short")
        st.make_playlist()
        n = len(st.segment_paths())
        before = env.listing()
        r = env.segment_raw(st.playlist_uri, n)
        if r.rc not in (1, 2):
            f.append(f"`tws segment` K = {n} (past the end) exited {r.rc}, want 1 or 2")
        if len([l for l in r.stderr.splitlines() if l.strip()]) != 1:
            f.append(f"stderr: {r.stderr.strip()[:300]!r}, want one line")
        if env.listing() != before:
            f.append("the bucket changed")
    return f


def main():
    run = Runner("engine formats")
    for name in media.FORMATS:
        run.case(f"format {name}: {media.describe(name)}", format_case, name)
    if run.only is None:
        run.case("fixed offset: segment 0 of every stream starts at the same PTS (source start "
                 "rebased to 0)", fixed_offset_case)
    run.case("GOPs in parallel: a segment made in 3 chunks joins like one made in one pass",
             gop_parallel_case)
    run.case("rotation: upright, fitted into a square box", rotation_case)
    run.case("orientation: no tag, no Rotation: the picture as coded", orientation_case,
             "orient", 0, (320, 240))
    run.case("orientation: a source tagged rotate 90 comes out as players show it",
             orientation_case, "orient_rot90", 0, (240, 320))
    for rotation, size in ((90, (240, 320)), (180, (320, 240)), (270, (240, 320))):
        run.case(f"orientation: target Rotation {rotation} turns the picture clockwise",
                 orientation_case, "orient", rotation, size)
    run.case("orientation: the tag and a target Rotation 90 add up", orientation_case,
             "orient_rot90", 90, (320, 240))
    for scale_type in ("stretch", "fit", "fill", "crop"):
        run.case(f"scale {scale_type}: 320x240 into 160x160", scale_case, scale_type)
    work = tempfile.mkdtemp(prefix="tws-bad-sources-")
    try:
        for fname, p in media.bad_sources(work).items():
            run.case(f"bad source {fname}: exit 1, one line, nothing written", bad_source_case, fname, p)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run.case("segment index past the end: clear error, nothing written", bad_segment_index_case)
    run.finish()


if __name__ == "__main__":
    main()
