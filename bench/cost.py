#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Cost benchmark (issue 6): CPU seconds tws spends when one viewer watches 60 s of a 10 min
video at one rendition, against transcoding the video's whole 3-rendition ladder up front.

Source: 854x480 25 fps testsrc2 + a tone, 600 s, H.264 with keyframes every 10 s. Ladder: 480p,
360p, 240p (x264 veryfast CRF 23, AAC 128k), [2, 2, 2] + 10 s segments, one master.
 - Watch: `tws serve` (nothing transcoded, InitialTranscode 0, TranscodeAhead as by default:
   120 s ahead of the viewer) and Debian's Chromium playing the master on the player page
   for 60 s; the tws process's CPU time (utime + stime from /proc) from the page's opening to
   60 s after start-up, plus the read-ahead it still finishes after the viewer leaves.
 - Up front: `tws segment MASTER-rendition 0 N-1` for each rendition, the CPU time of the
   three processes (rusage), i.e. what transcoding everything before anyone watches costs.
A benchmark, not a test: it prints figures.

Usage: bench/cost.py --build build [--watch 60] [--json FILE]
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e", "lib"))

import browser  # noqa: E402
import engine  # noqa: E402
import tws as twslib  # noqa: E402

serve = engine.e2e_serve()  # tests/e2e/lib/serve.py

DURATION = 600
LADDER = [("480p", "x480"), ("360p", "x360"), ("240p", "x240")]


def request(source_uri):
    return {"SourceURI": source_uri, "MasterURI": "oss://media/out/master.m3u8", "Targets": [
        {"URI": f"oss://media/out/{name}/{name}", "Duration": 10, "InitialSegments": [2, 2, 2],
         "InitialTranscode": 0,
         "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": engine.CRF, "Resolution": res}},
         "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 128000}}}
        for name, res in LADDER]}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watch(tws, src, seconds):
    """One viewer in Chromium for `seconds` after start-up; tws's CPU seconds and segments made."""
    env = twslib.Env("bench-cost-watch")
    serve.write_config(env, workers=2, preset=engine.PRESET)
    source_uri = env.put(src, "in/src.mp4")
    server = serve.Server(env).start()
    try:
        server.create_playlist(request(source_uri))
        url = server.sign("oss://media/out/master.m3u8")
        page = browser.player_url(browser.cross_origin(server.base), url, autoplay="1")
        cpu0 = cpu_seconds(server.proc.pid)
        with browser.Browser(idle=True) as chromium:
            r = chromium.steps([{"do": "open", "url": page}, {"do": "startup", "timeoutMs": 120000},
                                {"do": "play", "seconds": seconds}])
            if not r[-1].get("ok"):
                raise RuntimeError(f"viewer: {r[-1].get('error')}")
            watched = r[-1]["stats"]["currentTime"]
            level = r[-1]["stats"]["levels"][r[-1]["stats"]["level"]]
            chromium.step({"do": "close"})
        # What the viewer set going (read-ahead) is finished too: it is part of the cost.
        serve.wait_for(lambda: (server.metric("tws_queue_depth") or 0) == 0, 600, 1.0)
        time.sleep(2)
        last = -1
        while True:  # until no segment is being made
            made = server.metric("tws_segments_transcoded_total") or 0
            if made == last:
                break
            last = made
            time.sleep(3)
        cpu = cpu_seconds(server.proc.pid) - cpu0
        return {"cpu_s": cpu, "segments": int(made), "watched_s": watched,
                "rendition": f"{level['height']}p"}
    finally:
        server.stop()
        env.close()


def up_front(tws, src):
    """Every segment of every rendition, one `tws segment` run each: CPU seconds (rusage)."""
    env = twslib.Env("bench-cost-ladder")
    serve.write_config(env, workers=2, preset=engine.PRESET)
    source_uri = env.put(src, "in/src.mp4")
    try:
        r = env.playlist(request(source_uri))
        total, wall, segments = 0.0, 0.0, 0
        for p in r["VideoPlaylist"]:
            n = sum(1 for l in open(env.path(p["URI"])) if l.startswith("#EXTINF"))
            w, cpu, _rss = engine.run_measured([tws, "segment", "--config", env.config, p["URI"], "0",
                                                str(n - 1)], cwd=env.dir)
            total, wall, segments = total + cpu, wall + w, segments + n
        return {"cpu_s": total, "wall_s": wall, "segments": segments}
    finally:
        env.close()


def run(build, watch_seconds=60, tws=None):
    exe, build_env, media_dir = engine.build_setup(build, tws)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    src = os.path.join(media_dir, f"bench-854x480-{DURATION}s-keys0.mp4")
    engine.make_source(src, 0, DURATION, "854x480")
    viewer = watch(exe, src, watch_seconds)
    ladder = up_front(exe, src)
    return {"watch": viewer, "up_front": ladder, "ratio": viewer["cpu_s"] / ladder["cpu_s"]}


def print_table(f):
    v, u = f["watch"], f["up_front"]
    print(f"  one viewer, {v['watched_s']:.0f} s at {v['rendition']} (with its read-ahead): "
          f"{v['cpu_s']:7.1f} CPU s, {v['segments']} segments made")
    print(f"  the 3-rendition ladder up front ({DURATION} s each):       "
          f"{u['cpu_s']:7.1f} CPU s, {u['segments']} segments ({u['wall_s']:.0f} s wall)")
    print(f"  watching / up front: {f['ratio']:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--tws", help="tws binary (default: BUILD/service/tws)")
    ap.add_argument("--watch", type=int, default=60, help="seconds the viewer watches")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if browser.available():
        sys.exit(browser.available())
    f = run(args.build, args.watch, args.tws)
    print(f"cores: {os.cpu_count()}; source 854x480 25 fps {DURATION} s; ladder 480p/360p/240p x264 "
          f"{engine.PRESET} CRF {engine.CRF}")
    print_table(f)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(f, fh, indent=1)


if __name__ == "__main__":
    main()
