#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seek hints (issue 25, "Done means" 2), through `tws serve`.

The source: 40 s of 640x360 testsrc2 at 25 fps, a keyframe every 4 s, a 440 Hz tone beside it;
a 426x240 target of 10 s segments, nothing transcoded ahead. A player that seeks to 17.3 s asks
for segment 1 (10-20 s) with `&t=17.3`.

  draft       that response (200) is a segment whose frames before the hint are a draft
              (`Cache-Control: no-cache`); it is stored, and with nothing else to do the
              server remakes it at full quality, replacing the stored object. Readers that
              keep fetching it meanwhile (HTTP and the bucket's file) get the draft or the
              remake, whole, never anything else; the remade one is served `immutable`. The
              stream passes the strict check (tests/e2e/lib/check.py) with the draft in place
              of segment 1 and with the remake; the remake's PSNR against the source is within
              0.5 dB of the same segment made without a hint (`tws segment`), and the draft's
              frames from the hint on are within 1 dB of it too (the viewer sees those)
  ignored     a hint outside the segment, or on a stored segment: the segment as without it
              (no draft: `immutable`, the same bytes as a plain request)
  h265        an H.265 target's segment made with a hint: 250 HEVC frames decode, audio beside
  malformed   a hint that is not a plain number of seconds (t=abc, t=-1, t=1e3, t=nan) is
              ignored like any query parameter besides the signature: the segment as without
              it

TWS_E2E_ONLY=draft (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the buckets.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402

FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
SECONDS = 40
KEY_SECONDS = 4
media.RECIPES.setdefault(
    "seek-hint", ("src-seek-hint-testsrc2-40s.mp4", "640x360 testsrc2 40 s, keyframe every 4 s",
                  media._video_in("640x360", "25", SECONDS) + media._audio_in(SECONDS) +
                  media._x264(25 * KEY_SECONDS) + media.AAC, "av"))
HINT = 17.3
SEGMENT = 1  # 10-20 s
REMAKE_TIMEOUT = 60


def target(key):
    return {"URI": f"oss://media/out/{key}", "Duration": 10, "InitialTranscode": 0,
            "Video": {"TranscodeVideo": {"Codec": "h264", "Resolution": "x240"}},
            "Audio": {"TranscodeAudio": {"Codec": "aac"}}}


def psnr_frames(segment_path, src, start, seconds):
    """Per-frame luma PSNR of a segment's video against the source's [start, start + seconds),
    scaled to the segment's size the same way."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = os.path.join(tmp, "psnr.log")
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "stream=width,height", "-of", "csv=p=0", segment_path],
                               capture_output=True, text=True, timeout=60)
        w, h = (int(x) for x in probe.stdout.split()[0].split(",")[:2])
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", segment_path, "-ss", str(start),
                        "-t", str(seconds), "-i", src, "-filter_complex",
                        f"[0:v]setpts=PTS-STARTPTS[a];[1:v]scale={w}:{h}:flags=bicubic,"
                        f"setpts=PTS-STARTPTS[b];[a][b]psnr=stats_file={stats}",
                        "-f", "null", "-"], check=True, capture_output=True, timeout=300)
        values = []
        with open(stats) as f:
            for line in f:
                m = re.search(r"psnr_y:(\S+)", line)
                if m:
                    values.append(100.0 if m.group(1) == "inf" else float(m.group(1)))
        return values


def mean(values):
    return sum(values) / len(values) if values else float("nan")


class World(serve.World):
    def __init__(self, name):
        super().__init__(f"seek-hint-{name}")

    def playlist(self, src, key):
        uri = self.env.put(src, f"in/{key}.mp4")
        self.server.create_playlist({"SourceURI": uri, "Targets": [target(key)]})
        return self.server.sign(f"oss://media/out/{key}.m3u8")

    def segment_urls(self, playlist_url):
        r = self.server.get(playlist_url)
        if r.status != 200:
            raise serve.ServeError(f"GET playlist: {r.describe()}")
        base = self.server.base + serve.local_path(playlist_url)
        return [urllib.parse.urljoin(base, line) for line in serve.segment_lines(r.text())]

    def get(self, url, hint=None):
        return self.server.get(serve.local_path(url) + (f"&t={hint}" if hint is not None else ""))

    def stored_path(self, url):
        name = os.path.basename(urllib.parse.urlsplit(url).path)
        return os.path.join(self.env.bucket, "out", name)


def digest(data):
    """(sha256, size) of a body."""
    return hashlib.sha256(data).hexdigest(), len(data)


def read_whole(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def case_draft(src):
    f = []
    with World("draft") as w:
        url = w.playlist(src, "movie")
        urls = w.segment_urls(url)
        seg_url = urls[SEGMENT]
        r = w.get(seg_url, HINT)
        if r.status != 200 or not r.body:
            return [f"GET segment {SEGMENT} with t={HINT}: {r.describe()}"]
        draft = r.body
        if r.header("cache-control") != "no-cache":
            f.append(f"the draft's Cache-Control: {r.header('cache-control')!r}, want no-cache")
        # Readers during the remake: every answer whole, the draft or the remake.
        seen_http, seen_file = [], []
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                got = w.get(seg_url)
                seen_http.append((got.status, digest(got.body), got.header("cache-control")))
                data = read_whole(w.stored_path(seg_url))
                if data is not None:
                    seen_file.append(digest(data))
                time.sleep(0.01)

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + REMAKE_TIMEOUT
        remade = None
        while time.monotonic() < deadline:
            data = read_whole(w.stored_path(seg_url))
            if data is not None and data != draft:
                remade = data
                break
            time.sleep(0.05)
        time.sleep(0.5)  # a few reads after the replacement too
        stop.set()
        for t in threads:
            t.join()
        if remade is None:
            return f + [f"the draft was not remade in {REMAKE_TIMEOUT} s" + w.server.stderr_tail()]
        whole = (digest(draft), digest(remade))
        bad_http = [(s, b[1]) for s, b, _c in seen_http if s != 200 or b not in whole]
        bad_file = [b[1] for b in seen_file if b not in whole]
        if bad_http:
            f.append(f"{len(bad_http)} of {len(seen_http)} HTTP reads neither the draft nor the "
                     f"remake: {bad_http[:3]}")
        if bad_file:
            f.append(f"{len(bad_file)} of {len(seen_file)} file reads neither the draft nor the "
                     f"remake (sizes {bad_file[:3]}; draft {len(draft)}, remake {len(remade)})")
        after = w.get(seg_url)
        if after.body != remade or after.header("cache-control") != serve_immutable():
            f.append(f"after the remake: same bytes {after.body == remade}, Cache-Control "
                     f"{after.header('cache-control')!r}")
        n_draft = sum(1 for _s, b, _c in seen_http if b == whole[0])
        print(f"     draft {len(draft)} bytes, remake {len(remade)} bytes; readers got the draft "
              f"{n_draft}x, the remake {len(seen_http) - n_draft}x over HTTP, "
              f"{len(seen_file)} file reads", flush=True)

        with tempfile.TemporaryDirectory() as tmp:
            full = os.path.join(tmp, "remade")
            playlist_path, _text, _urls = serve.download_stream(w.server, url, full)
            seg_name = os.path.basename(urllib.parse.urlsplit(seg_url).path)
            failures, _summary = check.check_stream(playlist_path, expect_duration=SECONDS)
            f += [f"strict check with the remake: {m}" for m in failures]
            with_draft = os.path.join(tmp, "draft")
            shutil.copytree(full, with_draft)
            with open(os.path.join(with_draft, seg_name), "wb") as out:
                out.write(draft)
            failures, _summary = check.check_stream(os.path.join(with_draft,
                                                                 os.path.basename(playlist_path)),
                                                    expect_duration=SECONDS)
            f += [f"strict check with the draft: {m}" for m in failures]

            # The same segment made without a hint, by `tws segment` (as the remake is made).
            plain_uri = w.env.put(src, "in/plain.mp4")
            w.env.playlist({"SourceURI": plain_uri, "Targets": [target("plain")]})
            w.env.segment("oss://media/out/plain.m3u8", SEGMENT)
            plain = [p for p, _s, _m in w.env.listing()
                     if re.search(rf"out/plain-[0-9a-f]+-{SEGMENT}\.ts$", p)]
            if len(plain) != 1:
                return f + [f"tws segment stored {plain}"]
            start = 10.0 * SEGMENT
            cut = int((HINT - start) * 25)
            scores = {}
            for name, path in (("plain", os.path.join(w.env.bucket, plain[0])),
                               ("remake", os.path.join(full, seg_name)),
                               ("draft", os.path.join(with_draft, seg_name))):
                scores[name] = psnr_frames(path, src, start, 10)
                if len(scores[name]) != 250:
                    f.append(f"{name}: {len(scores[name])} frames compared, want 250")
            plain_db, remake_db = mean(scores["plain"]), mean(scores["remake"])
            draft_before, draft_after = mean(scores["draft"][:cut]), mean(scores["draft"][cut:])
            plain_after = mean(scores["plain"][cut:])
            print(f"     PSNR (luma, against the source): without a hint {plain_db:.2f} dB, "
                  f"remake {remake_db:.2f} dB; draft before the hint {draft_before:.2f} dB, "
                  f"from it {draft_after:.2f} dB (without a hint {plain_after:.2f} dB)",
                  flush=True)
            if not abs(remake_db - plain_db) <= 0.5:
                f.append(f"the remake's PSNR {remake_db:.2f} dB, without a hint {plain_db:.2f} dB")
            if not abs(draft_after - plain_after) <= 1.0:
                f.append(f"the draft from the hint on: PSNR {draft_after:.2f} dB, without a hint "
                         f"{plain_after:.2f} dB")
            if not draft_before < plain_db:
                f.append(f"the draft before the hint is no draft: {draft_before:.2f} dB")
    return f


def serve_immutable():
    return "public, max-age=31536000, immutable"


def case_ignored(src):
    f = []
    with World("ignored") as w:
        url = w.playlist(src, "movie")
        urls = w.segment_urls(url)
        r = w.get(urls[2], HINT)  # 17.3 s is not in segment 2 (20-30 s)
        if r.status != 200 or r.header("cache-control") != serve_immutable():
            f.append(f"a hint outside the segment: {r.describe()}, Cache-Control "
                     f"{r.header('cache-control')!r}")
        if read_whole(w.stored_path(urls[2])) != r.body:
            f.append("a hint outside the segment: the stored segment differs from the response")
        plain = w.get(urls[2])
        again = w.get(urls[2], 25.5)  # stored: served as it is
        if again.body != plain.body or again.header("cache-control") != serve_immutable():
            f.append("a hint on a stored segment changed the answer")
    return f


def case_h265(src):
    """An H.265 target's draft: x265 takes the draft's settings too; the segment decodes whole."""
    f = []
    with World("h265") as w:
        uri = w.env.put(src, "in/movie.mp4")
        t = target("movie")
        t["Video"]["TranscodeVideo"]["Codec"] = "h265"
        w.server.create_playlist({"SourceURI": uri, "Targets": [t]})
        urls = w.segment_urls(w.server.sign("oss://media/out/movie.m3u8"))
        r = w.get(urls[SEGMENT], HINT)
        if r.status != 200 or r.header("cache-control") != "no-cache":
            return [f"GET with t={HINT}: {r.describe()}, Cache-Control {r.header('cache-control')!r}"]
        with tempfile.NamedTemporaryFile(suffix=".ts") as seg:
            seg.write(r.body)
            seg.flush()
            info = check.probe_segment(seg.name)
            frames = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams",
                                     "v", "-show_entries", "stream=codec_name,nb_read_frames",
                                     "-of", "csv=p=0", seg.name],
                                    capture_output=True, text=True, timeout=120).stdout.split()
            if frames[:1] != ["hevc,250"]:
                f.append(f"the H.265 draft decodes as {frames}, want 250 HEVC frames")
            if not info.get("audio"):
                f.append("the H.265 draft has no audio")
    return f


def case_malformed(src):
    f = []
    with World("malformed") as w:
        url = w.playlist(src, "movie")
        urls = w.segment_urls(url)
        for bad in ("abc", "-1", "1e3", "17.3.4", "nan"):
            r = w.get(urls[SEGMENT], bad)
            if r.status != 200 or r.header("cache-control") != serve_immutable():
                f.append(f"t={bad}: {r.describe()}, Cache-Control {r.header('cache-control')!r}")
    return f


def main():
    run = Runner("seek-hint: a draft before the viewer's seek, remade at full quality")
    src = media.source("seek-hint")
    run.case("draft: stored, remade when idle, whole for every reader, strict joins, PSNR",
             case_draft, src)
    run.case("ignored: a hint outside the segment or on a stored one", case_ignored, src)
    run.case("h265: an H.265 target's draft decodes whole", case_h265, src)
    run.case("malformed: a hint that is not a number of seconds is ignored", case_malformed, src)
    run.finish()


if __name__ == "__main__":
    main()
