#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Overload end to end (issue 7 "Done means" 3): more cold segment requests than the service
takes, with cached segments requested all the while.

`tws serve` with workers 2 and [server] queue-limit 2. A stored stream (every segment made
first) is fetched in a loop by 4 client threads; meanwhile 6 clients (3x the workers) each ask
for a different cold segment, twice over (12 cold requests in all). Asserted: every answer is
200, or 503 ServiceUnavailable with Retry-After (JSON); every 200 cold body is the segment then
stored; no cached request failed; afterwards each refused segment answers 200 when asked again
(nothing lost), nothing half-written is left and the queue is empty. The bench (bench/load.py)
measures the cached latency under this load; nothing here is a speed threshold.
"""

import concurrent.futures
import http.client
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import media  # noqa: E402
import serve  # noqa: E402
import tws as twslib  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server  # noqa: E402
from tws import Env  # noqa: E402

WORKERS = 2
COLD = 3 * WORKERS
media.RECIPES.setdefault(
    "load24", ("src-load-360p-24s.mp4", "640x360 H.264 + AAC, 24 s (load test)",
               media._video_in("640x360", "25", 24) + media._audio_in(24, 44100) +
               media._x264(75) + media.AAC, "av"))
TARGET = {"Duration": 5, "InitialSegments": [], "InitialTranscode": 0, "TranscodeAhead": 0,
          "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 28}},
          "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 96000}}}


def get(server, path, timeout=300):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return serve.Response(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    finally:
        conn.close()


def answer_failures(r, label):
    if r.status == 200:
        return []
    if r.status == 503 and r.header("Retry-After") and (r.json() or {}).get("Code") == "ServiceUnavailable":
        return []
    return [f"{label}: HTTP {r.status} {r.header('Retry-After')} {r.body[:150]!r}"]


def case_overload(env):
    f = []
    text = open(env.config).read().replace("[server]\n", "[server]\nqueue-limit = 2\n", 1)
    open(env.config, "w").write(text)
    src = env.put(media.source("load24"), "in/src.mp4")
    server = Server(env).start()
    try:
        # The stored stream, made before the load.
        server.create_playlist({"SourceURI": src, "Targets": [dict(TARGET, URI="oss://media/out/hot/v")]})
        env.segment("oss://media/out/hot/v.m3u8", 0, 4)
        hot_url = server.sign("oss://media/out/hot/v.m3u8")
        hot = [serve.local_path(u) for u in _segment_urls(server, hot_url)]
        # Cold streams: COLD playlists of the same source (other prefixes: other objects).
        cold = []
        for n in range(COLD):
            prefix = f"oss://media/out/cold{n}/v"
            server.create_playlist({"SourceURI": src, "Targets": [dict(TARGET, URI=prefix)]})
            urls = _segment_urls(server, server.sign(prefix + ".m3u8"))
            cold.append((prefix, [serve.local_path(u) for u in urls]))

        stop = threading.Event()
        cached = {"ok": 0, "bad": []}

        def hammer():
            i = 0
            while not stop.is_set():
                r = get(server, hot[i % len(hot)], timeout=60)
                i += 1
                if r.status == 200:
                    cached["ok"] += 1
                else:
                    cached["bad"].append(f"cached {hot[i % len(hot)]}: HTTP {r.status} "
                                         f"{r.body[:160]!r}")
        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        results = []
        with concurrent.futures.ThreadPoolExecutor(COLD) as pool:
            for rnd in range(2):
                futs = {pool.submit(get, server, paths[rnd + 1]): (n, rnd + 1)
                        for n, (_p, paths) in enumerate(cold)}
                for fut in concurrent.futures.as_completed(futs):
                    results.append((futs[fut], fut.result()))
        stop.set()
        for t in threads:
            t.join(60)
        codes = {}
        for (n, k), r in results:
            codes[r.status] = codes.get(r.status, 0) + 1
            f += answer_failures(r, f"cold{n} segment {k}")
            if r.status == 200:
                stored = env.path(f"out/cold{n}/" + os.path.basename(cold[n][1][k].split("?")[0]))
                if not serve.wait_for(lambda: os.path.exists(stored), 120, 0.2) or \
                        open(stored, "rb").read() != r.body:
                    f.append(f"cold{n} segment {k}: the 200 body is not the stored segment")
        f += cached["bad"][:5]
        print(f"     cold answers {codes}; {cached['ok']} cached segments served meanwhile", flush=True)
        if cached["ok"] == 0:
            f.append("no cached segment was served during the load")
        # Nothing lost: every refused segment is served when asked again.
        for (n, k), r in results:
            if r.status != 200:
                again = get(server, cold[n][1][k])
                if again.status != 200:
                    f.append(f"cold{n} segment {k} refused, then HTTP {again.status} when asked again")
        if not serve.wait_for(lambda: server.metric("tws_queue_depth") == 0, 120, 0.5):
            f.append("the queue is not empty after the load")
        left = [p for p, _s, _m in env.listing() if ".tws-tmp-" in p]
        if left:
            f.append(f"temporary files left: {left}")
        if server.get("/healthz").status != 200:
            f.append("/healthz does not answer 200 after the load")
    finally:
        f += server.stop()
    return f


def _segment_urls(server, playlist_url):
    import urllib.parse
    r = server.get(playlist_url)
    base = server.base + serve.local_path(playlist_url)
    return [urllib.parse.urljoin(base, u) for u in serve.segment_lines(r.text())]


def main():
    run = Runner("overload (issue 7)")
    media.source("load24")
    env = Env("load")
    serve.write_config(env, workers=WORKERS)
    try:
        run.case(f"{COLD} cold clients x 2 (3x the workers, queue-limit 2) + cached load: 200 or 503 "
                 "with Retry-After, nothing lost", case_overload, env)
    finally:
        env.close()
    run.finish()


if __name__ == "__main__":
    main()
