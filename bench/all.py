#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every issue-6 figure in one run on this machine, then one table (the README records it):

  Chromium start-up and seek to 60 %, cold vs warm, with the player page's hls.js configuration
  and with hls.js defaults                                          (bench/startup.py)
  a cold 10 s segment over HTTP vs the ffmpeg command line for the same segment and preset:
  first byte and last byte                                          (bench/serve.py)
  cached segments: wrk against tws and nginx on the same files     (bench/cache.py)
  CPU seconds: one viewer watching 60 s of a 10 min video at one rendition vs the whole
  3-rendition ladder transcoded up front                           (bench/cost.py)

Takes about 15 minutes on 2 cores (the sources are made once and kept in BUILD/bench/media).

Usage: bench/all.py --build build [--repeat N] [--json FILE]
"""

import argparse
import datetime
import json
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import startup as browser_bench  # noqa: E402  (bench/startup.py)
import cache  # noqa: E402
import cost  # noqa: E402
import engine  # noqa: E402

serve_bench = engine.load_module("bench_serve", os.path.join(HERE, "serve.py"))


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each browser measurement (median)")
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args()

    figures = {"date": datetime.date.today().isoformat(),
               "machine": f"{os.cpu_count()} cores, {cpu_name()}"}
    print(f"# {figures['date']}, {figures['machine']}", flush=True)

    print("\n## Chromium start-up and seek (bench/startup.py)", flush=True)
    figures["browser"] = browser_bench.run(args.build, args.repeat)
    browser_bench.print_table(figures["browser"])

    print("\n## a cold 10 s segment vs the ffmpeg command line (bench/serve.py)", flush=True)
    exe, build_env, media_dir = engine.build_setup(args.build)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    src = os.path.join(media_dir, f"bench-1080p25-{browser_bench.DURATION}s-keys0.mp4")
    engine.make_source(src, 0, browser_bench.DURATION)
    figures["segment"] = serve_bench.measure(argparse.Namespace(repeat=args.repeat, keep=False), src)

    print("\n## cached segments, wrk (bench/cache.py)", flush=True)
    figures["cache"] = cache.run(args.build)
    cache.print_table(figures["cache"])

    print("\n## CPU seconds: watching vs the ladder up front (bench/cost.py)", flush=True)
    figures["cost"] = cost.run(args.build)
    cost.print_table(figures["cost"])

    b, seg, c, k = figures["browser"], figures["segment"], figures["cache"], figures["cost"]
    s3 = seg.get(3) or seg.get("3")
    rows = [
        ("Chromium start-up, cold / warm (page config)", b["tws"]["startup_ms"], "<= 1.5"),
        ("Chromium seek to 60 %, cold / warm (page config)", b["tws"]["seek_ms"], "<= 4"),
    ]
    if "defaults" in b:
        rows += [("Chromium start-up, cold / warm (hls.js defaults)", b["defaults"]["startup_ms"], ""),
                 ("Chromium seek to 60 %, cold / warm (hls.js defaults)", b["defaults"]["seek_ms"], "")]
    print(f"\n# summary ({figures['date']}, {figures['machine']})")
    print(f"| figure | measured | ratio | goal |\n|---|---|---|---|")
    for label, m, goal in rows:
        print(f"| {label} | {m['cold']:.0f} ms / {m['warm']:.0f} ms | {m['ratio']:.2f} | {goal} |")
    print(f"| cold 10 s segment (30-40 s), last byte / ffmpeg CLI | {s3['cold']['total_s']:.2f} s / "
          f"{s3['ffmpeg_s']:.2f} s | {s3['total_ratio']:.2f} | <= 1.0 |")
    print(f"| cold 10 s segment (30-40 s), first byte / ffmpeg CLI | {s3['cold']['first_s']:.3f} s / "
          f"{s3['ffmpeg_s']:.2f} s | {s3['first_ratio']:.2f} | <= 0.25 |")
    print(f"| cached segments, tws / nginx (wrk, 32 connections) | {c['tws']['rps']:.0f} / "
          f"{c['nginx']['rps']:.0f} req/s | {c['ratio']:.2f} | >= 0.5 |")
    print(f"| CPU, one viewer 60 s at {k['watch']['rendition']} / 3-rendition ladder up front | "
          f"{k['watch']['cpu_s']:.0f} s / {k['up_front']['cpu_s']:.0f} s | {k['ratio']:.2f} | |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1, default=str)


if __name__ == "__main__":
    main()
