#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tws cluster (issue 4 "Done means" 3): s3rver (lib/s3server.py), two `tws serve` nodes with
the same config (one S3 bucket `cloud`, the same signing key and API token, public-url and
warmup-url = the balancer) and Debian's nginx on loopback (lib/nginx.py) running
deploy/nginx/tws.conf with the two nodes in its `hash $uri consistent` upstream.

  start       s3rver, both nodes, nginx (`nginx -t` on the rendered deploy config first).
  play        POST /v1/playlists through nginx; ffmpeg plays the signed playlist URL through
              nginx to the end (cold: every segment is made while it streams, read-ahead goes
              through nginx as warm-ups); the playlist and segments fetched through nginx pass
              the strict check (lib/check.py); every segment ends up in S3; nginx sent all
              requests for one segment to one node (its access log), and the nodes together
              transcoded each segment once (tws_segments_transcoded_total summed).
  other-node  a segment one node made, requested directly from the OTHER node (not through
              nginx): 200, the stored bytes; the summed transcode count stays the same and the
              other node's tws_segments_served_total{source="storage"} grows.
  node-loss   (issue 19) hls.js in Chromium plays a cold master (60 s) on the player page
              through nginx; while a node is streaming a segment (its /metrics shows a request
              in progress) it is killed with SIGKILL. Playback reaches the end with no fatal
              error (hls.js retries the cut segment; nginx sends it to the other node, which
              makes it); the stream fetched through nginx afterwards passes the strict check,
              every segment object in S3 is one the check passed, and nothing else is there.

TWS_E2E_ONLY=play runs a subset; TWS_E2E_KEEP=1 keeps the temporary directories.
"""

import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import browser  # noqa: E402
import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402
from nginx import Nginx, free_port  # noqa: E402
from s3server import S3Server  # noqa: E402
from tws import Env  # noqa: E402

REMOTE = "videos"
TWS_BUCKET = "cloud"
VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x240"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}
SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "nginx",
                    "tws.conf")
SETTLE_TIMEOUT = 120
# A longer, larger source for node-loss: its segments take long enough to make that one is
# streaming when the node dies.
media.RECIPES.setdefault(
    "cluster60", ("src-cluster-60s.mp4", "640x360 H.264 + AAC, 60 s",
                  media._video_in("640x360", "25", 60) + media._audio_in(60, 44100) +
                  media._x264(50) + media.AAC, "av"))


def node_config(s3, balancer):
    return ("[server]\n"
            "listen = 127.0.0.1:0\n"
            f"public-url = {balancer}\n"
            f"warmup-url = {balancer}\n"
            "workers = 1\n"
            "\n"
            f"[key {serve.KEY_ID}]\n"
            f"secret = {serve.SECRET}\n"
            "\n"
            "[api]\n"
            f"tokens = {serve.TOKEN}\n"
            "\n"
            "[transcode]\n"
            "preset = ultrafast\n"
            "\n" + s3.config_section(TWS_BUCKET, REMOTE))


class Through(serve.Server):
    """serve.Server's client side pointed at nginx (no process of its own)."""

    def __init__(self, nginx):  # noqa: super().__init__ wants an Env; nothing here uses it
        self.nginx = nginx
        self.host, self.port = nginx.host, nginx.port
        self.proc = None

    def stderr_tail(self, n=6):
        return "; nginx: " + self.nginx.log_tail(n)


class Cluster:
    def __init__(self):
        self.s3 = S3Server(buckets=[REMOTE])
        self.envs = []
        self.nodes = []
        self.nginx = None
        self.front = None

    def start(self):
        self.s3.start()
        port = free_port()
        balancer = f"http://127.0.0.1:{port}"
        for i in range(2):
            env = Env(f"cluster-node{i}")
            self.envs.append(env)
            with open(env.config, "w") as f:
                f.write(node_config(self.s3, balancer))
            self.nodes.append(serve.Server(env).start())
        self.nginx = Nginx(SITE, [f"{n.host}:{n.port}" for n in self.nodes], port=port)
        self.nginx.start()
        self.front = Through(self.nginx)
        r = self.front.get("/healthz", timeout=30)
        if r.status != 200:
            return [f"GET /healthz through nginx: {r.describe()}; {self.nginx.log_tail()}"]
        return []

    def stop(self):
        f = []
        if self.nginx is not None:
            self.nginx.stop()
        for n in self.nodes:
            f += n.stop()
        for e in self.envs:
            e.close()
        self.s3.stop()
        return f

    def transcoded(self):
        return sum(n.metric("tws_segments_transcoded_total") or 0 for n in self.nodes)

    def node_of(self, hostport):
        for i, n in enumerate(self.nodes):
            if f"{n.host}:{n.port}" == hostport:
                return i
        return None


STATE = {}


def case_play(c, tmp):
    f = []
    src = media.source("mp4")
    dur = float(check._ffprobe_json(["-show_format", src])["format"]["duration"])
    c.s3.put_file(REMOTE, "in/src.mp4", src)
    prefix = f"oss://{TWS_BUCKET}/cl/p/p"
    request = {"SourceURI": f"oss://{TWS_BUCKET}/in/src.mp4",
               "Targets": [{"URI": prefix, "Duration": 5, "InitialSegments": [2, 2],
                            "InitialTranscode": 0, "TranscodeAhead": 2,
                            "Video": VIDEO, "Audio": AUDIO}]}
    resp = c.front.create_playlist(request)
    token = ((resp.get("VideoPlaylist") or [{}])[0]).get("Token")
    url = c.front.sign(prefix + ".m3u8")
    if not url.startswith(c.nginx.base + "/"):
        f.append(f"POST /v1/sign through nginx gave {url}, not a URL under {c.nginx.base}")
    full = c.nginx.base + serve.local_path(url)
    f += serve.ffmpeg_play(full)
    path, _text, urls = serve.download_stream(c.front, full, os.path.join(tmp, "play"))
    fails, summary = check.check_stream(path, token=token, expect_duration=dur)
    f += [f"strict check through nginx: {m}" for m in fails]
    n = len(urls)
    folder = "cl/p/"
    stored = lambda: sorted(k for k in c.s3.list(REMOTE, folder) if k.endswith(".ts"))  # noqa
    if not serve.wait_for(lambda: len(stored()) == n, SETTLE_TIMEOUT):
        f.append(f"after playing, S3 holds {len(stored())} of {n} segments")
    for u in urls:
        name = os.path.basename(u.split("?", 1)[0])
        got = open(os.path.join(tmp, "play", name), "rb").read()
        if c.s3.get(REMOTE, folder + name) not in (None, got):
            f.append(f"{name}: the bytes served through nginx differ from the S3 object")

    # Which node nginx sent each segment to (its access log; warm-ups included).
    owners = {}
    for method, uri, status, upstream in c.nginx.access():
        if uri.endswith(".ts") and upstream != "-":
            owners.setdefault(os.path.basename(uri), set()).add(upstream)
    for name, ups in sorted(owners.items()):
        if len(ups) != 1:
            f.append(f"nginx sent {name} to {sorted(ups)}, not to one node")
    per_node = [sum(1 for u in owners.values() if u == {f"{nd.host}:{nd.port}"})
                for nd in c.nodes]
    # Every transcode is done (stable count) before counting.
    last = [None]

    def settled():
        v = c.transcoded()
        done = v == last[0] and v >= n
        last[0] = v
        return done
    serve.wait_for(settled, SETTLE_TIMEOUT, interval=1.0)
    made = c.transcoded()
    per_node_made = [nd.metric("tws_segments_transcoded_total") for nd in c.nodes]
    print(f"     play: {n} segments, EXTINF {summary.get('extinf')}; nginx owners per node "
          f"{per_node}; transcoded per node {per_node_made}", flush=True)
    if made != n:
        f.append(f"the nodes transcoded {made} segments for {n} (each should be made once, "
                 f"by its owner): per node {per_node_made}")
    STATE.update(token=token, names=[os.path.basename(u.split("?", 1)[0]) for u in urls],
                 owners=owners, folder=folder, tmp=tmp)
    return f


def case_other_node(c, tmp):
    if "names" not in STATE:
        return ["needs the `play` case"]
    f = []
    # A segment nginx sent to one node (that node made it); prefer one in the middle.
    names = [nm for nm in STATE["names"] if len(STATE["owners"].get(nm, ())) == 1]
    if not names:
        return ["no segment with a single owner in nginx's access log"]
    name = names[len(names) // 2]
    owner = c.node_of(next(iter(STATE["owners"][name])))
    if owner is None:
        return [f"{name}'s upstream {STATE['owners'][name]} is not a node"]
    other = c.nodes[1 - owner]
    key = STATE["folder"] + name
    stored = c.s3.get(REMOTE, key)
    if stored is None:
        return [f"{key} is not in S3"]
    made_before = c.transcoded()
    served_before = other.metric("tws_segments_served_total", source="storage") or 0
    r = other.get(serve.signed_path(serve.encode_path(f"/{TWS_BUCKET}/{key}")))
    if r.status != 200:
        return [f"GET {name} from the other node: {r.describe()}" + other.stderr_tail()]
    if r.body != stored:
        f.append(f"{name} from the other node differs from the S3 object")
    # Read-ahead warm-ups it sends are for stored segments; nothing may be transcoded.
    serve.wait_for(lambda: False, 2.0)
    made_after = c.transcoded()
    served_after = other.metric("tws_segments_served_total", source="storage") or 0
    print(f"     other-node: {name} made by node {owner}, fetched from node {1 - owner}: "
          f"transcoded {made_before} -> {made_after}, its storage-served {served_before} -> "
          f"{served_after}", flush=True)
    if made_after != made_before:
        f.append(f"tws_segments_transcoded_total over both nodes went {made_before} -> "
                 f"{made_after}: a second transcode")
    if served_after < served_before + 1:
        f.append(f"the other node's tws_segments_served_total{{source=\"storage\"}} went "
                 f"{served_before} -> {served_after}, want +1")
    return f


def busy_node(c, exclude_scrape=True):
    """The index of a node with a request in progress (beyond the /metrics scrape that asks),
    or None."""
    for i, n in enumerate(c.nodes):
        if not n.alive():
            continue
        try:
            active = n.metric("tws_http_connections", state="active")
        except (OSError, serve.ServeError):
            continue
        if active is not None and active >= (2 if exclude_scrape else 1):
            return i
    return None


def case_node_loss(c, tmp):
    why = browser.available()
    if why:
        return [f"the browser is not available: {why}"]
    f = []
    src = media.source("cluster60")
    c.s3.put_file(REMOTE, "in/long.mp4", src)
    master = f"oss://{TWS_BUCKET}/loss/master.m3u8"
    prefix = f"oss://{TWS_BUCKET}/loss/360p"
    resp = c.front.create_playlist({
        "SourceURI": f"oss://{TWS_BUCKET}/in/long.mp4", "MasterURI": master,
        "Targets": [{"URI": prefix, "Duration": 5, "InitialSegments": [2, 2],
                     "InitialTranscode": 0, "TranscodeAhead": 1,
                     "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 26,
                                                  "Resolution": "x360"}},
                     "Audio": AUDIO}]})
    token = resp["VideoPlaylist"][0]["Token"]
    master_url = c.nginx.base + serve.local_path(c.front.sign(master))
    page = browser.player_url(c.nginx.base, master_url, autoplay="1")
    killed = {}

    def killer():
        # The first node seen streaming is killed mid-response (within 20 s of the first frame).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "node" not in killed:
            i = busy_node(c)
            if i is not None:
                c.nodes[i].proc.kill()
                killed.update(node=i, at=time.monotonic())
                return
            time.sleep(0.03)
    video = "document.getElementById('video')"
    with browser.Browser() as chromium:
        results = chromium.steps([{"do": "open", "url": page},
                                  {"do": "startup", "timeoutMs": 60000}])
        t = threading.Thread(target=killer, daemon=True)
        t.start()
        if results[-1].get("ok"):
            results += chromium.steps([
                {"do": "waitFor", "expr": f"{video}.ended", "timeoutMs": 240000},
                {"do": "eval", "expr": "window.tws.errors"}])
        t.join(30)
    for r in results:
        if r.get("error"):
            f.append(f"step {r['do']}: {r['error']}")
        stats = r.get("stats") or {}
        if stats.get("fatal"):
            f.append(f"{r['do']}: fatal hls.js error {stats['fatal']}")
    if "node" not in killed:
        f.append("no node was seen streaming a segment within 20 s of the first frame")
    else:
        i = killed["node"]
        c.nodes[i].proc.wait(10)
        c.nodes[i].kill()  # reaped; stop() then skips it
    last = results[-1].get("stats") or {}
    errors = (results[-1].get("value") or []) if results[-1]["do"] == "eval" else []
    print(f"     node-loss: node {killed.get('node')} killed; playback at {last.get('currentTime')} "
          f"of {last.get('duration')} s; hls.js errors {[e.get('details') for e in errors]}",
          flush=True)
    if f:
        return f
    # The stream as any player now gets it through nginx: every segment from storage or made
    # by the node that is left; then S3 holds exactly those segments.
    media_url = c.nginx.base + serve.local_path(c.front.sign(prefix + ".m3u8"))
    path, _text, urls = serve.download_stream(c.front, media_url, os.path.join(tmp, "loss"))
    dur = float(check._ffprobe_json(["-show_format", src])["format"]["duration"])
    fails, _summary = check.check_stream(path, token=token, expect_duration=dur)
    f += [f"strict check after the node loss: {m}" for m in fails]
    names = {os.path.basename(u.split("?", 1)[0]) for u in urls}
    ts = lambda: sorted(k for k in c.s3.list(REMOTE, "loss/") if k.endswith(".ts"))  # noqa
    serve.wait_for(lambda: len(ts()) >= len(names), SETTLE_TIMEOUT)
    for key in c.s3.list(REMOTE, "loss/"):
        name = key[len("loss/"):]
        if name.endswith(".m3u8"):
            continue
        if name not in names:
            f.append(f"S3 holds {key}, which is no segment of the playlist")
            continue
        if c.s3.get(REMOTE, key) != open(os.path.join(tmp, "loss", name), "rb").read():
            f.append(f"S3's {key} differs from the segment that passed the strict check")
    if len(ts()) != len(names):
        f.append(f"S3 holds {len(ts())} segments of {len(names)}")
    return f


def main():
    run = Runner("tws cluster: nginx (hash $uri consistent) + 2 nodes + s3rver")
    tmp = tempfile.mkdtemp(prefix="tws-cluster-e2e-")
    keep = bool(os.environ.get("TWS_E2E_KEEP"))
    media.source("mp4")
    media.source("cluster60")
    c = Cluster()
    try:
        ok = run.case("start", c.start)
        if ok:
            def with_tmp(fn, sub):
                def inner():
                    d = os.path.join(tmp, sub)
                    os.makedirs(d, exist_ok=True)
                    down = [f"node {i} exited" + n.stderr_tail()
                            for i, n in enumerate(c.nodes) if not n.alive()]
                    if not c.nginx.alive():
                        down.append("nginx exited: " + c.nginx.log_tail())
                    return down or fn(c, d)
                return inner
            run.case("play", with_tmp(case_play, "play"))
            run.case("other-node", with_tmp(case_other_node, "other"))
            run.case("node-loss", with_tmp(case_node_loss, "loss"))
    finally:
        stop_failures = c.stop()
        if stop_failures:
            print("FAIL stop", flush=True)
            for m in stop_failures:
                print(f"     {m}", flush=True)
            run.failed.append("stop")
        if keep:
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
