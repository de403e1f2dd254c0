#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stand-in for `tws serve`, for exercising test_serve.py before (or beside) the real server:
  TWS=tests/e2e/lib/fake_serve.py TWS_REAL=build/service/tws /usr/bin/python3 tests/e2e/test_serve.py
`serve` is answered here (Python http.server; playlists and segments made by the real binary's
`tws playlist` / `tws segment`); every other command runs the real binary. Not a reference: it
does not stream a segment while it is made (the first-bytes case fails on it), and its
single flight, read-ahead and pre-transcode are the simplest that could work.
"""

import base64
import configparser
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.environ.get("TWS_REAL") or os.path.join(HERE, "..", "..", "..", "build", "service", "tws")


def main():
    if len(sys.argv) < 2 or sys.argv[1] != "serve":
        os.execv(REAL, [REAL] + sys.argv[1:])
    args = sys.argv[2:]
    conf = args[args.index("--config") + 1]
    listen = args[args.index("--listen") + 1] if "--listen" in args else "127.0.0.1:8080"
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(conf)
    buckets = {s.split(None, 1)[1]: cp[s]["path"] for s in cp.sections() if s.startswith("bucket ")}
    keys = {s.split(None, 1)[1]: cp[s]["secret"] for s in cp.sections() if s.startswith("key ")}
    tokens = [t for t in cp["api"]["tokens"].split(";") if t]
    key_id = next(iter(keys))
    metrics = {"transcoded": 0, "storage": 0, "transcode": 0, "codes": {}}
    locks = {}
    glock = threading.Lock()

    def sig(path, exp, secret):
        mac = hmac.new(secret.encode(), f"GET\n{path}\n{exp}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def make_segments(playlist_uri, k, n=None):
        cmd = [REAL, "segment", "--config", conf, playlist_uri, str(k)] + ([str(n)] if n is not None else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0:
            with glock:
                metrics["transcoded"] += 1 if n is None else n - k + 1
        return r.returncode == 0

    def record_of(path):
        for line in open(path):
            if line.startswith("## tws-record: "):
                return json.loads(line[len("## tws-record: "):])
        return {}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body=b"", ctype="application/json", extra=None):
            with glock:
                metrics["codes"][code] = metrics["codes"].get(code, 0) + 1
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def err(self, code, name, msg):
            self.send(code, json.dumps({"Code": name, "Message": msg, "RequestId": "x"}).encode())

        def do_OPTIONS(self):
            self.send(204, b"", "text/plain", {"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                                              "Access-Control-Allow-Headers": "Range"})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in tokens:
                return self.err(401, "Unauthorized", "token")
            try:
                j = json.loads(body)
            except ValueError:
                return self.err(400, "InvalidArgument", "body")
            if self.path == "/v1/sign":
                m = re.fullmatch(r"(?:oss|s3)://([^/]+)/(.+)", j.get("URI", ""))
                exp = int(time.time()) + int(j.get("Expires", 3600))
                p = urllib.parse.quote(f"/{m.group(1)}/{m.group(2)}", safe="/")
                url = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}{p}" \
                      f"?Expires={exp}&KeyId={key_id}&Signature={sig(p, exp, keys[key_id])}"
                return self.send(200, json.dumps({"URL": url}).encode())
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(j, f)
            r = subprocess.run([REAL, "playlist", "--config", conf, f.name], capture_output=True, text=True)
            os.unlink(f.name)
            if r.returncode != 0:
                code = "UnknownBucket" if "bucket" in r.stderr else "InvalidArgument"
                return self.err(400, code, r.stderr.strip())
            resp = json.loads(r.stdout)
            for t, vp in zip(j["Targets"], resp.get("VideoPlaylist", [])):
                it = t.get("InitialTranscode", 30)
                if it:
                    uri = vp["URI"]
                    pl = os.path.join(buckets["media"], uri.split("/", 3)[3])
                    ends, acc = [], 0.0
                    for line in open(pl):
                        if line.startswith("#EXTINF:"):
                            acc += float(line[8:].split(",")[0])
                            ends.append(acc)
                    n = next((i for i, e in enumerate(ends) if e >= it - 1e-6), len(ends) - 1)
                    threading.Thread(target=make_segments, args=(uri, 0, n), daemon=True).start()
            self.send(200, json.dumps(resp).encode())

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == "/healthz":
                return self.send(200, b"ok\n", "text/plain")
            if u.path == "/metrics":
                lines = ["# TYPE tws_segments_transcoded_total counter",
                         f"tws_segments_transcoded_total {metrics['transcoded']}",
                         f'tws_segments_served_total{{source="storage"}} {metrics["storage"]}',
                         f'tws_segments_served_total{{source="transcode"}} {metrics["transcode"]}',
                         "# TYPE tws_transcode_seconds histogram",
                         'tws_transcode_seconds_bucket{le="+Inf"} 0', "tws_transcode_seconds_sum 0",
                         "tws_transcode_seconds_count 0", "tws_queue_depth 0"]
                lines += [f'tws_http_requests_total{{code="{c}"}} {n}' for c, n in metrics["codes"].items()]
                lines += [f'tws_storage_requests_total{{op="{o}"}} 0' for o in ("get", "head", "put", "delete", "list")]
                lines += [f'tws_storage_bytes_total{{dir="{d}"}} 0' for d in ("in", "out")]
                return self.send(200, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")
            q = dict(urllib.parse.parse_qsl(u.query))
            if not all(k in q for k in ("Expires", "KeyId", "Signature")) or q["KeyId"] not in keys \
                    or not q["Expires"].isdigit() or int(q["Expires"]) < time.time() \
                    or not hmac.compare_digest(q["Signature"], sig(u.path, q["Expires"], keys[q["KeyId"]])):
                return self.err(403, "AccessDenied", "signature")
            parts = urllib.parse.unquote(u.path).split("/")
            if len(parts) < 3 or parts[1] not in buckets or any(p in ("", ".", "..") for p in parts[2:]):
                return self.err(400, "InvalidURI", "path")
            fs = os.path.join(buckets[parts[1]], *parts[2:])
            if u.path.endswith(".m3u8"):
                if not os.path.exists(fs):
                    return self.err(404, "NotFound", "no playlist")
                out = []
                for line in open(fs).read().splitlines():
                    if line.startswith("## tws-record"):
                        continue
                    if line and not line.startswith("#"):
                        p = os.path.dirname(u.path) + "/" + line
                        line += f"?Expires={q['Expires']}&KeyId={q['KeyId']}&Signature={sig(p, q['Expires'], keys[q['KeyId']])}"
                    out.append(line)
                return self.send(200, ("\n".join(out) + "\n").encode(), "application/vnd.apple.mpegurl")
            m = re.fullmatch(r"(.*)-[0-9a-f]{32}-(\d+)\.ts", fs)
            if not m:
                return self.err(404, "NotFound", "not a segment")
            pl = m.group(1) + ".m3u8"
            k = int(m.group(2))
            playlist_uri = f"oss://{parts[1]}/" + "/".join(parts[2:-1]) + "/" + os.path.basename(pl)
            source = "storage"
            with glock:
                lock = locks.setdefault(fs, threading.Lock())
            with lock:
                if not os.path.exists(fs):
                    source = "transcode"
                    if not make_segments(playlist_uri, k):
                        return self.err(502, "TranscodeFailed", "segment")
            with glock:
                metrics[source] += 1
            ahead = record_of(pl).get("Serve", {}).get("TranscodeAhead", 0)
            if ahead and source == "transcode":
                n = sum(1 for l in open(pl) if l.startswith("#EXTINF"))
                last = min(n - 1, k + ahead)
                if last > k:
                    threading.Thread(target=make_segments, args=(playlist_uri, k + 1, last), daemon=True).start()
            data = open(fs, "rb").read()
            etag = '"' + hashlib.sha1(data).hexdigest() + '"'
            extra = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable",
                     "Accept-Ranges": "bytes"}
            rng = self.headers.get("Range")
            if rng:
                mm = re.fullmatch(r"bytes=(\d*)-(\d*)", rng)
                size = len(data)
                if mm.group(1):
                    lo, hi = int(mm.group(1)), min(size - 1, int(mm.group(2)) if mm.group(2) else size - 1)
                else:
                    lo, hi = size - int(mm.group(2)), size - 1
                if lo >= size:
                    return self.send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                extra["Content-Range"] = f"bytes {lo}-{hi}/{size}"
                return self.send(206, data[lo:hi + 1], "video/mp2t", extra)
            self.send(200, data, "video/mp2t", extra)

    host, port = listen.rsplit(":", 1)
    srv = http.server.ThreadingHTTPServer((host, int(port)), H)
    srv.daemon_threads = True
    print(f"listening on http://{srv.server_address[0]}:{srv.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
