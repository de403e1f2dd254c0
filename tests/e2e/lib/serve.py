# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives `tws serve` the way a client does (API.md "HTTP"): a temporary world (tws.Env: bucket
`media` in a temp dir) with its own config, the server started on 127.0.0.1:0 (the port read
from the first stdout line "listening on http://ADDR:PORT"), plain HTTP requests with
http.client (every one with a timeout), playback signatures computed here as API.md defines
them, playlists and segments downloaded through signed URLs, /metrics parsed.

Timeouts guard against hangs; nothing here measures speed."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import resource
import signal
import subprocess
import threading
import time
import urllib.parse

import check
import tws as twslib

SECRET = "e2e-signing-secret-0123456789"
KEY_ID = "dev"
TOKEN = "e2e-api-token"
START_TIMEOUT = 60
STOP_TIMEOUT = 60
HTTP_TIMEOUT = 300       # one request (a cold segment is transcoded while it is read)


class ServeError(Exception):
    pass


def sanitized():
    """Whether tws runs under AddressSanitizer (scripts/test.sh's second pass sets
    ASAN_OPTIONS): its quarantine keeps freed memory, so RSS bounds say nothing there."""
    return "ASAN_OPTIONS" in os.environ


def write_config(env, workers=2, preset=None, extra=""):
    """Replaces env.config with the serve test config: local bucket, [key dev], [api] tokens."""
    text = ("[server]\n"
            "listen = 127.0.0.1:0\n"
            f"workers = {workers}\n"
            "\n"
            "[bucket media]\n"
            f"path = {env.bucket}\n"
            "\n"
            f"[key {KEY_ID}]\n"
            f"secret = {SECRET}\n"
            "\n"
            "[api]\n"
            f"tokens = {TOKEN};second-token\n")
    if preset:
        text += f"\n[transcode]\npreset = {preset}\n"
    text += extra
    with open(env.config, "w") as f:
        f.write(text)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-case name -> value
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def describe(self):
        return f"HTTP {self.status} {self.body[:300]!r}"


class Server:
    """`tws serve --config C --listen 127.0.0.1:0` in env.dir; stdout after the first line and
    stderr go to files in env.dir (their tails are quoted in failures)."""

    def __init__(self, env):
        self.env = env
        self.proc = None
        self.host = None
        self.port = None
        self.stdout_path = os.path.join(env.dir, "serve.stdout")
        self.stderr_path = os.path.join(env.dir, "serve.stderr")
        self.first_line = None

    # -- life -------------------------------------------------------------------------------

    def start(self, nofile=None, env=None):
        """nofile: the server's descriptor limit (soft and hard), as `ulimit -n` sets it;
        env: variables added to the server's environment."""
        cmd = [twslib.binary(), "serve", "--config", self.env.config, "--listen", "127.0.0.1:0"]
        self._err = open(self.stderr_path, "wb")

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(cmd, cwd=self.env.dir, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._err,
                                     preexec_fn=limit if nofile else None,
                                     env={**os.environ, **(env or {})})
        line = [None]

        def read_first():
            line[0] = self.proc.stdout.readline()
        t = threading.Thread(target=read_first, daemon=True)
        t.start()
        t.join(START_TIMEOUT)
        if t.is_alive():
            self.kill()
            raise ServeError(f"`{' '.join(cmd)}` printed no first line in {START_TIMEOUT} s"
                             + self.stderr_tail())
        first = (line[0] or b"").decode(errors="replace").strip()
        self.first_line = first
        m = re.fullmatch(r"listening on http://([0-9.]+):(\d+)/?", first)
        if not m:
            try:
                rc = self.proc.wait(5 if not first else 0.1)
            except subprocess.TimeoutExpired:
                rc = None
            self.kill()
            raise ServeError(f"`tws serve` first stdout line is {first!r}, not \"listening on "
                             f"http://ADDR:PORT\" (exit status {rc})" + self.stderr_tail())
        self.host, self.port = m.group(1), int(m.group(2))
        if self.host != "127.0.0.1" or self.port == 0:
            self.kill()
            raise ServeError(f"`tws serve` announced {first!r} for --listen 127.0.0.1:0")
        # Keep draining stdout so the server never blocks on a full pipe.
        out = open(self.stdout_path, "wb")

        def drain():
            for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
                out.write(chunk)
                out.flush()
            out.close()
        threading.Thread(target=drain, daemon=True).start()
        return self

    @property
    def base(self):
        return f"http://{self.host}:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns a list of failures (exit status not 0, or no exit in time)."""
        if self.proc is None:
            return []
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self.proc = None
            return [f"tws serve had already exited (status {rc}) before SIGTERM" + self.stderr_tail()]
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return [f"tws serve did not exit within {STOP_TIMEOUT} s of SIGTERM"]
        self.proc = None
        if rc != 0:
            return [f"tws serve exited {rc} on SIGTERM (want 0)" + self.stderr_tail()]
        return []

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.proc = None

    def stderr_tail(self, n=6):
        try:
            self._err.flush()
            lines = open(self.stderr_path, "rb").read().decode(errors="replace").strip().splitlines()
        except (OSError, AttributeError):
            return ""
        return ("; stderr tail: " + " | ".join(lines[-n:])) if lines else "; stderr empty"

    # -- HTTP -------------------------------------------------------------------------------

    def connect(self, timeout=HTTP_TIMEOUT):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
        """One request on a fresh connection; `path` may be a full URL (its host is replaced
        by this server's: URLs are fetched from here whatever base they name)."""
        path = local_path(path)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn = self.connect(timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path, headers=None, timeout=HTTP_TIMEOUT):
        return self.request("GET", path, headers=headers, timeout=timeout)

    def api(self, path, body, token=TOKEN, timeout=HTTP_TIMEOUT):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.request("POST", path, body=body, headers=headers, timeout=timeout)

    def create_playlist(self, request):
        """POST /v1/playlists; returns the response JSON; raises ServeError unless 200."""
        r = self.api("/v1/playlists", request)
        if r.status != 200 or not isinstance(r.json(), dict):
            raise ServeError(f"POST /v1/playlists: {r.describe()}" + self.stderr_tail())
        return r.json()

    def sign(self, uri, expires=None):
        """POST /v1/sign; returns the URL; raises ServeError unless 200 with a URL."""
        body = {"URI": uri}
        if expires is not None:
            body["Expires"] = expires
        r = self.api("/v1/sign", body)
        j = r.json()
        if r.status != 200 or not isinstance(j, dict) or not isinstance(j.get("URL"), str):
            raise ServeError(f"POST /v1/sign {uri}: {r.describe()}" + self.stderr_tail())
        return j["URL"]

    def metrics(self):
        r = self.get("/metrics", timeout=60)
        if r.status != 200:
            raise ServeError(f"GET /metrics: {r.describe()}")
        return parse_metrics(r.text())

    def metric(self, name, **labels):
        return metric_sum(self.metrics(), name, **labels)

    def wait_ready(self, workers, timeout=60):
        """Waits until the media workers `tws serve` keeps started (workers + 1 of them) are
        idle, as on a server that has been up a while; True if they are within `timeout` s."""
        return bool(wait_for(lambda: (self.metric("tws_media_workers", state="idle") or 0)
                             >= workers + 1, timeout, interval=0.05))


# -- URLs and signatures ---------------------------------------------------------------------

class World:
    """One `tws serve` on a bucket of its own (Env NAME, the serve test config), for a `with`
    block: started on entry, stopped and its bucket removed on exit."""

    def __init__(self, name, workers=1):
        self.env = twslib.Env(name)
        write_config(self.env, workers=workers)
        self.server = Server(self.env)

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()
        self.env.close()


def local_path(url):
    """'http://h:p/a/b?q' -> '/a/b?q' (a path is returned as it is)."""
    if url.startswith("http://") or url.startswith("https://"):
        u = urllib.parse.urlsplit(url)
        return u.path + ("?" + u.query if u.query else "")
    return url


def encode_path(key_path):
    """'/media/out/a b.m3u8' -> '/media/out/a%20b.m3u8' (API.md "URIs")."""
    return urllib.parse.quote(key_path, safe="/")


def signature(encoded_path, expires, secret=SECRET):
    mac = hmac.new(secret.encode(), f"GET\n{encoded_path}\n{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def signed_path(encoded_path, expires=None, key_id=KEY_ID, secret=SECRET):
    if expires is None:
        expires = int(time.time()) + 3600
    return (f"{encoded_path}?Expires={expires}&KeyId={key_id}"
            f"&Signature={signature(encoded_path, expires, secret)}")


def object_path(uri):
    """'oss://media/out/a.m3u8' -> '/media/out/a.m3u8' (encoded)."""
    m = re.fullmatch(r"(?:oss|s3)://([^/]+)/(.+)", uri)
    if not m:
        raise ValueError(f"not an object URI: {uri}")
    return encode_path(f"/{m.group(1)}/{m.group(2)}")


def query_of(url):
    """The query parameters of a URL as a dict (last value wins)."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def check_signed_url(url, encoded_path=None):
    """Failures of a signed URL's shape: Expires (future unix s), KeyId, a valid Signature."""
    f = []
    q = query_of(url)
    path = urllib.parse.urlsplit(url).path
    for k in ("Expires", "KeyId", "Signature"):
        if k not in q:
            f.append(f"URL {url} has no {k}")
    if f:
        return f
    if encoded_path is not None and path != encoded_path:
        f.append(f"URL path {path} != {encoded_path}")
    if not q["Expires"].isdigit() or int(q["Expires"]) <= time.time():
        f.append(f"URL Expires {q['Expires']} is not a future unix time")
    elif q["KeyId"] == KEY_ID and q["Signature"] != signature(path, q["Expires"]):
        f.append(f"URL {url}: Signature is not HMAC-SHA256(secret, GET\\npath\\nExpires) as API.md")
    return f


# -- playlists and segments over HTTP --------------------------------------------------------

def segment_lines(text):
    """The URI lines of a playlist, in order."""
    return [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]


def download_stream(server, playlist_url, dest):
    """Fetches a signed media playlist and every segment it names (through the signed URIs in
    it) into `dest`, the playlist's URIs stripped of their query. Returns (local playlist path,
    served playlist text, [segment URLs]). Raises ServeError on a non-200."""
    os.makedirs(dest, exist_ok=True)
    r = server.get(playlist_url)
    if r.status != 200:
        raise ServeError(f"GET {local_path(playlist_url)}: {r.describe()}" + server.stderr_tail())
    text = r.text()
    base = server.base + local_path(playlist_url)
    urls = []
    out_lines = []
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            url = urllib.parse.urljoin(base, s)
            urls.append(url)
            name = os.path.basename(urllib.parse.urlsplit(url).path)
            seg = server.get(url)
            if seg.status != 200:
                raise ServeError(f"GET segment {name}: {seg.describe()}" + server.stderr_tail())
            with open(os.path.join(dest, name), "wb") as f:
                f.write(seg.body)
            out_lines.append(s.split("?", 1)[0])
        else:
            out_lines.append(line)
    name = os.path.basename(urllib.parse.urlsplit(base).path)
    path = os.path.join(dest, name)
    with open(path, "w") as f:
        f.write("\n".join(out_lines) + "\n")
    return path, text, urls


def ffmpeg_play(url, timeout=300):
    """`ffmpeg -v error -i URL -f null -`: failures (nothing printed and exit 0 is a pass)."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", url, "-f", "null", "-"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [f"ffmpeg playback of {url} did not finish in {timeout} s"]
    if r.returncode != 0 or r.stderr.strip():
        lines = r.stderr.strip().splitlines()
        return [f"ffmpeg playback of the signed URL: exit {r.returncode}, {len(lines)} lines on "
                f"stderr, e.g. {lines[:3]}"]
    return []


def gst_play_url(url, timeout=200):
    """playbin (hlsdemux) on an HTTP URL, via lib/gstplay.py; its JSON result."""
    return check.gst_play(url, timeout=timeout)


def wait_for(pred, timeout, interval=0.2):
    """Polls pred() until true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# -- metrics ---------------------------------------------------------------------------------

_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)")


def parse_metrics(text):
    """Prometheus text -> [(name, {label: value}, float)], plus '# TYPE' lines as
    ('#TYPE', {'name': n, 'type': t}, 0)."""
    out = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                out.append(("#TYPE", {"name": parts[2], "type": parts[3]}, 0.0))
            continue
        if not line or line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        out.append((m.group(1), labels, value))
    return out


def metric_sum(metrics, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`; None when none is present."""
    vals = [v for n, l, v in metrics if n == name and all(l.get(k) == x for k, x in labels.items())]
    return sum(vals) if vals else None
