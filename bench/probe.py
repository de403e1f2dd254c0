#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Probe benchmark (issue 22: "a 2-hour source is probed in under 2 s from local storage and in
at most 6 ranged GETs from S3").

Two-hour sources, made fast: 10 s of 320x180 25 fps H.264 (keyframe every 2 s) + AAC 64k, copied
720 times by ffmpeg's concat demuxer without re-encoding, then written as MP4 with its index at
the end (as phones and most encoders write it), MP4 with the index first (faststart), MKV and
MPEG-TS. Per container: `tws probe` from local storage (--runs times: median and worst wall
time, the process start included), and from an S3 store on loopback (tests/e2e/lib/flaky_store
.py, which counts requests): GET requests and bytes read by one probe. Goals: local < 2 s,
S3 <= 6 GETs.

Usage: bench/probe.py --build build [--runs 5] [--json FILE]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e", "lib"))

import engine  # noqa: E402  (bench/engine.py)
import tws as twslib  # noqa: E402
from flaky_store import FlakyStore  # noqa: E402

HOURS = 2
LOCAL_GOAL_S = 2.0
S3_GOAL_GETS = 6
CONTAINERS = {"mp4 (index at the end)": ("mp4", []), "mp4 (faststart)": ("mp4", ["-movflags", "+faststart"]),
              "mkv": ("mkv", []), "mpeg-ts": ("ts", [])}


def ffmpeg(args, timeout=1800):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + args, check=True, timeout=timeout)


def make_sources(media_dir):
    os.makedirs(media_dir, exist_ok=True)
    chunk = os.path.join(media_dir, "probe-chunk-10s.mp4")
    if not os.path.exists(chunk):
        ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=10",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10",
                "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50",
                "-sc_threshold", "0", "-crf", "35", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "64k", chunk])
    listing = os.path.join(media_dir, "probe-concat.txt")
    with open(listing, "w") as f:
        for _ in range(HOURS * 360):
            f.write(f"file '{chunk}'\n")
    out = {}
    for name, (ext, flags) in CONTAINERS.items():
        path = os.path.join(media_dir, f"probe-{HOURS}h-{'-'.join([ext] + [x.strip('+-') for x in flags])}.{ext}")
        if not os.path.exists(path):
            ffmpeg(["-f", "concat", "-safe", "0", "-i", listing, "-c", "copy"] + flags + [path])
        out[name] = path
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    exe, build_env, media_dir = engine.build_setup(args.build)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    sources = make_sources(media_dir)
    store = FlakyStore()
    env = twslib.Env("bench-probe")
    with open(env.config, "a") as f:
        f.write(f"\n[bucket remote]\nendpoint = {store.endpoint}\nregion = us-east-1\n"
                "name = remote\naccess-key-id = AK\nsecret-access-key = SK\n")
    rows = []
    try:
        for name, path in sources.items():
            key = "in/" + os.path.basename(path)
            uri = env.put(path, key)
            times = []
            for _ in range(args.runs):
                t = time.monotonic()
                info = env.probe(uri)
                times.append(time.monotonic() - t)
            store.put("remote", key, open(path, "rb").read())
            store.requests.clear()
            store.bytes_sent = 0
            remote = env.probe(f"s3://remote/{key}")
            gets = store.requests.get("GET", 0)
            heads = store.requests.get("HEAD", 0)
            same = remote.get("Duration") == info.get("Duration")
            rows.append({"source": name, "size_mb": round(os.path.getsize(path) / 1e6, 1),
                         "duration_s": info.get("Duration"),
                         "local_median_s": round(statistics.median(times), 3),
                         "local_worst_s": round(max(times), 3),
                         "s3_gets": gets, "s3_heads": heads,
                         "s3_mb_read": round(store.bytes_sent / 1e6, 2),
                         "same_answer": same})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        store.stop()
        env.close()
    print(f"\n{HOURS}-hour sources, tws probe ({args.runs} runs local; one from S3 on loopback)")
    print(f"{'source':26} {'MB':>6} {'local p50 s':>11} {'worst s':>8} {'S3 GETs':>8} {'S3 MB read':>10}")
    for r in rows:
        print(f"{r['source']:26} {r['size_mb']:6} {r['local_median_s']:11} {r['local_worst_s']:8} "
              f"{r['s3_gets']:8} {r['s3_mb_read']:10}")
    ok = all(r["local_worst_s"] < LOCAL_GOAL_S and r["s3_gets"] <= S3_GOAL_GETS and r["same_answer"]
             for r in rows)
    print(f"goal (local < {LOCAL_GOAL_S} s, S3 <= {S3_GOAL_GETS} GETs, same answer): "
          f"{'met' if ok else 'NOT met'}")
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
