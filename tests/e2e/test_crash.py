#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Crash safety end to end (issue 7 "Done means" 2): `tws serve` killed with SIGKILL while it
transcodes, at several moments; nothing half-written is ever visible, and after a restart the
streams play whole.

For each moment (0.3, 0.8, 1.5 and 2.5 s after the start): a new server on the same bucket,
a new playlist of a 640x360 24 s source (Duration 5: five segments) with InitialTranscode -1
(every segment queued for pre-transcode at once) and a cold GET of its last segment by a
client, then SIGKILL. Right after each kill: every `.ts` in the bucket is a complete segment
(whole TS packets, PAT/PMT first, its planned frame count: check.ts_structure and ffprobe),
and the client's response, if it got one, was either whole (and equal to the stored segment)
or cut without its last chunk. Then the temporary files the kills left (never visible as
objects: list() and GETs skip them) are aged two hours and a last server started: it removes
them; every segment of every playlist is fetched through it (the missing ones made now) and
each stream passes the strict check (lib/check.py). Pre-transcode work queued at a kill is not
picked up: it is dropped with nothing of it stored.
"""

import http.client
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server  # noqa: E402
from tws import Env  # noqa: E402

MOMENTS = (0.3, 0.8, 1.5, 2.5)
media.RECIPES.setdefault(
    "crash24", ("src-crash-360p-24s.mp4", "640x360 H.264 + AAC, 24 s (crash test)",
                media._video_in("640x360", "25", 24) + media._audio_in(24, 44100) +
                media._x264(75) + media.AAC, "av"))
TEMP = re.compile(r"^\.tws-tmp-")


def segment_files(env):
    out = []
    for root, _dirs, files in os.walk(env.bucket):
        out += [os.path.join(root, f) for f in files if f.endswith(".ts")]
    return sorted(out)


def temp_files(env):
    out = []
    for root, _dirs, files in os.walk(env.bucket):
        out += [os.path.join(root, f) for f in files if TEMP.match(f)]
    return sorted(out)


def complete(path, extinf):
    """Failures unless `path` is a whole segment of `extinf` seconds at 25 fps."""
    f = [f"{os.path.basename(path)}: {m}" for m in check.ts_structure(path)]
    if f:
        return f
    info = check.probe_segment(path)
    frames = len(info["video"])
    want = round(extinf * 25)
    if frames != want:
        f.append(f"{os.path.basename(path)}: {frames} video frames, planned {want}")
    return f


class Crash:
    def __init__(self):
        self.env = Env("crash")
        serve.write_config(self.env, workers=2)
        self.source = self.env.put(media.source("crash24"), "in/src.mp4")
        self.streams = []  # (playlist URI, token, extinfs)

    def kill_at(self, n, moment):
        f = []
        server = Server(self.env).start()
        prefix = f"oss://media/out/k{n}/v"
        resp = server.create_playlist({"SourceURI": self.source, "Targets": [{
            "URI": prefix, "Duration": 5, "InitialSegments": [], "InitialTranscode": -1,
            "TranscodeAhead": 0,
            "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 28}},
            "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 96000}}}]})
        token = resp["VideoPlaylist"][0]["Token"]
        url = server.sign(prefix + ".m3u8")
        text = server.get(url).text()
        extinfs = [float(x) for x in re.findall(r"#EXTINF:([\d.]+)", text)]
        self.streams.append((prefix + ".m3u8", token, extinfs))
        last = len(extinfs) - 1
        seg_path = serve.encode_path(f"/media/out/k{n}/v-{token}-{last}.ts")
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        conn.request("GET", serve.signed_path(seg_path))
        time.sleep(moment)
        server.proc.kill()
        server.proc.wait(30)
        got, cut, status = b"", False, None
        try:
            r = conn.getresponse()
            status = r.status
            got = r.read()
        except (http.client.IncompleteRead, ConnectionError, OSError, http.client.HTTPException) as e:
            cut = True
            got = getattr(e, "partial", b"") or b""
        finally:
            conn.close()
        server.proc = None
        stored = segment_files(self.env)
        mine = [p for p in stored if f"/out/k{n}/" in p]
        for p in mine:
            k = int(re.search(r"-(\d+)\.ts$", p).group(1))
            f += complete(p, extinfs[k])
        last_file = self.env.path(f"out/k{n}/v-{token}-{last}.ts")
        if status == 200 and not cut:
            if not os.path.exists(last_file) or open(last_file, "rb").read() != got:
                f.append(f"the client got a whole 200 ({len(got)} bytes) that is not the stored segment")
        print(f"     killed at {moment} s: {len(mine)} of {len(extinfs)} segments stored, "
              f"client {'cut after ' + str(len(got)) + ' bytes' if cut else status}, "
              f"{len(temp_files(self.env))} temporary files", flush=True)
        return f

    def restart_and_play(self):
        f = []
        temps = temp_files(self.env)
        old = time.time() - 3 * 3600
        for t in temps:
            os.utime(t, (old, old))
        server = Server(self.env).start()
        try:
            if not serve.wait_for(lambda: not temp_files(self.env), 30, 0.2):
                f.append(f"temporary files left after the restart: {temp_files(self.env)}")
            for n, (playlist, token, _extinfs) in enumerate(self.streams):
                dest = os.path.join(self.env.dir, f"play{n}")
                local, _text, _urls = serve.download_stream(server, server.sign(playlist), dest)
                failures, _summary = check.check_stream(local, token=token)
                f += [f"stream k{n}: {m}" for m in failures]
            print(f"     restart: {len(temps)} temporary files aged and removed, "
                  f"{len(self.streams)} streams checked", flush=True)
        finally:
            f += server.stop()
        return f


def main():
    run = Runner("crash safety (issue 7)")
    media.source("crash24")
    c = Crash()
    try:
        for n, moment in enumerate(MOMENTS):
            run.case(f"SIGKILL {moment} s into cold transcodes: only whole segments stored",
                     c.kill_at, n, moment)
        run.case("restart: stale temporary files removed; every stream whole (strict check)",
                 c.restart_and_play)
    finally:
        c.env.close()
    run.finish()


if __name__ == "__main__":
    main()
