# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the `tws` binary the way a user does (API.md "CLI"): a config with one local bucket in a
temporary directory, `tws playlist --config C REQUEST.json`, `tws segment --config C URI K [N]`,
`tws probe --config C URI`. Timeouts are generous: they guard against hangs, not speed."""

import json
import os
import shutil
import subprocess
import tempfile

PLAYLIST_TIMEOUT = 120
SEGMENT_TIMEOUT = 300


def binary():
    exe = os.environ.get("TWS")
    if exe:
        return exe
    for root in (os.environ.get("TWS_BUILD_ROOT"), "build"):
        if root and os.path.exists(os.path.join(root, "service", "tws")):
            return os.path.abspath(os.path.join(root, "service", "tws"))
    return "tws"


class Result:
    def __init__(self, args, rc, stdout, stderr):
        self.args, self.rc, self.stdout, self.stderr = args, rc, stdout, stderr

    def json(self):
        return json.loads(self.stdout)

    def describe(self):
        return (f"`{' '.join(self.args)}` exited {self.rc}; stderr: "
                f"{self.stderr.strip()[-1500:] or '(empty)'}")


class TwsError(Exception):
    pass


class Env:
    """A temporary tws world: DIR/tws.conf, bucket `media` = DIR/media. Requests are written to
    DIR/requests (outside the bucket)."""

    def __init__(self, name="e2e", keep=False):
        self.dir = tempfile.mkdtemp(prefix=f"tws-{name}-")
        self.bucket = os.path.join(self.dir, "media")
        self.requests = os.path.join(self.dir, "requests")
        os.makedirs(self.bucket)
        os.makedirs(self.requests)
        self.config = os.path.join(self.dir, "tws.conf")
        self.keep = keep or bool(os.environ.get("TWS_E2E_KEEP"))
        with open(self.config, "w") as f:
            f.write("[server]\n"
                    "listen = 127.0.0.1:0\n"
                    "workers = 1\n"
                    "\n"
                    "[bucket media]\n"
                    f"path = {self.bucket}\n"
                    "\n"
                    "[key dev]\n"
                    "secret = e2e-signing-secret-0123456789\n"
                    "\n"
                    "[api]\n"
                    "tokens = t\n")
        self._n = 0

    def close(self):
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- storage ---------------------------------------------------------------------------

    def put(self, local_path, key):
        """Copies a file into the bucket; returns its oss:// URI."""
        dest = self.path(key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(local_path, dest)
        return f"oss://media/{key}"

    def path(self, key_or_uri):
        key = key_or_uri
        for scheme in ("oss://media/", "s3://media/"):
            if key.startswith(scheme):
                key = key[len(scheme):]
        return os.path.join(self.bucket, key)

    def listing(self):
        """Every file in the bucket: sorted (relative path, size, mtime_ns)."""
        out = []
        for root, _dirs, files in os.walk(self.bucket):
            for fn in files:
                p = os.path.join(root, fn)
                st = os.stat(p)
                out.append((os.path.relpath(p, self.bucket), st.st_size, st.st_mtime_ns))
        return sorted(out)

    # -- commands --------------------------------------------------------------------------

    def run(self, args, timeout):
        cmd = [binary()] + args
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        except subprocess.TimeoutExpired as e:
            raise TwsError(f"`{' '.join(cmd)}` did not finish in {timeout} s (hang?)") from e
        return Result(cmd, r.returncode, r.stdout, r.stderr)

    def playlist_raw(self, request, timeout=PLAYLIST_TIMEOUT):
        self._n += 1
        req = os.path.join(self.requests, f"request-{self._n}.json")
        with open(req, "w") as f:
            json.dump(request, f, indent=1)
        return self.run(["playlist", "--config", self.config, req], timeout)

    def playlist(self, request, timeout=PLAYLIST_TIMEOUT):
        """Runs `tws playlist`; returns the parsed response; raises TwsError on failure."""
        r = self.playlist_raw(request, timeout)
        if r.rc != 0:
            raise TwsError(r.describe())
        try:
            return r.json()
        except ValueError as e:
            raise TwsError(f"tws playlist printed no JSON: {r.stdout[:500]!r}") from e

    def segment_raw(self, playlist_uri, k, n=None, timeout=SEGMENT_TIMEOUT):
        args = ["segment", "--config", self.config, playlist_uri, str(k)]
        if n is not None:
            args.append(str(n))
        return self.run(args, timeout)

    def segment(self, playlist_uri, k, n=None, timeout=SEGMENT_TIMEOUT):
        r = self.segment_raw(playlist_uri, k, n, timeout)
        if r.rc != 0:
            raise TwsError(r.describe())
        return r

    def probe(self, uri, timeout=PLAYLIST_TIMEOUT):
        r = self.run(["probe", "--config", self.config, uri], timeout)
        if r.rc != 0:
            raise TwsError(r.describe())
        return r.json()
