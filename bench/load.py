#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Overload benchmark (issue 7 "Done means" 3): cached-segment latency while the service is
flooded with cold segment requests, and its peak memory.

`tws serve` (workers 2, queue-limit as by default) with a stored 360p stream (bench/cache.py's
640x360 60 s source, 10 s segments) and cold playlists of the same source. wrk (2 threads,
16 connections) fetches the stored segments for --seconds, twice: alone, then while 6 client
threads (3x the workers) keep cold segment requests in flight (each a different segment, made
while it is fetched). Printed: cached requests/s, p50/p99/max latency for both runs (goal:
p99 under load below 50 ms), the cold answers by status (200, or 503 with Retry-After), and
the server's peak RSS (VmHWM).

--slow-store SECONDS puts the cold playlists on an S3 bucket whose store (tests/e2e/lib/
flaky_store.py) answers every HEAD and GET after SECONDS: the cached local segments must stay
fast while the cold clients wait on it (goal: p99 under 50 ms).

Usage: bench/load.py --build build [--seconds 15] [--slow-store SECONDS] [--json FILE]
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e", "lib"))

import cache  # noqa: E402  (bench/cache.py: wrk)
import engine  # noqa: E402
import tws as twslib  # noqa: E402

serve = cache.serve
GOAL_P99_MS = 50
COLD_CLIENTS = 6


def target(uri):
    return cache.target(uri, transcode_ahead=0)


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(build, seconds=15, tws=None, slow_store=0):
    exe, build_env, media_dir = engine.build_setup(build, tws)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    src = os.path.join(media_dir, "bench-640x360-60s-keys0.mp4")
    engine.make_source(src, 0, 60, "640x360")
    env = twslib.Env("bench-load")
    store = None
    extra = ""
    if slow_store:
        from flaky_store import FlakyStore
        store = FlakyStore()
        store.put("remote", "in/src.mp4", open(src, "rb").read())
        extra = (f"\n[bucket slow]\nendpoint = {store.endpoint}\nregion = us-east-1\n"
                 "name = remote\naccess-key-id = AK\nsecret-access-key = SK\n")
    serve.write_config(env, workers=2, preset=engine.PRESET, extra=extra)
    source_uri = env.put(src, "in/src.mp4")
    server = serve.Server(env).start()
    try:
        server.create_playlist({"SourceURI": source_uri, "Targets": [target("oss://media/out/hot/v")]})
        subprocess.run([exe, "segment", "--config", env.config, "oss://media/out/hot/v.m3u8", "0", "5"],
                       check=True, capture_output=True, timeout=600, cwd=env.dir)
        hot_url = server.sign("oss://media/out/hot/v.m3u8")
        hot = [serve.local_path(cache._join(server, hot_url, u))
               for u in serve.segment_lines(server.get(hot_url).text())]
        # Cold segments enough for the run: 40 playlists x 6 segments, each asked once.
        cold = []
        bucket = "slow" if slow_store else "media"
        cold_source = "oss://slow/in/src.mp4" if slow_store else source_uri
        for n in range(40):
            uri = f"oss://{bucket}/out/cold{n}/v"
            t = target(uri)
            if slow_store:  # read-ahead asks the slow store whether segments are stored
                t["TranscodeAhead"] = 2
            server.create_playlist({"SourceURI": cold_source, "Targets": [t]})
            url = server.sign(uri + ".m3u8")
            cold += [serve.local_path(cache._join(server, url, u))
                     for u in serve.segment_lines(server.get(url).text())]
        alone = cache.wrk(server.base, hot, seconds, 16)
        if store:
            store.set_mode(f"delay={slow_store}")

        stop = threading.Event()
        answers = {}
        lock = threading.Lock()
        next_cold = iter(cold)

        def cold_client():
            while not stop.is_set():
                with lock:
                    path = next(next_cold, None)
                if path is None:
                    return
                conn = http.client.HTTPConnection(server.host, server.port, timeout=600)
                try:
                    conn.request("GET", path)
                    r = conn.getresponse()
                    r.read()
                    key = str(r.status) + ("" if r.status != 503 or r.getheader("Retry-After")
                                           else " without Retry-After")
                finally:
                    conn.close()
                with lock:
                    answers[key] = answers.get(key, 0) + 1
        threads = [threading.Thread(target=cold_client, daemon=True) for _ in range(COLD_CLIENTS)]
        for t in threads:
            t.start()
        loaded = cache.wrk(server.base, hot, seconds, 16)
        stop.set()
        for t in threads:
            t.join(600)
        return {"alone": alone, "loaded": loaded, "cold_answers": answers,
                "peak_rss_mib": peak_rss_mib(server.proc.pid)}
    finally:
        if store:
            store.set_mode("ok")
        server.stop()
        if store:
            store.stop()
        env.close()


def print_table(f):
    print(f"  {'cached segments':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for label, key in (("alone", "alone"), (f"with {COLD_CLIENTS} cold clients", "loaded")):
        m = f[key]
        print(f"  {label:<26} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f}")
    p99 = f["loaded"]["p99_ms"]
    print(f"  p99 under load {p99:.1f} ms (goal < {GOAL_P99_MS}: {'ok' if p99 < GOAL_P99_MS else 'ABOVE GOAL'})")
    print(f"  cold answers: {f['cold_answers']}; peak RSS {f['peak_rss_mib']:.0f} MiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--tws", help="tws binary (default: BUILD/service/tws)")
    ap.add_argument("--seconds", type=int, default=15, help="wrk duration of each run")
    ap.add_argument("--slow-store", type=float, default=0,
                    help="seconds the cold playlists' S3 store takes to answer (0: local)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    f = run(args.build, args.seconds, args.tws, args.slow_store)
    print(f"cores: {os.cpu_count()}; wrk -t2 -c16 -d{args.seconds}s on 6 stored 360p segments")
    print_table(f)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(f, fh, indent=1)


if __name__ == "__main__":
    main()
