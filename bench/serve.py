#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Service benchmark (issue 3 "Done means" 4): a segment over HTTP from `tws serve`, cold
(transcoded while it is streamed) and warm (already in storage), against the ffmpeg command line
for the same segment.

Source: 1080p25 testsrc2 + a 48 kHz tone, 60 s, H.264 with keyframes every 10 s (bench/engine.py's
make_source), by default with the keyframes half-way between the boundaries (5, 15, 25 ...: as an
upload's keyframes fall anywhere, each segment made alone decodes 5 s before its start); `--keys 0`
puts them on the boundaries. Target: 720p H.264 x264 veryfast CRF 23, AAC 128 kb/s 44.1 kHz,
Duration 10, no InitialSegments, InitialTranscode 0, TranscodeAhead 0 (nothing made but what is
asked for).

For segment 0 (0-10 s) and segment 3 (30-40 s), over one raw HTTP/1.1 connection per request
(socket, chunked decoding here): time to the response headers, to the first body byte and to the
last body byte, cold (the segment deleted from storage first) and warm (stored); and the ffmpeg
command line for the same segment:
    ffmpeg -ss S -i src -t 10 -vf scale=-2:720 -c:v libx264 -preset veryfast -crf 23
           -x264-params rc-lookahead=5:me=dia:subme=1 -c:a aac -b:a 128k -ar 44100 -f mpegts out.ts
(a cold GET is a segment a client waits for: tws encodes it with those x264 settings on top of
the preset, so ffmpeg gets the same).
Ratios against ffmpeg's wall time, with the goals: cold first byte <= 0.25x, cold total <= 1.0x.
For each cold GET also the server's CPU seconds and minor page faults (from /proc) until the
segment is stored. A benchmark, not a test: it prints figures (best of --repeat for each).

--media workers,in-process measures each source twice in one run: with the media work in
tws's sandboxed worker processes (as it runs) and in the server's own process
(TWS_IN_PROCESS_MEDIA=1, as before the workers), and prints what the workers cost: the cold
first byte in ms and the cold last byte in per cent (goals: +30 ms, +5 %).

Usage: bench/serve.py --build build [--repeat N] [--keys 5|0|0,5] [--media M[,M]] [--json FILE]
                      [--keep]
"""

import argparse
import json
import os
import shutil
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e", "lib"))

import engine  # noqa: E402  (bench/engine.py: make_source, ffmpeg_segment, run_measured)
import tws as twslib  # noqa: E402  (tests/e2e/lib/tws.py: Env)

serve = engine.e2e_serve()  # tests/e2e/lib/serve.py

SEG = engine.SEG
SEGMENTS = (0, 3)
FIRST_GOAL = 0.25
TOTAL_GOAL = 1.0
TIMEOUT = 600


def timed_get(host, port, path):
    """GET over a raw socket. Returns {status, headers_s, first_s, total_s, bytes, body}: seconds
    from before connect() to the end of the response headers, the first body byte and the last
    one (chunked: the terminating chunk; else Content-Length or the connection closing)."""
    t0 = time.monotonic()
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    buf = b""
    out = {"status": None, "headers_s": None, "first_s": None, "total_s": None}
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise RuntimeError(f"connection closed before the headers: {buf[:200]!r}")
        buf += d
    out["headers_s"] = time.monotonic() - t0
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    out["status"] = int(lines[0].split()[1])
    hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    chunked = hdrs.get("transfer-encoding", "").lower() == "chunked"
    length = int(hdrs["content-length"]) if "content-length" in hdrs and not chunked else None
    body = bytearray()
    eof = False

    def more():
        nonlocal buf, eof
        d = sock.recv(1 << 20)
        if not d:
            eof = True
        buf += d
        return bool(d)

    def got(n):
        if n and out["first_s"] is None:
            out["first_s"] = time.monotonic() - t0

    if chunked:
        while True:
            while b"\r\n" not in buf:
                if not more():
                    raise RuntimeError("connection closed inside a chunk header (response cut)")
            line, buf = buf.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            if size == 0:
                break
            got(len(buf))
            while len(buf) < size + 2:
                if not more():
                    raise RuntimeError("connection closed inside a chunk (response cut)")
                got(len(buf))
            body += buf[:size]
            buf = buf[size + 2:]
    else:
        got(len(buf))
        body += buf
        buf = b""
        while (length is None or len(body) < length) and more():
            got(len(buf))
            body += buf
            buf = b""
    out["total_s"] = time.monotonic() - t0
    sock.close()
    out["bytes"] = len(body)
    out["body"] = bytes(body)
    out["chunked"] = chunked
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--tws", help="tws binary (default: BUILD/service/tws)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the best is kept")
    ap.add_argument("--keys", default="5", help="keyframe offsets of the sources: 5 (default), 0 or 0,5")
    ap.add_argument("--keep", action="store_true", help="keep the temporary bucket")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--media", default="workers",
                    help="where media work runs: workers (default), in-process, or both "
                         "comma-separated for a comparison")
    args = ap.parse_args()

    exe, build_env, media_dir = engine.build_setup(args.build, args.tws)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    print(f"cores: {os.cpu_count()}; source 1080p25 60 s, keyframes every 10 s; target 720p x264 "
          f"{engine.PRESET} CRF {engine.CRF}, AAC 128k 44.1 kHz, Duration {SEG}, TranscodeAhead 0; "
          f"best of {max(1, args.repeat)}", flush=True)
    figures = {}
    modes = args.media.split(",")
    for offset in (int(x) for x in args.keys.split(",")):
        src = os.path.join(media_dir, f"bench-1080p25-60s-keys{offset}.mp4")
        engine.make_source(src, offset)
        by_mode = {}
        for mode in modes:
            if mode == "in-process":
                os.environ["TWS_IN_PROCESS_MEDIA"] = "1"
            else:
                os.environ.pop("TWS_IN_PROCESS_MEDIA", None)
            print(f"media work: {mode}", flush=True)
            by_mode[mode] = measure(args, src)
            figures[f"keyframes at {offset}+10n s, {mode}"] = by_mode[mode]
        if "workers" in by_mode and "in-process" in by_mode:
            for k, w in by_mode["workers"].items():
                p = by_mode["in-process"].get(k)
                if not p:
                    continue
                df = (w["cold"]["first_s"] - p["cold"]["first_s"]) * 1000
                dt = (w["cold"]["total_s"] / p["cold"]["total_s"] - 1) * 100
                print(f"  segment {k}: workers against in-process: cold first byte {df:+.0f} ms "
                      f"(goal <= +30), cold last byte {dt:+.1f} % (goal <= +5)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


def measure(args, src):
    env = twslib.Env("bench-serve", keep=args.keep)
    serve.write_config(env, workers=2, preset=engine.PRESET)
    source_uri = env.put(src, "in/src.mp4")
    server = serve.Server(env)
    rows = {}
    try:
        server.start()
        server.create_playlist({
            "SourceURI": source_uri,
            "Targets": [{"URI": "oss://media/out/720p", "Duration": SEG, "InitialSegments": [],
                         "InitialTranscode": 0, "TranscodeAhead": 0,
                         "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": engine.CRF, "Resolution": "x720"}},
                         "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 128000, "SampleRate": 44100}}}]})
        url = server.sign("oss://media/out/720p.m3u8")
        r = server.get(url)
        if r.status != 200:
            raise RuntimeError(f"GET playlist: {r.describe()}")
        seg_paths = [serve.local_path(_join(server, url, u)) for u in serve.segment_lines(r.text())]
        out_dir = os.path.dirname(env.path("out/720p.m3u8"))
        with open(src, "rb") as f:  # the page cache warm for both alike
            while f.read(1 << 24):
                pass

        def clear():
            for fn in os.listdir(out_dir):
                if fn.endswith(".ts"):
                    os.remove(os.path.join(out_dir, fn))

        def stored(k):
            return any(fn.endswith(f"-{k}.ts") for fn in os.listdir(out_dir))

        def best(runs, key):
            return min(runs, key=lambda m: m[key])

        def server_usage():
            """The server's CPU seconds and minor page faults so far (/proc)."""
            fields = open(f"/proc/{server.proc.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[7])

        for k in SEGMENTS:
            if k >= len(seg_paths):
                continue
            cold_runs, warm_runs, ff_runs = [], [], []
            for _ in range(max(1, args.repeat)):
                clear()
                cpu0, faults0 = server_usage()
                c = timed_get(server.host, server.port, seg_paths[k])
                if c["status"] != 200:
                    raise RuntimeError(f"cold GET segment {k}: HTTP {c['status']} {c['body'][:200]!r}")
                cold_runs.append(c)
                if not serve.wait_for(lambda: stored(k), 120):
                    raise RuntimeError(f"segment {k} not stored after its cold GET")
                cpu1, faults1 = server_usage()
                c["server_cpu_s"], c["server_faults"] = cpu1 - cpu0, faults1 - faults0
                w = timed_get(server.host, server.port, seg_paths[k])
                if w["status"] != 200 or w["body"] != c["body"]:
                    raise RuntimeError(f"warm GET segment {k}: HTTP {w['status']}, "
                                       f"{'same' if w['body'] == c['body'] else 'other'} bytes")
                warm_runs.append(w)
                ff = engine.run_measured(engine.ffmpeg_segment(src, k * SEG, os.path.join(env.dir, f"ff-{k}.ts"),
                                                           engine.WAITED_X264))
                ff_runs.append(ff)
            rows[k] = {"cold": best(cold_runs, "total_s"), "warm": best(warm_runs, "total_s"),
                       "ffmpeg": min(x[0] for x in ff_runs)}
    finally:
        stop = server.stop()
        if stop:
            print(f"  note: {'; '.join(stop)}")
        env.close()

    print()
    print(f"source {os.path.basename(src)}")
    print(f"  {'segment':<16} {'':<6} {'headers':>9} {'1st byte':>9} {'last byte':>10} {'bytes':>10}"
          f"   {'ffmpeg CLI':>10}")
    out = {}
    for k, row in rows.items():
        label = f"{k} ({k * SEG}-{(k + 1) * SEG} s)"
        for kind in ("cold", "warm"):
            m = row[kind]
            ff = f"{row['ffmpeg']:9.2f} s" if kind == "cold" else ""
            print(f"  {label if kind == 'cold' else '':<16} {kind:<6} {m['headers_s']:8.3f}s {m['first_s']:8.3f}s "
                  f"{m['total_s']:9.3f}s {m['bytes']:10d}   {ff:>10}"
                  + ("" if kind == "warm" or m["chunked"] else "   (not chunked)")
                  + (f"   server {m['server_cpu_s']:.2f} CPU s, {m['server_faults']} page faults"
                     if kind == "cold" else ""))
        ff = row["ffmpeg"]
        rf, rt = row["cold"]["first_s"] / ff, row["cold"]["total_s"] / ff
        print(f"  {'':<16} ratio  cold first byte / ffmpeg {rf:5.2f} (goal <= {FIRST_GOAL}: "
              f"{'ok' if rf <= FIRST_GOAL else 'ABOVE GOAL'});  cold total / ffmpeg {rt:5.2f} "
              f"(goal <= {TOTAL_GOAL}: {'ok' if rt <= TOTAL_GOAL else 'ABOVE GOAL'})", flush=True)
        out[k] = {kind: {x: row[kind][x] for x in ("headers_s", "first_s", "total_s", "bytes",
                                                   "server_cpu_s", "server_faults") if x in row[kind]}
                  for kind in ("cold", "warm")}
        out[k].update(ffmpeg_s=ff, first_ratio=rf, total_ratio=rt)
    return out


def _join(server, playlist_url, uri):
    import urllib.parse
    return urllib.parse.urljoin(server.base + serve.local_path(playlist_url), uri)


if __name__ == "__main__":
    main()
