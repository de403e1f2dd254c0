# SPDX-License-Identifier: LGPL-2.1-or-later
"""s3rver (npm, pinned in tests/e2e/node/package-lock.json, installed by scripts/install-deps.sh)
as an S3 server on loopback for the e2e tests, plus a plain S3 client for the test side.

    with S3Server(buckets=["videos"]) as s3:
        s3.put("videos", "in/src.mp4", data)          # plain HTTP, no signature (anonymous)
        s3.get("videos", "out/v.m3u8"); s3.list("videos", prefix="out/"); s3.delete(...)

s3rver listens on 127.0.0.1 with a port of its own choosing (`-p 0`, read from its first log
line) and keeps its objects in a temporary directory. It accepts anonymous requests. On a V4
signed request it checks only the form (Authorization parsed, x-amz-content-sha256 present)
and the access key id (its fixed account S3RVER / S3RVER): s3rver 3.7.1 does NOT verify V4
signatures (authentication.js: "Signature version 4 calculation is unimplemented"), so the
signer is proven by tests/unit/data/sigv4_botocore.json and AWS's examples, not here.
Every request here has a timeout."""

import http.client
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
REGION = "us-east-1"
START_TIMEOUT = 30
HTTP_TIMEOUT = 60

_HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(os.path.dirname(_HERE), "node")


class S3Error(Exception):
    pass


def s3rver_binary():
    exe = os.path.join(NODE_DIR, "node_modules", ".bin", "s3rver")
    if not os.path.exists(exe):
        raise S3Error(f"s3rver is not installed ({exe} missing): run scripts/install-deps.sh "
                      "(npm ci in tests/e2e/node)")
    return exe


def quote_key(key):
    """An object key as a URL path part: RFC 3986 unreserved kept, '/' kept, the rest %XX."""
    return urllib.parse.quote(key, safe="/-_.~")


class S3Server:
    def __init__(self, buckets=("videos",), keep=None):
        self.buckets = list(buckets)
        self.keep = bool(os.environ.get("TWS_E2E_KEEP")) if keep is None else keep
        self.dir = None
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.log_path = None

    # -- life ---------------------------------------------------------------------------------

    def start(self):
        exe = s3rver_binary()
        self.dir = tempfile.mkdtemp(prefix="tws-s3rver-")
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        self.log_path = os.path.join(self.dir, "s3rver.log")
        cmd = [exe, "-d", data, "-a", self.host, "-p", "0", "--no-vhost-buckets"]
        for b in self.buckets:
            cmd += ["--configure-bucket", b]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        log = open(self.log_path, "wb")
        found = threading.Event()

        def drain():
            for line in iter(self.proc.stdout.readline, b""):
                log.write(line)
                log.flush()
                if self.port is None:
                    m = re.search(rb"listening on [0-9.]+:(\d+)", line)
                    if m:
                        self.port = int(m.group(1))
                        found.set()
            log.close()
            found.set()
        threading.Thread(target=drain, daemon=True).start()
        found.wait(START_TIMEOUT)
        if self.port is None:
            self.stop()
            raise S3Error(f"s3rver did not announce its port within {START_TIMEOUT} s: "
                          f"{self.log_tail()}")
        # Answers? (a bucket listing of the first bucket)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                st, _h, _b = self.request("GET", f"/{self.buckets[0]}?list-type=2", timeout=5)
                if st == 200:
                    break
            except OSError:
                st = None
            if time.monotonic() > deadline:
                self.stop()
                raise S3Error(f"s3rver on port {self.port} does not answer (last status {st})")
            time.sleep(0.2)
        return self

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            self.proc = None
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=8):
        try:
            lines = open(self.log_path, "rb").read().decode(errors="replace").strip().splitlines()
        except (OSError, TypeError):
            return "(no log)"
        return " | ".join(lines[-n:]) or "(log empty)"

    @property
    def endpoint(self):
        return f"http://{self.host}:{self.port}"

    def config_section(self, name, bucket, region=REGION):
        """A tws `[bucket NAME]` section for remote `bucket` (API.md "Config")."""
        return (f"[bucket {name}]\n"
                f"endpoint = {self.endpoint}\n"
                f"region = {region}\n"
                f"name = {bucket}\n"
                f"access-key-id = {ACCESS_KEY}\n"
                f"secret-access-key = {SECRET_KEY}\n")

    # -- a plain client (anonymous requests) ----------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def put(self, bucket, key, data, content_type="application/octet-stream"):
        st, _h, body = self.request("PUT", f"/{bucket}/{quote_key(key)}", body=data,
                                    headers={"Content-Type": content_type,
                                             "Content-Length": str(len(data))})
        if st != 200:
            raise S3Error(f"PUT /{bucket}/{key}: HTTP {st} {body[:300]!r}")

    def put_file(self, bucket, key, path):
        with open(path, "rb") as f:
            self.put(bucket, key, f.read())

    def get(self, bucket, key):
        """The object's bytes, or None when it does not exist (404)."""
        st, _h, body = self.request("GET", f"/{bucket}/{quote_key(key)}")
        if st == 404:
            return None
        if st != 200:
            raise S3Error(f"GET /{bucket}/{key}: HTTP {st} {body[:300]!r}")
        return body

    def exists(self, bucket, key):
        st, _h, _b = self.request("HEAD", f"/{bucket}/{quote_key(key)}")
        if st not in (200, 404):
            raise S3Error(f"HEAD /{bucket}/{key}: HTTP {st}")
        return st == 200

    def delete(self, bucket, key):
        st, _h, body = self.request("DELETE", f"/{bucket}/{quote_key(key)}")
        if st not in (200, 204):
            raise S3Error(f"DELETE /{bucket}/{key}: HTTP {st} {body[:300]!r}")

    def list(self, bucket, prefix=""):
        """ListObjectsV2 (all pages): {key: size}."""
        out = {}
        token = None
        while True:
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            st, _h, body = self.request("GET", f"/{bucket}?" + urllib.parse.urlencode(q))
            if st != 200:
                raise S3Error(f"ListObjectsV2 {bucket} prefix {prefix!r}: HTTP {st} {body[:300]!r}")
            root = ET.fromstring(body)
            ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            for c in root.findall(f"{ns}Contents"):
                out[c.findtext(f"{ns}Key")] = int(c.findtext(f"{ns}Size") or 0)
            if root.findtext(f"{ns}IsTruncated") == "true":
                token = root.findtext(f"{ns}NextContinuationToken")
                if not token:
                    break
            else:
                break
        return out
