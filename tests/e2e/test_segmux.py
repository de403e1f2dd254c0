#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hlssegmux on its own, as a GStreamer user runs it (gst-launch-1.0, the plugin from the
build): an already-encoded MOV whose keyframes (every 3 s) miss the 10 s boundaries, cut at
the next keyframes and checked by the strict stream checker from a playlist written from the
muxer's own segment messages; the same source with strict=true failing cleanly; and the
README's re-encode recipe on a 1.5 s clip with 0.5 s boundaries."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import gstenv  # noqa: E402
from harness import Runner  # noqa: E402

TOKEN = "0123456789abcdef0123456789abcdef"
GST_TIMEOUT = 120
SEGMENT_MESSAGE = re.compile(
    r"hlssegmux-segment, index=\(int\)(\d+), start=\(guint64\)(\d+), "
    r"duration=\(guint64\)(\d+), bytes=\(guint64\)(\d+), video-frames=\(guint64\)(\d+), "
    r"audio-samples=\(guint64\)(\d+), keyframe=\(boolean\)(\w+)")


def ffmpeg(args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + args, check=True, timeout=300)


def gop_source(workdir, seconds=25):
    """H.264 with an IDR every 3 s exactly (25 fps, no scene cuts) and AAC, in a MOV."""
    p = os.path.join(workdir, "gop3.mov")
    ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "75", "-keyint_min", "75",
            "-sc_threshold", "0", "-bf", "2", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-ac", "2", p])
    return p


def short_source(workdir):
    p = os.path.join(workdir, "short.mp4")
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1.5",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=1.5",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-ac", "2", p])
    return p


def gst_launch(pipeline, cwd):
    """Runs gst-launch-1.0 -m; returns (returncode, segments from the element messages, output)."""
    env = gstenv.launch_env()
    res = subprocess.run(["gst-launch-1.0", "-m"] + pipeline.split(), cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=GST_TIMEOUT)
    out = res.stdout + res.stderr
    segs = [{"index": int(m[0]), "start": int(m[1]), "duration": int(m[2]), "bytes": int(m[3]),
             "video_frames": int(m[4]), "audio_samples": int(m[5]), "keyframe": m[6] == "true"}
            for m in SEGMENT_MESSAGE.findall(out)]
    return res.returncode, segs, out


def write_playlist(outdir, segs):
    """A VOD playlist as a sink writing from the messages would: EXTINF = duration."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-PLAYLIST-TYPE:VOD",
             f"#EXT-X-TARGETDURATION:{max(-(-s['duration'] // 10**9) for s in segs)}"]
    for s in segs:
        lines += [f"#EXTINF:{s['duration'] / 1e9:.6f},", f"x-{TOKEN}-{s['index']}.ts"]
    lines.append("#EXT-X-ENDLIST")
    pl = os.path.join(outdir, "x.m3u8")
    open(pl, "w").write("\n".join(lines) + "\n")
    return pl


def probe_frames(path):
    """(first video packet is a keyframe, video frame count, video start s) of a segment."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                          "packet=flags,pts_time", "-of", "csv=p=0", path],
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    pts = sorted(float(line.split(",")[0]) for line in out)
    return out[0].split(",")[1].startswith("K"), len(out), pts[0]


def mux_gop(src, outdir, strict=False):
    os.makedirs(outdir, exist_ok=True)
    q = "queue max-size-time=0 max-size-buffers=0 max-size-bytes=0"
    return gst_launch(
        f"filesrc location={src} ! qtdemux name=d d.video_0 ! {q} ! h264parse ! m.video "
        f"d.audio_0 ! {q} ! aacparse ! m.audio "
        f"hlssegmux name=m strict={'true' if strict else 'false'} ! "
        f"multifilesink next-file=key-unit-event location=x-{TOKEN}-%d.ts", outdir)


def gop_cut_at_next_keyframe(src, outdir):
    rc, segs, out = mux_gop(src, outdir)
    if rc != 0:
        return [f"gst-launch exited {rc}: {out[-2000:]}"]
    f = []
    starts = [s["start"] / 1e9 for s in segs]
    # Boundaries 10 and 20 s; keyframes every 3 s: the cuts are at 12 and 21 s.
    if starts != [0.0, 12.0, 21.0]:
        f.append(f"segment starts {starts}, expected [0, 12, 21]")
    if [s["index"] for s in segs] != list(range(len(segs))):
        f.append(f"indices {[s['index'] for s in segs]} are not consecutive from 0")
    total = sum(s["duration"] for s in segs)
    if total != 25 * 10**9:
        f.append(f"durations sum to {total} ns, media is 25 s")
    for k, s in enumerate(segs):
        if k + 1 < len(segs) and s["start"] + s["duration"] != segs[k + 1]["start"]:
            f.append(f"segment {k}: start + duration != next start")
        path = os.path.join(outdir, f"x-{TOKEN}-{s['index']}.ts")
        key, frames, start = probe_frames(path)
        if not key:
            f.append(f"segment {k}: first video packet is not a keyframe")
        if frames != s["video_frames"] or abs(frames * 0.04 - s["duration"] / 1e9) > 1e-6:
            f.append(f"segment {k}: {frames} frames in the file, reported {s['video_frames']} "
                     f"frames and {s['duration'] / 1e9} s")
        if abs(start - (10.0 + s["start"] / 1e9)) > 1e-6:
            f.append(f"segment {k}: video starts at {start}, reported {s['start'] / 1e9} s")
    pl = write_playlist(outdir, segs)
    fails, _ = check.check_stream(pl, token=TOKEN, expect_duration=25.0, frame_rate=25)
    return f + fails


def gop_strict_fails(src, outdir):
    rc, segs, out = mux_gop(src, outdir, strict=True)
    f = []
    if rc == 0:
        f.append("strict=true on keyframes off the boundaries succeeded")
    if "segment 1 does not start with a keyframe" not in out:
        f.append(f"no 'segment 1 does not start with a keyframe' error in: {out[-1500:]}")
    if len(segs) != 1 or segs[0]["start"] != 0:
        f.append(f"expected segment 0 written before the error, got {segs}")
    return f


def readme_recipe(src, outdir, x264="", strict=False, want_segments=None):
    """README.md "Using the elements on their own", 0.5 s boundaries on a 1.5 s clip."""
    os.makedirs(outdir, exist_ok=True)
    rc, segs, out = gst_launch(
        f"rangesrc location={src} ! decodebin3 name=d "
        f"d. ! queue ! videoconvert ! x264enc key-int-max=100 {x264} ! h264parse config-interval=-1 "
        f"! hlssegmux name=m boundaries=0,0.5,1,1.5 strict={'true' if strict else 'false'} "
        f"m. ! multifilesink next-file=key-unit-event location=x-{TOKEN}-%d.ts "
        "d. ! queue ! audioconvert ! avenc_aac ! aacparse "
        "! queue max-size-time=0 max-size-buffers=0 max-size-bytes=0 ! m.", outdir)
    if rc != 0:
        return [f"gst-launch exited {rc}: {out[-2000:]}"]
    f = []
    if want_segments is not None and len(segs) != want_segments:
        f.append(f"{len(segs)} segments, expected {want_segments}: {segs}")
    files = sorted(os.listdir(outdir))
    if len(files) != len(segs):
        f.append(f"{len(files)} files for {len(segs)} segments: {files}")
    for k, s in enumerate(segs):
        path = os.path.join(outdir, f"x-{TOKEN}-{s['index']}.ts")
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            f.append(f"segment {k}: empty or missing")
            continue
        if not probe_frames(path)[0]:
            f.append(f"segment {k}: first video packet is not a keyframe")
    cat = os.path.join(outdir, "all.ts")
    with open(cat, "wb") as o:
        for s in segs:
            o.write(open(os.path.join(outdir, f"x-{TOKEN}-{s['index']}.ts"), "rb").read())
    err = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", cat, "-f", "null", "-"],
                         capture_output=True, text=True, timeout=60).stderr
    if err.strip():
        f.append(f"the concatenation does not decode cleanly: {err[:500]}")
    return f


def main():
    run = Runner("hlssegmux with GStreamer users' pipelines")
    work = tempfile.mkdtemp(prefix="tws-segmux-")
    try:
        gop = gop_source(work)
        run.case("3 s GOP MOV, default segment-duration: cut at the next keyframes (12 s, 21 s), "
                 "exact EXTINF, strict checker passes",
                 gop_cut_at_next_keyframe, gop, os.path.join(work, "gop"))
        run.case("3 s GOP MOV, strict=true: a clean error naming segment 1",
                 gop_strict_fails, gop, os.path.join(work, "gop-strict"))
        short = short_source(work)
        run.case("README recipe, 1.5 s clip, 0.5 s boundaries, x264enc defaults: valid segments",
                 readme_recipe, short, os.path.join(work, "readme"))
        run.case("README recipe with tune=zerolatency, strict=true: 3 segments on keyframes",
                 readme_recipe, short, os.path.join(work, "readme-strict"),
                 x264="tune=zerolatency", strict=True, want_segments=3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
