#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests the strict stream checker (lib/check.py) itself, without tws: the click detector on
synthetic signals, a keyframe-aligned continuous HLS encode (GStreamer hlssink2) that must pass
every check, ffmpeg's HLS muxer output that must pass the checks that apply to it, and
deliberately broken streams (a segment missing, shifted timestamps, a wrong EXTINF, a click in
the tone) that must fail, each for the right reason."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import numpy as np  # noqa: E402

import check  # noqa: E402
import media  # noqa: E402
import tsedit  # noqa: E402
from harness import Runner  # noqa: E402

TOKEN = "0123456789abcdef0123456789abcdef"
RATE = 44100


# ---------------------------------------------------------------------------------------------
# Click detector on synthetic signals

def tone(n, phase=0.0, amp=0.125, freq=440.0):
    t = np.arange(n) / RATE
    return amp * np.sin(2 * np.pi * freq * t + phase)


def noisy(x, seed=1):
    # A little broadband noise, as a lossy codec leaves.
    return x + np.random.default_rng(seed).normal(0, 2e-5, len(x))


BOUNDS = [int(RATE * s) + 17 for s in (1.0, 2.0, 3.0, 4.0)]


def synthetic_continuous():
    x = noisy(tone(5 * RATE))
    r = check.click_ratios(x, BOUNDS)
    return [f"continuous tone: click ratios {r}"] if max(r) > check.CLICK_LIMIT else []


def _spliced(edit):
    """A tone whose every boundary carries a fault: `edit(before, piece, k)` gives the signal
    up to the end of piece k (k >= 1) from the signal before it. Returns the click ratios."""
    pos, cut = [], 0
    x = tone(5 * RATE)
    out = None
    for k, b in enumerate(BOUNDS + [5 * RATE]):
        seg = x[cut:b]
        out = seg if out is None else edit(out, seg, k)
        pos.append(len(out))
        cut = b
    return check.click_ratios(noisy(out), pos[:-1])


def synthetic_faults():
    f = []
    cases = {
        # 1024 samples of silence (encoder priming left in)
        "silence gap": lambda a, s, k: np.concatenate([a, np.zeros(1024), s]),
        # 10 ms of tone dropped
        "10 ms dropped": lambda a, s, k: np.concatenate([a, s[441:]]),
        # one AAC frame repeated (overlap)
        "AAC frame overlap": lambda a, s, k: np.concatenate([a, a[-1024:], s]),
        # polarity flips at every boundary (a half-period phase jump)
        "phase jump": lambda a, s, k: np.concatenate([a, s * (-1) ** k]),
        # 3 samples dropped (a small, but audible, discontinuity)
        "3 samples dropped": lambda a, s, k: np.concatenate([a, s[3:]]),
    }
    for name, edit in cases.items():
        r = _spliced(edit)
        fired = [q > check.CLICK_LIMIT for q in r]
        if not all(fired):
            f.append(f"{name}: detector missed a fault: ratios {[round(q, 2) for q in r]}")
    return f


# ---------------------------------------------------------------------------------------------
# Tone continuity across joins (sample-exact joins)

def synthetic_tone_joins():
    """The tone check passes a continuous tone with a little noise; it fails a 15-sample
    (0.34 ms) shift at each join (in a coded stream the click ratio stays near 1.1-1.4 for
    such shifts: the codec's noise hides them from it), and the first 50 ms
    after each join of an encoder started cold there (no pre-roll: modelled as the tone fading
    in over 50 ms, which strays by about its amplitude), and nothing else."""
    f = []
    x = noisy(tone(5 * RATE))
    joins = check.tone_joins(x, BOUNDS)
    if check.tone_join_failures(joins):
        f.append(f"continuous tone fails: {check.tone_join_failures(joins)}")

    shifted = _splice_with(lambda a, s, k: np.concatenate([a, s[15:]]))
    fails = check.tone_join_failures(check.tone_joins(*shifted))
    if len([m for m in fails if "the tone jumps" in m]) != len(BOUNDS):
        f.append(f"15-sample shifts: expected {len(BOUNDS)} jumps, got {fails}")

    fade = np.minimum(1.0, np.arange(RATE) / (0.05 * RATE))
    cold = _splice_with(lambda a, s, k: np.concatenate([a, s[:RATE] * fade[:len(s[:RATE])], s[RATE:]]))
    fails = check.tone_join_failures(check.tone_joins(*cold))
    if len([m for m in fails if "strays from the tone" in m]) != len(BOUNDS):
        f.append(f"cold encoder at each join: expected {len(BOUNDS)} strays, got {fails}")
    return f


def _splice_with(edit):
    """(signal, boundaries) of a tone cut at BOUNDS, each piece after the first edited."""
    x = tone(5 * RATE)
    out, pos, cut = None, [], 0
    for k, b in enumerate(BOUNDS + [5 * RATE]):
        seg = x[cut:b]
        out = seg if out is None else edit(out, seg, k)
        pos.append(len(out))
        cut = b
    return noisy(out), pos[:-1]


# ---------------------------------------------------------------------------------------------
# Reference streams

def click_source(workdir):
    """A 12 s source whose tone jumps a quarter period at 4.0 s (a click the encoder keeps)."""
    p = os.path.join(workdir, "click.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25:duration=12", "-f", "lavfi", "-i",
                    "aevalsrc=0.125*sin(2*PI*440*t+gte(t\\,4)*PI/2):s=44100:d=12",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-c:a", "aac",
                    "-b:a", "64k", "-ac", "2", p], check=True, timeout=300)
    return p


def playlist_ended(pl):
    try:
        return "#EXT-X-ENDLIST" in open(pl).read()
    except FileNotFoundError:
        return False


def run_until_playlist_ends(cmd, pl, timeout=300):
    """Runs a gst-launch-1.0 hlssink2 pipeline to its end. hlssink2 writes #EXT-X-ENDLIST once
    splitmuxsink has closed the last fragment and passed its EOS on; the pipeline's own EOS can
    still be lost after that (GStreamer 1.22's bin misses the EOS of a fragment sink that is
    changing state: seen under load, gst-launch then waits forever). So the finished playlist
    is the end: the process gets a moment to exit by itself, then is stopped."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and not playlist_ended(pl):
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(cmd, timeout)
            time.sleep(0.05)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, cmd,
                                                stderr=proc.stderr.read().decode(errors="replace"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    if not playlist_ended(pl):
        raise RuntimeError(f"{pl}: hlssink2 ended without #EXT-X-ENDLIST")


def gst_reference(src, outdir):
    """A continuous encode cut by hlssink2 (splitmuxsink + mpegtsmux) every 2 s on IDR frames:
    the shape tws must produce. Returns the playlist path."""
    os.makedirs(outdir, exist_ok=True)
    # Unbounded queues: x264enc holds frames while splitmuxsink waits for both streams; a
    # bounded audio queue could fill and stall the demuxer's one thread (seen under load).
    q = "queue max-size-time=0 max-size-buffers=0 max-size-bytes=0"
    pipeline = (
        f"filesrc location={src} ! decodebin name=d "
        f"d. ! {q} ! videoconvert ! x264enc key-int-max=50 bframes=2 speed-preset=veryfast "
        "! h264parse config-interval=-1 ! hls.video "
        f"d. ! {q} ! audioconvert ! audioresample ! audio/x-raw,rate=44100,channels=2 "
        "! avenc_aac bitrate=64000 ! aacparse ! hls.audio "
        f"hlssink2 name=hls target-duration=2 playlist-length=0 max-files=0 "
        f"location={outdir}/x-{TOKEN}-%d.ts playlist-location={outdir}/x.m3u8")
    pl = os.path.join(outdir, "x.m3u8")
    run_until_playlist_ends(["gst-launch-1.0", "-q"] + pipeline.split(), pl)
    text = open(pl).read().replace("#EXT-X-VERSION:3", "#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD")
    open(pl, "w").write(text)
    return pl


def ffmpeg_reference(src, outdir):
    os.makedirs(outdir, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "30", "-bf", "2", "-force_key_frames",
                    "expr:gte(t,n_forced*2)", "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k",
                    "-ar", "44100", "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", f"{outdir}/x-{TOKEN}-%d.ts", f"{outdir}/x.m3u8"],
                   check=True, timeout=300)
    return os.path.join(outdir, "x.m3u8")


def expect_pass(pl, **kw):
    fails, summary = check.check_stream(pl, token=TOKEN, **kw)
    if not fails and not summary.get("click_ratios"):
        return ["no click ratios computed"]
    return fails


def expect_fail(pl, must_contain, only=None, **kw):
    """The check must fail with a message containing `must_contain`; with `only`, every
    failure must contain one of the strings in `only` (it fails for the right reason)."""
    fails, _ = check.check_stream(pl, token=TOKEN, **kw)
    out = []
    if not any(must_contain in f for f in fails):
        out.append(f"expected a failure about '{must_contain}', got: {fails}")
    if only is not None:
        wrong = [f for f in fails if not any(o in f for o in only)]
        if wrong:
            out.append(f"unexpected failures: {wrong}")
    return out


def copy_stream(pl, dest):
    shutil.copytree(os.path.dirname(pl), dest)
    return os.path.join(dest, os.path.basename(pl))


def main():
    run = Runner("checker self-test")
    work = tempfile.mkdtemp(prefix="tws-checker-")
    try:
        run.case("clicks: continuous tone does not fire", synthetic_continuous)
        run.case("clicks: gaps, overlaps and phase jumps fire", synthetic_faults)
        run.case("tone joins: a continuous tone passes; a 0.34 ms shift and a cold encoder fail",
                 synthetic_tone_joins)

        src = media.source("mp4")
        good = gst_reference(src, os.path.join(work, "good"))
        run.case("reference: keyframe-aligned continuous encode passes every check", expect_pass, good)

        ff = ffmpeg_reference(src, os.path.join(work, "ffmpeg"))
        # ffmpeg's HLS muxer writes the SDT before the PAT, and cuts audio where packets arrive
        # (not on the AAC frame nearest the boundary): those checks do not apply to it.
        not_applicable = ("not the PAT", "audio starts", "audio duration")

        def ffmpeg_applicable():
            fails, _ = check.check_stream(ff, token=TOKEN)
            return [f for f in fails if not any(n in f for n in not_applicable)]
        run.case("reference: ffmpeg -f hls passes the checks that apply", ffmpeg_applicable)

        def missing_file():
            pl = copy_stream(good, os.path.join(work, "missing"))
            os.remove(check.parse_playlist(pl)["segments"][3]["path"])
            return expect_fail(pl, "segments missing", playback=False)
        run.case("broken: a segment file missing", missing_file)

        def missing_entry():
            pl = copy_stream(good, os.path.join(work, "gap"))
            lines = open(pl).read().splitlines()
            i = next(n for n, l in enumerate(lines) if l.endswith("-2.ts"))
            os.remove(os.path.join(os.path.dirname(pl), lines[i]))
            del lines[i - 1:i + 1]
            open(pl, "w").write("\n".join(lines) + "\n")
            return expect_fail(pl, "video PTS jumps", playback=False)
        run.case("broken: a segment cut out of the playlist", missing_entry)

        def shifted_video():
            pl = copy_stream(good, os.path.join(work, "vshift"))
            tsedit.shift_timestamps(check.parse_playlist(pl)["segments"][3]["path"], 3600, "video")
            return expect_fail(pl, "boundary 2|3: video PTS jumps by 3600", playback=False,
                               clicks=False)
        run.case("broken: video timestamps of one segment shifted by one frame", shifted_video)

        def shifted_video_tick():
            pl = copy_stream(good, os.path.join(work, "vtick"))
            tsedit.shift_timestamps(check.parse_playlist(pl)["segments"][2]["path"], 2, "video")
            return expect_fail(pl, "video PTS jumps by 2 ticks", playback=False, clicks=False)
        run.case("broken: video shifted by 2 ticks of 90 kHz", shifted_video_tick)

        def shifted_audio():
            pl = copy_stream(good, os.path.join(work, "ashift"))
            tsedit.shift_timestamps(check.parse_playlist(pl)["segments"][4]["path"], 180, "audio")
            return expect_fail(pl, "audio gap of 2.00 ms", playback=False, clicks=False)
        run.case("broken: audio timestamps of one segment shifted by 2 ms", shifted_audio)

        def wrong_extinf():
            pl = copy_stream(good, os.path.join(work, "extinf"))
            text = open(pl).read().replace("#EXTINF:2,", "#EXTINF:2.1,", 1)
            open(pl, "w").write(text)
            return expect_fail(pl, "segment 0: video duration", playback=False, clicks=False)
        run.case("broken: an EXTINF one frame and more off", wrong_extinf)

        def click():
            pl = gst_reference(click_source(work), os.path.join(work, "click"))
            return expect_fail(pl, "boundary 1|2: click",
                               only=["boundary 1|2: click", "boundary 1|2: the tone jumps",
                                     "boundary 1|2: the audio strays"])
        run.case("broken: a phase jump in the tone at a boundary is a click (and only there)", click)

        def timing_same():
            seg = check.parse_playlist(good)["segments"][2]["path"]
            copy = os.path.join(work, "copy.ts")
            shutil.copy(seg, copy)
            f = check.compare_timing(seg, copy)
            tsedit.shift_timestamps(copy, 1, "audio")
            if not check.compare_timing(seg, copy):
                f.append("compare_timing did not see a 1-tick audio shift")
            return f
        run.case("same timing: identical copies match, a 1-tick shift does not", timing_same)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
