#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storyboard benchmark (issue 25 "Done means" 3: "a bench prints the CPU seconds and bytes of
the storyboard for a 10-minute 1080p source with a keyframe every 2 s (goal: at most 6 CPU s
and 5 MB, against the full decode that ffmpeg's fps=1/2 thumbnail command needs; print
both)").

The source: 10 s of 1920x1080 25 fps H.264 at 6 Mb/s (veryfast, a keyframe every 2 s) + AAC,
copied 60 times by ffmpeg's concat demuxer without re-encoding: 10 minutes, 300 keyframes.
A playlist of it (`tws playlist`, 720p target), then:

  tws        `tws storyboard PLAYLIST_URI` with the media work in the process
             (TWS_IN_PROCESS_MEDIA=1, so that wait4 counts it): CPU seconds, wall time, the
             bytes of the WebVTT and its sprites (160 px thumbnails, 10 x 10 per JPEG)
  ffmpeg     `ffmpeg -i SRC -vf fps=1/2,scale=160:-2,tile=10x10 -q:v 5 thumbs-%d.jpg`, the
             usual thumbnail command (every frame decoded, one kept every 2 s)

--runs N runs each N times (median). Usage: bench/storyboard.py --build build [--runs 3]
"""

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import engine  # noqa: E402  (bench/engine.py)

MINUTES = 10
CPU_GOAL_S = 6.0
BYTES_GOAL = 5 * 1000 * 1000


def ffmpeg(args, timeout=3600):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + args, check=True, timeout=timeout)


def make_source(media_dir):
    path = os.path.join(media_dir, f"storyboard-{MINUTES}min-1080p.mp4")
    if os.path.exists(path):
        return path
    chunk = os.path.join(media_dir, "storyboard-chunk-10s-1080p.mp4")
    if not os.path.exists(chunk):
        print("making a 10 s 1080p chunk (once) ...", flush=True)
        ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=10",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10",
                "-c:v", "libx264", "-preset", "veryfast", "-b:v", "6M", "-maxrate", "6M",
                "-bufsize", "12M", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", chunk + ".part.mp4"])
        os.replace(chunk + ".part.mp4", chunk)
    print(f"making the {MINUTES}-minute source (once) ...", flush=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as lst:
        for _ in range(MINUTES * 6):
            lst.write(f"file '{chunk}'\n")
    ffmpeg(["-f", "concat", "-safe", "0", "-i", lst.name, "-c", "copy", path + ".part.mp4"])
    os.unlink(lst.name)
    os.replace(path + ".part.mp4", path)
    return path


def measure_tws(tws, env, src, work):
    bucket = os.path.join(work, "media")
    os.makedirs(os.path.join(bucket, "in"), exist_ok=True)
    link = os.path.join(bucket, "in", "src.mp4")
    if not os.path.exists(link):
        try:
            os.link(src, link)  # a local bucket serves no symbolic link
        except OSError:
            shutil.copy(src, link)
    config = os.path.join(work, "tws.conf")
    with open(config, "w") as f:
        f.write(f"[bucket media]\npath = {bucket}\n\n[key dev]\nsecret = bench\n")
    request = os.path.join(work, "request.json")
    with open(request, "w") as f:
        json.dump({"SourceURI": "oss://media/in/src.mp4",
                   "Targets": [{"URI": "oss://media/out/v", "Duration": 10,
                                "Video": {"TranscodeVideo": {"Codec": "h264",
                                                             "Resolution": "x720"}}}]}, f)
    subprocess.run([tws, "playlist", "--config", config, request], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    for old in glob.glob(os.path.join(bucket, "out", "*storyboard*")):
        os.unlink(old)
    wall, cpu, rss = engine.run_measured(
        [tws, "storyboard", "--config", config, "oss://media/out/v.m3u8"],
        env=dict(env, TWS_IN_PROCESS_MEDIA="1"))
    files = glob.glob(os.path.join(bucket, "out", "*storyboard*"))
    vtt = [p for p in files if p.endswith(".vtt")]
    cues = open(vtt[0]).read().count(" --> ") if vtt else 0
    return {"wall": wall, "cpu": cpu, "rss": rss, "bytes": sum(os.path.getsize(p) for p in files),
            "files": len(files), "thumbnails": cues}


def measure_ffmpeg(src, work):
    out = os.path.join(work, "ffmpeg")
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "*.jpg")):
        os.unlink(old)
    wall, cpu, rss = engine.run_measured(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-an",
         "-vf", "fps=1/2,scale=160:-2,tile=10x10", "-q:v", "5",
         os.path.join(out, "thumbs-%d.jpg")])
    files = glob.glob(os.path.join(out, "*.jpg"))
    return {"wall": wall, "cpu": cpu, "rss": rss, "bytes": sum(os.path.getsize(p) for p in files),
            "files": len(files), "thumbnails": MINUTES * 30}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tws, env, media_dir = engine.build_setup(args.build)
    env = dict(os.environ, **env)
    src = make_source(media_dir)
    work = tempfile.mkdtemp(prefix="storyboard-", dir=os.path.dirname(media_dir))
    runs = {"tws": [], "ffmpeg": []}
    for i in range(args.runs):
        runs["tws"].append(measure_tws(tws, env, src, work))
        runs["ffmpeg"].append(measure_ffmpeg(src, work))
        print(f"run {i + 1}: tws {runs['tws'][-1]['cpu']:.2f} CPU s, "
              f"ffmpeg {runs['ffmpeg'][-1]['cpu']:.2f} CPU s", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    size = os.path.getsize(src)
    print(f"\n{MINUTES}-minute 1920x1080 source, keyframe every 2 s ({size / 1e6:.0f} MB), "
          f"median of {args.runs} runs")
    print(f"  {'':<34} {'CPU s':>8} {'wall s':>8} {'peak RSS':>9} {'bytes':>11} {'files':>6} {'thumbs':>7}")
    for name, label in (("tws", "tws storyboard (keyframes only)"),
                        ("ffmpeg", "ffmpeg fps=1/2,tile=10x10 (all)")):
        m = {k: statistics.median(r[k] for r in runs[name]) for k in runs[name][0]}
        print(f"  {label:<34} {m['cpu']:8.2f} {m['wall']:8.2f} {m['rss']:7.0f} MiB "
              f"{m['bytes']:11.0f} {m['files']:6.0f} {m['thumbnails']:7.0f}")
    t = {k: statistics.median(r[k] for r in runs["tws"]) for k in ("cpu", "bytes")}
    print(f"\ngoal: tws at most {CPU_GOAL_S:g} CPU s and {BYTES_GOAL / 1e6:g} MB: "
          f"{'met' if t['cpu'] <= CPU_GOAL_S and t['bytes'] <= BYTES_GOAL else 'NOT met'} "
          f"({t['cpu']:.2f} CPU s, {t['bytes'] / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
