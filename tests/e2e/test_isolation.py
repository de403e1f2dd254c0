#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Untrusted media in isolated workers (issue 20 "Done means" 1-4): one `tws serve` (workers 2,
[server] stall-timeout 3) started with TWS_TEST_WORKER=1 (sources named tws-test-probe-crash,
-segment-crash, -segment-hang make a worker abort or hang, as buggy demuxers do) and a secret
in its environment; a TCP listener on 127.0.0.1 that counts every connection made to it.

  playlist-source  a "video" whose bytes are an HLS playlist listing http://127.0.0.1:<the
                   listener>/ and file:// entries: 400 InvalidSource "a playlist is not a
                   media source"; the listener gets no connection
  playlist-segment the same bytes put in place of a playlist's source (same size and mtime,
                   so the record still matches): the segment answers an error (never 200),
                   the listener gets no connection
  crashes          a probe whose worker aborts: 400 InvalidSource naming the signal; a
                   segment whose worker aborts: 502 TranscodeFailed; the server stays up
  hang             a segment whose worker hangs: 504 TranscodeTimeout within the stall
                   timeout and a margin, while a cold segment of another source is made
                   meanwhile and passes the strict check
  baseline         the server's threads and RSS after all of it against before: threads no
                   more, RSS within 48 MB
  sandbox          `tws sandbox-check`: a socket, reading the config file and a file outside
                   the job, creating a file, finding a secret in its environment: all refused;
                   the serve's workers' /proc environ and cmdline hold no secret
  repeat           12 sources (FLV H.264/AAC and FLV1/MP3 among them), each probed 20 times
                   through POST /v1/playlists (20 keys, so the probe cache does not answer):
                   no crash, no hang, the same answer every time

Timeouts guard against hangs; nothing here measures speed.
"""

import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
import soak  # noqa: E402
import tws as twslib  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server  # noqa: E402
from tws import Env  # noqa: E402

STALL = 3
SECRET_ENV = "tws-env-secret-4242424242"
VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x144"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 48000}}
REPEAT = int(os.environ.get("TWS_ISOLATION_REPEAT", "20"))

media.RECIPES.setdefault(
    "flv1", ("src-flv1.flv", "FLV: Sorenson H.263 (FLV1) + MP3",
             media._video_in("320x240", "25", 6) + media._audio_in(6, 44100) +
             ["-c:v", "flv", "-q:v", "5", "-c:a", "libmp3lame", "-b:a", "64k", "-ac", "2"],
             "av"))
REPEAT_SOURCES = ["flv", "flv1", "mp4", "mov", "avi", "mkv", "webm", "mpg", "ts_offset", "wmv",
                  "ogg", "mp3"]


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections (and answers nothing)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            c.close()


def hls_text(port, size=None):
    text = ("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
            f"#EXTINF:10.0,\nhttp://127.0.0.1:{port}/seg0.ts\n"
            "#EXTINF:10.0,\nfile:///etc/passwd\n"
            f"#EXTINF:10.0,\nhttp://127.0.0.1:{port}/seg2.ts\n#EXT-X-ENDLIST\n")
    if size is not None:
        text += "#" * (size - len(text) - 1) + "\n"
    return text.encode()


class World:
    def __init__(self):
        self.listener = Listener()
        self.env = Env("isolation")
        serve.write_config(self.env, workers=2, extra="")
        text = open(self.env.config).read().replace(
            "[server]\n", f"[server]\nstall-timeout = {STALL}\n", 1)
        open(self.env.config, "w").write(text)
        self.server = Server(self.env).start(env={"TWS_TEST_WORKER": "1",
                                                  "AWS_SECRET_ACCESS_KEY": SECRET_ENV})
        self.n = 0

    def close(self):
        failures = self.server.stop()
        self.env.close()
        return failures

    def target(self, duration=5):
        self.n += 1
        return {"URI": f"oss://media/out/t{self.n}/v", "Duration": duration,
                "InitialSegments": [2, 2], "InitialTranscode": 0, "TranscodeAhead": 0,
                "Video": VIDEO, "Audio": AUDIO}

    def create(self, source_uri):
        return self.server.api("/v1/playlists", {"SourceURI": source_uri,
                                                 "Targets": [self.target()]}, timeout=120)

    def segment_path(self, made, k):
        uri = made["VideoPlaylist"][0]["URI"]
        key = uri[len("oss://media/"):-len(".m3u8")]
        return serve.signed_path(serve.encode_path(
            f"/media/{key}-{made['VideoPlaylist'][0]['Token']}-{k}.ts"))


def expect(r, status, code, label, contains=None):
    j = r.json() if r.body else None
    if r.status != status or not isinstance(j, dict) or j.get("Code") != code:
        return [f"{label}: {r.describe()} (want {status} {code})"]
    if contains and contains not in j.get("Message", ""):
        return [f"{label}: message {j.get('Message')!r} does not say {contains!r}"]
    return []


def case_playlist_source(w):
    path = w.env.path("in/evil-playlist.mp4")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(hls_text(w.listener.port))
    uri = "oss://media/in/evil-playlist.mp4"
    f = expect(w.create(uri), 400, "InvalidSource", "an HLS playlist as source",
               "a playlist is not a media source")
    time.sleep(0.5)
    if w.listener.connections:
        f.append(f"the listener got {w.listener.connections} connections at playlist time")
    return f


def case_playlist_segment(w):
    src = media.source("mp4")
    uri = w.env.put(src, "in/swapped.mp4")
    r = w.create(uri)
    if r.status != 200:
        return [f"the good source's playlist: {r.describe()}"]
    made = r.json()
    path = w.env.path("in/swapped.mp4")
    st = os.stat(path)
    with open(path, "wb") as f:
        f.write(hls_text(w.listener.port, size=st.st_size))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    before = w.listener.connections
    seg = w.server.get(w.segment_path(made, 1), timeout=60)
    f = []
    if seg.status == 200:
        f.append("a segment of an HLS playlist was answered 200")
    elif not isinstance(seg.json(), dict) or "Code" not in seg.json():
        f.append(f"the segment of the swapped source: {seg.describe()} (want a JSON error)")
    time.sleep(0.5)
    if w.listener.connections != before:
        f.append(f"the listener got {w.listener.connections - before} connections at segment time")
    print(f"     the swapped source's segment: HTTP {seg.status} {seg.json()}", flush=True)
    return f


def case_crashes(w):
    f = []
    uri = w.env.put(media.source("mp4"), "in/tws-test-probe-crash.mp4")
    f += expect(w.create(uri), 400, "InvalidSource", "a probe whose worker aborts", "SIGABRT")
    uri = w.env.put(media.source("mp4"), "in/tws-test-segment-crash.mp4")
    r = w.create(uri)
    if r.status != 200:
        return f + [f"the segment-crash source's playlist: {r.describe()}"]
    f += expect(w.server.get(w.segment_path(r.json(), 0), timeout=60), 502, "TranscodeFailed",
                "a segment whose worker aborts", "SIGABRT")
    if not w.server.alive():
        f.append("tws serve died" + w.server.stderr_tail())
    return f


def case_hang(w):
    f = []
    uri = w.env.put(media.source("mp4"), "in/tws-test-segment-hang.mp4")
    r = w.create(uri)
    good = w.create(w.env.put(media.source("mov"), "in/good.mov"))
    if r.status != 200 or good.status != 200:
        return [f"playlists: {r.describe()} / {good.describe()}"]
    hung = {}

    def ask_hung():
        t = time.monotonic()
        hung["r"] = w.server.get(w.segment_path(r.json(), 0), timeout=120)
        hung["s"] = time.monotonic() - t
    t = threading.Thread(target=ask_hung)
    t.start()
    time.sleep(0.5)
    # Meanwhile a whole stream of another source, every segment made cold.
    made = good.json()
    key = made["VideoPlaylist"][0]["URI"][len("oss://media/"):]
    local, _text, _urls = serve.download_stream(
        w.server, serve.signed_path(serve.encode_path(f"/media/{key}")),
        os.path.join(w.env.dir, "good"))
    fails, _summary = check.check_stream(local, token=made["VideoPlaylist"][0]["Token"])
    f += [f"the stream made meanwhile: {m}" for m in fails]
    t.join(120)
    if "r" not in hung:
        return f + ["the hung segment got no answer in 120 s"]
    f += expect(hung["r"], 504, "TranscodeTimeout", "a segment whose worker hangs")
    if hung["s"] > STALL + 5 + 10:
        f.append(f"the hung segment was answered after {hung['s']:.1f} s "
                 f"(stall timeout {STALL} s)")
    print(f"     the hung segment: HTTP {hung['r'].status} after {hung['s']:.1f} s", flush=True)
    return f


def case_sandbox(w):
    f = []
    outside = os.path.join(w.env.dir, "outside.txt")
    open(outside, "w").write("not for workers\n")
    r = subprocess.run([twslib.binary(), "sandbox-check", "--config", w.env.config, "--port",
                        str(w.listener.port), outside], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "AWS_SECRET_ACCESS_KEY": SECRET_ENV})
    print("     " + r.stdout.strip().replace("\n", "\n     "), flush=True)
    if r.returncode != 0:
        f.append(f"tws sandbox-check exit {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")
    for want in ("socket: refused", f"read {w.env.config}: refused", f"read {outside}: refused",
                 "create /tmp/tws-sandbox-check: refused"):
        if want not in r.stdout:
            f.append(f"sandbox-check did not report {want!r}")
    if "environment holds a secret: no" not in r.stdout or ": YES" in r.stdout:
        f.append("sandbox-check found a secret in the worker's environment (or checked none)")
    # The serve's own workers: nothing secret in their environment or command line.
    secrets = [serve.SECRET, serve.TOKEN, SECRET_ENV]
    workers = [p for p in os.listdir("/proc") if p.isdigit() and parent_of(p) == w.server.proc.pid]
    if not workers:
        f.append("tws serve has no worker processes")
    for pid in workers:
        for what in ("environ", "cmdline"):
            try:
                data = open(f"/proc/{pid}/{what}", "rb").read().decode(errors="replace")
            except OSError as e:
                data = ""
                print(f"     /proc/{pid}/{what}: {e}", flush=True)
            for s in secrets:
                if s in data:
                    f.append(f"worker {pid}'s {what} holds a secret")
    return f


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def case_repeat(w):
    f = []
    answers = {}

    def one(name, i):
        uri = w.env.put(media.source(name), f"in/repeat/{name}-{i}{os.path.splitext(media.source(name))[1]}")
        r = w.create(uri)
        j = r.json() if r.status == 200 else None
        if j is None:
            return name, i, f"HTTP {r.status} {r.body[:200]!r}"
        v = j.get("VideoPlaylist") or [{}]
        return name, i, json.dumps({"duration": j.get("Duration"),
                                    "resolution": v[0].get("Resolution"),
                                    "rate": v[0].get("FrameRate")}, sort_keys=True)
    jobs = [(n, i) for n in REPEAT_SOURCES for i in range(REPEAT)]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for name, i, answer in pool.map(lambda a: one(*a), jobs):
            answers.setdefault(name, []).append(answer)
    for name, got in answers.items():
        distinct = sorted(set(got))
        if len(distinct) != 1 or distinct[0].startswith("HTTP"):
            f.append(f"{name}: {len(got)} probes gave {len(distinct)} answers: {distinct[:3]}")
    print(f"     {len(jobs)} probes of {len(REPEAT_SOURCES)} sources: "
          f"{sum(1 for g in answers.values() if len(set(g)) == 1)} sources answered alike",
          flush=True)
    if not w.server.alive():
        f.append("tws serve died" + w.server.stderr_tail())
    return f


def main():
    run = Runner("untrusted media in isolated workers (issue 20)")
    for name in set(REPEAT_SOURCES + ["mp4", "mov"]):
        media.source(name)
    w = World()
    try:
        pid = w.server.proc.pid
        w.create(w.env.put(media.source("mp4"), "in/warm.mp4"))
        before = soak.wait_settled(pid)
        run.case("playlist-source: an HLS text as source is refused, nothing fetched",
                 case_playlist_source, w)
        run.case("playlist-segment: an HLS text swapped in at segment time, nothing fetched",
                 case_playlist_segment, w)
        run.case("crashes: a probe and a segment whose worker aborts", case_crashes, w)
        run.case("hang: a segment whose worker hangs is 504 while another stream is made",
                 case_hang, w)

        def baseline():
            after = soak.wait_settled(pid, want=before, timeout=30)
            print(f"     threads {before[1]} -> {after[1]}, RSS {before[2] / 1e6:.1f} -> "
                  f"{after[2] / 1e6:.1f} MB", flush=True)
            f = []
            if after[1] > before[1]:
                f.append(f"{after[1]} threads after, {before[1]} before")
            if after[2] - before[2] > 48e6 and not serve.sanitized():
                f.append(f"RSS grew {(after[2] - before[2]) / 1e6:.1f} MB")
            return f
        run.case("baseline: threads and memory back after the crashes and the hang", baseline)
        run.case("sandbox: a worker can reach no network, file or secret", case_sandbox, w)
        run.case(f"repeat: {len(REPEAT_SOURCES)} sources probed {REPEAT} times each, one answer",
                 case_repeat, w)
    finally:
        run.stopped(w.close())
    run.finish()


if __name__ == "__main__":
    main()
