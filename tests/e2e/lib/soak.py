# SPDX-License-Identifier: LGPL-2.1-or-later
"""Soak traffic against one `tws serve` (lib/serve.py): every kind of request a server meets in
a day, each on a connection of its own unless it is part of a keep-alive run, and what the
process holds (descriptors, threads, RSS from /proc) before and after. Used by test_soak.py
(bounded, in CI) and bench/soak.py (long, figures printed).

Kinds (each checked for its status; stored bytes compared where there are any):
  healthz, metrics, sign (POST /v1/sign), unauthorized (401), create (POST /v1/playlists,
  probe cached), too-large (413 for a 2 MiB body), playlist, playlist-head, segment, range
  (206), segment-head, forged (403), missing (404), abort (a stored segment closed after its
  first bytes), connect-close (a connection that sends nothing), half-header (a request cut
  inside its headers), keep-alive (5 requests on one connection), cold (a stored segment
  deleted, then made again while it streams), cold-abort (the same, the client gone after
  the first bytes).
Half of the single requests say `Connection: close`; the other half say nothing and the client
closes after the response (what curl does).
"""

import http.client
import itertools
import json
import os
import random
import socket
import threading
import time

import serve

VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x144"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 48000}}
TIMEOUT = 120


def proc_figures(pid):
    """(open descriptors, threads, RSS bytes) of a process, from /proc."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return fds, threads, rss


def wait_settled(pid, want=None, timeout=30.0):
    """Polls proc_figures until descriptors and threads equal `want` (or, with no `want`, stay
    the same for 2 s); returns the last figures."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        now = proc_figures(pid)
        if want is not None and now[:2] == want[:2]:
            return now
        if want is None:
            if last is None or now[:2] != last[:2]:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= 2.0:
                return now
        if time.monotonic() >= deadline:
            return now
        time.sleep(0.2)


class Traffic:
    """A playlist on `server` (local bucket `media` of `env`) and the requests of every kind
    against it. `source` is a local media file."""

    def __init__(self, server, env, source, name="soak"):
        self.server = server
        self.env = env
        self.uri = env.put(source, f"in/{name}.mp4")
        prefix = f"oss://media/out/{name}/v"
        self.request = {"SourceURI": self.uri, "Targets": [{
            "URI": prefix, "Duration": 5, "InitialSegments": [2, 2], "InitialTranscode": 0,
            "TranscodeAhead": 0, "Video": VIDEO, "Audio": AUDIO}]}
        made = server.create_playlist(self.request)
        self.token = made["VideoPlaylist"][0]["Token"]
        self.key = prefix[len("oss://media/"):]
        self.playlist = serve.signed_path(serve.encode_path(f"/media/{self.key}.m3u8"))
        text = server.get(self.playlist).text()
        self.count = len(serve.segment_lines(text))
        if self.count < 3:
            raise serve.ServeError(f"the soak playlist has {self.count} segments; want 3 or more")
        self.stored = {}
        for k in range(self.count):  # every segment made once, so most reads are stored ones
            r = server.get(self.segment_path(k))
            if r.status != 200:
                raise serve.ServeError(f"segment {k}: {r.describe()}")
            self.stored[k] = r.body
        self.counts = {}
        self.failures = []

    def segment_name(self, k):
        return f"{self.key}-{self.token}-{k}.ts"

    def segment_path(self, k):
        return serve.signed_path(serve.encode_path(f"/media/{self.segment_name(k)}"))

    # -- one request of each kind: a list of failures --------------------------------------

    def _http(self, method, path, body=None, headers=None, close=True, read=None):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=TIMEOUT)
        hdrs = dict(headers or {})
        if close:
            hdrs["Connection"] = "close"
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read(read) if read is not None else r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def _expect(self, kind, got, status, body=None):
        code, _headers, data = got
        if code != status:
            return [f"{kind}: HTTP {code} (want {status}): {data[:160]!r}"]
        if body is not None and data != body:
            return [f"{kind}: {len(data)} bytes differ from the {len(body)} expected"]
        return []

    def run_one(self, kind, close):
        # Cold requests remake the last segment only; the others read the stored ones (a
        # remade segment need not be the same bytes, and a read must not race its remaking).
        k = self.count - 1 if kind in ("cold", "cold-abort") else random.randrange(self.count - 1)
        seg = self.segment_path(k)
        auth = {"Authorization": f"Bearer {serve.TOKEN}"}
        if kind == "healthz":
            return self._expect(kind, self._http("GET", "/healthz", close=close), 200)
        if kind == "metrics":
            return self._expect(kind, self._http("GET", "/metrics", close=close), 200)
        if kind == "sign":
            body = json.dumps({"URI": f"oss://media/{self.key}.m3u8"})
            return self._expect(kind, self._http("POST", "/v1/sign", body, auth, close), 200)
        if kind == "unauthorized":
            body = json.dumps({"URI": f"oss://media/{self.key}.m3u8"})
            return self._expect(kind, self._http("POST", "/v1/sign", body, None, close), 401)
        if kind == "create":
            return self._expect(kind, self._http("POST", "/v1/playlists", json.dumps(self.request),
                                                 auth, close), 200)
        if kind == "too-large":
            return self._expect(kind, self._http("POST", "/v1/playlists", b"{" * (2 << 20), auth,
                                                 close), 413)
        if kind == "playlist":
            return self._expect(kind, self._http("GET", self.playlist, close=close), 200)
        if kind == "playlist-head":
            return self._expect(kind, self._http("HEAD", self.playlist, close=close), 200)
        if kind == "segment":
            return self._expect(kind, self._http("GET", seg, close=close), 200, self.stored[k])
        if kind == "range":
            want = self.stored[k][188:376]
            return self._expect(kind, self._http("GET", seg, headers={"Range": "bytes=188-375"},
                                                 close=close), 206, want)
        if kind == "segment-head":
            return self._expect(kind, self._http("HEAD", seg, close=close), 200)
        if kind == "forged":
            forged = seg[:-3] + ("AAA" if not seg.endswith("AAA") else "BBB")
            return self._expect(kind, self._http("GET", forged, close=close), 403)
        if kind == "missing":
            path = serve.signed_path(serve.encode_path(f"/media/{self.key}-nothing.ts"))
            return self._expect(kind, self._http("GET", path, close=close), 404)
        if kind == "abort":
            code, _h, _d = self._http("GET", seg, close=close, read=1000)
            return [] if code == 200 else [f"abort: HTTP {code}"]
        if kind == "connect-close":
            with socket.create_connection((self.server.host, self.server.port), TIMEOUT):
                pass
            return []
        if kind == "half-header":
            with socket.create_connection((self.server.host, self.server.port), TIMEOUT) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Ag")
            return []
        if kind == "keep-alive":
            f = []
            conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=TIMEOUT)
            try:
                for path in ("/healthz", self.playlist, seg, "/healthz", self.playlist):
                    conn.request("GET", path)
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        f.append(f"keep-alive {path}: HTTP {r.status}")
                    if r.getheader("Connection", "").lower() == "close":
                        f.append(f"keep-alive {path}: the server closed a keep-alive connection")
            finally:
                conn.close()
            return f
        if kind in ("cold", "cold-abort"):
            try:
                os.unlink(self.env.path(self.segment_name(k)))
            except FileNotFoundError:
                pass
            if kind == "cold-abort":
                code, _h, _d = self._http("GET", seg, close=close, read=100)
                return [] if code == 200 else [f"cold-abort: HTTP {code}"]
            code, _h, data = self._http("GET", seg, close=close)
            if code != 200:
                return [f"cold: HTTP {code}: {data[:160]!r}"]
            if not data or data[0] != 0x47 or len(data) % 188:
                return [f"cold: {len(data)} bytes that are not MPEG-TS packets"]
            return []
        raise ValueError(kind)

    def mix(self, n, cold_every=100, seed=1):
        """`n` request kinds in a shuffled order, a cold one (or a cold abort) every
        `cold_every`."""
        cheap = ["healthz", "metrics", "sign", "unauthorized", "too-large", "playlist",
                 "playlist-head", "segment", "range", "segment-head", "forged", "missing",
                 "abort", "connect-close", "half-header", "keep-alive", "segment", "playlist"]
        rnd = random.Random(seed)
        kinds = []
        colds = itertools.cycle(["cold", "cold", "cold-abort", "create"])
        for i in range(n):
            kinds.append(next(colds) if cold_every and i % cold_every == cold_every - 1
                         else rnd.choice(cheap))
        return kinds

    def run(self, kinds, threads=4, on_progress=None, every=1000):
        """Runs `kinds` over `threads` client threads; returns failures (at most 50 kept).
        on_progress(done) is called from one thread after every `every` requests."""
        todo = list(enumerate(kinds))
        lock = threading.Lock()
        done = [0]
        failures = []

        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    i, kind = todo.pop(0)
                try:
                    f = self.run_one(kind, close=(i % 2 == 0))
                except (OSError, http.client.HTTPException) as e:
                    f = [f"{kind}: {type(e).__name__}: {e}"]
                report = None
                with lock:
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                    if f and len(failures) < 50:
                        failures.extend(f"request {i} {m}" for m in f)
                    done[0] += 1
                    if on_progress and done[0] % every == 0:
                        report = done[0]
                if report is not None:
                    on_progress(report)

        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return failures
