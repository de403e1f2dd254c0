#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reliability and security end to end (issue 7 "Done means" 1): bad uploads, hostile requests
and failing sources against one `tws serve`, each with the status and Code of API.md's table;
the server alive and serving after all of them.

One server (workers 2, [server] stall-timeout 3) with a local bucket `media` and an S3 bucket
`flaky` on lib/flaky_store.py (a store that fails, hangs or goes down on demand), signing keys
`new` (first: new URLs) and `old` (still accepted: key rotation).

Cases (one line each in the output; every response checked for its status and JSON Code):
  bad sources        POST /v1/playlists with a truncated MP4, random bytes, an empty file,
                     text, a missing object: 400 InvalidSource (the reason named) / 404
  requests           not JSON, nested 100000 deep, 2 MiB, wrong types, traversal in SourceURI
                     and target URIs (.., backslash, NUL), other schemes, unknown buckets,
                     no/wrong token, wrong method: 400/413/401/405 with their Codes
  paths              playback paths with .., %2e%2e, %2f, backslashes, NUL, unknown buckets,
                     an overlong path, 20000 query parameters, a 64 KiB header: never outside
                     the bucket, never a 5xx
  signatures         unsigned, expired, malformed and overlong Expires, unknown KeyId, another
                     path's signature, a key no longer configured: 403; the old key: 200
  segments           another token, an index past the end, a source replaced: 404/404/409
  failing sources    an index that promises more than the file holds: 502 TranscodeFailed
                     before the first byte; a store failing half-way through a segment: the
                     response cut without its last chunk; a store hanging: 504
                     TranscodeTimeout after the stall timeout; a store down: 503
                     ServiceUnavailable with Retry-After, then served when it is back; nothing
                     of these stored
  slow store         a playlist GET on the S3 bucket whose store hangs: meanwhile /healthz
                     and a stored segment of the local bucket are answered (the store's
                     requests run off the main loop); when the store answers again, so does
                     the playlist GET; 48 more GETs open at most 20 store connections
  alive              /healthz, a good segment made and served, the strict check on it

Timeouts guard against hangs; nothing here measures speed.
"""

import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from flaky_store import FlakyStore  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server  # noqa: E402
from tws import Env  # noqa: E402

OLD_SECRET = "old-signing-secret-0123456789"
GONE_SECRET = "retired-signing-secret-0123"
STALL = 3
REMOTE = "src"

media.RECIPES.setdefault(
    "faststart", ("src-faststart.mp4", "320x240 H.264 + AAC, 12 s, moov first",
                  media._video_in("320x240", "25", 12) + media._audio_in(12, 44100) +
                  media._x264(75) + media.AAC + ["-movflags", "+faststart"], "av"))
# Big for its length (about 1 MB a second), moov first: a store failing at an offset fails
# a known stretch of media time.
media.RECIPES.setdefault(
    "flaky30", ("src-flaky-30s.mp4", "640x360 H.264 (ultrafast, QP 12) + AAC, 30 s, moov first",
                media._video_in("640x360", "25", 30) + media._audio_in(30, 44100) +
                ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "12", "-g", "50",
                 "-pix_fmt", "yuv420p"] + media.AAC + ["-movflags", "+faststart"], "av"))

VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x240"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}


class World:
    def __init__(self):
        self.store = FlakyStore()
        self.env = Env("hostile")
        serve.write_config(self.env, workers=2, extra=(
            f"\n[key old]\nsecret = {OLD_SECRET}\n"
            f"\n[bucket flaky]\nendpoint = {self.store.endpoint}\nregion = us-east-1\n"
            f"name = {REMOTE}\naccess-key-id = AK\nsecret-access-key = SK\n"))
        # [server] stall-timeout, into the server section write_config made.
        text = open(self.env.config).read().replace("[server]\n", f"[server]\nstall-timeout = {STALL}\n", 1)
        open(self.env.config, "w").write(text)
        self.server = Server(self.env).start()
        self.n = 0

    def close(self):
        failures = self.server.stop()
        self.store.stop()
        self.env.close()
        return failures

    def playlist(self, source_uri, duration=5, initial=()):
        """A playlist of one target; returns (playlist URI, token, prefix key)."""
        self.n += 1
        prefix = f"oss://media/out/t{self.n}/v"
        r = self.server.create_playlist({"SourceURI": source_uri, "Targets": [{
            "URI": prefix, "Duration": duration, "InitialSegments": list(initial),
            "InitialTranscode": 0, "TranscodeAhead": 0, "Video": VIDEO, "Audio": AUDIO}]})
        return prefix + ".m3u8", r["VideoPlaylist"][0]["Token"], prefix[len("oss://media/"):]

    def segment_path(self, prefix_key, token, k):
        return serve.encode_path(f"/media/{prefix_key}-{token}-{k}.ts")

    def out_files(self, prefix_key):
        d = os.path.dirname(self.env.path(prefix_key))
        return sorted(os.listdir(d)) if os.path.isdir(d) else []


def expect(r, status, code=None, label=""):
    """Failures unless the response has `status` and (for errors) a JSON body with `code`."""
    f = []
    if r.status != status:
        return [f"{label}: HTTP {r.status} (want {status} {code or ''}): {r.body[:200]!r}"]
    if code:
        j = r.json()
        if not isinstance(j, dict) or j.get("Code") != code or not j.get("Message") or \
                not j.get("RequestId"):
            f.append(f"{label}: body {r.body[:200]!r}, want JSON Code {code} with Message, RequestId")
        elif status == 503 and not r.header("Retry-After"):
            f.append(f"{label}: 503 without Retry-After")
    return f


def raw(server, method, target, headers=None, body=None, timeout=120):
    """A request with the target sent as it is (no normalisation on the way)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return serve.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


# ----------------------------------------------------------------------------------------------

def case_bad_sources(w):
    f = []
    paths = media.bad_sources(os.path.join(w.env.dir, "bad"))
    for name, path in sorted(paths.items()):
        uri = w.env.put(path, f"in/{name}")
        before = w.out_files("out")
        r = w.server.api("/v1/playlists", {"SourceURI": uri, "Targets": [{
            "URI": "oss://media/out/bad/v", "Video": VIDEO, "Audio": AUDIO}]})
        f += expect(r, 400, "InvalidSource", f"source {name}")
        if r.status == 400 and len((r.json() or {}).get("Message", "")) < 10:
            f.append(f"source {name}: the message names no reason: {r.body[:200]!r}")
        if w.out_files("out") != before:
            f.append(f"source {name}: something was written: {w.out_files('out')}")
    r = w.server.api("/v1/playlists", {"SourceURI": "oss://media/in/nothing.mp4", "Targets": [{
        "URI": "oss://media/out/bad/v", "Video": VIDEO}]})
    f += expect(r, 404, "NotFound", "a missing source")
    return f


def case_requests(w):
    f = []
    s = w.server
    good = w.env.put(media.source("mp4"), "in/good.mp4")
    target = {"URI": "oss://media/out/req/v", "Video": VIDEO, "Audio": AUDIO}

    def post(body, status, code, label, token=serve.TOKEN, path="/v1/playlists"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return expect(raw(s, "POST", path, headers, data), status, code, label)

    f += post(b"{not json", 400, "InvalidArgument", "a body that is not JSON")
    f += post(b"[" * 100000 + b"]" * 100000, 400, "InvalidArgument", "JSON nested 100000 deep")
    f += post(b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, "InvalidArgument", "objects nested 5000 deep")
    f += post(b'{"SourceURI": "' + b"x" * (2 << 20) + b'"}', 413, "PayloadTooLarge", "a 2 MiB body")
    f += post({"SourceURI": good, "Targets": "all"}, 400, "InvalidArgument", "Targets a string")
    f += post({"SourceURI": good, "Targets": [dict(target, Duration="ten")]}, 400, "InvalidArgument",
              "Duration a string")
    f += post({"SourceURI": good, "Targets": [target] * 7}, 400, "InvalidArgument", "7 targets")
    for src, code, label in (
            ("oss://media/../tws.conf", "InvalidURI", "SourceURI with .."),
            ("oss://media/in/../../tws.conf", "InvalidURI", "SourceURI climbing out"),
            ("oss://media/in\\..\\..\\tws.conf", "InvalidURI", "SourceURI with backslashes"),
            ("oss://media/in/good.mp4\u0000.txt", "InvalidArgument", "SourceURI with NUL (the body refused)"),
            ("file:///etc/passwd", "InvalidURI", "SourceURI file://"),
            ("http://127.0.0.1/x.mp4", "InvalidURI", "SourceURI http://"),
            ("/etc/passwd", "InvalidURI", "SourceURI a path"),
            ("oss://nobucket/in/good.mp4", "UnknownBucket", "SourceURI unknown bucket")):
        f += post({"SourceURI": src, "Targets": [target]}, 400, code, label)
    for uri, code, label in (("oss://media/out/../../x", "InvalidURI", "target URI with .."),
                             ("oss://media/out\\x", "InvalidURI", "target URI with a backslash"),
                             ("oss://nobucket/out/x", "UnknownBucket", "target unknown bucket")):
        f += post({"SourceURI": good, "Targets": [dict(target, URI=uri)]}, 400, code, label)
    f += post({"SourceURI": good, "Targets": [target]}, 401, "Unauthorized", "no token", token=None)
    f += post({"SourceURI": good, "Targets": [target]}, 401, "Unauthorized", "a wrong token", token="nope")
    f += expect(raw(s, "GET", "/v1/playlists", {"Authorization": f"Bearer {serve.TOKEN}"}), 405,
                "MethodNotAllowed", "GET /v1/playlists")
    f += post({"URI": good, "Expires": 10 ** 9}, 400, "InvalidArgument", "sign: Expires of 31 years",
              path="/v1/sign")
    f += post({"URI": "oss://media/../tws.conf"}, 400, "InvalidURI", "sign: URI with ..", path="/v1/sign")
    if w.out_files("out/req/v"):
        f.append(f"files written by refused requests: {w.out_files('out/req/v')}")
    return f


def case_paths(w):
    f = []
    s = w.server
    conf = open(w.env.config, "rb").read()
    for target, label in (
            ("/media/../tws.conf", ".."),
            ("/media/%2e%2e/tws.conf", "%2e%2e"),
            ("/media/%2E%2E/%2E%2E/tws.conf", "%2E%2E twice"),
            ("/media/..%2f..%2ftws.conf", "..%2f"),
            ("/media/x/..%5c..%5ctws.conf", "backslashes"),
            ("/media/a%00.m3u8", "NUL"),
            ("/media//etc/passwd", "an empty segment"),
            ("/media/./x.m3u8", "a . segment"),
            ("/%2e%2e/tws.conf", ".. as the bucket"),
            ("/media/" + "a/" * 3000 + "x.m3u8", "an overlong path")):
        for suffix in ("", "?" + urllib.parse.urlencode({"Expires": "9999999999", "KeyId": "dev",
                                                          "Signature": "x"})):
            r = raw(s, "GET", target + suffix)
            if r.status not in (400, 403, 404, 414) or conf[:40] in r.body:
                f.append(f"path {label}: HTTP {r.status} {r.body[:120]!r}")
            # libsoup answers a target it cannot parse (an encoded NUL or '/') with an empty
            # 400 itself, before tws sees it; every other 400 is tws's JSON.
            elif r.status == 400 and r.body and \
                    (r.json() or {}).get("Code") not in ("InvalidURI", "UnknownBucket"):
                f.append(f"path {label}: 400 {r.body[:120]!r}")
    f += expect(raw(s, "GET", serve.signed_path("/nobucket/x.m3u8")), 400, "UnknownBucket", "unknown bucket")
    # libsoup closes the connection on a request line or headers over its 64 KiB limit: a
    # refusal too, as long as the server stays up.
    for target, headers, label in (
            ("/media/x.m3u8?" + "&".join(f"p{i}=v" for i in range(20000)), {}, "20000 query parameters"),
            ("/media/x.m3u8?" + "&".join(f"p{i}=v" for i in range(2000)), {}, "2000 query parameters"),
            ("/healthz", {"X-Big": "x" * 65536}, "a 64 KiB header"),
            ("/healthz", {f"X-H{i}": "v" for i in range(2000)}, "2000 headers")):
        try:
            r = raw(s, "GET", target, headers)
            if r.status >= 500:
                f.append(f"{label}: HTTP {r.status}")
        except ConnectionError:
            pass
        if raw(s, "GET", "/healthz").status != 200:
            f.append(f"after {label}: /healthz does not answer 200")
    f += expect(raw(s, "PUT", serve.signed_path("/media/x.m3u8"), body=b"x"), 405, "MethodNotAllowed",
                "PUT a playback path")
    f += expect(raw(s, "DELETE", serve.signed_path("/media/x.m3u8")), 405, "MethodNotAllowed",
                "DELETE a playback path")
    return f


def case_signatures(w):
    f = []
    s = w.server
    uri = w.env.put(media.source("mp4"), "in/sig.mp4")
    playlist, _token, _key = w.playlist(uri)
    path = serve.object_path(playlist)
    now = int(time.time())
    for query, label in (
            ("", "unsigned"),
            (f"Expires={now + 600}&KeyId=dev", "no Signature"),
            (f"Expires={now - 10}&KeyId=dev&Signature={serve.signature(path, now - 10)}", "expired"),
            (f"Expires=1e9&KeyId=dev&Signature=x", "Expires 1e9"),
            (f"Expires=-5&KeyId=dev&Signature=x", "Expires negative"),
            (f"Expires={'9' * 40}&KeyId=dev&Signature={serve.signature(path, '9' * 40)}", "Expires 40 digits"),
            (f"Expires={now + 600}&KeyId=nobody&Signature={serve.signature(path, now + 600)}", "unknown KeyId"),
            (f"Expires={now + 600}&KeyId=dev&Signature={serve.signature('/media/other.m3u8', now + 600)}",
             "another path's signature"),
            (f"Expires={now + 600}&KeyId=dev&Signature={serve.signature(path, now + 601)}", "another Expires"),
            (f"Expires={now + 600}&KeyId=old&Signature={serve.signature(path, now + 600, GONE_SECRET)}",
             "a retired secret"),
            (f"Expires={now + 600}&KeyId=dev&Signature={serve.signature(path, now + 600)[:-1]}",
             "a signature one character short")):
        f += expect(raw(s, "GET", f"{path}?{query}"), 403, "AccessDenied", f"signature: {label}")
    r = raw(s, "GET", serve.signed_path(path, key_id="old", secret=OLD_SECRET))
    f += expect(r, 200, None, "the old key (rotation)")
    return f


def case_segments(w):
    f = []
    s = w.server
    src_path = w.env.put(media.source("mp4"), "in/seg.mp4")
    playlist, token, key = w.playlist(src_path)
    other = "0" * 32 if token != "0" * 32 else "1" * 32
    f += expect(raw(s, "GET", serve.signed_path(w.segment_path(key, other, 0))), 404, "NotFound",
                "a segment with another token")
    f += expect(raw(s, "GET", serve.signed_path(w.segment_path(key, token, 99))), 404, "NotFound",
                "a segment past the end")
    f += expect(raw(s, "GET", serve.signed_path(w.segment_path(key, token, 0).replace(".ts", ".mp4"))),
                400, "InvalidURI", "another extension")
    # The source replaced after the playlist was made.
    with open(w.env.path("in/seg.mp4"), "ab") as fh:
        fh.write(b"\0" * 1000)
    f += expect(raw(s, "GET", serve.signed_path(w.segment_path(key, token, 1))), 409, "SourceChanged",
                "the source replaced")
    if any(n.endswith(".ts") for n in w.out_files(key)):
        f.append(f"a segment stored from a replaced source: {w.out_files(key)}")
    return f


def truncated_faststart(w):
    """A moov-first MP4 cut to 40 %: its index promises 12 s, its data holds about 5."""
    data = open(media.source("faststart"), "rb").read()
    path = os.path.join(w.env.dir, "lying.mp4")
    with open(path, "wb") as fh:
        fh.write(data[: int(len(data) * 0.4)])
    return path


def stream_response(server, path, timeout=120):
    """GET path; returns (status, headers, body so far, cut: True when the body broke off)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        try:
            body = resp.read()
            return resp.status, headers, body, False
        except (http.client.IncompleteRead, ConnectionError, OSError) as e:
            partial = getattr(e, "partial", b"") or b""
            return resp.status, headers, partial, True
    finally:
        conn.close()


def case_failing_sources(w):
    f = []
    s = w.server
    # The index lies: a playlist is made (the moov says 12 s), the segments past the data fail.
    lying = w.env.put(truncated_faststart(w), "in/lying.mp4")
    r = s.api("/v1/playlists", {"SourceURI": lying, "Targets": [{
        "URI": "oss://media/out/lying/v", "Duration": 5, "InitialSegments": [], "InitialTranscode": 0,
        "TranscodeAhead": 0, "Video": VIDEO, "Audio": AUDIO}]})
    if r.status == 200:
        token = r.json()["VideoPlaylist"][0]["Token"]
        status, headers, body, cut = stream_response(s, serve.signed_path(
            w.segment_path("out/lying/v", token, 2)))
        if status != 502 or cut or (json.loads(body or b"{}").get("Code") != "TranscodeFailed"):
            f.append(f"a segment past the data of a lying index: HTTP {status}, cut {cut}, {body[:150]!r}")
        if any(n.endswith(".ts") for n in w.out_files("out/lying/v")):
            f.append(f"lying index: a segment was stored: {w.out_files('out/lying/v')}")
    else:
        f += expect(r, 400, "InvalidSource", "a lying index refused at once")

    # The flaky store: a 30 s source, 10 s segments; offsets by the file's size.
    data = open(media.source("flaky30"), "rb").read()
    w.store.put(REMOTE, "in/flaky.mp4", data)
    playlist, token, key = w.playlist("oss://flaky/in/flaky.mp4", duration=10)
    seg = lambda k: serve.signed_path(w.segment_path(key, token, k))  # noqa: E731
    size = len(data)

    # Failing half-way through segment 1 (10-20 s): its first bytes leave, then it is cut.
    w.store.set_mode(f"fail_from={size // 2}")
    status, headers, body, cut = stream_response(s, seg(1))
    if status != 200 or not cut or not body:
        f.append(f"store failing in segment 1: HTTP {status}, {len(body)} bytes, cut {cut} "
                 "(want 200, some bytes, then the connection cut)")
    # Failing before segment 2 (20-30 s) begins: a JSON 502 before any byte.
    status, headers, body, cut = stream_response(s, seg(2))
    if status != 502 or (json.loads(body or b"{}").get("Code") != "TranscodeFailed"):
        f.append(f"store failing before segment 2: HTTP {status}, {body[:150]!r}")

    # Hanging: the job makes no progress, it is torn down after the stall timeout.
    w.store.set_mode(f"hang_from={size * 2 // 3}")
    t = time.monotonic()
    status, headers, body, cut = stream_response(s, seg(2))
    took = time.monotonic() - t
    if status != 504 or (json.loads(body or b"{}").get("Code") != "TranscodeTimeout"):
        f.append(f"store hanging: HTTP {status} after {took:.1f} s, {body[:150]!r} (want 504 TranscodeTimeout)")

    # Down: 503 with Retry-After; back up: served without a restart.
    w.store.set_mode("down")
    f += expect(raw(s, "GET", seg(0)), 503, "ServiceUnavailable", "store down")
    stored_before = [n for n in w.out_files(key) if n.endswith(".ts")]
    if stored_before:
        f.append(f"segments stored while the store failed: {stored_before}")
    leftovers = [n for n in w.out_files(key) if not n.endswith((".ts", ".m3u8"))]
    if leftovers:
        f.append(f"temporary files left after the failures: {leftovers}")
    w.store.set_mode("ok")
    r = raw(s, "GET", seg(2))
    f += expect(r, 200, None, "store back")
    if r.status == 200:
        ok = serve.wait_for(lambda: f"v-{token}-2.ts" in w.out_files(key), 60, 0.2)
        if not ok:
            f.append("store back: segment 2 not stored")
    return f


def case_slow_store(w):
    f = []
    s = w.server
    # A stored segment of the local bucket, to be served while the store hangs.
    uri = w.env.put(media.source("mp4"), "in/slow-local.mp4")
    _playlist, token, key = w.playlist(uri, initial=(2,))
    r = raw(s, "GET", serve.signed_path(w.segment_path(key, token, 0)))
    f += expect(r, 200, None, "local segment 0 (made)")
    if not serve.wait_for(lambda: f"v-{token}-0.ts" in w.out_files(key), 60, 0.2):
        return f + ["local segment 0 not stored"]
    text = b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nx.ts\n#EXT-X-ENDLIST\n"
    w.store.put(REMOTE, "out/slow.m3u8", text)
    w.store.set_mode("hang_from=0")
    gets_before = w.store.requests.get("GET", 0)
    answer = {}

    def get_playlist():
        answer["r"] = raw(s, "GET", serve.signed_path(serve.encode_path("/flaky/out/slow.m3u8")),
                          timeout=120)
    t = threading.Thread(target=get_playlist, daemon=True)
    t.start()
    try:
        if not serve.wait_for(lambda: w.store.requests.get("GET", 0) > gets_before, 30, 0.05):
            return f + ["the playlist GET never reached the store"]
        f += expect(raw(s, "GET", "/healthz", timeout=20), 200, None, "/healthz while the store hangs")
        r = raw(s, "GET", serve.signed_path(w.segment_path(key, token, 0)), timeout=20)
        f += expect(r, 200, None, "a stored local segment while the store hangs")
        if "r" in answer:
            f.append(f"the playlist GET was answered while its store still hung: HTTP {answer['r'].status}")
    finally:
        w.store.set_mode("ok")
    t.join(120)
    r = answer.get("r")
    if r is None:
        f.append("the playlist GET was not answered after the store came back")
    elif r.status == 200:
        if b"x.ts?" not in r.body:
            f.append(f"the slow playlist, signed: {r.body[:200]!r}")
    else:
        f += expect(r, 503, "ServiceUnavailable", "the slow playlist GET")

    # The storage threads keep their connections: many GETs, few connections.
    connections, gets = w.store.connections, w.store.requests.get("GET", 0)
    # 48 GETs over the 16 storage threads: each thread keeps its connection.
    for i in range(48):
        f += expect(raw(s, "GET", serve.signed_path(serve.encode_path("/flaky/out/slow.m3u8"))),
                    200, None, f"S3 playlist GET {i}")
    made = w.store.connections - connections
    if w.store.requests.get("GET", 0) - gets < 48:
        f.append(f"48 playlist GETs made {w.store.requests.get('GET', 0) - gets} store GETs")
    if made > 20:
        f.append(f"48 playlist GETs opened {made} store connections (want the storage threads' "
                 "connections kept: at most 20)")
    return f


def case_alive(w):
    f = []
    s = w.server
    if not s.alive():
        return ["tws serve is not running any more"]
    f += expect(s.get("/healthz"), 200, None, "/healthz")
    uri = w.env.put(media.source("mp4"), "in/alive.mp4")
    playlist, token, key = w.playlist(uri)
    dest = os.path.join(w.env.dir, "alive")
    local, _text, _urls = serve.download_stream(s, s.sign(playlist), dest)
    failures, _summary = check.check_stream(local, token=token)
    return f + failures


def main():
    run = Runner("reliability and security (issue 7)")
    for name in ("mp4", "faststart", "flaky30"):
        media.source(name)
    w = World()
    try:
        run.case("bad sources: 400 InvalidSource naming why, nothing written; a missing one 404",
                 case_bad_sources, w)
        run.case("requests: malformed, deep, large, traversal, unknown buckets, tokens, methods",
                 case_requests, w)
        run.case("paths: traversal in every encoding, NUL, unknown bucket, long path, many parameters, "
                 "big header, methods", case_paths, w)
        run.case("signatures: 403 AccessDenied for every forgery; the old key still valid", case_signatures, w)
        run.case("segments: another token, past the end, another extension, source replaced", case_segments, w)
        run.case("failing sources: lying index 502, failing store cut / 502, hanging store 504, "
                 "store down 503 then back", case_failing_sources, w)
        run.case("slow store: /healthz and stored local segments answered while an S3 read hangs",
                 case_slow_store, w)
        run.case("alive: /healthz, a good stream made and served, strict check", case_alive, w)
    finally:
        run.stopped(w.close())
    run.finish()


if __name__ == "__main__":
    main()
