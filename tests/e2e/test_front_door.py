#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The front door (issue 21 "Done means" 2 and 4): one `tws serve` (workers 1, queue-limit 1,
stall-timeout 20, TWS_TEST_WORKER=1 so a source named tws-test-segment-hang holds its worker)
and hostile or careless clients, each case checking the status and JSON Code.

  huge-body      POST /v1/playlists without a token and Content-Length: 1 TiB: 401 before
                 1 MiB of the body is sent, the server's RSS grows less than 16 MB; with the
                 token, 413 at once; a chunked body past 1 MiB: 413
  multi-range    1,500 ranges on a stored segment: 200 with the object, nothing bigger
  overwrite      a target whose playlist would be the source: 400 InvalidArgument naming
                 both, the source unchanged (SHA-256)
  keys           keys with %, +, space, #, ?, non-ASCII: created, signed, played
  aborts         a client that leaves a cold segment mid-stream: logged with the status sent
                 and "aborted": true, counted in tws_http_aborted_total, not as a 5xx
  outside        a target through a symbolic link out of the bucket: refused, nothing created
                 outside, no server path in the message
  strict-json    typos (with the closest name), duplicate members, comments, trailing data:
                 400 InvalidArgument; the reference API's ProjectName/Notification: accepted
  signatures     the right signature with any one character changed (first, middle, last):
                 403 AccessDenied; the right one: 200
  queue-limit    beyond the queue limit a cold segment is 503 ServiceUnavailable with
                 Retry-After
  slow-store     (Done means 1) an S3 bucket whose store answers every HEAD and GET after 5 s
                 (lib/flaky_store.py): while cold segments and playlist GETs of it are in
                 flight (their read-ahead asks the store whether segments are stored),
                 /healthz and a stored segment of the local bucket answer in under 100 ms,
                 the largest of 20 requests each

Timeouts guard against hangs; nothing here measures speed.
"""

import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import media  # noqa: E402
import serve  # noqa: E402
from flaky_store import FlakyStore  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server  # noqa: E402
from tws import Env  # noqa: E402

VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x144"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 48000}}


class World:
    def __init__(self):
        self.env = Env("front-door")
        self.store = FlakyStore()
        serve.write_config(self.env, workers=1, extra=(
            f"\n[bucket slow]\nendpoint = {self.store.endpoint}\nregion = us-east-1\n"
            "name = remote\naccess-key-id = AK\nsecret-access-key = SK\n"))
        text = open(self.env.config).read().replace(
            "[server]\n", "[server]\nqueue-limit = 1\nstall-timeout = 20\n", 1)
        open(self.env.config, "w").write(text)
        self.server = Server(self.env).start(env={"TWS_TEST_WORKER": "1"})
        self.src = self.env.put(media.source("mp4"), "in/src.mp4")
        self.n = 0

    def close(self):
        self.store.set_mode("ok")
        failures = self.server.stop()
        self.store.stop()
        self.env.close()
        return failures

    def target(self, uri=None):
        self.n += 1
        return {"URI": uri or f"oss://media/out/t{self.n}/v", "Duration": 5,
                "InitialSegments": [2, 2], "InitialTranscode": 0, "TranscodeAhead": 0,
                "Video": VIDEO, "Audio": AUDIO}

    def playlist(self, source=None, uri=None):
        r = self.server.api("/v1/playlists", {"SourceURI": source or self.src,
                                              "Targets": [self.target(uri)]})
        if r.status != 200:
            raise serve.ServeError(f"POST /v1/playlists: {r.describe()}")
        return r.json()

    def segment_path(self, made, k):
        key = made["VideoPlaylist"][0]["URI"][len("oss://media/"):-len(".m3u8")]
        return serve.signed_path(serve.encode_path(
            f"/media/{key}-{made['VideoPlaylist'][0]['Token']}-{k}.ts"))

    def rss(self):
        for line in open(f"/proc/{self.server.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


def expect(r, status, code=None, label="", contains=None):
    if r.status != status:
        return [f"{label}: {r.describe()} (want {status} {code or ''})"]
    if code:
        j = r.json()
        if not isinstance(j, dict) or j.get("Code") != code:
            return [f"{label}: {r.describe()} (want Code {code})"]
        if contains and contains not in j.get("Message", ""):
            return [f"{label}: message {j.get('Message')!r} lacks {contains!r}"]
    return []


def raw_exchange(server, head, body_chunks, limit):
    """Sends `head`, then body chunks until the server answers or `limit` bytes went out;
    returns (bytes sent, the status line, the response's JSON body or None)."""
    s = socket.create_connection((server.host, server.port), 30)
    s.sendall(head)
    sent = 0
    response = b""
    s.setblocking(False)
    try:
        for chunk in body_chunks:
            if sent >= limit:
                break
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                got = s.recv(65536)
                if got:
                    response += got
                    break
            except BlockingIOError:
                pass
    finally:
        s.setblocking(True)
        s.settimeout(10)
        try:
            while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
                got = s.recv(65536)
                if not got:
                    break
                response += got
        except OSError:
            pass
        s.close()
    status = response.split(b"\r\n", 1)[0].decode(errors="replace")
    body = response.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in response else b""
    try:
        return sent, status, json.loads(body)
    except ValueError:
        return sent, status, None


def case_huge_body(w):
    f = []
    before = w.rss()
    endless = iter(lambda: b"x" * 65536, None)
    sent, status, j = raw_exchange(
        w.server, b"POST /v1/playlists HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1099511627776\r\n\r\n", endless, 64 << 20)
    print(f"     1 TiB without a token: {status!r} after {sent} body bytes sent", flush=True)
    if not status.startswith("HTTP/1.1 401") or not j or j.get("Code") != "Unauthorized":
        f.append(f"1 TiB body without a token: {status!r} {j}")
    if sent >= 1 << 20 and not status:
        f.append(f"the server took {sent} body bytes without answering")
    sent, status, j = raw_exchange(
        w.server, b"POST /v1/playlists HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + serve.TOKEN.encode() + b"\r\nContent-Length: 1099511627776\r\n\r\n", endless, 64 << 20)
    if not status.startswith("HTTP/1.1 413") or not j or j.get("Code") != "PayloadTooLarge":
        f.append(f"1 TiB body with the token: {status!r} {j}")
    chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
    sent, status, j = raw_exchange(
        w.server, b"POST /v1/playlists HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + serve.TOKEN.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n",
        iter(lambda: chunk, None), 8 << 20)
    print(f"     chunked with the token: {status!r} after {sent} bytes sent", flush=True)
    if not status.startswith("HTTP/1.1 413") or not j or j.get("Code") != "PayloadTooLarge":
        f.append(f"a chunked body past 1 MiB: {status!r} {j}")
    grown = w.rss() - before
    print(f"     server RSS grew {grown / 1e6:.1f} MB", flush=True)
    if grown > 16e6 and not serve.sanitized():
        f.append(f"the server's RSS grew {grown / 1e6:.1f} MB over the huge bodies")
    f += expect(w.server.get("/healthz"), 200, label="/healthz after")
    return f


def case_multi_range(w):
    made = w.playlist()
    seg = w.server.get(w.segment_path(made, 0))
    if seg.status != 200:
        return [f"the segment: {seg.describe()}"]
    before = w.rss()
    ranges = "bytes=" + ",".join(["0-"] * 1500)
    r = w.server.get(w.segment_path(made, 0), headers={"Range": ranges})
    f = []
    if r.status not in (200, 416):
        f.append(f"1500 ranges: HTTP {r.status}")
    if r.status == 200 and r.body != seg.body:
        f.append(f"1500 ranges: {len(r.body)} bytes, not the object's {len(seg.body)}")
    if w.rss() - before > 16e6 and not serve.sanitized():
        f.append(f"1500 ranges grew the server's RSS {(w.rss() - before) / 1e6:.1f} MB")
    one = w.server.get(w.segment_path(made, 0), headers={"Range": "bytes=188-375"})
    f += expect(one, 206, label="one range")
    if one.body != seg.body[188:376]:
        f.append("one range: the wrong bytes")
    return f


def case_overwrite(w):
    path = w.env.path("in/keep.mp4")
    uri = w.env.put(media.source("mp4"), "in/keep.mp4")
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    os.replace(path, w.env.path("in/keep.m3u8"))
    uri = "oss://media/in/keep.m3u8"
    r = w.server.api("/v1/playlists", {"SourceURI": uri,
                                       "Targets": [w.target("oss://media/in/keep")]})
    f = expect(r, 400, "InvalidArgument", "a target over its source", "SourceURI")
    if "Targets[0].URI" not in (r.json() or {}).get("Message", ""):
        f.append(f"the message does not name the target: {r.describe()}")
    if hashlib.sha256(open(w.env.path("in/keep.m3u8"), "rb").read()).hexdigest() != digest:
        f.append("the source changed")
    return f


def case_keys(w):
    f = []
    for name in ["100%25", "a+b", "a b", "a#b", "a?b", "übung-日本"]:
        made = w.playlist(uri=f"oss://media/keys/{name}/v")
        url = w.server.sign(made["VideoPlaylist"][0]["URI"])
        p = w.server.get(url)
        if p.status != 200:
            f.append(f"key {name!r}: playlist {p.describe()}")
            continue
        first = serve.segment_lines(p.text())[0]
        seg = w.server.get(urllib.parse.urljoin(w.server.base + serve.local_path(url), first))
        if seg.status != 200 or not seg.body.startswith(b"\x47"):
            f.append(f"key {name!r}: segment {seg.describe()}")
    return f


def case_aborts(w):
    f = []
    made = w.playlist()
    before = w.server.metrics()
    aborted0 = serve.metric_sum(before, "tws_http_aborted_total") or 0
    fives0 = sum(v for n, l, v in before if n == "tws_http_requests_total"
                 and l.get("code", "").startswith("5"))
    path = w.segment_path(made, 2)
    s = socket.create_connection((w.server.host, w.server.port), 60)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    s.close()  # mid-stream: the cold segment is still being made
    serve.wait_for(lambda: (serve.metric_sum(w.server.metrics(), "tws_http_aborted_total") or 0)
                   > aborted0, 30)
    after = w.server.metrics()
    aborted1 = serve.metric_sum(after, "tws_http_aborted_total") or 0
    fives1 = sum(v for n, l, v in after if n == "tws_http_requests_total"
                 and l.get("code", "").startswith("5"))
    if aborted1 != aborted0 + 1:
        f.append(f"tws_http_aborted_total went {aborted0} -> {aborted1}, want +1")
    if fives1 != fives0:
        f.append(f"5xx responses went {fives0} -> {fives1} for an aborted 200")
    lines = [json.loads(line) for line in open(w.server.stderr_path, errors="replace")
             if line.startswith('{"log":"request"') and '"aborted":true' in line]
    if not any(line.get("status") == 200 and line.get("path", "").endswith("-2.ts")
               for line in lines):
        f.append(f"no access log line with status 200 and aborted for the segment: {lines[-3:]}")
    return f


def case_outside(w):
    outside = os.path.join(w.env.dir, "outside")
    os.makedirs(outside)
    os.symlink(outside, w.env.path("link"))
    r = w.server.api("/v1/playlists", {"SourceURI": w.src,
                                       "Targets": [w.target("oss://media/link/sub/v")]})
    f = []
    if r.status < 400:
        f.append(f"a target through a link out of the bucket: {r.describe()}")
    if os.listdir(outside):
        f.append(f"created outside the bucket: {os.listdir(outside)}")
    if w.env.bucket in r.text() or w.env.dir in r.text():
        f.append(f"the message shows a server path: {r.text()}")
    return f


def case_strict_json(w):
    f = []
    good = {"SourceURI": w.src, "Targets": [w.target()]}
    bad_crf = json.loads(json.dumps(good))
    bad_crf["Targets"][0]["Video"]["TranscodeVideo"]["Crf"] = 51
    f += expect(w.server.api("/v1/playlists", bad_crf), 400, "InvalidArgument", "Crf",
                "Targets[0].Video.TranscodeVideo.Crf")
    if "CRF" not in (w.server.api("/v1/playlists", bad_crf).json() or {}).get("Message", ""):
        f.append("the Crf message suggests no CRF")
    vido = json.loads(json.dumps(good))
    vido["Targets"][0]["Video"] = {"TranscodeVido": {}}
    f += expect(w.server.api("/v1/playlists", vido), 400, "InvalidArgument", "TranscodeVido",
                "TranscodeVideo")
    text = json.dumps(good)
    for label, body in [("duplicate", text[:-1] + ', "SourceURI": "oss://media/x.mp4"}'),
                        ("comment", text[:1] + "/* c */" + text[1:]),
                        ("trailing", text + " {}")]:
        r = w.server.request("POST", "/v1/playlists", body=body.encode(),
                             headers={"Authorization": f"Bearer {serve.TOKEN}",
                                      "Content-Type": "application/json"})
        f += expect(r, 400, "InvalidArgument", label)
    extra = dict(good, ProjectName="p", Notification={"Topic": "t"},
                 CredentialConfig={"Role": "r"}, UserData="u", Tags={"a": "b"})
    f += expect(w.server.api("/v1/playlists", extra), 200, label="reference API members")
    return f


def case_signatures(w):
    made = w.playlist()
    url = w.server.sign(made["VideoPlaylist"][0]["URI"])
    f = expect(w.server.get(url), 200, label="the right signature")
    sig = serve.query_of(url)["Signature"]
    for at in (0, len(sig) // 2, len(sig) - 1):
        other = "A" if sig[at] != "A" else "B"
        forged = url.replace("Signature=" + sig, "Signature=" + sig[:at] + other + sig[at + 1:])
        f += expect(w.server.get(forged), 403, "AccessDenied", f"signature changed at {at}")
    return f


def case_queue_limit(w):
    hold = w.playlist(source=w.env.put(media.source("mp4"), "in/tws-test-segment-hang.mp4"))
    others = [w.playlist() for _ in range(3)]
    results = []

    def get(path):
        results.append(w.server.get(path, timeout=120))
    threads = [threading.Thread(target=get, args=(w.segment_path(hold, 0),))]
    threads[0].start()
    time.sleep(1)
    for m in others:
        t = threading.Thread(target=get, args=(w.segment_path(m, 1),))
        t.start()
        threads.append(t)
        time.sleep(0.3)
    for t in threads:
        t.join(150)
    statuses = sorted(r.status for r in results)
    print(f"     with the one worker held: {statuses}", flush=True)
    refused = [r for r in results if r.status == 503]
    if not refused:
        return [f"no request beyond the queue limit was refused: {statuses}"]
    f = expect(refused[0], 503, "ServiceUnavailable", "beyond the queue limit")
    if not refused[0].header("Retry-After"):
        f.append("the 503 has no Retry-After")
    return f


def case_slow_store(w):
    f = []
    w.store.put("remote", "in/src.mp4", open(media.source("mp4"), "rb").read())
    slow = w.server.api("/v1/playlists", {"SourceURI": "oss://slow/in/src.mp4", "Targets": [
        dict(w.target("oss://slow/out/p/v"), TranscodeAhead=3)]}, timeout=120)
    if slow.status != 200:
        return [f"the S3 playlist: {slow.describe()}"]
    made = slow.json()
    key = made["VideoPlaylist"][0]["URI"][len("oss://slow/"):-len(".m3u8")]
    token = made["VideoPlaylist"][0]["Token"]
    local = w.playlist()
    stored = w.segment_path(local, 0)
    f += expect(w.server.get(stored), 200, label="the local segment, made")
    w.store.set_mode("delay=5")
    busy = []

    def slow_get(path):
        try:
            busy.append(w.server.get(path, timeout=120).status)
        except OSError as e:
            busy.append(str(e))
    paths = [serve.signed_path(serve.encode_path(f"/slow/{key}-{token}-{k}.ts")) for k in (1, 2)]
    paths += [serve.signed_path(serve.encode_path(f"/slow/{key}.m3u8"))] * 3
    threads = [threading.Thread(target=slow_get, args=(p,), daemon=True) for p in paths]
    for t in threads:
        t.start()
        time.sleep(0.1)
    worst = {"/healthz": 0.0, "stored local segment": 0.0}
    for _ in range(20):  # over 15 s: the S3 requests' storage checks come seconds apart
        time.sleep(0.75)
        for label, path in (("/healthz", "/healthz"), ("stored local segment", stored)):
            t0 = time.monotonic()
            r = w.server.get(path, timeout=30)
            dt = time.monotonic() - t0
            worst[label] = max(worst[label], dt)
            if r.status != 200:
                f.append(f"{label} while the store is slow: HTTP {r.status}")
    print(f"     while the store is slow: /healthz at most {worst['/healthz'] * 1000:.1f} ms, a "
          f"stored local segment at most {worst['stored local segment'] * 1000:.1f} ms; "
          f"{sum(t.is_alive() for t in threads)} of {len(threads)} S3 requests still waiting",
          flush=True)
    for label, dt in worst.items():
        if dt > 0.1:
            f.append(f"{label} took {dt * 1000:.0f} ms while the store was slow (limit 100 ms)")
    if len(busy) == len(threads):
        f.append("the S3 requests were all answered already: the store was not slow")
    w.store.set_mode("ok")
    for t in threads:
        t.join(120)
    return f


def main():
    run = Runner("the front door (issue 21)")
    media.source("mp4")
    w = World()
    try:
        run.case("huge-body: 401/413 at the headers, the body never buffered", case_huge_body, w)
        run.case("multi-range: 1,500 ranges get the object, nothing bigger", case_multi_range, w)
        run.case("overwrite: a target over its source is refused, the source unchanged",
                 case_overwrite, w)
        run.case("keys: %, +, space, #, ?, non-ASCII keys sign and play", case_keys, w)
        run.case("aborts: counted apart, never as 5xx", case_aborts, w)
        run.case("outside: nothing created outside the bucket, no server path shown",
                 case_outside, w)
        run.case("strict-json: typos, duplicates, comments, trailing data", case_strict_json, w)
        run.case("signatures: any one character changed is refused", case_signatures, w)
        run.case("slow-store: the local bucket and /healthz stay fast while S3 answers in 5 s",
                 case_slow_store, w)
        run.case("queue-limit: 503 with Retry-After beyond it", case_queue_limit, w)
    finally:
        run.stopped(w.close())
    run.finish()


if __name__ == "__main__":
    main()
