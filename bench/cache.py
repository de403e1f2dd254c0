#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Cached-segment benchmark (issue 6 "Done means" 3): `tws serve` serving segments already in
storage against nginx serving the same files, with wrk on loopback.

A 640x360 25 fps 60 s source made into 360p segments of 10 s (x264 veryfast CRF 23, AAC 128k;
every segment stored first with `tws segment P 0 5`, about 1.1 MB each; TranscodeAhead as by
default, so each GET also looks at the read-ahead window as it would for a viewer). wrk (Debian's)
requests the segments in turn (a Lua script cycling over their signed URLs: tws checks each
signature; nginx ignores the query) for --seconds with --connections connections and 2
threads, once against tws and once against nginx (Debian's, static files from the same
directory, sendfile on, worker_processes auto, an access log like tws's). Printed: requests/s,
MB/s, latency p50 / p99, and tws / nginx (goal: throughput >= 0.5). wrk, the server and the
kernel share this machine's cores.

Usage: bench/cache.py --build build [--seconds 10] [--connections 32] [--json FILE]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e", "lib"))

import engine  # noqa: E402  (bench/engine.py)
import nginx as nginxlib  # noqa: E402  (tests/e2e/lib/nginx.py)
import tws as twslib  # noqa: E402

serve = engine.e2e_serve()  # tests/e2e/lib/serve.py

GOAL = 0.5
STATIC_SITE = """server {
    listen 127.0.0.1:{port};
    root %s;
    sendfile on;
    tcp_nopush on;
    location / { }
}
"""


def target(uri, transcode_ahead=None):
    """The 360p target of the cache and load benchmarks (10 s segments, nothing in advance)."""
    t = {"URI": uri, "Duration": 10, "InitialSegments": [], "InitialTranscode": 0,
         "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": engine.CRF, "Resolution": "x360"}},
         "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 128000}}}
    if transcode_ahead is not None:
        t["TranscodeAhead"] = transcode_ahead
    return t


def wrk(url_base, paths, seconds, connections):
    """wrk cycling over `paths`; returns {rps, mbps, p50_ms, p99_ms, errors}."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
                "n = 0\n"
                "request = function()\n"
                "  n = n % #paths + 1\n"
                "  return wrk.format('GET', paths[n])\n"
                "end\n")
        script = f.name
    try:
        r = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                            "-s", script, url_base], capture_output=True, text=True,
                           timeout=seconds + 60)
    finally:
        os.unlink(script)
    out = r.stdout
    if r.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed: {r.stderr.strip() or out[-500:]}")

    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(KB|MB|GB)", out)
    scale = {"KB": 1 / 1024, "MB": 1, "GB": 1024}[transfer.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "mbps": float(transfer.group(1)) * scale, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "errors": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def run(build, seconds=10, connections=32, tws=None):
    """wrk against tws and nginx; returns {"tws": ..., "nginx": ..., "ratio": r}."""
    exe, build_env, media_dir = engine.build_setup(build, tws)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    src = os.path.join(media_dir, "bench-640x360-60s-keys0.mp4")
    engine.make_source(src, 0, 60, "640x360")
    env = twslib.Env("bench-cache")
    serve.write_config(env, workers=2, preset=engine.PRESET)
    source_uri = env.put(src, "in/src.mp4")
    server = serve.Server(env).start()
    static = None
    try:
        server.create_playlist({"SourceURI": source_uri, "Targets": [target("oss://media/out/360p")]})
        subprocess.run([exe, "segment", "--config", env.config, "oss://media/out/360p.m3u8", "0", "5"],
                       check=True, capture_output=True, timeout=600, cwd=env.dir)
        url = server.sign("oss://media/out/360p.m3u8")
        r = server.get(url)
        paths = [serve.local_path(_join(server, url, u)) for u in serve.segment_lines(r.text())]
        sizes = [len(server.get(p).body) for p in paths]
        if any(s == 0 for s in sizes):
            raise RuntimeError("a segment answered empty")
        # /media/<key> is the file <bucket dir>/<key>: nginx's root is the bucket's parent.
        static = nginxlib.Nginx(site=STATIC_SITE % os.path.dirname(env.bucket), workers="auto").start()
        import urllib.request
        with urllib.request.urlopen(static.base + paths[0]) as resp:
            got = resp.read()
        if len(got) != sizes[0]:
            raise RuntimeError(f"nginx served {len(got)} bytes for {paths[0]}, tws {sizes[0]}")
        print(f"cores: {os.cpu_count()}; {len(paths)} segments of {min(sizes) / 1e6:.2f}-"
              f"{max(sizes) / 1e6:.2f} MB; wrk -t2 -c{connections} -d{seconds}s", flush=True)
        results = {"tws": wrk(server.base, paths, seconds, connections),
                   "nginx": wrk(static.base, paths, seconds, connections)}
    finally:
        if static:
            static.stop()
        server.stop()
        env.close()
    results["ratio"] = results["tws"]["rps"] / results["nginx"]["rps"]
    return results


def print_table(results):
    print(f"  {'server':<8} {'req/s':>9} {'MB/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name in ("tws", "nginx"):
        m = results[name]
        print(f"  {name:<8} {m['rps']:9.0f} {m['mbps']:9.1f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} "
              f"{m['errors']:7d} {m['socket_errors']}")
    ratio = results["ratio"]
    print(f"  tws / nginx throughput {ratio:.2f} (goal >= {GOAL}: {'ok' if ratio >= GOAL else 'BELOW GOAL'})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--tws", help="tws binary (default: BUILD/service/tws)")
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per server")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    results = run(args.build, args.seconds, args.connections, args.tws)
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def _join(server, playlist_url, uri):
    import urllib.parse
    return urllib.parse.urljoin(server.base + serve.local_path(playlist_url), uri)


if __name__ == "__main__":
    main()
