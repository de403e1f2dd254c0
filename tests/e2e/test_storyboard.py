#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Trick-play storyboards (issue 25, "Trick play"), through `tws serve` and `tws storyboard`.

The source: 40 s of 640x360 at 25 fps whose picture is a flat gray stepping every second
(luma 16 + 5 * s), a keyframe every 2 s, AAC beside it; a 320x240 target of 10 s segments.

  served      the media playlist names its storyboard in a `#TWS-STORYBOARD:` line, signed
              like its segments; nothing of it is stored before it is asked for; GET of the
              WebVTT makes it (200 text/vtt): one cue per keyframe (every 2 s) covering 0..40 s
              without gaps, each pointing at a signed sprite reference with #xywh; each tile
              of each sprite (GET, 200 image/jpeg) shows the source's picture at its cue's
              start (gray level within 6 of the source's); sprites and WebVTT are stored next
              to the playlist; the WebVTT is then served from storage, the same text
  regenerated a sprite and the WebVTT deleted: asked again, made again, the same bytes
  refused    another token, a sprite past the last, an audio-only playlist's storyboard: 404;
              unsigned: 403
  cli         `tws storyboard PLAYLIST_URI` stores the same objects and prints their URIs

TWS_E2E_ONLY=served (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the buckets.
"""

import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402
from tws import Env  # noqa: E402

FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
SECONDS = 40
KEY_SECONDS = 2
TAG = "#TWS-STORYBOARD:"


def make_source(path):
    if not os.path.exists(path):
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"color=black:size=640x360:rate=25:duration={SECONDS},"
                        "geq=lum='16+5*floor(T)':cb=128:cr=128",
                        "-f", "lavfi", "-i", f"sine=duration={SECONDS}",
                        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(25 * KEY_SECONDS),
                        "-keyint_min", str(25 * KEY_SECONDS), "-sc_threshold", "0",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", path + ".tmp.mp4"],
                       check=True, timeout=300)
        os.rename(path + ".tmp.mp4", path)
    return path


def source_level(t):
    """The source's gray at media time t, as full-range RGB (from video-range luma)."""
    return (5 * int(t)) * 255.0 / 219.0


def decode_jpeg_gray(data):
    """(width, height, gray bytes) of a JPEG, decoded by ffmpeg."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height",
                            "-of", "csv=p=0", "-"], input=data, capture_output=True, timeout=60)
    w, h = (int(x) for x in probe.stdout.decode().strip().split(","))
    r = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", "-", "-f", "rawvideo",
                        "-pix_fmt", "gray", "-"], input=data, capture_output=True, timeout=60)
    return w, h, r.stdout


def tile_mean(gray, width, x, y, w, h):
    total = n = 0
    for row in range(y + 2, y + h - 2):
        line = gray[row * width + x + 2: row * width + x + w - 2]
        total += sum(line)
        n += len(line)
    return total / n if n else -1


def parse_vtt(text):
    """[(start, end, ref, x, y, w, h)]"""
    cues = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})$", line)
        if not m or i + 1 >= len(lines):
            continue
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        ref, _, frag = lines[i + 1].partition("#xywh=")
        x, y, w, h = (int(v) for v in frag.split(","))
        cues.append((start, end, ref, x, y, w, h))
    return cues


class World(serve.World):
    def __init__(self, name):
        super().__init__(f"storyboard-{name}")

    def playlist(self, src, key, video=True):
        uri = self.env.put(src, f"in/{key}.mp4")
        target = {"URI": f"oss://media/out/{key}", "Duration": 10, "InitialTranscode": 0}
        if video:
            target["Video"] = {"TranscodeVideo": {"Codec": "h264", "Resolution": "320x240"}}
        target["Audio"] = {"TranscodeAudio": {"Codec": "aac"}}
        self.server.create_playlist({"SourceURI": uri, "Targets": [target]})
        return self.server.sign(f"oss://media/out/{key}.m3u8")

    def get(self, url):
        return self.server.get(serve.local_path(url))

    def storyboard_url(self, playlist_url):
        r = self.get(playlist_url)
        if r.status != 200:
            raise serve.ServeError(f"GET playlist: {r.describe()}")
        lines = [l for l in r.text().splitlines() if l.startswith(TAG)]
        if len(lines) != 1:
            return None
        return urllib.parse.urljoin(playlist_url, lines[0][len(TAG):])

    def stored(self):
        return sorted(p for p, _s, _m in self.env.listing() if "storyboard" in p)


def check_storyboard(world, vtt_url, text, f):
    cues = parse_vtt(text)
    want = SECONDS // KEY_SECONDS
    if len(cues) != want:
        f.append(f"{len(cues)} cues, want one per keyframe: {want}")
    if cues and (cues[0][0] != 0 or abs(cues[-1][1] - SECONDS) > 0.05):
        f.append(f"cues cover {cues[0][0]}..{cues[-1][1]}, want 0..{SECONDS}")
    for a, b in zip(cues, cues[1:]):
        if abs(a[1] - b[0]) > 1e-6:
            f.append(f"a gap or overlap between cues at {a[1]} and {b[0]}")
            break
    sprites = {}
    for start, _end, ref, x, y, w, h in cues:
        url = urllib.parse.urljoin(vtt_url, ref)
        f += [f"sprite {ref}: {m}" for m in serve.check_signed_url(url)]
        if ref not in sprites:
            r = world.get(url)
            if r.status != 200 or "image/jpeg" not in (r.header("content-type") or ""):
                f.append(f"GET sprite {ref.split('?')[0]}: {r.describe()}")
                return
            sprites[ref] = decode_jpeg_gray(r.body)
        sw, _sh, gray = sprites[ref]
        got = tile_mean(gray, sw, x, y, w, h)
        if abs(got - source_level(start + 0.5)) > 6:
            f.append(f"tile at {start:.1f} s shows gray {got:.1f}, the source {source_level(start + 0.5):.1f}")
    if cues:
        w, h = cues[0][5], cues[0][6]
        if (w, h) != (160, 90):
            f.append(f"tiles {w}x{h}, want 160x90 (16:9 source)")
    print(f"     {len(cues)} cues, {len(sprites)} sprite(s), "
          f"{sum(len(s[2]) for s in sprites.values())} gray bytes decoded", flush=True)


def case_served(src):
    f = []
    with World("served") as w:
        url = w.playlist(src, "movie")
        vtt_url = w.storyboard_url(url)
        if not vtt_url:
            return ["the served playlist has no (or several) #TWS-STORYBOARD lines"]
        f += [f"storyboard URL: {m}" for m in serve.check_signed_url(vtt_url)]
        if w.stored():
            f.append(f"stored before anyone asked: {w.stored()}")
        r = w.get(vtt_url)
        if r.status != 200 or "text/vtt" not in (r.header("content-type") or ""):
            return f + [f"GET storyboard: {r.describe()}"]
        text = r.text()
        if not text.startswith("WEBVTT"):
            f.append("the storyboard does not start with WEBVTT")
        check_storyboard(w, vtt_url, text, f)
        stored = w.stored()
        if not any(p.endswith("-storyboard.vtt") for p in stored) or \
                not any(p.endswith("-storyboard-0.jpg") for p in stored):
            f.append(f"stored: {stored}")
        again = w.get(vtt_url)
        strip = re.compile(r"\?[^#\s]*")
        if again.status != 200 or strip.sub("", again.text()) != strip.sub("", text):
            f.append("served again from storage: a different storyboard")
    return f


def case_regenerated(src):
    f = []
    with World("regen") as w:
        url = w.playlist(src, "movie")
        vtt_url = w.storyboard_url(url)
        first = w.get(vtt_url).text()
        cue = parse_vtt(first)[0]
        sprite_url = urllib.parse.urljoin(vtt_url, cue[2])
        before = w.get(sprite_url).body
        for p in w.stored():
            os.remove(os.path.join(w.env.bucket, p))
        r = w.get(sprite_url)
        if r.status != 200 or r.body != before:
            f.append(f"a deleted sprite asked again: {r.describe()}, same bytes {r.body == before}")
        os.remove(os.path.join(w.env.bucket, [p for p in w.stored() if p.endswith(".vtt")][0]))
        r = w.get(vtt_url)
        strip = re.compile(r"\?[^#\s]*")
        if r.status != 200 or strip.sub("", r.text()) != strip.sub("", first):
            f.append(f"a deleted storyboard asked again: {r.describe()}")
    return f


def case_refused(src):
    f = []
    with World("refused") as w:
        url = w.playlist(src, "movie")
        vtt_url = w.storyboard_url(url)
        path = urllib.parse.urlsplit(vtt_url).path
        other = re.sub(r"-[0-9a-f]{32}-storyboard", "-" + "0" * 32 + "-storyboard", path)
        r = w.server.get(serve.signed_path(other))
        if r.status != 404:
            f.append(f"another token: {r.describe()}")
        r = w.server.get(path)
        if r.status != 403:
            f.append(f"unsigned: {r.describe()}")
        audio_url = w.playlist(src, "audio-only", video=False)
        if w.storyboard_url(audio_url) is not None:
            f.append("an audio-only playlist names a storyboard")
        apath = urllib.parse.urlsplit(audio_url).path.replace(".m3u8", "-" + "a" * 32 + "-storyboard.vtt")
        r = w.server.get(serve.signed_path(apath))
        if r.status != 404:
            f.append(f"an audio-only playlist's storyboard: {r.describe()}")
        if w.stored():
            f.append(f"refusals stored something: {w.stored()}")
        # A sprite past the last: the storyboard is made (as for any sprite not stored), the
        # sprite is not there.
        r = w.server.get(serve.signed_path(path.replace("-storyboard.vtt", "-storyboard-9.jpg")))
        if r.status != 404:
            f.append(f"a sprite past the last: {r.describe()}")
    return f


def case_cli(src):
    f = []
    with Env("storyboard-cli") as env:
        uri = env.put(src, "in/movie.mp4")
        target = {"URI": "oss://media/out/movie", "Duration": 10,
                  "Video": {"TranscodeVideo": {"Codec": "h264", "Resolution": "320x240"}}}
        env.playlist({"SourceURI": uri, "Targets": [target]})
        out = env.run(["storyboard", "--config", env.config, "oss://media/out/movie.m3u8"], timeout=300)
        printed = sorted(l for l in out.stdout.splitlines() if l)
        stored = sorted("oss://media/" + p for p, _s, _m in env.listing() if "storyboard" in p)
        if out.rc != 0 or printed != stored or len(stored) < 2:
            f.append(f"exit {out.rc}, printed {printed}, stored {stored}: {out.stderr[-300:]}")
        bad = env.run(["storyboard", "--config", env.config, "oss://media/out/nothing.m3u8"], timeout=60)
        if bad.rc != 1 or len(bad.stderr.strip().splitlines()) != 1:
            f.append(f"a missing playlist: exit {bad.rc}, stderr {bad.stderr!r}")
    return f


def main():
    run = Runner("storyboard: trick-play thumbnails")
    media_dir = media.cache_dir()
    src = make_source(os.path.join(media_dir, "storyboard-steps.mp4"))
    run.case("served: named by the playlist, made on first GET, each tile the source's picture",
             case_served, src)
    run.case("regenerated: a deleted sprite and WebVTT are made again, the same", case_regenerated,
             src)
    run.case("refused: another token, a sprite past the last, audio only: 404; unsigned: 403",
             case_refused, src)
    run.case("cli: tws storyboard stores and prints the same objects", case_cli, src)
    run.finish()


if __name__ == "__main__":
    main()
