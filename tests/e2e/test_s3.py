#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end with an S3 bucket (issue 4 "Done means" 1): a real S3 server on loopback
(s3rver, lib/s3server.py; it does not verify V4 signatures - see tests/unit/data/
sigv4_botocore.json for that), tws configured with `[bucket cloud]` (endpoint, region us-east-1,
remote name `videos`, keys S3RVER/S3RVER) plus a local bucket `media`.

  cli      the source uploaded to s3rver with a plain HTTP PUT; `tws playlist` with SourceURI
           oss://cloud/in/src.mp4 and target oss://cloud/out/v/v: only the playlist is written
           (ListObjectsV2); every segment by its own `tws segment` process, shuffled; the
           playlist and segments downloaded from s3rver pass the strict check (lib/check.py);
           the bucket holds exactly the source, the playlist and the segments; every segment
           object deleted (HTTP DELETE) and made again (reverse order): same timing
           (check.compare_timing), playlist unchanged.
  serve    `tws serve` on the same config: POST /v1/playlists (S3 source and target), ffmpeg
           plays the signed playlist URL to the end (cold: every segment transcoded from S3);
           a cold segment (TranscodeAhead 0) fetched by its signed URL appears in S3 after the
           request, equal to the body served; the strict check on the stream fetched over HTTP.
  missing  a missing S3 source: `tws playlist` exits 1 with one stderr line, POST
           /v1/playlists answers 404 NotFound (API.md / issue 4).

TWS_E2E_ONLY=cli,serve runs a subset; TWS_E2E_KEEP=1 keeps the temporary directories.
"""

import os
import random
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402
from s3server import S3Server  # noqa: E402
from tws import Env, TwsError  # noqa: E402

REMOTE = "videos"   # the bucket in s3rver
TWS_BUCKET = "cloud"  # its tws name
VIDEO = {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x240"}}
AUDIO = {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}
STORE_TIMEOUT = 120


def write_config(env, s3):
    """The serve test config (local bucket media, key, tokens) plus [bucket cloud] on s3rver."""
    serve.write_config(env, workers=2, extra="\n" + s3.config_section(TWS_BUCKET, REMOTE))


def key_of(uri):
    prefix = f"oss://{TWS_BUCKET}/"
    assert uri.startswith(prefix), uri
    return uri[len(prefix):]


def download(s3, playlist_key, dest):
    """The playlist and every segment it names, from s3rver into `dest`; returns
    (local playlist path, [segment keys]). Raises when an object is missing."""
    os.makedirs(dest, exist_ok=True)
    body = s3.get(REMOTE, playlist_key)
    if body is None:
        raise TwsError(f"the playlist {playlist_key} is not in the S3 bucket")
    path = os.path.join(dest, os.path.basename(playlist_key))
    with open(path, "wb") as f:
        f.write(body)
    base = os.path.dirname(playlist_key)
    keys = []
    for line in serve.segment_lines(body.decode("utf-8", errors="replace")):
        k = f"{base}/{line}" if base else line
        data = s3.get(REMOTE, k)
        if data is None:
            raise TwsError(f"segment object {k} is not in the S3 bucket")
        with open(os.path.join(dest, os.path.basename(line)), "wb") as f:
            f.write(data)
        keys.append(k)
    return path, keys


def segment_keys(s3, prefix_key):
    """The .ts keys under the target prefix's folder in the bucket, sorted."""
    folder = os.path.dirname(prefix_key) + "/"
    return sorted(k for k in s3.list(REMOTE, folder) if k.endswith(".ts"))


def case_cli(s3, tmp):
    f = []
    src = media.source("mp4")
    dur = float(check._ffprobe_json(["-show_format", src])["format"]["duration"])
    s3.put_file(REMOTE, "in/src.mp4", src)
    with Env("s3-cli") as env:
        write_config(env, s3)
        prefix = f"oss://{TWS_BUCKET}/out/v/v"
        playlist_uri = prefix + ".m3u8"
        pl_key = key_of(playlist_uri)
        request = {"SourceURI": f"oss://{TWS_BUCKET}/in/src.mp4",
                   "Targets": [{"URI": prefix, "Duration": 5, "InitialSegments": [2, 2],
                                "InitialTranscode": 0, "Video": VIDEO, "Audio": AUDIO}]}
        resp = env.playlist(request)
        token = ((resp.get("VideoPlaylist") or [{}])[0]).get("Token")
        listing = s3.list(REMOTE)
        if sorted(listing) != sorted(["in/src.mp4", pl_key]):
            f.append(f"after tws playlist the bucket holds {sorted(listing)}, want the source and "
                     f"{pl_key} only")
        if s3.get(REMOTE, pl_key) is None:
            return f + [f"tws playlist wrote no {pl_key} to S3"]
        if os.listdir(env.bucket):
            f.append(f"the local bucket got {os.listdir(env.bucket)}")
        playlist_bytes = s3.get(REMOTE, pl_key)
        n = len(serve.segment_lines(playlist_bytes.decode()))
        if n < 2:
            return f + [f"the playlist names {n} segments"]

        order = list(range(n))
        random.Random(4).shuffle(order)
        for k in order:
            env.segment(playlist_uri, k)
        path_a, keys = download(s3, pl_key, os.path.join(tmp, "a"))
        fails, summary = check.check_stream(path_a, token=token, expect_duration=dur)
        f += [f"strict check: {m}" for m in fails]
        print(f"     cli: {n} segments, EXTINF {summary.get('extinf')}", flush=True)
        want = sorted(["in/src.mp4", pl_key] + keys)
        have = sorted(s3.list(REMOTE))
        if have != want:
            f.append(f"the bucket holds {have}, want the source, the playlist and its segments")

        # Delete every segment object, make them again (reverse order): same timing.
        for k in keys:
            s3.delete(REMOTE, k)
        if segment_keys(s3, pl_key):
            return f + [f"segments still listed after DELETE: {segment_keys(s3, pl_key)}"]
        for k in reversed(order):
            env.segment(playlist_uri, k)
        if s3.get(REMOTE, pl_key) != playlist_bytes:
            f.append("regenerate: tws segment changed the playlist in S3")
        _path_b, keys_b = download(s3, pl_key, os.path.join(tmp, "b"))
        if keys_b != keys:
            f.append(f"regenerate: segment keys {keys_b} != {keys}")
        for k in keys:
            name = os.path.basename(k)
            f += check.compare_timing(os.path.join(tmp, "a", name), os.path.join(tmp, "b", name),
                                      f"segment {name} made again: ")
        if sorted(s3.list(REMOTE)) != want:
            f.append(f"after regenerating, the bucket holds {sorted(s3.list(REMOTE))}")
    return f


def case_serve(s3, tmp):
    f = []
    src = media.source("mp4")
    dur = float(check._ffprobe_json(["-show_format", src])["format"]["duration"])
    s3.put_file(REMOTE, "in/serve src+1.mp4", src)   # a key with a space and a '+'
    with Env("s3-serve") as env:
        write_config(env, s3)
        server = serve.Server(env)
        server.start()
        try:
            prefix = f"oss://{TWS_BUCKET}/served/w/w"
            request = {"SourceURI": f"oss://{TWS_BUCKET}/in/serve src+1.mp4",
                       "Targets": [{"URI": prefix, "Duration": 5, "InitialSegments": [2],
                                    "InitialTranscode": 0, "TranscodeAhead": 0,
                                    "Video": VIDEO, "Audio": AUDIO}]}
            resp = server.create_playlist(request)
            token = ((resp.get("VideoPlaylist") or [{}])[0]).get("Token")
            pl_key = key_of(prefix + ".m3u8")
            if s3.get(REMOTE, pl_key) is None:
                return f + [f"POST /v1/playlists wrote no {pl_key} to S3"]
            if segment_keys(s3, pl_key):
                f.append(f"segments in S3 before any request: {segment_keys(s3, pl_key)}")

            # A cold segment by its signed URL: served, then stored in S3, equal to the body.
            seg_key = f"served/w/w-{token}-1.ts"
            url = serve.signed_path(serve.encode_path(f"/{TWS_BUCKET}/{seg_key}"))
            r = server.get(url)
            if r.status != 200:
                f.append(f"GET cold segment 1: {r.describe()}" + server.stderr_tail())
            else:
                if not serve.wait_for(lambda: s3.exists(REMOTE, seg_key), STORE_TIMEOUT):
                    f.append(f"segment 1 was served but is not in S3 after {STORE_TIMEOUT} s")
                elif s3.get(REMOTE, seg_key) != r.body:
                    f.append("segment 1 in S3 differs from the body served")

            # ffmpeg plays the signed playlist to the end, then the strict check over HTTP.
            full = server.base + serve.local_path(server.sign(prefix + ".m3u8"))
            f += serve.ffmpeg_play(full)
            path, _text, urls = serve.download_stream(server, full, os.path.join(tmp, "play"))
            fails, _summary = check.check_stream(path, token=token, expect_duration=dur)
            f += [f"strict check over HTTP: {m}" for m in fails]
            n = len(urls)
            if not serve.wait_for(lambda: len(segment_keys(s3, pl_key)) == n, STORE_TIMEOUT):
                f.append(f"after playing, S3 holds {len(segment_keys(s3, pl_key))} of {n} segments")
            for u in urls:
                name = os.path.basename(u.split("?", 1)[0])
                stored = s3.get(REMOTE, f"served/w/{name}")
                got = open(os.path.join(tmp, "play", name), "rb").read()
                if stored is not None and stored != got:
                    f.append(f"{name}: the bytes served differ from the S3 object")
            m = server.metrics()
            for op in ("get", "put"):
                v = serve.metric_sum(m, "tws_storage_requests_total", op=op)
                if not v:
                    f.append(f"tws_storage_requests_total{{op=\"{op}\"}} is {v} after S3 traffic")
        finally:
            f += server.stop()
    return f


def case_missing(s3, tmp):
    f = []
    with Env("s3-missing") as env:
        write_config(env, s3)
        before = sorted(s3.list(REMOTE))
        request = {"SourceURI": f"oss://{TWS_BUCKET}/in/does-not-exist.mp4",
                   "Targets": [{"URI": f"oss://{TWS_BUCKET}/out/missing/m", "Video": VIDEO,
                                "Audio": AUDIO}]}
        r = env.playlist_raw(request)
        lines = r.stderr.strip().splitlines()
        if r.rc != 1 or len(lines) != 1:
            f.append(f"tws playlist on a missing S3 source: exit {r.rc}, stderr {lines[:3]} "
                     "(want 1 and one line)")
        server = serve.Server(env)
        server.start()
        try:
            resp = server.api("/v1/playlists", request)
            j = resp.json() or {}
            if resp.status != 404 or j.get("Code") != "NotFound":
                f.append(f"POST /v1/playlists, missing S3 source: {resp.describe()} (want 404 NotFound)")
        finally:
            f += server.stop()
        if sorted(s3.list(REMOTE)) != before:
            f.append("the bucket changed")
    return f


def main():
    run = Runner("tws with an S3 bucket (s3rver on loopback)")
    tmp = tempfile.mkdtemp(prefix="tws-s3-e2e-")
    keep = bool(os.environ.get("TWS_E2E_KEEP"))
    media.source("mp4")
    s3 = None
    try:
        s3 = S3Server(buckets=[REMOTE])
        ok = run.case("s3rver-start", lambda: s3.start() and [])
        if ok:
            def with_tmp(fn, sub):
                def inner():
                    d = os.path.join(tmp, sub)
                    os.makedirs(d, exist_ok=True)
                    if not s3.alive():
                        return [f"s3rver is not running: {s3.log_tail()}"]
                    return fn(s3, d)
                return inner
            run.case("cli", with_tmp(case_cli, "cli"))
            run.case("serve", with_tmp(case_serve, "serve"))
            run.case("missing", with_tmp(case_missing, "missing"))
    finally:
        if s3 is not None:
            s3.stop()
        if keep:
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
