#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hlssegsink from gst-launch-1.0, as a GStreamer user runs it (issue 24 "Done means" 1 and 2).

  local        rangesrc ! decodebin3 ! x264enc / avenc_aac ! hlssegsink (the README's line)
               on a MOV: the VOD playlist and segments pass the strict check (lib/check.py:
               joins, EXTINF = media duration, ffmpeg decode, GStreamer's hlsdemux to EOS)
  s3           the same pipeline writing s3:// segments and playlist to s3rver; downloaded,
               the same checks; no temporary object left in the bucket
  remux        an already-encoded MOV with a keyframe every 3 s, `qtdemux ! h264parse !
               hlssegsink` at the default 10 s target: segments start on keyframes (12 s, 24 s),
               EXTINF exact, strict check
  lookahead    a 1.5 s clip, boundaries 0,0.5,1,1.5: x264enc with its default look-ahead
               (longer than the clip; GStreamer 1.22 cannot force keyframes inside it) gives
               valid HLS, every segment opening with a keyframe, EXTINF summing to the clip;
               tune=zerolatency with strict=true gives the 3 planned segments (0.5, 0.5, 0.48)
  strict       strict=true on the 3 s-GOP source: a non-zero exit, an error naming the
               segment, and no partial file (nor temporary file) in the output folder
  event        playlist-type=event on a live source: while running, the playlist lists
               segments without ENDLIST; after EOS (SIGINT with -e) it ends with ENDLIST
  max-files    max-files=3 on a live source: the playlist lists the latest 3 segments with
               MEDIA-SEQUENCE advanced, and exactly those 3 files are left on disk
  bad-location a location without %d, a folder that cannot be made: one clear error, exit
               non-zero, nothing written

TWS_E2E_ONLY=s3 (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the output.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import gstenv  # noqa: E402
from harness import Runner  # noqa: E402
from s3server import ACCESS_KEY, SECRET_KEY, S3Server  # noqa: E402

FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
GST_LAUNCH = "gst-launch-1.0"
TIMEOUT = 300

# The README's re-encode line, with the input and output filled in.
REENCODE = ("rangesrc location={src} ! decodebin3 name=d "
            "d. ! queue ! videoconvert ! x264enc ! h264parse ! hls.video "
            "d. ! queue ! audioconvert ! audioresample ! avenc_aac ! aacparse ! hls.audio "
            "hlssegsink name=hls target-duration=4 playlist-type=vod {out}")
REMUX = ("rangesrc location={src} ! qtdemux name=d "
         "d.video_0 ! h264parse ! hls.video d.audio_0 ! aacparse ! hls.audio "
         "hlssegsink name=hls playlist-type=vod {out}")


def make_source(path, duration, gop, rate=25, size="320x240"):
    if not os.path.exists(path):
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={duration}",
                        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration}",
                        "-c:v", "libx264", "-preset", "veryfast", "-g", str(gop),
                        "-keyint_min", str(gop), "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "64k", "-ac", "2", path],
                       check=True, timeout=TIMEOUT)
    return path


def launch(line, timeout=TIMEOUT):
    """Runs gst-launch-1.0 -e on `line`; (exit status, stdout + stderr)."""
    r = subprocess.run([GST_LAUNCH, "-e"] + line.split(), capture_output=True, text=True,
                       env=gstenv.launch_env(),
                       timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def outputs(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def leftovers(folder):
    """Hidden temporary files the sink writes before renaming."""
    return [n for n in outputs(folder) if n.startswith(".")]


class Case:
    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"tws-gst-sink-{name}-")
        self.keep = bool(os.environ.get("TWS_E2E_KEEP"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.keep:
            print(f"     kept {self.dir}", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)


def source_duration(path):
    return float(check._ffprobe_json(["-show_format", path])["format"]["duration"])


def keyframe_times(path):
    j = check._ffprobe_json(["-select_streams", "v:0", "-skip_frame", "nokey", "-show_frames",
                             "-show_entries", "frame=pts_time", path])
    return [float(fr["pts_time"]) for fr in j.get("frames", [])]


def strict_check(playlist, duration, **kw):
    fails, summary = check.check_stream(playlist, expect_duration=duration, service_names=False,
                                        **kw)
    print(f"     {len(summary.get('extinf', []))} segments, EXTINF {summary.get('extinf')}",
          flush=True)
    return fails


def case_local(src):
    with Case("local") as c:
        out = f"location={c.path('out', 'seg%05d.ts')} playlist-location={c.path('out', 'index.m3u8')}"
        rc, log = launch(REENCODE.format(src=src, out=out))
        if rc != 0:
            return [f"gst-launch exit {rc}: {log[-600:]}"]
        f = strict_check(c.path("out", "index.m3u8"), source_duration(src), frame_rate=25.0)
        if leftovers(c.path("out")):
            f.append(f"temporary files left: {leftovers(c.path('out'))}")
        return f


def case_s3(src):
    f = []
    with Case("s3") as c, S3Server(buckets=["hls"]) as s3:
        out = (f"location=s3://hls/movie/seg%05d.ts playlist-location=s3://hls/movie/index.m3u8 "
               f"endpoint={s3.endpoint} access-key-id={ACCESS_KEY} secret-access-key={SECRET_KEY}")
        rc, log = launch(REENCODE.format(src=src, out=out))
        if rc != 0:
            return [f"gst-launch exit {rc}: {log[-600:]}"]
        keys = sorted(s3.list("hls"))
        want_segments = [k for k in keys if k.endswith(".ts")]
        if "movie/index.m3u8" not in keys or not want_segments:
            return [f"bucket holds {keys}"]
        if any(not (k.endswith(".ts") or k.endswith(".m3u8")) for k in keys):
            f.append(f"unexpected objects in the bucket: {keys}")
        os.makedirs(c.path("dl"))
        for k in keys:
            with open(c.path("dl", os.path.basename(k)), "wb") as fh:
                fh.write(s3.get("hls", k))
        pl = check.parse_playlist(c.path("dl", "index.m3u8"))
        if sorted("movie/" + s["uri"] for s in pl["segments"]) != want_segments:
            f.append(f"playlist names {[s['uri'] for s in pl['segments']]}, bucket has {want_segments}")
        f += strict_check(c.path("dl", "index.m3u8"), source_duration(src), frame_rate=25.0)
    return f


def case_remux(src):
    with Case("remux") as c:
        out = f"location={c.path('seg%05d.ts')} playlist-location={c.path('index.m3u8')}"
        rc, log = launch(REMUX.format(src=src, out=out))
        if rc != 0:
            return [f"gst-launch exit {rc}: {log[-600:]}"]
        f = strict_check(c.path("index.m3u8"), source_duration(src), frame_rate=25.0)
        keys = keyframe_times(src)
        # Cut at the first keyframe at or after each multiple of 10 s.
        want, t = [], 0.0
        for b in range(10, int(source_duration(src)), 10):
            k = min((x for x in keys if x >= b - 0.02), default=None)
            if k is not None and k > t:
                want.append(k)
                t = k
        pl = check.parse_playlist(c.path("index.m3u8"))
        starts, acc = [], 0.0
        for s in pl["segments"][:-1]:
            acc += s["extinf"]
            starts.append(round(acc, 3))
        if [round(x, 3) for x in want] != starts:
            f.append(f"segments start at {starts}, keyframes after each 10 s at {want}")
        return f


def case_lookahead(exact):
    """exact=False: x264enc's defaults (a 40-frame look-ahead, longer than the clip), the
    tolerant cut: valid HLS whatever keyframes came. exact=True: tune=zerolatency with
    strict=true: the three planned segments."""
    with Case("lookahead") as c:
        encoder = "x264enc tune=zerolatency" if exact else "x264enc"
        line = ("videotestsrc num-buffers=38 ! video/x-raw,framerate=25/1,width=320,height=240 ! "
                f"{encoder} ! h264parse ! hls.video "
                "audiotestsrc num-buffers=70 samplesperbuffer=1024 ! audio/x-raw,rate=48000 ! "
                "avenc_aac ! aacparse ! hls.audio "
                f"hlssegsink name=hls boundaries=0,0.5,1,1.5 playlist-type=vod "
                f"strict={'true' if exact else 'false'} "
                f"location={c.path('seg%05d.ts')} playlist-location={c.path('index.m3u8')}")
        rc, log = launch(line)
        if rc != 0:
            return [f"gst-launch exit {rc}: {log[-600:]}"]
        pl = check.parse_playlist(c.path("index.m3u8"))
        f = []
        for k, s in enumerate(pl["segments"]):
            size = os.path.getsize(s["path"]) if os.path.exists(s["path"]) else 0
            if size == 0:
                f.append(f"segment {k} is empty")
                continue
            first = check._ffprobe_json(["-select_streams", "v:0", "-show_frames", "-read_intervals",
                                         "%+#1", "-show_entries", "frame=key_frame", s["path"]])
            frames = first.get("frames", [])
            if not frames or int(frames[0].get("key_frame", 0)) != 1:
                f.append(f"segment {k} does not open with a keyframe")
        extinf = [round(s["extinf"], 3) for s in pl["segments"]]
        total = sum(extinf)
        if not 1.47 <= total <= 1.53:
            f.append(f"EXTINF total {total:.3f} s for 38 frames and a plan ending at 1.5: {extinf}")
        # Cut on the plan, a segment lasts from its boundary to the next; the last boundary
        # (1.5) ends the plan: frames whose middle is before it, 37 of 38, end at 1.48.
        if exact and extinf != [0.5, 0.5, 0.48]:
            f.append(f"strict EXTINF {extinf}, want [0.5, 0.5, 0.48]")
        print(f"     {encoder}: EXTINF {extinf}", flush=True)
        fails, _ = check.check_stream(c.path("index.m3u8"), service_names=False, clicks=False)
        return f + fails


def case_strict(src):
    with Case("strict") as c:
        out = f"location={c.path('seg%05d.ts')} playlist-location={c.path('index.m3u8')}"
        line = REMUX.format(src=src, out=out) + " strict=true"
        rc, log = launch(line)
        f = []
        if rc == 0:
            f.append("gst-launch succeeded with strict=true on a 3 s GOP at 10 s boundaries")
        if "does not start with a keyframe" not in log or "segment 1" not in log:
            f.append(f"error does not name the segment: {log[-400:]}")
        if leftovers(c.dir):
            f.append(f"temporary files left: {leftovers(c.dir)}")
        # Segment 0 (complete) may stay; nothing after it may exist.
        extra = [n for n in outputs(c.dir) if n.endswith(".ts") and n != "seg00000.ts"]
        if extra:
            f.append(f"files past the failed segment: {extra}")
        if os.path.exists(c.path("seg00000.ts")):
            probe = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", c.path("seg00000.ts"),
                                    "-f", "null", "-"], capture_output=True, text=True,
                                   timeout=TIMEOUT)
            if probe.returncode != 0 or probe.stderr.strip():
                f.append(f"segment 0 does not decode cleanly: {probe.stderr[-300:]}")
        return f


LIVE = ("videotestsrc is-live=true ! video/x-raw,framerate=25/1,width=160,height=120 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast ! h264parse ! hls.video "
        "audiotestsrc is-live=true ! avenc_aac ! aacparse ! hls.audio "
        "hlssegsink name=hls target-duration=1 {extra} "
        "location={dir}/seg%05d.ts playlist-location={dir}/index.m3u8")


def run_live(line, until, deadline=60):
    """gst-launch -e on a live `line` until until() is true (polled), then SIGINT: EOS."""
    proc = subprocess.Popen([GST_LAUNCH, "-e"] + line.split(), env=gstenv.launch_env(),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = None
    try:
        end = time.monotonic() + deadline
        while time.monotonic() < end and proc.poll() is None:
            seen = until()
            if seen:
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    return proc.returncode, out, seen


def read_playlist(path):
    try:
        return check.parse_playlist(path)
    except (OSError, IndexError, check.CheckError):
        return None


def case_event():
    with Case("event") as c:
        pl_path = c.path("index.m3u8")

        def running():
            pl = read_playlist(pl_path)
            return pl if pl and len(pl["segments"]) >= 3 else None

        rc, log, mid = run_live(LIVE.format(extra="playlist-type=event", dir=c.dir), running)
        f = []
        if rc != 0:
            f.append(f"gst-launch exit {rc}: {log[-400:]}")
        if not mid:
            return f + ["no playlist with 3 segments while running"]
        if mid["endlist"] or mid["playlist_type"] != "EVENT":
            f.append(f"while running: ENDLIST {mid['endlist']}, type {mid['playlist_type']}")
        end = read_playlist(pl_path)
        if not end or not end["endlist"]:
            f.append("no ENDLIST after EOS")
        elif [s["uri"] for s in end["segments"][:len(mid["segments"])]] != [s["uri"] for s in mid["segments"]]:
            f.append("the EVENT playlist lost or changed segments")
        else:
            fails = check.check_playlist(dict(end, playlist_type="VOD"), service_names=False)
            f += [x for x in fails]
            for s in end["segments"]:
                if not os.path.exists(s["path"]):
                    f.append(f"{s['uri']} listed but missing")
        return f


def case_max_files():
    with Case("max-files") as c:
        pl_path = c.path("index.m3u8")

        def enough():
            pl = read_playlist(pl_path)
            return pl if pl and pl["media_sequence"] >= 3 else None

        rc, log, _ = run_live(LIVE.format(extra="max-files=3", dir=c.dir), enough)
        f = []
        if rc != 0:
            f.append(f"gst-launch exit {rc}: {log[-400:]}")
        pl = read_playlist(pl_path)
        if not pl:
            return f + ["no playlist"]
        listed = sorted(os.path.basename(s["path"]) for s in pl["segments"])
        on_disk = sorted(n for n in outputs(c.dir) if n.endswith(".ts"))
        if len(listed) != 3 or listed != on_disk:
            f.append(f"playlist lists {listed}, folder holds {on_disk}")
        first = int(listed[0][3:8]) if listed else -1
        if pl["media_sequence"] != first or pl["media_sequence"] < 3:
            f.append(f"MEDIA-SEQUENCE {pl['media_sequence']}, first listed segment {first}")
        if not pl["endlist"]:
            f.append("no ENDLIST after EOS")
        return f


def case_bad_location(src):
    f = []
    with Case("bad") as c:
        rc, log = launch(REMUX.format(src=src, out=f"location={c.path('seg.ts')} "
                                                   f"playlist-location={c.path('index.m3u8')}"))
        if rc == 0 or "exactly one %d" not in log:
            f.append(f"a location without %d: exit {rc}, {log[-300:]}")
        if outputs(c.dir):
            f.append(f"written anyway: {outputs(c.dir)}")
        # A folder that cannot be made (a file stands in its place; root is refused too).
        blocker = c.path("blocker")
        open(blocker, "w").close()
        rc, log = launch(REMUX.format(src=src, out=f"location={blocker}/hls/seg%05d.ts "
                                                   f"playlist-location={blocker}/hls/index.m3u8"))
        if rc == 0 or "Could not write segment" not in log:
            f.append(f"an unwritable folder: exit {rc}, {log[-300:]}")
        if outputs(c.dir) != ["blocker"]:
            f.append(f"written anyway: {outputs(c.dir)}")
    return f


def main():
    run = Runner("gst-sink: hlssegsink from gst-launch-1.0")
    media_dir = media.cache_dir()
    mov = make_source(os.path.join(media_dir, "sink-in.mov"), 9, 50)
    gop3 = make_source(os.path.join(media_dir, "sink-gop3.mov"), 30, 75)
    run.case("local: rangesrc ! decodebin3 ! x264enc/avenc_aac ! hlssegsink, strict check",
             case_local, mov)
    run.case("s3: the same pipeline to s3:// objects on s3rver, strict check", case_s3, mov)
    run.case("remux: 3 s GOP, 10 s target: cut at the next keyframe, EXTINF exact", case_remux,
             gop3)
    run.case("lookahead: 1.5 s clip, boundaries 0,0.5,1,1.5, x264enc defaults: valid HLS",
             case_lookahead, False)
    run.case("lookahead exact: x264enc tune=zerolatency, strict=true: the 3 planned segments",
             case_lookahead, True)
    run.case("strict: 3 s GOP with strict=true fails cleanly, nothing partial left", case_strict,
             gop3)
    run.case("event: playlist grows without ENDLIST while live, ENDLIST at EOS", case_event)
    run.case("max-files: rolling window of 3 segments on disk and in the playlist", case_max_files)
    run.case("bad-location: no %d, unwritable folder: clear error, nothing written",
             case_bad_location, mov)
    run.finish()


if __name__ == "__main__":
    main()
