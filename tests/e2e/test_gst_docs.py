#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a GStreamer user copies from the documentation runs (issue 24 "Done means" 4).

  launch lines  every `gst-launch-1.0` line in a fenced block of README.md and docs/*.md,
                backslash continuations joined, run as written in a scratch folder that holds
                small generated clips under the names the lines use (in.mov, in.mp4,
                pq.mkv); `build/gst` points at this build; an s3:// line runs against s3rver
                (its endpoint and keys put in). Each must exit 0 without an ERROR, and what it
                writes is checked: a VOD playlist by the strict check (lib/check.py: joins,
                EXTINF, ffmpeg, GStreamer's hlsdemux), another playlist for ENDLIST, listed
                files present and max-files kept; multifilesink segments and filesink files
                decode in ffmpeg to the clip's duration; an http:// input is served by
                Python's http.server (no Range support) and read with exactly one GET. A
                line whose input or output the
                test cannot provide or check fails, so documentation stays testable.
  examples      examples/hls_from_file.c (built as build/examples/hls-from-file) and
                examples/hls_from_file.py on a clip: exit 0, one printed line per segment, and
                the HLS they write passes the strict check.

TWS_E2E_ONLY=README (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the folders.
"""

import glob
import http.server
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import gstenv  # noqa: E402
import media  # noqa: E402
from harness import Runner  # noqa: E402
from s3server import ACCESS_KEY, SECRET_KEY, S3Server  # noqa: E402

ROOT = os.environ.get("TWS_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("TWS_BUILD_ROOT") or os.path.join(ROOT, "build")
FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
TIMEOUT = 300
CLIP_SECONDS = 14


def _h264_aac(duration, gop):
    return (["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=25:duration={duration}",
             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration}",
             "-c:v", "libx264", "-preset", "veryfast", "-g", str(gop), "-keyint_min", str(gop),
             "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-ac", "2"])


# The clips the documentation's lines read, by the names they use. A keyframe every 3 s, so
# the remux line cuts at keyframes that are not on its boundaries.
CLIPS = {
    "in.mov": _h264_aac(CLIP_SECONDS, 75),
    "in.mp4": _h264_aac(CLIP_SECONDS, 75),
    "clip.avi": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6",
                 "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=6",
                 "-c:v", "mpeg4", "-q:v", "6", "-g", "50", "-c:a", "libmp3lame", "-b:a", "64k"],
    "pq.mkv": ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
               "-vf", "format=yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast",
               "-x265-params", "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
               "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc"],
}


def clip(name):
    path = os.path.join(media.cache_dir(), "docs-" + name)
    if not os.path.exists(path):
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y"] + CLIPS[name] + [path + ".tmp" +
                       os.path.splitext(name)[1]], check=True, timeout=TIMEOUT)
        os.rename(path + ".tmp" + os.path.splitext(name)[1], path)
    return path


def launch_lines():
    """(file:line, text) of every gst-launch-1.0 command in a fenced block of the docs."""
    out = []
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    for path in files:
        rel = os.path.relpath(path, ROOT)
        fenced = False
        pending, start = "", 0
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if line.startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                continue
            if not pending:
                start = n
            stripped = line.rstrip("\n")
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            command = pending + stripped
            pending = ""
            if "gst-launch-1.0" in command:
                out.append((f"{rel}:{start}", " ".join(command.split())))
    return out


def props(tokens, name):
    """Values of `name=` properties in the launch tokens."""
    return [t.split("=", 1)[1] for t in tokens if t.startswith(name + "=")]


def duration_of(path):
    return float(check._ffprobe_json(["-show_format", path])["format"]["duration"])


def decodes(paths, want_duration, what):
    """ffmpeg decodes the concatenation cleanly, to about want_duration."""
    f = []
    source = "concat:" + "|".join(paths) if len(paths) > 1 else paths[0]
    r = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", source, "-f", "null", "-"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    if r.returncode != 0 or r.stderr.strip():
        f.append(f"{what}: ffmpeg: {r.stderr.strip()[-300:]}")
    got = duration_of(source)
    if want_duration is not None and abs(got - want_duration) > 0.5:
        f.append(f"{what}: {got:.2f} s, the input has {want_duration:.2f} s")
    return f


def check_playlist_output(playlist, want_duration, tokens):
    pl = check.parse_playlist(playlist)
    if pl["playlist_type"] == "VOD":
        fails, summary = check.check_stream(playlist, expect_duration=want_duration,
                                            service_names=False)
        print(f"     {os.path.basename(playlist)}: EXTINF {summary.get('extinf')}", flush=True)
        return fails
    f = check.check_playlist(dict(pl, playlist_type="VOD"), service_names=False)
    missing = [s["uri"] for s in pl["segments"] if not os.path.exists(s["path"])]
    if missing:
        f.append(f"listed but missing: {missing}")
    folder = os.path.dirname(playlist)
    on_disk = sorted(n for n in os.listdir(folder) if n.endswith(".ts"))
    limit = props(tokens, "max-files")
    if limit and int(limit[0]) > 0:
        if len(pl["segments"]) != int(limit[0]) or len(on_disk) != int(limit[0]):
            f.append(f"max-files={limit[0]}: {len(pl['segments'])} listed, {len(on_disk)} on disk")
        if pl["media_sequence"] == 0:
            f.append("max-files: MEDIA-SEQUENCE never advanced")
    print(f"     {os.path.basename(playlist)}: {len(pl['segments'])} segments listed, "
          f"MEDIA-SEQUENCE {pl['media_sequence']}, {len(on_disk)} files", flush=True)
    return f


class PlainServer:
    """Python's http.server over a folder: no Range support (a 200 with the whole file to
    every GET), each request's method and path logged."""

    def __init__(self, folder):
        log = self.log = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=folder, **kw)

            def send_head(self):
                log.append((self.command, self.path))
                return super().send_head()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def gets(self):
        return [p for m, p in self.log if m == "GET"]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def run_line(text):
    words = shlex.split(text)
    env = gstenv.launch_env()
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        k, v = words.pop(0).split("=", 1)
        env[k + "_1_0" if k == "GST_PLUGIN_PATH" else k] = v.replace("build/gst", os.path.join(BUILD, "gst"))
    if not words or words[0] != "gst-launch-1.0":
        return [f"not a gst-launch-1.0 command: {text[:80]}"]
    tokens = words[1:]
    f = []
    with tempfile.TemporaryDirectory(prefix="tws-docs-") as cwd:
        inputs = []
        web = None
        for loc in props(tokens, "location"):
            if loc in CLIPS:
                shutil.copy(clip(loc), os.path.join(cwd, loc))
                inputs.append(loc)
            m = re.match(r"^http://127\.0\.0\.1:\d+/([^/?]+)$", loc)
            if m and m.group(1) in CLIPS:
                web = web or PlainServer(cwd)
                shutil.copy(clip(m.group(1)), os.path.join(cwd, m.group(1)))
                inputs.append(m.group(1))
                tokens = [f"location=http://127.0.0.1:{web.port}/{m.group(1)}"
                          if t == f"location={loc}" else t for t in tokens]
        s3_locations = [loc for loc in props(tokens, "location") + props(tokens, "playlist-location")
                        if loc.startswith("s3://")]
        s3 = None
        try:
            if s3_locations:
                s3 = S3Server(buckets=sorted({loc[5:].split("/", 1)[0] for loc in s3_locations}))
                s3.start()
                tokens = [f"endpoint={s3.endpoint}" if t.startswith("endpoint=") else
                          f"access-key-id={ACCESS_KEY}" if t.startswith("access-key-id=") else
                          f"secret-access-key={SECRET_KEY}" if t.startswith("secret-access-key=") else t
                          for t in tokens]
            r = subprocess.run(["gst-launch-1.0"] + tokens, cwd=cwd, env=env, capture_output=True,
                               text=True, timeout=TIMEOUT)
            log = r.stdout + r.stderr
            if r.returncode != 0 or "ERROR" in log:
                return [f"exit {r.returncode}: {log.strip()[-500:]}"]
            want = duration_of(os.path.join(cwd, inputs[0])) if inputs else None
            checked = 0
            for pl in props(tokens, "playlist-location"):
                checked += 1
                if pl.startswith("s3://"):
                    bucket, key = pl[5:].split("/", 1)
                    folder = os.path.join(cwd, "from-s3")
                    os.makedirs(folder, exist_ok=True)
                    prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
                    for k in s3.list(bucket, prefix):
                        with open(os.path.join(folder, k[len(prefix):]), "wb") as fh:
                            fh.write(s3.get(bucket, k))
                    pl = os.path.join(folder, key[len(prefix):])
                else:
                    pl = os.path.join(cwd, pl)
                if not os.path.exists(pl):
                    f.append(f"no playlist at {pl}")
                    continue
                f += check_playlist_output(pl, want, tokens)
            if "multifilesink" in tokens:
                checked += 1
                pattern = [v for v in props(tokens, "location") if "%" in v][0]
                files = sorted(glob.glob(os.path.join(cwd, re.sub(r"%0?\d*d", "*", pattern))))
                if not files:
                    f.append(f"multifilesink wrote nothing matching {pattern}")
                else:
                    bounds = props(tokens, "boundaries")
                    last = float(bounds[0].split(",")[-1]) if bounds else None
                    expect = min(want, last) if want and last else want
                    f += decodes(files, expect, f"{len(files)} segments")
            if "filesink" in tokens:
                checked += 1
                out = [v for v in props(tokens, "location") if v not in CLIPS][-1]
                f += decodes([os.path.join(cwd, out)], want, out)
            if web and tokens[-1] == "fakesink":
                # Read over HTTP into a fakesink: the point is how it was read.
                checked += 1
                if len(web.gets()) != 1:
                    f.append(f"{len(web.gets())} GETs to a server without Range support: "
                             f"{web.gets()}")
            if checked == 0:
                f.append("the test does not know what this line writes: add a check")
        finally:
            if s3:
                s3.stop()
            if web:
                web.stop()
    return f


def run_example(command, src):
    with tempfile.TemporaryDirectory(prefix="tws-example-") as out:
        r = subprocess.run(command + [src, out], capture_output=True, text=True, timeout=TIMEOUT,
                           env=gstenv.launch_env())
        if r.returncode != 0:
            return [f"exit {r.returncode}: {(r.stdout + r.stderr)[-500:]}"]
        printed = [l for l in r.stdout.splitlines() if l.startswith("segment ")]
        playlist = os.path.join(out, "index.m3u8")
        pl = check.parse_playlist(playlist)
        f = []
        if len(printed) != len(pl["segments"]):
            f.append(f"printed {len(printed)} segments, the playlist lists {len(pl['segments'])}")
        fails, summary = check.check_stream(playlist, expect_duration=duration_of(src),
                                            service_names=False)
        print(f"     EXTINF {summary.get('extinf')}", flush=True)
        return f + fails


def main():
    run = Runner("gst-docs: documented launch lines and examples run")
    lines = launch_lines()
    if not lines:
        print("FAIL no gst-launch-1.0 line found in README.md or docs/")
        sys.exit(1)
    for where, text in lines:
        run.case(f"{where}: {text[text.index('gst-launch-1.0'):][:90]}", run_line, text)
    src = clip("in.mov")
    run.case("examples: C program build/examples/hls-from-file", run_example,
             [os.path.join(BUILD, "examples", "hls-from-file")], src)
    run.case("examples: Python program examples/hls_from_file.py", run_example,
             [sys.executable, os.path.join(ROOT, "examples", "hls_from_file.py")], src)
    run.finish()


if __name__ == "__main__":
    main()
