#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What real uploads bring besides their codecs (issue 22 "Done means" 4), with `tws playlist`
and every segment made by its own `tws segment` process, in shuffled order:

- channels: a 5.1 and a 7.1 source, one tone per channel, come out stereo with the standard
  downmix (ITU-R BS.775: fronts to their side at 1, centre and surrounds at 0.7071, LFE left
  out), each tone's level in each output channel measured by a least-squares fit; a mono
  source stays centred (left = right); a target that asks for 6 channels keeps the 5.1
  layout, each tone on its own channel.
- variable frame rate: a phone-like source whose frame intervals wander (frames dropped at
  random from 60 fps, timestamps kept) comes out constant rate at the target rate, passing the
  strict check, and its picture keeps sync with its sound over the whole file: a white flash
  and a beep start together every 2 s in the source; in the output each flash's first frame is
  within one output frame of its beep.
"""

import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import numpy as np  # noqa: E402

import check  # noqa: E402
import media  # noqa: E402
from harness import Runner  # noqa: E402
from tws import Env  # noqa: E402

RATE = 48000
TONE_AMP = 0.125  # ffmpeg's sine source
LAYOUTS = {
    # channel -> tone frequency (Hz); none is a harmonic of another within the fit's resolution
    "5.1": {"FL": 500, "FR": 700, "FC": 300, "LFE": 90, "BL": 1100, "BR": 1300},
    "7.1": {"FL": 500, "FR": 700, "FC": 300, "LFE": 90, "BL": 1100, "BR": 1300,
            "SL": 1700, "SR": 1900},
}
# Expected gain of each source channel into (left, right).
G = 0.70710678
DOWNMIX = {"FL": (1, 0), "FR": (0, 1), "FC": (G, G), "LFE": (0, 0), "BL": (G, 0), "BR": (0, G),
           "SL": (G, 0), "SR": (0, G)}
TOLERANCE_DB = 0.5   # a kept or mixed tone's level against its expected gain
LEAK_LIMIT = 0.01    # a tone where it must not be: below -40 dB of its source level
FPS_OUT = 25


def make(path, args):
    if not os.path.exists(path):
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + args + [path], check=True,
                       timeout=300)
    return path


def multichannel_source(layout, workdir):
    tones = LAYOUTS[layout]
    inputs = []
    for f in tones.values():
        inputs += ["-f", "lavfi", "-i", f"sine=frequency={f}:sample_rate={RATE}:duration=6"]
    mapping = "|".join(f"{i}.0-{ch}" for i, ch in enumerate(tones))
    return make(os.path.join(workdir, f"src-{layout}.m4a"),
                inputs + ["-filter_complex",
                          f"join=inputs={len(tones)}:channel_layout={layout}:map={mapping}",
                          "-c:a", "aac", "-b:a", f"{64 * len(tones)}k"])


def run_stream(env, src, name, audio_extra=None, video=None):
    key = f"in/{name}{os.path.splitext(src)[1]}"
    uri = env.put(src, key)
    prefix = f"oss://media/out/{name}/{name}"
    target = {"URI": prefix, "Duration": 5, "InitialSegments": [2, 2], "InitialTranscode": 0,
              "Audio": {"TranscodeAudio": dict({"Codec": "aac", "Bitrate": 128000}, **(audio_extra or {}))}}
    if video:
        target["Video"] = {"TranscodeVideo": video}
    resp = env.playlist({"SourceURI": uri, "Targets": [target]})
    pl_path = env.path(prefix + ".m3u8")
    pl = check.parse_playlist(pl_path)
    order = list(range(len(pl["segments"])))
    random.Random(name).shuffle(order)
    for k in order:
        env.segment(prefix + ".m3u8", k)
    lists = resp.get("VideoPlaylist") or resp.get("AudioPlaylist") or []
    return pl_path, (lists[0].get("Token") if lists else None)


def concat(pl_path, out):
    with open(out, "wb") as o:
        for s in check.parse_playlist(pl_path)["segments"]:
            o.write(open(s["path"], "rb").read())
    return out


def decode_channels(path):
    """All channels of the first audio stream as float32 (samples x channels), as coded."""
    j = check._ffprobe_json(["-show_streams", "-select_streams", "a:0", path])
    n = int(j["streams"][0]["channels"])
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0",
                        "-f", "f32le", "-"], capture_output=True, timeout=300, check=True)
    return np.frombuffer(r.stdout, dtype="<f4").reshape(-1, n).astype(np.float64), \
        j["streams"][0].get("channel_layout"), int(j["streams"][0]["sample_rate"])


def tone_level(x, freq, rate):
    t = np.arange(len(x)) / rate
    a = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t), np.ones_like(t)], 1)
    c, *_ = np.linalg.lstsq(a, x, rcond=None)
    return float(np.hypot(c[0], c[1])) / TONE_AMP


def levels(x, rate, tones):
    # The middle of the stream: away from the encoder's start and end.
    mid = x[rate // 2:-rate // 2]
    return {ch: [round(tone_level(mid[:, c], f, rate), 4) for c in range(mid.shape[1])]
            for ch, f in tones.items()}


def strict(pl_path, token, video=False):
    fails, summary = check.check_stream(pl_path, expect_video=video, expect_audio=True, token=token,
                                        playback=False, frame_rate=FPS_OUT if video else None)
    return fails, summary


def case_downmix(env, workdir, layout):
    f = []
    src = multichannel_source(layout, workdir)
    pl, token = run_stream(env, src, f"down{layout.replace('.', '')}")
    fails, _ = strict(pl, token)
    f += fails
    x, out_layout, rate = decode_channels(concat(pl, os.path.join(workdir, f"down{layout}.ts")))
    if x.shape[1] != 2:
        return f + [f"{layout}: the output has {x.shape[1]} channels ({out_layout}), not 2"]
    lv = levels(x, rate, LAYOUTS[layout])
    print(f"     {layout} -> stereo, level of each tone in (left, right): {json.dumps(lv)}", flush=True)
    for ch, (gl, gr) in DOWNMIX.items():
        if ch not in lv:
            continue
        for side, want, got in (("left", gl, lv[ch][0]), ("right", gr, lv[ch][1])):
            if want == 0:
                if got > LEAK_LIMIT:
                    f.append(f"{layout}: {ch} in the {side} channel at {got:.4f} (expected none)")
            elif abs(20 * np.log10(max(got, 1e-9) / want)) > TOLERANCE_DB:
                f.append(f"{layout}: {ch} in the {side} channel at {got:.4f}, expected {want:.4f} "
                         f"(+-{TOLERANCE_DB} dB)")
    return f


def case_mono(env, workdir):
    f = []
    src = make(os.path.join(workdir, "src-mono.m4a"),
               ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={RATE}:duration=6",
                "-ac", "1", "-c:a", "aac", "-b:a", "64k"])
    pl, token = run_stream(env, src, "mono")
    fails, _ = strict(pl, token)
    f += fails
    x, out_layout, rate = decode_channels(concat(pl, os.path.join(workdir, "mono.ts")))
    lv = levels(x, rate, {"C": 440})["C"]
    print(f"     mono -> {x.shape[1]} channel(s) ({out_layout}), tone level {lv}", flush=True)
    if len(lv) == 2 and abs(20 * np.log10(max(lv[0], 1e-9) / max(lv[1], 1e-9))) > 0.1:
        f.append(f"mono: not centred: left {lv[0]:.4f}, right {lv[1]:.4f}")
    if min(lv) < 0.5:
        f.append(f"mono: the tone lost level: {lv}")
    return f


def case_keep(env, workdir):
    f = []
    src = multichannel_source("5.1", workdir)
    pl, token = run_stream(env, src, "keep51", audio_extra={"Channel": 6, "Bitrate": 384000})
    fails, _ = strict(pl, token)
    f += fails
    x, out_layout, rate = decode_channels(concat(pl, os.path.join(workdir, "keep51.ts")))
    if x.shape[1] != 6:
        return f + [f"Channel 6: the output has {x.shape[1]} channels ({out_layout})"]
    j = check._ffprobe_json(["-show_streams", "-select_streams", "a:0",
                             check.parse_playlist(pl)["segments"][0]["path"]])
    print(f"     5.1 kept: layout {out_layout}", flush=True)
    # Each tone where its channel is in the output's layout order (ffmpeg decodes to FL FR FC
    # LFE BL BR for AAC 5.1).
    order = ["FL", "FR", "FC", "LFE", "BL", "BR"]
    lv = levels(x, rate, LAYOUTS["5.1"])
    for ch, gains in lv.items():
        c = order.index(ch)
        if abs(20 * np.log10(max(gains[c], 1e-9))) > TOLERANCE_DB:
            f.append(f"Channel 6: {ch} at {gains[c]:.4f} in its own channel (expected 1)")
        leaks = [g for i, g in enumerate(gains) if i != c and g > LEAK_LIMIT]
        if leaks:
            f.append(f"Channel 6: {ch} leaks into other channels: {gains}")
    del j
    return f


def vfr_source(workdir):
    """60 fps, a white flash and a 1 kHz beep for 0.1 s every 2 s from 1 s (away from the
    segment boundaries, where the click check would take a beep's start for a click); then
    frames dropped at random
    (flash frames kept), their timestamps kept: intervals of 16.7 to 100 ms."""
    path = os.path.join(workdir, "src-vfr.mp4")
    if os.path.exists(path):
        return path
    subprocess.run([
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", "color=black:size=320x240:rate=60:duration=8",
        "-f", "lavfi", "-i", f"aevalsrc=0.5*sin(2*PI*1000*t)*lt(mod(t+1\\,2)\\,0.1):s={RATE}:d=8",
        "-vf", "drawbox=x=0:y=0:w=320:h=240:color=white:t=fill:enable='lt(mod(t+1,2),0.1)',"
               "select='lt(mod(t+1\\,2)\\,0.1)+lt(random(0)\\,0.45)'",
        "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", path], check=True, timeout=300)
    return path


def frame_intervals(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "packet=pts_time", "-of", "csv=p=0", path], capture_output=True, text=True,
                       timeout=120, check=True)
    t = sorted(float(v.strip(",")) for v in r.stdout.split() if v.strip(",") not in ("", "N/A"))
    return np.diff(t)


def flash_times(path):
    """Times (s) of the first bright frame of each flash in the video of `path`."""
    r = subprocess.run(["ffprobe", "-v", "error", "-f", "lavfi", "-i",
                        f"movie={path},signalstats", "-show_entries",
                        "frame=pts_time:frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"],
                       capture_output=True, text=True, timeout=300, check=True)
    frames = []
    for line in r.stdout.splitlines():
        parts = [p for p in line.split(",") if p.strip()]
        if len(parts) == 2:
            frames.append((float(parts[0]), float(parts[1])))
    frames.sort()
    out, bright = [], False
    for t, y in frames:
        if y > 128 and not bright:
            out.append(t)
        bright = y > 128
    return out


def beep_times(path):
    """Times (s) where each beep starts in the audio of `path` (envelope above half its peak)."""
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                        "packet=pts_time", "-of", "csv=p=0", path], capture_output=True, text=True,
                       timeout=120, check=True)
    start = min(float(v.strip(",")) for v in r.stdout.split() if v.strip(",") not in ("", "N/A"))
    x = check.decode_audio(path, 44100)
    env = np.abs(x)
    win = 44  # 1 ms
    env = np.convolve(env, np.ones(win) / win, mode="same")
    above = env > 0.5 * env.max()
    out, on = [], False
    for i, a in enumerate(above):
        if a and not on:
            out.append(start + i / 44100.0)
        on = a
    return out


def case_vfr(env, workdir):
    f = []
    src = vfr_source(workdir)
    iv = frame_intervals(src)
    print(f"     source frame intervals: {iv.min() * 1000:.1f} to {iv.max() * 1000:.1f} ms, "
          f"{len(set(np.round(iv * 1000)))} distinct", flush=True)
    if iv.max() - iv.min() < 0.02:
        f.append("the source is not variable frame rate: nothing tested")
    pl, token = run_stream(env, src, "vfr", video={"Codec": "h264", "CRF": 30, "FrameRate": FPS_OUT})
    fails, _ = strict(pl, token, video=True)
    f += fails
    cat = concat(pl, os.path.join(workdir, "vfr.ts"))
    flashes, beeps = flash_times(cat), beep_times(cat)
    print(f"     flashes at {[round(t, 3) for t in flashes]}, beeps at {[round(t, 3) for t in beeps]}",
          flush=True)
    if len(flashes) != 4 or len(beeps) != 4:
        return f + [f"expected 4 flashes and 4 beeps, found {len(flashes)} and {len(beeps)}"]
    drift = [round((v - a) * 1000, 1) for v, a in zip(flashes, beeps)]
    print(f"     picture - sound at each flash: {drift} ms (limit one frame, {1000 / FPS_OUT:.0f} ms)",
          flush=True)
    for k, d in enumerate(drift):
        if abs(d) > 1000 / FPS_OUT + 1:
            f.append(f"flash {k}: picture {d:+.1f} ms off its sound (more than one frame)")
    return f


def main():
    run = Runner("conform: channels and variable frame rate (issue 22)")
    workdir = tempfile.mkdtemp(prefix="tws-conform-media-")
    env = Env("conform")
    try:
        run.case("5.1 downmixed to stereo with the standard coefficients",
                 case_downmix, env, workdir, "5.1")
        run.case("7.1 downmixed to stereo with the standard coefficients",
                 case_downmix, env, workdir, "7.1")
        run.case("mono stays centred", case_mono, env, workdir)
        run.case("Channel 6 keeps 5.1, each tone on its own channel", case_keep, env, workdir)
        run.case("variable frame rate: constant-rate output, picture and sound in sync to the end",
                 case_vfr, env, workdir)
    finally:
        env.close()
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
