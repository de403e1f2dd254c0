#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end: the "what people really upload" matrix (lib/uploads.py), with the `tws` binary.

For every upload: `tws playlist`, then every segment made by its own `tws segment` process in
shuffled order, then the strict check (lib/check.py, GStreamer playback included) and a few
checks of the output's geometry. Each failure line names the stage: "playlist:", "segment K:",
or the strict check's own wording.
For every upload (and every cut upload): `tws probe` 20 times in a row gives the same answer
each time, and never crashes or hangs (Done-point 2).
Cut uploads (sources truncated to 60 % of their bytes): `tws playlist` either exits non-zero
with one line on stderr within 20 s, or gives a playlist whose segments all pass the strict
check. Never a hang.

TWS_E2E_ONLY=flv,rm (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the
temporary buckets; TWS_E2E_PLAYBACK=0 skips the GStreamer playback in the strict check.
"""

import json
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import serve  # noqa: E402
import media  # noqa: E402
import uploads  # noqa: E402
from harness import Runner  # noqa: E402
from tws import Env, TwsError  # noqa: E402

VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x240"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}
PLAYLIST_TIMEOUT = 60
SEGMENT_TIMEOUT = 75     # the issue's hangs run into tws's own 60 s limit
PROBE_RUNS = 20
# Under the sanitizers (scripts/test.sh's second pass) the matrix runs once more on a subset: one
# source of each demuxer family tws has code paths for, the cut uploads, and fewer probes
# (the whole matrix has run in the first pass; CI time is bounded).
SANITIZED_SUBSET = ["phone_vfr_jitter", "phone_hevc10_rot", "phone_aac51", "web_flv_h264",
                    "web_webm_vp8", "web_fmp4", "cam_dv_pal", "bc_vob", "rm_rv20_ac3", "asf_wmv2",
                    "a_vorbis", "a_aiff"]
SANITIZED_PROBE_RUNS = 3
PROBE_TIMEOUT = 45        # tws gives up on its own after 30 s
CUT_LIMIT = 20           # a cut upload is answered within this many seconds
PLAYBACK = os.environ.get("TWS_E2E_PLAYBACK", "1") != "0"
TOTALS = {"probes": 0, "probe_failures": 0}


def source_info(path):
    j = check._ffprobe_json(["-show_format", "-show_streams", path])
    v = next((s for s in j["streams"] if s["codec_type"] == "video"
              and not s.get("disposition", {}).get("attached_pic")), None)
    a = next((s for s in j["streams"] if s["codec_type"] == "audio"), None)
    return {"duration": float(j["format"]["duration"]), "video": v, "audio": a}


# H.263's standard picture formats have 12:11 pixels (ITU-T H.263 5.1.5: sub-QCIF to 16CIF),
# as GStreamer's h263parse and tws take them; ffprobe reports 1:1. A 176x144 phone clip is 4:3.
H263_FORMATS = {(128, 96), (176, 144), (352, 288), (704, 576), (1408, 1152)}


def display_aspect(v):
    w, h = int(v["width"]), int(v["height"])
    sar = v.get("sample_aspect_ratio", "1:1")
    num, den = (int(x) for x in sar.split(":")) if sar not in ("0:1", "N/A", None) else (1, 1)
    if v.get("codec_name") == "h263" and (w, h) in H263_FORMATS and num == den:
        num, den = 12, 11
    rot = 0
    for sd in v.get("side_data_list", []):
        if "rotation" in sd:
            rot = int(float(sd["rotation"]))
    dar = w * num / (h * den)
    return (1 / dar if rot % 180 else dar), rot


def video_pts_steps(path):
    """The distinct steps (s, rounded to 0.1 ms) between the video frames' presentation times."""
    j = check._ffprobe_json(["-select_streams", "v:0", "-show_entries", "packet=pts_time", path])
    t = sorted(float(p["pts_time"]) for p in j.get("packets", []) if p.get("pts_time") not in (None, "N/A"))
    return sorted({round(b - a, 4) for a, b in zip(t, t[1:])})


def request(env, src_path, name, video, audio, segment_length=5, initial=(2, 2)):
    ext = os.path.splitext(src_path)[1]
    uri = env.put(src_path, f"in/{name}{ext}")
    prefix = f"oss://media/out/{name}/{name}"
    target = {"URI": prefix, "Duration": segment_length, "InitialSegments": list(initial),
              "InitialTranscode": 0}
    if video:
        target["Video"] = VIDEO
    if audio:
        target["Audio"] = AUDIO
    return {"SourceURI": uri, "Targets": [target]}, prefix + ".m3u8"


def token_of(response, video):
    lists = (response.get(("VideoPlaylist" if video else "AudioPlaylist")) or
             response.get("AudioPlaylist") or response.get("VideoPlaylist") or [])
    return lists[0].get("Token") if lists else None


def make_segments(env, playlist_uri, n, seed, label=""):
    """Every segment by its own `tws segment`, shuffled. Returns failures; after two hangs (our
    timeout, or a failure after 50 s or more: tws's own stall limit is 60 s) the remaining
    segments are not tried (each would cost as much again)."""
    f = []
    order = list(range(n))
    random.Random(seed).shuffle(order)
    timeouts = 0
    for k in order:
        if timeouts >= 2:
            f.append(f"{label}segment {k}: not tried after two hangs")
            continue
        t = time.monotonic()
        try:
            r = env.segment_raw(playlist_uri, k, timeout=SEGMENT_TIMEOUT)
        except TwsError:
            timeouts += 1
            f.append(f"{label}segment {k}: `tws segment` did not finish in {SEGMENT_TIMEOUT} s (hang)")
            continue
        dt = time.monotonic() - t
        if r.rc != 0 and dt >= 50:
            timeouts += 1
        if r.rc != 0:
            last = [l for l in r.stderr.splitlines() if l.strip()]
            f.append(f"{label}segment {k}: exit {r.rc} after {dt:.1f} s: "
                     f"{' | '.join(last[-3:])[:600] or '(no stderr)'}")
    return f


def check_output_video(name, src, seg_path):
    f = []
    j = check._ffprobe_json(["-show_streams", seg_path])
    v = next((s for s in j["streams"] if s["codec_type"] == "video"), None)
    a = next((s for s in j["streams"] if s["codec_type"] == "audio"), None)
    if v is None:
        return f
    w, h = int(v["width"]), int(v["height"])
    if v.get("codec_name") != "h264":
        f.append(f"output: video codec {v.get('codec_name')}, want h264")
    if w % 2 or h % 2:
        f.append(f"output: odd size {w}x{h}")
    if v.get("sample_aspect_ratio") not in (None, "1:1", "0:1", "N/A"):
        f.append(f"output: sample aspect ratio {v.get('sample_aspect_ratio')}, want square pixels")
    dar, rot = display_aspect(src["video"])
    if abs(w / h - dar) / dar > 0.01 + 2 / w:
        f.append(f"output: {w}x{h} (aspect {w / h:.4f}) does not keep the display aspect {dar:.4f}")
    if rot % 180 and not h > w:
        f.append(f"output: source rotated {rot} came out {w}x{h}, not upright")
    if v.get("pix_fmt") != "yuv420p":
        f.append(f"output: pixel format {v.get('pix_fmt')}, want yuv420p")
    if v.get("field_order") not in (None, "unknown", "progressive"):
        f.append(f"output: field order {v.get('field_order')}, want progressive")
    if a is not None and a.get("codec_name") != "aac":
        f.append(f"output: audio codec {a.get('codec_name')}, want aac")
    return f


def upload_case(name):
    src_path = media.source(name)
    src = source_info(src_path)
    kind = media.kind(name)
    video, audio = kind != "audio", kind != "video"
    f = []
    if name.startswith("phone_vfr"):
        steps = video_pts_steps(src_path)
        if len(steps) < 2:
            f.append(f"source: not VFR (frame steps {steps})")
    with Env(name) as env:
        req, playlist_uri = request(env, src_path, name, video, audio)
        t = time.monotonic()
        try:
            r = env.playlist_raw(req, timeout=PLAYLIST_TIMEOUT)
        except TwsError:
            return f + [f"playlist: `tws playlist` did not finish in {PLAYLIST_TIMEOUT} s (hang)"]
        dt = time.monotonic() - t
        if r.rc != 0:
            return f + [f"playlist: exit {r.rc} after {dt:.1f} s: {r.stderr.strip()[-600:] or '(no stderr)'}"]
        try:
            resp = r.json()
        except ValueError:
            return f + [f"playlist: no JSON on stdout: {r.stdout[:300]!r}"]
        if abs(float(resp.get("Duration", -1)) - src["duration"]) > 0.3:
            f.append(f"playlist: response Duration {resp.get('Duration')}, the source lasts "
                     f"{src['duration']:.3f} s")
        playlist_path = env.path(playlist_uri)
        if not os.path.exists(playlist_path):
            return f + [f"playlist: no playlist at {playlist_path}"]
        n = len(check.parse_playlist(playlist_path)["segments"])
        f += make_segments(env, playlist_uri, n, name)
        fails, summary = check.check_stream(
            playlist_path, expect_video=video, expect_audio=audio, token=token_of(resp, video),
            expect_duration=src["duration"], frame_rate=uploads.frame_rate(name) if video else None,
            playback=PLAYBACK)
        f += fails
        segs = check.parse_playlist(playlist_path)["segments"]
        if video and src["video"] and segs and os.path.exists(segs[0]["path"]):
            f += check_output_video(name, src, segs[0]["path"])
        print(f"     {name}: {n} segments {summary.get('extinf')}, clicks {summary.get('click_ratios')}, "
              f"gst {summary.get('gst', {}).get('demuxer')}", flush=True)
    return f


def _stable(out):
    """The probe answer, parsed (so that formatting does not matter)."""
    try:
        return json.dumps(json.loads(out), sort_keys=True)
    except ValueError:
        return None


def probe_case(name, path, allow_refusal=False):
    """`tws probe` PROBE_RUNS times: each exits 0 with the same JSON, within PROBE_TIMEOUT (or,
    with allow_refusal, each exits 1 with the same one line). After a failed run the rest are
    not tried (a source that hangs for 30 s each time would cost 10 minutes)."""
    f = []
    answers = {}
    failed = 0
    with Env(f"probe-{name}") as env:
        uri = env.put(path, f"in/{name}{os.path.splitext(path)[1]}")
        for i in range(PROBE_RUNS):
            if failed >= 1:
                f.append(f"probe runs {i + 1}..{PROBE_RUNS}: not tried after a failed run")
                break
            TOTALS["probes"] += 1
            t = time.monotonic()
            try:
                r = env.run(["probe", "--config", env.config, uri], PROBE_TIMEOUT)
            except TwsError:
                failed += 1
                TOTALS["probe_failures"] += 1
                f.append(f"probe run {i + 1}: no answer in {PROBE_TIMEOUT} s (hang)")
                continue
            dt = time.monotonic() - t
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            if allow_refusal and r.rc == 1 and len(lines) == 1:
                answers.setdefault(json.dumps({"refused": lines[0]}), []).append(i + 1)
                continue
            if r.rc != 0:
                failed += 1
                # A refusal is an answer too, but an expected upload should not be refused;
                # a crash (killed by a signal, or an abort) is never an answer.
                TOTALS["probe_failures"] += 1
                line = " | ".join(l for l in r.stderr.splitlines() if l.strip())[-400:]
                f.append(f"probe run {i + 1}: exit {r.rc} after {dt:.1f} s: {line or '(no stderr)'}")
                continue
            key = _stable(r.stdout)
            if key is None:
                TOTALS["probe_failures"] += 1
                f.append(f"probe run {i + 1}: not JSON: {r.stdout[:200]!r}")
                continue
            answers.setdefault(key, []).append(i + 1)
    if len(answers) > 1:
        variants = sorted(answers.items(), key=lambda kv: -len(kv[1]))
        f.append(f"probe: {len(answers)} different answers over {PROBE_RUNS} runs: runs "
                 + "; ".join(str(runs) for _k, runs in variants))
        base = json.loads(variants[0][0])
        for k, runs in variants[1:3]:
            other = json.loads(k)
            diff = {kk: (base.get(kk), other.get(kk)) for kk in set(base) | set(other)
                    if base.get(kk) != other.get(kk)}
            f.append(f"  runs {runs[:5]} differ from runs {variants[0][1][:5]}: "
                     f"{json.dumps(diff)[:600]}")
    return f


def media_end(path):
    """Where the media in a (cut) file really ends: the latest packet end (pts + duration) over
    all streams, as ffprobe reads the packets (not the header's duration)."""
    j = check._ffprobe_json(["-show_entries", "packet=pts_time,duration_time", path])
    end = 0.0
    for p in j.get("packets", []):
        try:
            end = max(end, float(p["pts_time"]) + float(p.get("duration_time") or 0))
        except (KeyError, TypeError, ValueError):
            pass
    j = check._ffprobe_json(["-show_entries", "format=start_time", path])
    return end - float(j.get("format", {}).get("start_time") or 0)


def cut_case(name, directory):
    """A cut upload: a clear error within CUT_LIMIT s, or a playable prefix."""
    path = uploads.cut(name, directory)
    kind = media.kind(name)
    f = []
    with Env(f"cut-{name}") as env:
        req, playlist_uri = request(env, path, f"cut-{name}", kind != "audio", kind != "video")
        t = time.monotonic()
        try:
            r = env.playlist_raw(req, timeout=PLAYLIST_TIMEOUT)
        except TwsError:
            return [f"playlist: `tws playlist` did not finish in {PLAYLIST_TIMEOUT} s (hang)"]
        dt = time.monotonic() - t
        if dt > CUT_LIMIT:
            f.append(f"playlist: answered after {dt:.1f} s, more than {CUT_LIMIT} s (exit {r.rc})")
        if r.rc != 0:
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            if len(lines) != 1:
                f.append(f"playlist: exit {r.rc} with {len(lines)} stderr lines, want one: {lines[:4]}")
            print(f"     {name} cut to 60 %: refused in {dt:.1f} s: {lines[-1] if lines else ''}", flush=True)
            return f
        resp = r.json()
        playlist_path = env.path(playlist_uri)
        if not os.path.exists(playlist_path):
            return f + [f"playlist: exit 0 but no playlist at {playlist_path}"]
        n = len(check.parse_playlist(playlist_path)["segments"])
        f += make_segments(env, playlist_uri, n, name)
        fails, summary = check.check_stream(
            playlist_path, expect_video=kind != "audio", expect_audio=kind != "video",
            token=token_of(resp, kind != "audio"), frame_rate=uploads.frame_rate(name),
            playback=PLAYBACK)
        f += fails
        # A prefix, not the whole length of the header's duration with the missing part made up
        # (a frozen last frame and silence pass every check of the stream itself).
        end = media_end(path)
        total = summary.get("duration") or 0
        if total > end + 0.5:
            f.append(f"playlist: EXTINF total {total:.3f} s (response Duration {resp.get('Duration')}) "
                     f"but the cut file holds only {end:.3f} s of media: the rest is made up")
        print(f"     {name} cut to 60 %: playable prefix? {n} segments {summary.get('extinf')} "
              f"(response Duration {resp.get('Duration')}), {len(fails)} check failures", flush=True)
    return f


def main():
    global PROBE_RUNS
    run = Runner("upload matrix")
    names = uploads.UPLOADS
    if serve.sanitized():
        names = [n for n in uploads.UPLOADS if n in SANITIZED_SUBSET]
        PROBE_RUNS = SANITIZED_PROBE_RUNS
        print(f"     sanitized build: {len(names)} of {len(uploads.UPLOADS)} sources, "
              f"probes x{PROBE_RUNS}", flush=True)
    for name in names:
        run.case(f"upload {name} [{uploads.group(name)}]: {media.describe(name)}", upload_case, name)
    work = tempfile.mkdtemp(prefix="tws-cut-uploads-")
    try:
        for name in uploads.CUTS:
            run.case(f"cut upload {name} (60 % of {media.describe(name)}): clear error or playable prefix",
                     cut_case, name, work)
        t = time.monotonic()
        probes_before = TOTALS["probes"]
        for name in names:
            run.case(f"probe x{PROBE_RUNS} {name}: same answer, no crash", probe_case, name,
                     media.source(name))
        for name in uploads.CUTS:
            run.case(f"probe x{PROBE_RUNS} cut {name}: same answer (or the same refusal), no crash",
                     probe_case, f"cut-{name}", uploads.cut(name, work), True)
        if TOTALS["probes"] > probes_before:
            print(f"     probes: {TOTALS['probes']} runs of `tws probe`, {TOTALS['probe_failures']} "
                  f"failed, {time.monotonic() - t:.0f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
