#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Soak benchmark (issue 19 "Done means" 2): what `tws serve` holds over many requests of every
kind. The traffic is tests/e2e/lib/soak.py's (API, playlist, stored segment, Range, HEAD,
401/403/404/413, aborts mid-stream, connections that send nothing or half a header, keep-alive
runs, cold segments and cold aborts; half the single requests with `Connection: close`, half
closed by the client), over 4 client threads, a cold segment (or cold abort, or playlist
creation) every 100 requests.

Printed: a line every 1,000 requests with the server's open descriptors, threads and RSS (from
/proc), then the drift from the first line to the last. Flat descriptors and threads mean no
leak; RSS may step while malloc's arenas fill, then stays flat.

Usage: bench/soak.py --build build [--requests 20000] [--json FILE]
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e", "lib"))

import engine  # noqa: E402
import media  # noqa: E402
import soak  # noqa: E402
import tws as twslib  # noqa: E402

serve = engine.e2e_serve()


def run(build, requests=20000, every=1000, tws=None):
    exe, build_env, _media_dir = engine.build_setup(build, tws)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    env = twslib.Env("bench-soak")
    serve.write_config(env, workers=2, preset=engine.PRESET)
    server = serve.Server(env).start()
    rows = []
    try:
        traffic = soak.Traffic(server, env, media.source("mp4"))
        warm = traffic.run(traffic.mix(300, cold_every=40, seed=3))
        if warm:
            sys.exit("warm-up failed: " + "; ".join(warm[:5]))
        pid = server.proc.pid
        base = soak.wait_settled(pid)
        t0 = time.monotonic()
        rows.append({"requests": 0, "seconds": 0.0, "fds": base[0], "threads": base[1],
                     "rss_mb": round(base[2] / 1e6, 1)})
        print(f"{'requests':>9} {'seconds':>8} {'fds':>5} {'threads':>8} {'RSS MB':>8}", flush=True)

        def line(r):
            print(f"{r['requests']:>9} {r['seconds']:>8.1f} {r['fds']:>5} {r['threads']:>8} "
                  f"{r['rss_mb']:>8.1f}", flush=True)
        line(rows[0])

        def progress(done):
            fds, threads, rss = soak.proc_figures(pid)
            rows.append({"requests": done, "seconds": round(time.monotonic() - t0, 1),
                         "fds": fds, "threads": threads, "rss_mb": round(rss / 1e6, 1)})
            line(rows[-1])
        failures = traffic.run(traffic.mix(requests, cold_every=100, seed=5),
                               on_progress=progress, every=every)
        end = soak.wait_settled(pid, want=base)
        rows.append({"requests": requests, "seconds": round(time.monotonic() - t0, 1),
                     "fds": end[0], "threads": end[1], "rss_mb": round(end[2] / 1e6, 1),
                     "settled": True})
        line(rows[-1])
    finally:
        server.stop()
        env.close()
    rss = [r["rss_mb"] for r in rows]
    mid = rss[len(rss) // 2:]
    summary = {"requests": requests, "failures": len(failures),
               "fds": [rows[0]["fds"], rows[-1]["fds"]],
               "threads": [rows[0]["threads"], rows[-1]["threads"]],
               "rss_mb": [rows[0]["rss_mb"], rows[-1]["rss_mb"]],
               "rss_second_half_range_mb": round(max(mid) - min(mid), 1),
               "kinds": traffic.counts}
    print(f"# {requests} requests, {len(failures)} answered wrongly"
          + (f" (e.g. {failures[:3]})" if failures else ""))
    print(f"# descriptors {rows[0]['fds']} -> {rows[-1]['fds']} after settling, threads "
          f"{rows[0]['threads']} -> {rows[-1]['threads']}, RSS {rows[0]['rss_mb']} -> "
          f"{rows[-1]['rss_mb']} MB (second half within {summary['rss_second_half_range_mb']} MB)")
    return rows, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--tws", help="the tws binary (default: BUILD/service/tws)")
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--json", help="write the rows and summary here")
    a = ap.parse_args()
    rows, summary = run(a.build, a.requests, a.every, a.tws)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
