#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Storage benchmark (issue 4 "Done means" 4): storage requests and bytes read per cold segment,
and cold segment time with the source and outputs in an S3 bucket vs in a local bucket.

Sources (made once with ffmpeg, cached under BUILD/bench/media): testsrc2 + a 48 kHz tone, 60 s,
1080p25 by default (--size 720 for 720p; at 720p the MP4 is smaller than the 64 MiB block
cache, so segments after the first may read nothing), keyframes every 10 s half-way between the segment
boundaries (5, 15, 25 ...: each segment made alone decodes 5 s before its start), in
  mp4  H.264 + AAC, moov at the END (no faststart: a reader must seek to the end before playing)
  avi  MPEG-4 Part 2 + MP3
  mkv  H.264 + AAC
For each source and each store - `s3`: s3rver on loopback (tests/e2e/lib/s3server.py), tws
`[bucket cloud]`; `local`: the `[bucket media]` directory - with both the source and the target
in that store: a fresh `tws serve` (2 workers, [transcode] preset veryfast), POST /v1/playlists
(Duration 10, InitialSegments [], InitialTranscode 0, TranscodeAhead 0: nothing made but what is
asked for; 720p H.264 CRF 23, AAC 128k 44.1 kHz), then every segment in order, one at a time,
cold, over HTTP (bench/serve.py's timed_get). Between requests (after the segment's PUT is seen)
/metrics is read: per segment the deltas of tws_storage_requests_total{op=get|head|put} and
tws_storage_bytes_total{dir="in"} (rangesrc's reads through the block cache are counted there:
BlockCache::shared() backend requests are added to op="get" and dir="in", for S3 and local
sources alike; the service's own GETs and HEADs are in them too), and on the S3 side the
responses s3rver logged for the source object (its log cuts off the method: 206 is a ranged GET,
200 a HEAD or a whole GET). Time: the whole response (last body byte).

Goals printed next to the figures: at most 4 storage GETs per cold 10 s segment after the first
(segment 0 also opens the source: HEAD, the moov at the end, the index), and S3 cold time within
1.15x of local. With --repeat N each (source, store) pass runs N times, each with a fresh server
(a cold block cache) and a fresh target; the best time of each segment is kept, the request
counts are from the first pass (a note says when a later pass differed).
A benchmark, not a test: it prints figures; figures are noisy on shared cores.

Usage: bench/storage.py --build build [--repeat N] [--size 720|1080] [--formats mp4,avi,mkv]
                        [--stores local,s3] [--segments N] [--json FILE] [--keep]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "..", "tests", "e2e", "lib")
sys.path.insert(0, HERE)
sys.path.insert(0, LIB)

import engine  # noqa: E402  (bench/engine.py: PRESET, CRF, SEG)
import tws as twslib  # noqa: E402  (tests/e2e/lib/tws.py: Env)
from s3server import S3Server, quote_key  # noqa: E402


_load = engine.load_module


serve = _load("e2e_serve", os.path.join(LIB, "serve.py"))             # Server, metrics, signing
bench_serve = _load("bench_serve", os.path.join(HERE, "serve.py"))   # timed_get

SEG = engine.SEG
REMOTE = "bench"      # the bucket in s3rver
S3_NAME = "cloud"     # its tws name
LOCAL_NAME = "media"  # the local bucket (serve.write_config)
GET_GOAL = 4
TIME_GOAL = 1.15
STORE_TIMEOUT = 120
DURATION = 60

FORMATS = {
    # name: (extension, description, ffmpeg output options)
    "mp4": ("mp4", "MP4 H.264 + AAC, moov at the end",
            ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "mp4"]),
    "avi": ("avi", "AVI MPEG-4 Part 2 + MP3",
            ["-c:v", "mpeg4", "-q:v", "4", "-c:a", "libmp3lame", "-b:a", "128k", "-ac", "2",
             "-f", "avi"]),
    "mkv": ("mkv", "MKV H.264 + AAC",
            ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-f", "matroska"]),
}


# -- sources --------------------------------------------------------------------------------------

def make_source(path, fmt, height):
    if os.path.exists(path):
        return
    width = height * 16 // 9
    print(f"making the {DURATION} s {height}p {fmt} source {path} (once) ...", flush=True)
    tmp = path + ".part"
    keys = ",".join(str(t) for t in range(5, DURATION, 10))
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={DURATION}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={DURATION}",
                    "-g", "1000", "-keyint_min", "250", "-sc_threshold", "0",
                    "-force_key_frames", keys] + FORMATS[fmt][2] + [tmp], check=True)
    os.replace(tmp, path)


def mp4_top_boxes(path):
    """Top-level MP4 box types in file order."""
    out = []
    size_total = os.path.getsize(path)
    with open(path, "rb") as f:
        pos = 0
        while pos + 8 <= size_total:
            f.seek(pos)
            h = f.read(16)
            size = int.from_bytes(h[:4], "big")
            typ = h[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(h[8:16], "big")
            elif size == 0:
                size = size_total - pos
            out.append(typ)
            if size < 8:
                break
            pos += size
    return out


# -- s3rver log -----------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# s3rver logs each response through koa-logger with its first 16 characters cut off (s3rver
# lib/middleware/logger.js: message.slice(16)), which drops the method and the head of the path:
# "info: x.mp4 206 9ms 1.25mb". So requests for the source are told apart by the tail of the path
# and by the status: 206 is a ranged GET, 200 a HEAD or a whole-object GET.
_LOGRESP = re.compile(r"(\S*) (\d{3}) [0-9.]+m?s (?:([0-9.]+)([kmgt]?b))?\s*$")
_UNITS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}


class S3Log:
    """Reads the responses s3rver logged since the last call."""

    def __init__(self, s3):
        self.path = s3.log_path
        self.pos = 0
        self.readable = bool(self.path) and os.path.exists(self.path)

    def skip(self):
        if self.readable:
            self.pos = os.path.getsize(self.path)

    def since(self, key):
        """{"206": ranged GETs, "200": HEADs or whole GETs, "bytes": body bytes (as logged,
        rounded)} of the responses for object `key` since the last call; None when the log
        cannot be read."""
        if not self.readable:
            return None
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read()
        cut = data.rfind(b"\n") + 1  # whole lines only
        self.pos += cut
        out = {"206": 0, "200": 0, "other": 0, "bytes": 0}
        for line in data[:cut].decode(errors="replace").splitlines():
            line = _ANSI.sub("", line)
            if line.startswith("info: "):
                line = line[6:]
            m = _LOGRESP.search(line)
            if not m or not m.group(1) or not ("/" + key).endswith(m.group(1)) \
                    or len(m.group(1)) < 4:
                continue
            st = m.group(2)
            out[st if st in ("200", "206") else "other"] += 1
            if m.group(3) and st == "206":
                out["bytes"] += int(float(m.group(3)) * _UNITS.get(m.group(4), 1))
        return out


# -- one pass -------------------------------------------------------------------------------------

def snapshot(server):
    m = server.metrics()

    def v(name, **labels):
        x = serve.metric_sum(m, name, **labels)
        return 0 if x is None else int(x)
    return {"get": v("tws_storage_requests_total", op="get"),
            "head": v("tws_storage_requests_total", op="head"),
            "put": v("tws_storage_requests_total", op="put"),
            "list": v("tws_storage_requests_total", op="list"),
            "in": v("tws_storage_bytes_total", dir="in"),
            "out": v("tws_storage_bytes_total", dir="out")}


def run_pass(args, s3, fmt, src, store, rep, nsegs):
    ext = FORMATS[fmt][0]
    env = twslib.Env(f"bench-storage-{fmt}-{store}", keep=args.keep)
    extra = ("\n" + s3.config_section(S3_NAME, REMOTE)) if s3 else ""
    serve.write_config(env, workers=2, preset=engine.PRESET, extra=extra)
    if store == "s3":
        src_key = f"in/{fmt}/src.{ext}"
        source_uri = f"oss://{S3_NAME}/{src_key}"
        src_path = f"{REMOTE}/{quote_key(src_key)}"
        bucket = S3_NAME
    else:
        source_uri = env.put(src, f"in/src.{ext}")
        src_path = None
        bucket = LOCAL_NAME
    target = f"oss://{bucket}/out/{fmt}-r{rep}/720p"
    out_dir = os.path.dirname(env.path(f"out/{fmt}-r{rep}/720p.m3u8"))
    log = S3Log(s3) if s3 else None
    server = serve.Server(env)
    rows = []
    try:
        server.start()
        server.create_playlist({
            "SourceURI": source_uri,
            "Targets": [{"URI": target, "Duration": SEG, "InitialSegments": [],
                         "InitialTranscode": 0, "TranscodeAhead": 0,
                         "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": engine.CRF,
                                                      "Resolution": "x720"}},
                         "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 128000,
                                                      "SampleRate": 44100}}}]})
        url = server.sign(target + ".m3u8")
        r = server.get(url)
        if r.status != 200:
            raise RuntimeError(f"GET playlist: {r.describe()}")
        seg_paths = [serve.local_path(bench_serve._join(server, url, u))
                     for u in serve.segment_lines(r.text())]
        if store == "local":
            with open(env.path(source_uri), "rb") as f:  # the page cache warm
                while f.read(1 << 24):
                    pass
        before = snapshot(server)
        if log:
            log.skip()
        for k, path in enumerate(seg_paths[:nsegs]):
            c = bench_serve.timed_get(server.host, server.port, path)
            if c["status"] != 200:
                raise RuntimeError(f"cold GET segment {k}: HTTP {c['status']} {c['body'][:200]!r}"
                                   + server.stderr_tail())
            name = os.path.basename(path.split("?", 1)[0])

            def stored():
                if snapshot(server)["put"] > before["put"]:
                    return True
                if store == "local":
                    return os.path.exists(os.path.join(out_dir, name))
                return False
            if not serve.wait_for(stored, STORE_TIMEOUT, interval=0.05):
                raise RuntimeError(f"segment {k} not stored after its cold GET")
            after = snapshot(server)
            d = {x: after[x] - before[x] for x in after}
            d["time_s"] = c["total_s"]
            d["first_s"] = c["first_s"]
            d["bytes_served"] = c["bytes"]
            if log:
                got = log.since(src_path)
                d["s3rver"] = got
            rows.append(d)
            before = after
    finally:
        stop = server.stop()
        if stop:
            print(f"  note: {'; '.join(stop)}")
        env.close()
    return rows


# -- main -----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--tws", help="tws binary (default: BUILD/service/tws)")
    ap.add_argument("--repeat", type=int, default=1, help="passes of each (source, store); best time kept")
    ap.add_argument("--size", type=int, default=1080, choices=(720, 1080), help="source height")
    ap.add_argument("--formats", default="mp4,avi,mkv", help="sources (default mp4,avi,mkv)")
    ap.add_argument("--stores", default="local,s3", help="stores (default local,s3)")
    ap.add_argument("--segments", type=int, default=DURATION // SEG, help="segments per pass (default all 6)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    exe, build_env, media_dir = engine.build_setup(args.build, args.tws)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    formats = [f for f in args.formats.split(",") if f]
    stores = [s for s in args.stores.split(",") if s]
    for f in formats:
        if f not in FORMATS:
            sys.exit(f"unknown format {f} (mp4, avi, mkv)")
    for s in stores:
        if s not in ("local", "s3"):
            sys.exit(f"unknown store {s} (local, s3)")
    repeat = max(1, args.repeat)

    sources = {}
    for f in formats:
        p = os.path.join(media_dir, f"storage-{args.size}p25-{DURATION}s-keys5.{FORMATS[f][0]}")
        make_source(p, f, args.size)
        sources[f] = p
    print(f"cores: {os.cpu_count()}; sources {args.size}p25 {DURATION} s, keyframes every 10 s "
          f"(5, 15, ...); target 720p x264 {engine.PRESET} CRF {engine.CRF}, AAC 128k, Duration {SEG}, "
          f"TranscodeAhead 0, InitialTranscode 0; segments requested in order, cold, one at a "
          f"time; best time of {repeat}", flush=True)
    if "mp4" in sources:
        boxes = mp4_top_boxes(sources["mp4"])
        late = "moov" in boxes and "mdat" in boxes and boxes.index("moov") > boxes.index("mdat")
        print(f"mp4 top-level boxes: {' '.join(boxes)} ({'moov at the end' if late else 'moov NOT at the end'})")

    s3 = None
    if "s3" in stores:
        s3 = S3Server(buckets=[REMOTE], keep=args.keep).start()
        for f in formats:
            s3.put_file(REMOTE, f"in/{f}/src.{FORMATS[f][0]}", sources[f])
    results = {}
    try:
        for f in formats:
            results[f] = {}
            passes = {s: [] for s in stores}
            for rep in range(repeat):
                for s in stores:  # interleaved: noise hits both stores alike
                    passes[s].append(run_pass(args, s3 if s == "s3" else None, f, sources[f], s,
                                              rep, args.segments))
            for s in stores:
                first = passes[s][0]
                rows = []
                differed = False
                for k in range(len(first)):
                    row = dict(first[k])
                    row["time_s"] = min(p[k]["time_s"] for p in passes[s] if k < len(p))
                    for p in passes[s][1:]:
                        if k < len(p) and (p[k]["get"], p[k]["in"]) != (first[k]["get"], first[k]["in"]):
                            differed = True
                    rows.append(row)
                results[f][s] = {"segments": rows, "counts_differed": differed}
            report(f, sources[f], results[f], stores)
    finally:
        if s3:
            s3.stop()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


def report(fmt, src, res, stores):
    size = os.path.getsize(src)
    print()
    print(f"{FORMATS[fmt][1]}: {os.path.basename(src)}, {size / 1e6:.1f} MB")
    print(f"  {'':<10} {'tws /metrics deltas':^29}  {'s3rver log, source object':^27}")
    print(f"  {'store seg':<10} {'GET':>5} {'HEAD':>5} {'PUT':>4} {'MB in':>8}   {'206 GET':>7} {'200':>5} "
          f"{'~MB':>8}   {'time':>7}")
    for s in stores:
        rows = res[s]["segments"]
        for k, r in enumerate(rows):
            sv = r.get("s3rver")
            svs = f"{'-':>7} {'-':>5} {'-':>8}" if sv is None else \
                f"{sv['206']:>7} {sv['200']:>5} {sv['bytes'] / 1e6:8.2f}"
            print(f"  {s:<6}{k:>4} {r['get']:>5} {r['head']:>5} {r['put']:>4} {r['in'] / 1e6:8.2f}   "
                  f"{svs}   {r['time_s']:6.2f}s")
        if res[s]["counts_differed"]:
            print(f"  {s:<6} note: a later pass read a different number of requests/bytes")
    print("  (GET/MB in: tws_storage_requests_total{op=\"get\"} / tws_storage_bytes_total{dir=\"in\"}, "
          "which count rangesrc's block-cache reads of the source (S3 and local alike) plus the "
          "service's own GETs; 206/200: s3rver's responses for the source: 206 ranged GETs, 200 "
          "HEADs (rangesrc's S3 backend HEADs the object on open; those are not in the metrics) "
          "or whole GETs, which s3rver's log cannot tell apart)")
    s3_uncounted = False
    for s in stores:
        rows = res[s]["segments"]
        if s == "s3" and any(r.get("s3rver") and r["s3rver"]["206"] > r["get"] for r in rows):
            s3_uncounted = True
        rows = rows[1:]
        if not rows:
            continue
        gets = [r["get"] for r in rows]
        line = (f"  {s:<6} GETs per cold segment after the first (metrics): max {max(gets)}, mean "
                f"{sum(gets) / len(gets):.1f}")
        worst = max(gets)
        if s == "s3" and all(r.get("s3rver") is not None for r in rows):
            sv = [r["s3rver"]["206"] for r in rows]
            hd = [r["s3rver"]["200"] for r in rows]
            line += (f"; ranged GETs of the source seen by s3rver: max {max(sv)}, mean "
                     f"{sum(sv) / len(sv):.1f} (plus HEADs of it: max {max(hd)})")
            worst = max(worst, max(sv))
        nb, ng = sum(r["in"] for r in rows), sum(r["get"] for r in rows)
        if ng:
            line += f"; {nb / ng / 1e6:.2f} MB per GET, {nb / len(rows) / 1e6:.1f} MB per segment"
        print(line + f" (goal <= {GET_GOAL}: {'ok' if worst <= GET_GOAL else 'ABOVE GOAL'})")
    if s3_uncounted:
        print("  NOTE: s3rver served more ranged GETs of the source than tws_storage_requests_total"
              "{op=\"get\"} counted: the rangesrc S3 path is not (fully) in the metrics")
    if "s3" in stores and "local" in stores:
        a, b = res["s3"]["segments"], res["local"]["segments"]
        n = min(len(a), len(b))
        if n:
            per = [a[k]["time_s"] / b[k]["time_s"] for k in range(n)]
            tot = sum(a[k]["time_s"] for k in range(n)) / sum(b[k]["time_s"] for k in range(n))
            print(f"  S3 / local cold time: all segments {tot:.2f}x (goal <= {TIME_GOAL}: "
                  f"{'ok' if tot <= TIME_GOAL else 'ABOVE GOAL'}); per segment "
                  f"{' '.join(f'{x:.2f}' for x in per)}")
            res["s3_local_ratio"] = tot
    sys.stdout.flush()


if __name__ == "__main__":
    main()
