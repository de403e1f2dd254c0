#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for `tws playlist` / `tws segment`, for exercising the e2e scripts' own flow
before the real binary exists (TWS=tests/e2e/lib/fake_tws.py). NOT a reference: it cuts one
continuous ffmpeg encode with ffmpeg's segment muxer, so the SDT comes before the PAT and
audio is cut where packets arrive (those checks fail on it, as they should)."""

import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile


def bucket_dir(config):
    for line in open(config):
        if line.strip().startswith("path"):
            return line.split("=", 1)[1].strip()
    raise SystemExit("no bucket")


def key_path(bucket, uri):
    return os.path.join(bucket, uri.split("://", 1)[1].split("/", 1)[1])


def fail(msg):
    print(f"tws: {msg}", file=sys.stderr)
    sys.exit(1)


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"invalid source: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'unreadable'}")
    j = json.loads(r.stdout)
    if "duration" not in j.get("format", {}) or not j.get("streams"):
        fail("invalid source: no duration")
    return j


def plan(duration, rate, length, initial):
    b, t = [0.0], 0.0
    for x in initial:
        t += x
        if t >= duration:
            break
        b.append(t)
    if t < duration:
        t += length
        while t < duration:
            b.append(t)
            t += length
    edges = [round(x * rate) for x in b] + [round(duration * rate)]
    if len(edges) > 2 and edges[-1] - edges[-2] < rate:
        edges.pop(-2)
    return edges


def playlist(config, req_path):
    bucket = bucket_dir(config)
    req = json.load(open(req_path))
    src = key_path(bucket, req["SourceURI"])
    j = probe(src)
    tgt = req["Targets"][0]
    v = next((s for s in j["streams"] if s["codec_type"] == "video"), None)
    rate = eval(v["r_frame_rate"]) if v and "Video" in tgt else 44100 / 1024
    dur = float(j["format"]["duration"])
    edges = plan(dur, rate, tgt.get("Duration", 10), tgt.get("InitialSegments", []))
    token = hashlib.sha256(json.dumps([req, os.path.getsize(src)], sort_keys=True).encode()).hexdigest()[:32]
    prefix = key_path(bucket, tgt["URI"])
    name = os.path.basename(prefix)
    ext = [(edges[k + 1] - edges[k]) / rate for k in range(len(edges) - 1)]
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{math.ceil(max(ext) - 1e-9)}",
             "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-MEDIA-SEQUENCE:0",
             "#TWS-RECORD:" + json.dumps({"src": src, "target": tgt, "edges": edges, "rate": rate})]
    for k, e in enumerate(ext):
        lines += [f"#EXTINF:{e:.6f},", f"{name}-{token}-{k}.ts"]
    lines.append("#EXT-X-ENDLIST")
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    open(prefix + ".m3u8", "w").write("\n".join(lines) + "\n")
    entry = {"URI": tgt["URI"] + ".m3u8", "Token": token}
    if "Video" in tgt:
        entry.update(Resolution="0x240", FrameRate=str(rate))
    print(json.dumps({"RequestId": "fake", "Duration": dur, "Token": token,
                      ("VideoPlaylist" if "Video" in tgt else "AudioPlaylist"): [entry]}))


def segment(config, uri, k, n):
    bucket = bucket_dir(config)
    pl = key_path(bucket, uri)
    text = open(pl).read().splitlines()
    rec = json.loads(next(l for l in text if l.startswith("#TWS-RECORD:")).split(":", 1)[1])
    names = [l for l in text if l and not l.startswith("#")]
    if not 0 <= k <= n < len(names):
        fail(f"segment {k}..{n} out of range (0..{len(names) - 1})")
    times = ",".join(f"{e / rec['rate']:.6f}" for e in rec["edges"][1:-1])
    tgt = rec["target"]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", rec["src"], "-threads", "1"]
        if "Video" in tgt:
            res = tgt["Video"]["TranscodeVideo"].get("Resolution", "x240")
            w, h = res.split("x")
            cmd += ["-vf", f"scale={w or -2}:{h or -2}", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "30", "-force_key_frames", times or "0", "-sc_threshold", "0"]
        else:
            cmd += ["-vn"]
        if "Audio" in tgt:
            cmd += ["-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-ac", "2"]
        else:
            cmd += ["-an"]
        cmd += ["-f", "segment", "-segment_format", "mpegts", "-reset_timestamps", "0"]
        if times:
            cmd += ["-segment_times", times]
        else:
            cmd += ["-segment_time", "100000"]
        cmd += [os.path.join(tmp, "s%d.ts")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            fail(r.stderr.strip().splitlines()[-1])
        for i in range(k, n + 1):
            dst = os.path.join(os.path.dirname(pl), names[i])
            os.replace(os.path.join(tmp, f"s{i}.ts"), dst + ".tmp")
            os.replace(dst + ".tmp", dst)


def main():
    a = sys.argv[1:]
    config = None
    if "--config" in a:
        i = a.index("--config")
        config = a[i + 1]
        del a[i:i + 2]
    if not a:
        sys.exit(2)
    if a[0] == "playlist":
        playlist(config, a[1])
    elif a[0] == "segment":
        k = int(a[2])
        segment(config, a[1], k, int(a[3]) if len(a) > 3 else k)
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
