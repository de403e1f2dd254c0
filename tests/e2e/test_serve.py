#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end test of `tws serve` (issue 3 "Done means" 1-3) against API.md, with real clients
(http.client, ffmpeg, GStreamer playbin/hlsdemux) on 127.0.0.1 only.

Every case starts its own `tws serve --config C --listen 127.0.0.1:0` (a temporary bucket
`media`, [key dev], [api] tokens, [server] workers 2), reads the port from the first stdout line,
and ends it with SIGTERM (exit status 0 is part of the case). Cases:

  healthz-metrics    /healthz 200; /metrics names every metric of API.md from the start
  api                POST /v1/playlists: 401 without / with a wrong token, the response fields,
                     only the playlist written; POST /v1/sign (401 without a token); `tws sign`
  api-errors         400 InvalidArgument naming the field, UnknownBucket; 404 for a signed URL
                     of a missing object
  signatures         unsigned, expired, tampered (signature, path, Expires, KeyId) -> 403
                     AccessDenied; the served playlist has no record line and signs every URI
  playback           ffmpeg and GStreamer play the signed playlist over HTTP to the end; the
                     strict check (lib/check.py) on the copy fetched over HTTP
  single-flight      8 concurrent GETs of one cold segment: one transcode, 8 equal 200 bodies
  regenerate         every .ts deleted: plays again, the same timing, the segments stored again
  range-cache-cors   Range (206, Content-Range, bytes), 416, ETag, Cache-Control, CORS, preflight
  first-bytes        the first chunk of a cold 10 s segment arrives before it is in storage;
                     at the end it is stored and equal to the body
  read-ahead         GET segment 0 with TranscodeAhead 3: segments 1..3 stored, 4 not
  seek-ahead         a GET far into a running read-ahead run (a viewer's seek): the run stops
                     short of it and a new transcode serves it (200, the stored bytes)
  pre-transcode      InitialTranscode 36, [2,2,2] + 10 s: segments 0..5 stored without requests
  player-prefetch    GET /player?src=<signed playlist>: segment 0 of that playlist (of the
                     master's first variant) is made and stored with no segment request; a
                     src whose signature does not verify starts nothing
  waited-encoder     a cold segment a client waits for is encoded with x264's faster settings
                     (rc_lookahead=5, me=dia, subme=1, read from the SEI x264 writes), the
                     quick-start and `tws segment` ones with theirs; the stream mixing all
                     three passes the strict check
  sigterm            SIGTERM during a cold segment: exit 0, the response cut, nothing stored

TWS_E2E_ONLY=range,api runs a subset; TWS_E2E_KEEP=1 keeps the temporary worlds.
Timeouts guard against hangs only; nothing here is a speed threshold.
"""

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server, ServeError  # noqa: E402
from tws import Env  # noqa: E402

# Sources of this test (lib/media.py caches them). Keyframes 3 s / 4 s apart: off the
# boundaries asked for, so every segment made alone needs an accurate seek.
media.RECIPES.setdefault(
    "serve360p", ("src-serve-360p-12s.mp4", "640x360 H.264 + AAC, 12 s (first-bytes, sigterm)",
                  media._video_in("640x360", "25", 12) + media._audio_in(12, 44100) +
                  media._x264(75) + media.AAC, "av"))
media.RECIPES.setdefault(
    "serve44", ("src-serve-44s.mp4", "320x240 H.264 + AAC, 44 s (read-ahead, pre-transcode)",
                media._video_in("320x240", "25", 44) + media._audio_in(44, 44100) +
                media._x264(100) + media.AAC, "av"))

VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x240"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}
CACHE_CONTROL = "public, max-age=31536000, immutable"
STORE_TIMEOUT = 300      # a segment (or a run of them) stored in the background
ORIGIN = "http://player.example.test"

METRICS = {  # API.md: present from the start (labelled: these label values at least)
    "tws_segments_transcoded_total": [{}],
    "tws_segments_served_total": [{"source": "storage"}, {"source": "transcode"}],
    "tws_queue_depth": [{}],
    "tws_storage_requests_total": [{"op": o} for o in ("get", "head", "put", "delete", "list")],
    "tws_storage_bytes_total": [{"dir": "in"}, {"dir": "out"}],
}


# ----------------------------------------------------------------------------------------------
# A world per case: a temp bucket, a config, a running server.

class World:
    def __init__(self, name, workers=2, preset=None):
        self.env = Env(f"serve-{name}")
        serve.write_config(self.env, workers=workers, preset=preset)
        self.server = Server(self.env)
        self.workers = workers
        self.streams = 0

    def stream(self, src_name, key, duration=5, initial=(2,), transcode_ahead=0,
               initial_transcode=0, video=VIDEO, audio=AUDIO):
        src = media.source(src_name)
        source_uri = self.env.put(src, f"in/{key}{os.path.splitext(src)[1]}")
        prefix = f"oss://media/out/{key}/{key}"
        target = {"URI": prefix, "Duration": duration, "InitialSegments": list(initial),
                  "InitialTranscode": initial_transcode, "TranscodeAhead": transcode_ahead}
        if video:
            target["Video"] = video
        if audio:
            target["Audio"] = audio
        request = {"SourceURI": source_uri, "Targets": [target]}
        resp = self.server.create_playlist(request)
        return Stream(self, src, source_uri, prefix, request, resp)


class Stream:
    def __init__(self, world, src, source_uri, prefix, request, response):
        self.world, self.src, self.source_uri = world, src, source_uri
        self.prefix, self.request, self.response = prefix, request, response
        self.playlist_uri = prefix + ".m3u8"
        vp = response.get("VideoPlaylist") or response.get("AudioPlaylist") or [{}]
        self.token = vp[0].get("Token")
        if not isinstance(self.token, str) or not re.fullmatch(r"[0-9a-f]{32}", self.token):
            raise ServeError(f"POST /v1/playlists: no 32-hex Token in {response}")

    @property
    def env(self):
        return self.world.env

    def playlist_path(self):
        return self.env.path(self.playlist_uri)

    def segment_key(self, k):
        return f"{self.prefix[len('oss://media/'):]}-{self.token}-{k}.ts"

    def segment_file(self, k):
        return self.env.path(self.segment_key(k))

    def segment_path(self, k):
        return serve.encode_path(f"/media/{self.segment_key(k)}")

    def segment_url(self, k, expires=None):
        """A segment URL signed here (API.md's HMAC), independent of the served playlist."""
        return serve.signed_path(self.segment_path(k), expires)

    def stored(self, k):
        return os.path.exists(self.segment_file(k))

    def stored_segments(self):
        d = os.path.dirname(self.playlist_path())
        return sorted(int(m.group(1)) for fn in os.listdir(d)
                      for m in [re.fullmatch(re.escape(os.path.basename(self.prefix)) +
                                             r"-[0-9a-f]{32}-(\d+)\.ts", fn)] if m)

    def plan(self):
        return check.parse_playlist(self.playlist_path())["segments"]

    def signed_playlist_url(self):
        return self.world.server.sign(self.playlist_uri)


def in_world(name, fn, **kw):
    """Runs fn(world) with a started server; returns its failures plus the SIGTERM check."""
    def run():
        w = World(name, **kw)
        failures = []
        try:
            w.server.start()
            failures += fn(w) or []
        except Exception as e:  # noqa: BLE001 - reported as this case's failure
            failures.append(f"{type(e).__name__}: {e}")
            if not isinstance(e, (ServeError, check.CheckError)):
                tb = e.__traceback__
                while tb.tb_next:
                    tb = tb.tb_next
                failures.append(f"  at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}")
        finally:
            if w.server.proc is not None:
                failures += w.server.stop()
            w.env.close()
        return failures
    return run


def expect_error(r, status, code, what):
    """Failures unless r is `status` with a JSON error whose Code is `code`."""
    j = r.json()
    if r.status != status:
        return [f"{what}: HTTP {r.status} (want {status} {code}): {r.body[:100]!r}"]
    if not isinstance(j, dict) or j.get("Code") != code:
        return [f"{what}: HTTP {status} but the body is not JSON with Code {code}: {r.body[:200]!r}"]
    f = []
    if not isinstance(j.get("Message"), str) or "RequestId" not in j:
        f.append(f"{what}: error JSON lacks Message or RequestId: {j}")
    return f


# ----------------------------------------------------------------------------------------------
# Cases

def case_healthz_metrics(w):
    f = []
    s = w.server
    r = s.get("/metrics", timeout=60)   # before anything else: counters present from the start
    if r.status != 200:
        return [f"GET /metrics: {r.describe()}"]
    if "text/plain" not in (r.header("content-type") or ""):
        f.append(f"/metrics Content-Type {r.header('content-type')!r} (Prometheus text: text/plain)")
    m = serve.parse_metrics(r.text())
    for name, label_sets in METRICS.items():
        for labels in label_sets:
            v = serve.metric_sum(m, name, **labels)
            if v is None:
                f.append(f"/metrics: no {name}{labels or ''} at start")
            elif v != 0 and name != "tws_storage_requests_total" and name != "tws_storage_bytes_total":
                f.append(f"/metrics: {name}{labels or ''} = {v} at start (nothing served yet)")
    hist = [n for n, _l, _v in m if n in ("tws_transcode_seconds_bucket", "tws_transcode_seconds_count",
                                          "tws_transcode_seconds_sum")]
    if not {"tws_transcode_seconds_bucket", "tws_transcode_seconds_count"} <= set(hist):
        f.append("/metrics: no tws_transcode_seconds histogram (_bucket and _count) at start")
    h = s.get("/healthz", timeout=60)
    if h.status != 200:
        f.append(f"GET /healthz: {h.describe()}")
    # The pool `tws serve` keeps started: workers + 1 (docs/API.md), none busy while idle.
    if not s.wait_ready(w.workers, timeout=60):
        f.append(f"/metrics: tws_media_workers{{state=\"idle\"}} = "
                 f"{s.metric('tws_media_workers', state='idle')} after 60 s, want {w.workers + 1}")
    busy = s.metric("tws_media_workers", state="busy")
    if busy != 0:
        f.append(f"/metrics: tws_media_workers{{state=\"busy\"}} = {busy} with nothing to do")
    m2 = s.metrics()
    codes = {l.get("code") for n, l, _v in m2 if n == "tws_http_requests_total"}
    if not codes or None in codes:
        f.append(f"/metrics: tws_http_requests_total has no code label after requests ({codes})")
    elif "200" not in codes:
        f.append(f"/metrics: tws_http_requests_total has no code=\"200\" after GET /healthz ({codes})")
    return f


def case_api(w):
    f = []
    s = w.server
    src = media.source("mp4")
    source_uri = w.env.put(src, "in/api.mp4")
    prefix = "oss://media/out/api/api"
    request = {"SourceURI": source_uri,
               "Targets": [{"URI": prefix, "Duration": 5, "InitialSegments": [2],
                            "InitialTranscode": 0, "TranscodeAhead": 0, "Video": VIDEO, "Audio": AUDIO}]}
    f += expect_error(s.api("/v1/playlists", request, token=None), 401, "Unauthorized",
                      "POST /v1/playlists without Authorization")
    f += expect_error(s.api("/v1/playlists", request, token="wrong-token"), 401, "Unauthorized",
                      "POST /v1/playlists with a wrong token")
    r = s.request("POST", "/v1/playlists", body=request,
                  headers={"Authorization": f"Basic {serve.TOKEN}"})
    f += expect_error(r, 401, "Unauthorized", "POST /v1/playlists with a Basic (not Bearer) token")
    if os.path.exists(w.env.path(prefix + ".m3u8")):
        f.append("a refused POST /v1/playlists wrote the playlist")

    r = s.api("/v1/playlists", request)
    j = r.json()
    if r.status != 200 or not isinstance(j, dict):
        return f + [f"POST /v1/playlists with the token: {r.describe()}" + s.stderr_tail()]
    info = check._ffprobe_json(["-show_format", src])
    dur = float(info["format"]["duration"])
    if not isinstance(j.get("RequestId"), str) or not j.get("RequestId"):
        f.append(f"response: no RequestId: {j}")
    if not isinstance(j.get("Duration"), (int, float)) or abs(j["Duration"] - dur) > 0.3:
        f.append(f"response: Duration {j.get('Duration')!r}, the source lasts {dur:.3f} s")
    vp = j.get("VideoPlaylist")
    if not isinstance(vp, list) or len(vp) != 1:
        f.append(f"response: VideoPlaylist is not one entry: {vp!r}")
    else:
        e = vp[0]
        if e.get("URI") != prefix + ".m3u8":
            f.append(f"response: VideoPlaylist[0].URI {e.get('URI')!r}, want {prefix}.m3u8")
        if not re.fullmatch(r"[0-9a-f]{32}", str(e.get("Token"))):
            f.append(f"response: VideoPlaylist[0].Token {e.get('Token')!r} is not 32 hex digits")
        if e.get("Resolution") != "320x240":
            f.append(f"response: VideoPlaylist[0].Resolution {e.get('Resolution')!r}, want 320x240")
        if str(e.get("FrameRate")) not in ("25", "25.0", "25/1"):
            f.append(f"response: VideoPlaylist[0].FrameRate {e.get('FrameRate')!r}, want \"25\"")
    pl = w.env.path(prefix + ".m3u8")
    if not os.path.exists(pl):
        f.append(f"POST /v1/playlists 200 but no {prefix}.m3u8 in the bucket")
    ts = [p for p, _s, _m in w.env.listing() if p.endswith(".ts")]
    if ts:
        f.append(f"InitialTranscode 0, yet segments were stored: {ts}")
    # The same request with the other configured token ("t1;t2" lists).
    r2 = s.api("/v1/playlists", request, token="second-token")
    if r2.status != 200:
        f.append(f"POST /v1/playlists with the second token of [api] tokens: {r2.describe()}")

    # POST /v1/sign
    f += expect_error(s.api("/v1/sign", {"URI": prefix + ".m3u8"}, token=None), 401, "Unauthorized",
                      "POST /v1/sign without Authorization")
    url = s.sign(prefix + ".m3u8")
    want_path = "/media/out/api/api.m3u8"
    f += [f"/v1/sign: {m}" for m in serve.check_signed_url(url, want_path)]
    if not url.startswith(s.base + "/"):
        f.append(f"/v1/sign URL {url} does not start with the server's address {s.base} "
                 "(no public-url configured: the listening address)")
    q = serve.query_of(url)
    if q.get("Expires", "").isdigit() and abs(int(q["Expires"]) - (time.time() + 3600)) > 120:
        f.append(f"/v1/sign default Expires {q['Expires']} is not about now + 3600 s")
    got = s.get(url)
    if got.status != 200 or not got.text().startswith("#EXTM3U"):
        f.append(f"GET the /v1/sign URL: {got.describe()}")
    url2 = s.sign(prefix + ".m3u8", expires=7200)
    q2 = serve.query_of(url2)
    if not q2.get("Expires", "").isdigit() or abs(int(q2["Expires"]) - (time.time() + 7200)) > 120:
        f.append(f"/v1/sign Expires 7200 gave Expires={q2.get('Expires')}, not about now + 7200 s")

    # `tws sign` on the same config: a URL this server accepts.
    res = w.env.run(["sign", "--config", w.env.config, prefix + ".m3u8", "--expires", "600"], 60)
    cli_url = res.stdout.strip()
    if res.rc != 0 or not cli_url:
        f.append(f"tws sign: {res.describe()}")
    else:
        f += [f"tws sign: {m}" for m in serve.check_signed_url(cli_url, want_path)]
        qc = serve.query_of(cli_url)
        if qc.get("Expires", "").isdigit() and abs(int(qc["Expires"]) - (time.time() + 600)) > 120:
            f.append(f"tws sign --expires 600 gave Expires={qc['Expires']}")
        got = s.get(cli_url)
        if got.status != 200 or not got.text().startswith("#EXTM3U"):
            f.append(f"GET the `tws sign` URL from the server: {got.describe()}")
    return f


def case_api_errors(w):
    f = []
    s = w.server
    source_uri = w.env.put(media.source("mp4"), "in/err.mp4")

    def req(**target):
        t = {"URI": "oss://media/out/err/err", "Video": VIDEO, "Audio": AUDIO}
        t.update(target)
        return {"SourceURI": source_uri, "Targets": [t]}

    r = s.api("/v1/playlists", req(Duration=20))
    f += expect_error(r, 400, "InvalidArgument", "Duration 20 (range 5..15)")
    if r.status == 400 and "Duration" not in (r.json() or {}).get("Message", ""):
        f.append(f"Duration 20: the error message does not name the field: {r.body[:200]!r}")
    r = s.api("/v1/playlists", req(TranscodeAhead=31))
    f += expect_error(r, 400, "InvalidArgument", "TranscodeAhead 31 (range 0..30)")
    r = s.api("/v1/playlists", {"SourceURI": "oss://nosuchbucket/in/x.mp4",
                                "Targets": [{"URI": "oss://media/out/err/err", "Video": VIDEO}]})
    f += expect_error(r, 400, "UnknownBucket", "SourceURI in an unknown bucket")
    r = s.request("POST", "/v1/playlists", body=b"{not json",
                  headers={"Authorization": f"Bearer {serve.TOKEN}", "Content-Type": "application/json"})
    if r.status != 400 or not isinstance(r.json(), dict) or "Code" not in r.json():
        f.append(f"a body that is not JSON: {r.describe()} (want 400 with a JSON error)")
    r = s.get(serve.signed_path("/media/out/none/none.m3u8"))
    f += expect_error(r, 404, "NotFound", "a signed URL of a playlist that does not exist")
    if any(p.startswith("out/") for p, _s, _m in w.env.listing()):
        f.append(f"refused requests wrote files: {[p for p, _s, _m in w.env.listing()]}")
    return f


def case_signatures(w):
    f = []
    s = w.server
    st = w.stream("mp4", "sig")
    url = st.signed_playlist_url()
    f += [f"/v1/sign: {m}" for m in serve.check_signed_url(url)]
    ppath = urllib.parse.urlsplit(url).path
    q = serve.query_of(url)
    now = int(time.time())

    # Sanity: a URL signed here (API.md's HMAC) is accepted; else the 403s below prove nothing.
    good = s.get(serve.signed_path(ppath, now + 600))
    if good.status != 200:
        f.append(f"a playlist URL signed as API.md says is refused: {good.describe()}")
    seg0 = st.segment_path(0)

    bad = {
        "unsigned playlist": ppath,
        "unsigned segment": seg0,
        "no Signature": f"{ppath}?Expires={q.get('Expires')}&KeyId={q.get('KeyId')}",
        "expired (correctly signed, Expires 60 s ago)": serve.signed_path(ppath, now - 60),
        "expired segment": serve.signed_path(seg0, now - 60),
        "signature changed": re.sub(r"Signature=([^&])", lambda m: "Signature=" +
                                    ("B" if m.group(1) != "B" else "C"), local(url)),
        "signature of another path (the playlist's on a segment)":
            f"{seg0}?{urllib.parse.urlsplit(url).query}",
        "path changed (same query on the source object)":
            f"/media/in/sig.mp4?{urllib.parse.urlsplit(url).query}",
        "Expires changed": local(url).replace(f"Expires={q.get('Expires')}",
                                              f"Expires={int(q.get('Expires', now)) + 1000}"),
        "unknown KeyId": serve.signed_path(ppath, now + 600, key_id="other"),
        "wrong secret": serve.signed_path(ppath, now + 600, secret="not-the-secret"),
    }
    for what, path in bad.items():
        f += expect_error(s.get(path), 403, "AccessDenied", what)
    # A path that leaves the bucket, signed for what it says: never served.
    for p in ("/media/../etc/passwd", "/media/out/%2e%2e/%2e%2e/tws.conf", "/media//out/sig/sig.m3u8"):
        r = s.get(serve.signed_path(p, now + 600))
        if r.status == 200 or r.status < 400:
            f.append(f"GET {p} (signed): HTTP {r.status}, want a 4xx refusal")
    if any(not (p.startswith("in/") or p.startswith("out/sig/sig.m3u8")) for p, _s, _m in w.env.listing()):
        f.append(f"refused requests left files: {w.env.listing()}")

    # The served playlist: no record, every URI signed for its own path, same Expires/KeyId.
    r = s.get(url)
    if r.status != 200:
        return f + [f"GET the signed playlist: {r.describe()}"]
    ctype = (r.header("content-type") or "").lower()
    if "mpegurl" not in ctype:
        f.append(f"playlist Content-Type {ctype!r} (want application/vnd.apple.mpegurl)")
    text = r.text()
    if "tws-record" in text:
        f.append("the served playlist carries the ## tws-record line")
    stored = [l for l in open(st.playlist_path()).read().splitlines() if not l.startswith("## tws-record")]
    board = [l for l in text.splitlines() if l.startswith("#TWS-STORYBOARD:")]
    if len(board) != 1:
        f.append(f"{len(board)} #TWS-STORYBOARD lines in a served media playlist with video")
    else:
        board_url = urllib.parse.urljoin(s.base + ppath, board[0].split(":", 1)[1])
        want = st.segment_path(0).rsplit("-", 1)[0] + "-storyboard.vtt"
        f += [f"storyboard URI: {m}" for m in serve.check_signed_url(board_url, want)]
    served = [l.split("?", 1)[0] if l and not l.startswith("#") else l for l in text.splitlines()
              if not l.startswith("#TWS-STORYBOARD:")]
    if [l for l in served if l.strip()] != [l for l in stored if l.strip()]:
        f.append("the served playlist, queries stripped, differs from the stored one without its record")
    uris = serve.segment_lines(text)
    if len(uris) != len(st.plan()):
        f.append(f"served playlist names {len(uris)} segments, the stored one {len(st.plan())}")
    base = s.base + ppath
    for k, u in enumerate(uris):
        full = urllib.parse.urljoin(base, u)
        uq = serve.query_of(full)
        if uq.get("Expires") != q.get("Expires") or uq.get("KeyId") != q.get("KeyId"):
            f.append(f"segment {k} URI {u}: Expires/KeyId {uq.get('Expires')}/{uq.get('KeyId')} "
                     f"!= the playlist URL's {q.get('Expires')}/{q.get('KeyId')}")
        want_path = st.segment_path(k)
        f += [f"segment {k} URI: {m}" for m in serve.check_signed_url(full, want_path)]
    ts = s.get(urllib.parse.urljoin(base, uris[0])) if uris else None
    if ts is not None:
        if ts.status != 200:
            f.append(f"GET segment 0 through the served playlist's URI: {ts.describe()}")
        elif "video/mp2t" not in (ts.header("content-type") or "").lower():
            f.append(f"segment Content-Type {ts.header('content-type')!r} (want video/mp2t)")
    return f


def local(url):
    return serve.local_path(url)


def case_playback(w, tmp):
    f = []
    s = w.server
    st = w.stream("mp4", "play", duration=5, initial=(2,))
    url = st.signed_playlist_url()
    full = s.base + local(url)
    # ffmpeg plays it cold: every segment is transcoded while it is read.
    f += serve.ffmpeg_play(full)
    plan = st.plan()
    total = sum(p["extinf"] for p in plan)
    # GStreamer playbin / hlsdemux on the signed URL.
    res = serve.gst_play_url(full)
    if not res.get("ok"):
        f.append(f"gstreamer: playbin on the signed URL did not reach EOS: {res.get('error')}")
    else:
        for kind in ("video", "audio"):
            d = res.get(kind)
            if d is None or abs(d - total) > 0.15:
                f.append(f"gstreamer: played {d} s of {kind}, the playlist lasts {total:.3f} s")
    # The strict check over HTTP: the playlist and segments fetched through signed URLs.
    path, _text, _urls = serve.download_stream(s, full, os.path.join(tmp, "play"))
    dur = float(check._ffprobe_json(["-show_format", st.src])["format"]["duration"])
    fails, _summary = check.check_stream(path, token=st.token, expect_duration=dur)
    f += [f"strict check over HTTP: {m}" for m in fails]
    # What was fetched is what is stored.
    for k in range(len(plan)):
        got = os.path.join(tmp, "play", os.path.basename(st.segment_file(k)))
        if not os.path.exists(st.segment_file(k)):
            f.append(f"segment {k} was played but is not in storage")
        elif os.path.exists(got) and open(got, "rb").read() != open(st.segment_file(k), "rb").read():
            f.append(f"segment {k}: the bytes served differ from the stored object")
    return f


def case_single_flight(w):
    f = []
    s = w.server
    st = w.stream("mp4", "flight", duration=10, initial=(), transcode_ahead=0, initial_transcode=0)
    before = s.metric("tws_segments_transcoded_total")
    if before is None:
        return ["/metrics has no tws_segments_transcoded_total"]
    if st.stored(0):
        return ["segment 0 is stored before any request (InitialTranscode 0)"]
    url = st.segment_url(0)
    n = 8
    barrier = threading.Barrier(n)
    results = [None] * n

    def get(i):
        try:
            barrier.wait(30)
            results[i] = s.get(url)
        except Exception as e:  # noqa: BLE001
            results[i] = e
    threads = [threading.Thread(target=get, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(serve.HTTP_TIMEOUT + 60)
    bodies = []
    for i, r in enumerate(results):
        if isinstance(r, serve.Response) and r.status == 200:
            bodies.append(r.body)
        else:
            f.append(f"request {i + 1} of {n}: {r.describe() if isinstance(r, serve.Response) else r!r}")
    if bodies and any(b != bodies[0] for b in bodies):
        f.append(f"the {n} bodies differ (sizes {sorted({len(b) for b in bodies})})")
    if not serve.wait_for(lambda: st.stored(0), 60):
        f.append("segment 0 is not in storage after it was served")
    elif bodies and open(st.segment_file(0), "rb").read() != bodies[0]:
        f.append("the stored segment differs from the bodies served")
    serve.wait_for(lambda: (s.metric("tws_segments_transcoded_total") or 0) >= before + 1, 30)
    time.sleep(1.0)
    after = s.metric("tws_segments_transcoded_total")
    if after != before + 1:
        f.append(f"tws_segments_transcoded_total went {before} -> {after} for {n} concurrent "
                 "requests of one cold segment (want exactly one transcode)")
    stored_now = st.stored_segments()
    if stored_now != [0]:
        f.append(f"TranscodeAhead 0, InitialTranscode 0: stored segments {stored_now}, want [0]")
    # Once stored: served from storage, no transcode.
    served_before = s.metric("tws_segments_served_total", source="storage") or 0
    r = s.get(url)
    if r.status != 200 or (bodies and r.body != bodies[0]):
        f.append(f"GET of the stored segment: {r.describe()}")
    if s.metric("tws_segments_transcoded_total") != after:
        f.append("a GET of a stored segment transcoded it again")
    if (s.metric("tws_segments_served_total", source="storage") or 0) != served_before + 1:
        f.append("tws_segments_served_total{source=\"storage\"} did not count the GET from storage")
    return f


def case_regenerate(w, tmp):
    f = []
    s = w.server
    st = w.stream("mp4", "regen", duration=5, initial=(2,))
    full = s.base + local(st.signed_playlist_url())
    path_a, text_a, _ = serve.download_stream(s, full, os.path.join(tmp, "a"))
    n = len(st.plan())
    if not serve.wait_for(lambda: st.stored_segments() == list(range(n)), STORE_TIMEOUT):
        return f + [f"after playing, stored segments are {st.stored_segments()}, want 0..{n - 1}"]
    before = s.metric("tws_segments_transcoded_total") or 0
    d = os.path.dirname(st.playlist_path())
    for fn in os.listdir(d):
        if fn.endswith(".ts"):
            os.remove(os.path.join(d, fn))
    if not os.path.exists(st.playlist_path()):
        return ["the playlist is gone with the segments"]
    # Plays again (ffmpeg, cold), then the copy fetched again has the same timing.
    full2 = s.base + local(st.signed_playlist_url())
    f += [f"after deleting every .ts: {m}" for m in serve.ffmpeg_play(full2)]
    path_b, text_b, _ = serve.download_stream(s, full2, os.path.join(tmp, "b"))
    strip = lambda t: [l.split("?", 1)[0] for l in t.splitlines()]  # noqa: E731
    if strip(text_a) != strip(text_b):
        f.append("the served playlist changed after the segments were deleted")
    for k in range(n):
        name = os.path.basename(st.segment_file(k))
        f += check.compare_timing(os.path.join(tmp, "a", name), os.path.join(tmp, "b", name),
                                  f"segment {k} made again: ")
    fails, _ = check.check_stream(path_b, token=st.token, playback=False)
    f += [f"strict check of the regenerated stream: {m}" for m in fails]
    if not serve.wait_for(lambda: st.stored_segments() == list(range(n)), STORE_TIMEOUT):
        f.append(f"after playing again, stored segments are {st.stored_segments()}, want 0..{n - 1}")
    after = s.metric("tws_segments_transcoded_total") or 0
    if after < before + n:
        f.append(f"tws_segments_transcoded_total {before} -> {after}: the {n} deleted segments "
                 "were not transcoded again")
    return f


def case_range_cache_cors(w):
    f = []
    s = w.server
    st = w.stream("mp4", "range", duration=10, initial=())
    url = st.segment_url(0)
    cold = s.get(url, headers={"Origin": ORIGIN})
    if cold.status != 200:
        return [f"GET cold segment 0: {cold.describe()}" + s.stderr_tail()]
    if not cold.header("access-control-allow-origin") in ("*", ORIGIN):
        f.append(f"cold segment response: Access-Control-Allow-Origin "
                 f"{cold.header('access-control-allow-origin')!r}")
    if not serve.wait_for(lambda: st.stored(0), 60):
        return f + ["segment 0 not in storage after it was served"]
    data = open(st.segment_file(0), "rb").read()
    size = len(data)
    r = s.get(url, headers={"Origin": ORIGIN})
    if r.status != 200 or r.body != data:
        f.append(f"GET stored segment: HTTP {r.status}, body {'=' if r.body == data else '!='} the file")
    if r.header("cache-control") != CACHE_CONTROL:
        f.append(f"stored segment Cache-Control {r.header('cache-control')!r}, want {CACHE_CONTROL!r}")
    etag = r.header("etag")
    if not etag:
        f.append("stored segment: no ETag")
    if r.header("content-length") != str(size):
        f.append(f"stored segment Content-Length {r.header('content-length')!r}, size {size}")
    if r.header("access-control-allow-origin") not in ("*", ORIGIN):
        f.append(f"stored segment: Access-Control-Allow-Origin {r.header('access-control-allow-origin')!r}")
    if s.get(url).header("etag") != etag:
        f.append("the ETag changes between two GETs of the same stored segment")
    for rng, lo, hi in (("bytes=100-1099", 100, 1099), (f"bytes={size - 188}-", size - 188, size - 1),
                        ("bytes=-376", size - 376, size - 1), ("bytes=0-0", 0, 0),
                        (f"bytes=1000-{size + 5000}", 1000, size - 1)):
        r = s.get(url, headers={"Range": rng})
        want = f"bytes {lo}-{hi}/{size}"
        if r.status != 206:
            f.append(f"Range {rng}: HTTP {r.status} (want 206)")
            continue
        if r.header("content-range") != want:
            f.append(f"Range {rng}: Content-Range {r.header('content-range')!r}, want {want!r}")
        if r.body != data[lo:hi + 1]:
            f.append(f"Range {rng}: {len(r.body)} bytes that are not the file's bytes {lo}-{hi}")
    r = s.get(url, headers={"Range": f"bytes={size + 10}-"})
    if r.status != 416:
        f.append(f"Range past the end: HTTP {r.status} (want 416)")
    # CORS on the playlist and a preflight.
    purl = st.signed_playlist_url()
    r = s.get(purl, headers={"Origin": ORIGIN})
    if r.header("access-control-allow-origin") not in ("*", ORIGIN):
        f.append(f"playlist: Access-Control-Allow-Origin {r.header('access-control-allow-origin')!r}")
    for what, target in (("segment", url), ("playlist", local(purl))):
        r = s.request("OPTIONS", target, headers={"Origin": ORIGIN,
                                                  "Access-Control-Request-Method": "GET",
                                                  "Access-Control-Request-Headers": "range"})
        if r.status not in (200, 204):
            f.append(f"OPTIONS preflight on the {what}: HTTP {r.status} (want 200 or 204)")
            continue
        if r.header("access-control-allow-origin") not in ("*", ORIGIN):
            f.append(f"preflight on the {what}: Access-Control-Allow-Origin "
                     f"{r.header('access-control-allow-origin')!r}")
        methods = r.header("access-control-allow-methods")
        if methods is not None and "GET" not in methods.upper():
            f.append(f"preflight on the {what}: Access-Control-Allow-Methods {methods!r} lacks GET")
        allow_h = r.header("access-control-allow-headers")
        if allow_h is None or ("range" not in allow_h.lower() and allow_h.strip() != "*"):
            f.append(f"preflight on the {what}: Access-Control-Allow-Headers {allow_h!r} does not "
                     "allow the Range header the preflight asked for")
    return f


def _open_cold(s, url):
    conn = s.connect()
    conn.request("GET", url)
    resp = conn.getresponse()
    return conn, resp


def case_first_bytes(w):
    f = []
    s = w.server
    # 640x360 kept as it is, 10 s: a segment whose transcode takes a while.
    st = w.stream("serve360p", "first", duration=10, initial=(), video={"TranscodeVideo": {"Codec": "h264"}})
    if st.stored(0):
        return ["segment 0 stored before any request"]
    conn, resp = _open_cold(s, st.segment_url(0))
    try:
        if resp.status != 200:
            return [f"GET cold segment 0: HTTP {resp.status} {resp.read()[:200]!r}" + s.stderr_tail()]
        first = resp.read1(65536)
        stored_at_first = st.stored(0)
        if not first:
            return ["the cold segment's body is empty"]
        if first[0] != 0x47:
            f.append(f"the first byte is {first[0]:#x}, not a TS sync byte")
        if stored_at_first:
            f.append("segment 0 was already in storage when its first bytes arrived: not streamed "
                     "while it was being made")
        if (resp.getheader("transfer-encoding") or "").lower() != "chunked":
            f.append(f"the cold segment is not a chunked response (Transfer-Encoding "
                     f"{resp.getheader('transfer-encoding')!r}, Content-Length {resp.getheader('content-length')!r})")
        rest = resp.read()
    finally:
        conn.close()
    body = first + rest
    if not serve.wait_for(lambda: st.stored(0), 60):
        return f + ["segment 0 is not in storage after its body was read to the end"]
    data = open(st.segment_file(0), "rb").read()
    if data != body:
        f.append(f"the stored segment ({len(data)} bytes) differs from the body streamed ({len(body)} bytes)")
    f += [f"streamed segment: {m}" for m in check.ts_structure(st.segment_file(0))]
    return f


def case_read_ahead(w):
    f = []
    s = w.server
    st = w.stream("serve44", "ahead", duration=5, initial=(), transcode_ahead=3)
    n = len(st.plan())
    if st.stored_segments():
        return [f"segments stored before any request: {st.stored_segments()}"]
    t0 = time.monotonic()
    r = s.get(st.segment_url(0))
    took = time.monotonic() - t0
    if r.status != 200:
        return [f"GET segment 0: {r.describe()}" + s.stderr_tail()]
    # The read-ahead after segment 0 starts a second after its GET (a player starting up asks
    # for nothing meanwhile): not yet, when the segment came in well under that.
    with open(s.stderr_path, "rb") as err:
        early = re.search(rb"segments [1-9][0-9]*\.\.[0-9]+ \(read-ahead\)", err.read())
    if took < 0.6 and early:
        f.append(f"the read-ahead began within {took:.2f} s of GET 0, not a second after it")
    ok = serve.wait_for(lambda: all(st.stored(k) for k in (1, 2, 3)), STORE_TIMEOUT, 0.5)
    if not ok:
        return [f"TranscodeAhead 3: segments 1..3 not all stored {STORE_TIMEOUT} s after GET 0 "
                f"(stored: {st.stored_segments()})"]
    time.sleep(3)
    extra = [k for k in st.stored_segments() if k > 3]
    if extra:
        f.append(f"TranscodeAhead 3 after GET 0: segments {extra} were made too (of {n})")
    for k in (1, 2, 3):
        f += [f"read-ahead segment {k}: {m}" for m in check.ts_structure(st.segment_file(k))]
    # Read ahead segments serve from storage as they are.
    r1 = s.get(st.segment_url(1))
    if r1.status != 200 or r1.body != open(st.segment_file(1), "rb").read():
        f.append(f"GET read-ahead segment 1: {r1.describe()}")
    return f


def case_seek_ahead(w):
    s = w.server
    st = w.stream("serve44", "seek", duration=5, initial=(), transcode_ahead=8)
    r = s.get(st.segment_url(0))
    if r.status != 200:
        return [f"GET segment 0: {r.describe()}" + s.stderr_tail()]
    # The read-ahead run 1..8 is under way once 1 is stored; 7 is beyond where a client can
    # join it (a seek).
    if not serve.wait_for(lambda: st.stored(1), STORE_TIMEOUT, 0.02):
        return ["read-ahead: segment 1 not stored after GET 0"]
    if st.stored(7):
        return ["the read-ahead run reached segment 7 before the seek: nothing tested"]
    r7 = s.get(st.segment_url(7), timeout=120)
    f = []
    if r7.status != 200:
        return [f"GET segment 7 during the read-ahead run: {r7.describe()}" + s.stderr_tail()]
    if not serve.wait_for(lambda: st.stored(7), STORE_TIMEOUT, 0.2):
        return ["segment 7 not stored after its GET"]
    if r7.body != open(st.segment_file(7), "rb").read():
        f.append("GET segment 7: the body differs from the stored segment")
    f += [f"segment 7: {m}" for m in check.ts_structure(st.segment_file(7))]
    if not serve.wait_for(lambda: all(st.stored(k) for k in range(1, 9)), STORE_TIMEOUT, 0.5):
        f.append(f"read-ahead 1..8 not all stored after the seek: {st.stored_segments()}")
    return f


def case_player_prefetch(w):
    s = w.server
    if s.get("/player?src=x").status == 404:
        return []  # a build without the player page (-Dplayer=disabled): nothing to prefetch
    f = []
    st = w.stream("serve44", "page", duration=5, initial=(2,))
    url = st.signed_playlist_url()
    # A forged signature, and a URL that is not a playlist: nothing starts.
    forged = re.sub(r"Signature=[^&]+", "Signature=AAAA", url)
    for bad in (forged, url.replace(".m3u8", "-x.ts"), "http://elsewhere.test/media/none.m3u8"):
        r = s.get("/player?src=" + urllib.parse.quote(bad, safe=""))
        if r.status != 200:
            f.append(f"GET /player with src {bad}: {r.describe()}")
    time.sleep(3)
    if st.stored_segments():
        return f + [f"segments stored after opening the page with a bad src: {st.stored_segments()}"]
    # The page with its real src: segment 0 is made while the page loads, before any request.
    r = s.get("/player?src=" + urllib.parse.quote(url, safe=""))
    if r.status != 200:
        return f + [f"GET /player: {r.describe()}"]
    if not serve.wait_for(lambda: st.stored(0), STORE_TIMEOUT, 0.1):
        return f + ["segment 0 not stored after GET /player?src=<its playlist> "
                    f"(stored: {st.stored_segments()})" + s.stderr_tail()]
    time.sleep(1)
    if st.stored_segments() != [0]:
        f.append(f"GET /player made segments {st.stored_segments()}, want [0]")
    f += [f"prefetched segment 0: {m}" for m in check.ts_structure(st.segment_file(0))]
    # A master: its first variant's segment 0.
    src = w.env.put(media.source("serve44"), "in/master-src.mp4")
    names = ("lo", "hi")
    targets = [{"URI": f"oss://media/out/m/{n}/{n}", "Duration": 5, "InitialSegments": [2],
                "InitialTranscode": 0, "Video": VIDEO, "Audio": AUDIO} for n in names]
    resp = s.create_playlist({"SourceURI": src, "MasterURI": "oss://media/out/m/master.m3u8",
                              "Targets": targets})
    tokens = [p["Token"] for p in resp.get("VideoPlaylist", [])]
    master_text = open(w.env.path("oss://media/out/m/master.m3u8")).read()
    first = [l for l in master_text.splitlines() if l and not l.startswith("#")][0]
    first_name = first.split("/")[0]
    r = s.get("/player?src=" + urllib.parse.quote(s.sign("oss://media/out/m/master.m3u8"), safe=""))
    if r.status != 200:
        return f + [f"GET /player (master): {r.describe()}"]
    seg0 = {n: w.env.path(f"oss://media/out/m/{n}/{n}-{t}-0.ts") for n, t in zip(names, tokens)}
    if not serve.wait_for(lambda: os.path.exists(seg0[first_name]), STORE_TIMEOUT, 0.1):
        f.append(f"master: segment 0 of the first variant ({first}) not stored after GET /player")
    other = [n for n in names if n != first_name][0]
    if os.path.exists(seg0[other]):
        f.append(f"master: segment 0 of {other}, not the first variant, was made too")
    return f


def x264_options(ts_path):
    """The settings x264 wrote into the SEI of a segment's first frame, as a dict."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", ts_path, "-map", "0:v:0", "-c", "copy",
                        "-f", "h264", "-"], capture_output=True, timeout=60)
    m = re.search(rb"options: ([ -~]+)", r.stdout)
    if not m:
        return {}
    return dict(o.split("=", 1) for o in m.group(1).decode().split() if "=" in o)


def case_waited_encoder(w):
    f = []
    s = w.server
    st = w.stream("serve44", "waited", duration=5, initial=(2,))
    n = len(st.plan())
    # Segment 2, cold, with a client waiting for it; the others made by `tws segment`.
    r = s.get(st.segment_url(2))
    if r.status != 200:
        return [f"GET segment 2 (cold): {r.describe()}"]
    if not serve.wait_for(lambda: st.stored(2), STORE_TIMEOUT, 0.1):
        return ["segment 2 not stored after its GET"]
    for k in range(n):
        if k != 2:
            w.env.segment(st.playlist_uri, k)
    want = {0: ("quick-start segment 0", {"rc_lookahead": "3", "sliced_threads": "1"}),
            2: ("segment 2, waited for", {"rc_lookahead": "5", "me": "dia", "subme": "1"}),
            3: ("segment 3, by tws segment (veryfast)",
                {"rc_lookahead": "10", "me": "hex", "subme": "2", "sliced_threads": "0"})}
    for k, (what, options) in want.items():
        got = x264_options(st.segment_file(k))
        if not got:
            f.append(f"{what}: no x264 settings in its SEI")
            continue
        for name, value in options.items():
            if got.get(name) != value:
                f.append(f"{what}: x264 {name}={got.get(name)}, want {value}")
    fails, _ = check.check_stream(st.playlist_path(), token=st.token, playback=False)
    f += [f"strict check of the mixed stream: {m}" for m in fails]
    return f


def case_pre_transcode(w):
    f = []
    st = w.stream("serve44", "pre", duration=10, initial=(2, 2, 2), transcode_ahead=0,
                  initial_transcode=36)
    plan = [round(p["extinf"], 3) for p in st.plan()]
    if plan != [2, 2, 2, 10, 10, 10, 8]:
        f.append(f"playlist EXTINFs {plan}, want [2, 2, 2, 10, 10, 10, 8] (boundaries 0,2,4,6,16,26,36)")
    ok = serve.wait_for(lambda: all(st.stored(k) for k in range(6)), STORE_TIMEOUT, 0.5)
    if not ok:
        return f + [f"InitialTranscode 36: segments 0..5 not all stored {STORE_TIMEOUT} s after "
                    f"the POST (stored: {st.stored_segments()})"]
    time.sleep(3)
    if st.stored(6):
        f.append("InitialTranscode 36 also made segment 6 (36-44 s)")
    for k in range(6):
        f += [f"pre-transcoded segment {k}: {m}" for m in check.ts_structure(st.segment_file(k))]
    return f


def case_sigterm(w):
    """SIGTERM while a cold segment streams: exit 0, the response cut short, nothing stored."""
    f = []
    s = w.server
    st = w.stream("serve360p", "term", duration=10, initial=(), video={"TranscodeVideo": {"Codec": "h264"}})
    conn, resp = _open_cold(s, st.segment_url(0))
    try:
        if resp.status != 200:
            return [f"GET cold segment 0: HTTP {resp.status}"]
        first = resp.read1(65536)
        if not first:
            return ["empty body"]
        if st.stored(0):
            return ["segment 0 was stored before its first bytes arrived (cannot test cancelling)"]
        f += s.stop()
        cut = False
        try:
            rest = resp.read()
        except (http.client.IncompleteRead, ConnectionError, OSError):
            cut, rest = True, b""
    finally:
        conn.close()
    if not cut:
        # Ended cleanly: only right if the job had finished before SIGTERM reached it.
        body = first + rest
        if not st.stored(0) or open(st.segment_file(0), "rb").read() != body:
            f.append(f"the response ended cleanly ({len(body)} bytes) although the transcode was "
                     "cancelled and nothing equal was stored: a client takes a partial segment as whole")
    elif st.stored(0):
        f.append("the response was cut, yet the cancelled segment was stored")
    left = [p for p, _s, _m in w.env.listing()
            if p.startswith("out/") and not p.endswith(".m3u8") and not (not cut and p.endswith("-0.ts"))]
    if left:
        f.append(f"files left in the bucket after SIGTERM: {left}")
    return f


def main():
    run = Runner("tws serve end to end (API.md HTTP)")
    keep = bool(os.environ.get("TWS_E2E_KEEP"))
    tmp = tempfile.mkdtemp(prefix="tws-serve-e2e-")
    # Sources first, so a case's time is its own.
    for name in ("mp4", "serve360p", "serve44"):
        if any(run.selected(c) for c in ("api", "signatures", "playback", "single-flight", "regenerate",
                                         "range", "first-bytes", "read-ahead", "seek-ahead", "pre-transcode",
                                         "sigterm", "player-prefetch", "waited-encoder")):
            media.source(name)

    def with_tmp(fn, sub):
        def inner(w):
            d = os.path.join(tmp, sub)
            os.makedirs(d, exist_ok=True)
            return fn(w, d)
        return inner

    run.case("healthz-metrics", in_world("metrics", case_healthz_metrics))
    run.case("api", in_world("api", case_api))
    run.case("api-errors", in_world("errors", case_api_errors))
    run.case("signatures", in_world("sig", case_signatures))
    run.case("playback", in_world("play", with_tmp(case_playback, "playback")))
    run.case("single-flight", in_world("flight", case_single_flight))
    run.case("regenerate", in_world("regen", with_tmp(case_regenerate, "regenerate")))
    run.case("range-cache-cors", in_world("range", case_range_cache_cors))
    run.case("first-bytes", in_world("first", case_first_bytes))
    run.case("read-ahead", in_world("ahead", case_read_ahead))
    run.case("seek-ahead", in_world("seek", case_seek_ahead))
    run.case("pre-transcode", in_world("pre", case_pre_transcode))
    run.case("player-prefetch", in_world("page", case_player_prefetch))
    run.case("waited-encoder", in_world("waited", case_waited_encoder))
    run.case("sigterm", in_world("term", case_sigterm))
    if keep:
        print(f"# kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
