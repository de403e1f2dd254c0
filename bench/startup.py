#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start-up and seek benchmark (issue 6 "Done means" 2): start-up and seek in Chromium on the player page,
cold (nothing transcoded yet) against warm (the same stream with every segment stored: what a
fully transcoded static HLS stream gives on this machine).

Source: 1080p25 testsrc2 + a 48 kHz tone, 120 s, H.264 with keyframes every 10 s at 0, 10, 20 ...
(bench/engine.py's make_source). Target: 720p H.264 x264 veryfast CRF 23, AAC 128 kb/s,
[2, 2, 2] + 10 s segments, InitialTranscode 0 (nothing ready in advance), TranscodeAhead
default. The seek goes to 60 % (72 s): its segment is 66-76 s. Without a seek hint the frame
asked for needs the source decoded from its keyframe at 60 s and 6 s of output encoded before it;
the player page sends the seek's time with the segment request (&t=), and the server makes
66-72 s as a draft (a still of the source keyframe at 70 s) beside 72-76 s at the waited-for
quality (docs/API.md "Seek hint"). hls.js defaults send no hint.

For each hls.js configuration (the player page's own, and hls.js defaults: ?hls=defaults) and
each repetition, one headless Chromium (tests/e2e/lib/browser.py) in a fresh context (empty
cache) does: open the page with autoplay, start-up (first frame presented while playing,
measured by the page), play 2 s, seek to 60 % (first frame presented after it), play 1 s.
Cold: a new target prefix (nothing stored; the seek's segment is checked to be missing just
before the seek), on a fresh `tws serve`. Warm: the same playlist after `tws segment P 0 N-1`
stored every segment, on another fresh `tws serve` (no transcode running). Each server is used
once its media workers are started (/metrics tws_media_workers{state="idle"}), as a server that
has been up a while: cold is a video nothing was transcoded of, not a server process just
launched (starting the 3 workers takes about 0.35 s of CPU, which would otherwise compete with
the first segment and the page). Medians are printed
with the ratios cold / warm; goals for the page's configuration: start-up <= 1.5, seek <= 3 (issue 25).

Each configuration starts with one run that is not counted: the first page a fresh Chromium
opens is slower by 100-400 ms for reasons of its own (its caches, its GPU process), and that
page is always a cold one.

Chromium, hls.js and tws share this machine's cores, as they would not in production: the
cold figures include the browser's own CPU use competing with the transcode. Chromium runs at
the idle scheduling class, but in a scheduler session of its own (playwright starts it so): where
the kernel's autogroups are on (/proc/sys/kernel/sched_autogroup_enabled, Debian's default) the
CPU is shared between sessions first, so when both are busy the browser and the server get
about one core each, and the header line says so. --idle-browser gives the browser's session the
weakest weight too, so it gets only what the server leaves: the server's read-ahead then delays
the page's own start-up work by seconds, which separate machines would not do either.
--separate-cores puts Chromium on the last core and tws (and this script) on the others, as a
viewer's device and a server would be: neither waits for the other's CPU, each has less of it.

Usage: bench/startup.py --build build [--repeat N] [--configs tws,defaults] [--json FILE]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e", "lib"))

import browser  # noqa: E402  (tests/e2e/lib/browser.py)
import engine  # noqa: E402  (bench/engine.py: build_setup, make_source, PRESET, CRF)
import tws as twslib  # noqa: E402  (tests/e2e/lib/tws.py: Env)

serve = engine.e2e_serve()  # tests/e2e/lib/serve.py

DURATION = 120
SEEK_FRACTION = 0.6
START_GOAL = 1.5
SEEK_GOAL = 3.0
STEP_TIMEOUT_MS = 120000
WORKERS = 2  # [server] workers
WARMUP_RUNS = 1  # per configuration, before the runs counted
VERBOSE = False
chromium_events = [[]]


def target(prefix):
    return {"URI": prefix, "Duration": 10, "InitialSegments": [2, 2, 2], "InitialTranscode": 0,
            "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": engine.CRF, "Resolution": "x720"}},
            "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 128000, "SampleRate": 44100}}}


def session(chromium, server, playlist_uri, config, before_seek=None):
    """One viewer: start-up, 2 s of playback, a seek to 60 %, 1 s more. Returns the figures."""
    url = server.sign(playlist_uri)
    params = {"autoplay": "1"}
    if config != "tws":
        params["hls"] = config
    page = browser.player_url(browser.cross_origin(server.base), url, **params)
    steps = [{"do": "open", "url": page}, {"do": "startup", "timeoutMs": STEP_TIMEOUT_MS},
             {"do": "play", "seconds": 2}]
    res = chromium.steps(steps)
    cold_seek_segment = before_seek() if before_seek else None
    if res[-1].get("ok"):
        res += chromium.steps([{"do": "seek", "fraction": SEEK_FRACTION, "timeoutMs": STEP_TIMEOUT_MS},
                               {"do": "play", "seconds": 1}])
    if VERBOSE:
        chromium_events[0] = chromium.step({"do": "eval", "expr": "window.tws.events"}).get("value", [])
    chromium.step({"do": "close"})
    bad = [r for r in res if not r.get("ok")]
    if bad:
        raise RuntimeError(f"{config}: step {bad[0]['do']}: {bad[0].get('error')} "
                           f"(stats {bad[0].get('stats', {}).get('errors')})")
    stats = res[-1]["stats"]
    if VERBOSE:
        events = chromium_events[0]
        print(f"    page events ({config}), play pressed at {stats.get('startEpochMs', 0) / 1000:.3f}:")
        for e in events:
            print(f"      {e}")
    if stats.get("fatal"):
        raise RuntimeError(f"{config}: fatal hls.js error {stats['fatal']}")
    seek = res[3]["seek"]
    return {"startup_ms": stats["startupMs"], "seek_ms": seek["ms"], "seek_to": seek["to"],
            "stalls": stats["stalls"], "seek_segment_was_stored": cold_seek_segment}


def wait_ready(server):
    """A server that has been up a while: its media workers started (cold means nothing of
    the video transcoded, not a server process just launched)."""
    if not server.wait_ready(WORKERS, timeout=60):
        raise RuntimeError("tws serve's media workers did not start in 60 s" + server.stderr_tail())


def measure(args, chromium, tws, src, config):
    cold, warm = [], []
    # Run 0 is the browser's warm-up, not counted: the first page a fresh Chromium opens takes
    # it 100-400 ms longer (its own caches, the GPU process), and it is always a cold one.
    for rep in range(-WARMUP_RUNS, args.repeat):
        env = twslib.Env("bench-browser", keep=args.keep)
        serve.write_config(env, workers=WORKERS, preset=engine.PRESET)
        source_uri = env.put(src, "in/src.mp4")
        prefix = "oss://media/out/720p"
        playlist_uri = prefix + ".m3u8"
        try:
            server = serve.Server(env).start()
            try:
                wait_ready(server)
                resp = server.create_playlist({"SourceURI": source_uri, "Targets": [target(prefix)]})
                token = resp["VideoPlaylist"][0]["Token"]
                out_dir = os.path.dirname(env.path(playlist_uri))
                seek_k = 9  # 66-76 s: [2, 2, 2] then 10 s segments

                def seek_segment_stored():
                    return os.path.exists(os.path.join(out_dir, f"720p-{token}-{seek_k}.ts"))
                cold.append(session(chromium, server, playlist_uri, config, seek_segment_stored))
            finally:
                server.stop()
                if VERBOSE:
                    print("    server (cold):")
                    for line in open(server.stderr_path):
                        if ".ts" in line or "transcode" in line:
                            print("      " + line.strip()[:200])
            # Every segment stored, then a fresh server with nothing running: static HLS.
            n = len([l for l in open(env.path(playlist_uri)) if l.startswith("#EXTINF")])
            subprocess.run([tws, "segment", "--config", env.config, playlist_uri, "0", str(n - 1)],
                           check=True, capture_output=True, timeout=1800, cwd=env.dir)
            server = serve.Server(env).start()
            try:
                wait_ready(server)
                warm.append(session(chromium, server, playlist_uri, config))
            finally:
                server.stop()
        finally:
            env.close()
        c, w = cold[-1], warm[-1]
        what = f"run {rep + 1}" if rep >= 0 else "warm-up (not counted)"
        print(f"  {config:<9} {what}: start-up cold {c['startup_ms']:6.0f} ms warm "
              f"{w['startup_ms']:6.0f} ms; seek cold {c['seek_ms']:6.0f} ms warm {w['seek_ms']:6.0f} ms"
              f"{'  (seek segment was already stored!)' if c['seek_segment_was_stored'] else ''}",
              flush=True)
    return cold[WARMUP_RUNS:], warm[WARMUP_RUNS:]


def chromium_share(idle_browser):
    """How Chromium shares the CPU with tws, for the header line."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            autogroups = f.read().strip() == "1"
    except OSError:
        autogroups = False
    if idle_browser or not autogroups:
        return " at the idle class: it gets what tws leaves"
    return " at the idle class in an autogroup of its own: about half the CPU against tws"


def run(build, repeat=3, configs=("tws", "defaults"), idle_browser=False, tws=None, keep=False,
        verbose=False, separate_cores=False):
    """Measures every configuration; returns {config: {"cold": [...], "warm": [...]}}."""
    global VERBOSE
    VERBOSE = verbose
    why = browser.available()
    if why:
        sys.exit(why)
    exe, build_env, media_dir = engine.build_setup(build, tws)
    os.environ["TWS"] = exe
    os.environ.update(build_env)
    src = os.path.join(media_dir, f"bench-1080p25-{DURATION}s-keys0.mp4")
    engine.make_source(src, 0, DURATION)
    with open(src, "rb") as f:  # the page cache warm for cold and warm alike
        while f.read(1 << 24):
            pass
    args = argparse.Namespace(repeat=repeat, keep=keep)
    figures = {}
    cores = sorted(os.sched_getaffinity(0))
    if separate_cores and len(cores) < 2:
        sys.exit("--separate-cores needs 2 cores or more")
    browser_cores = str(cores[-1]) if separate_cores else None
    with browser.Browser(idle=True, idle_group=idle_browser, cpus=browser_cores) as chromium:
        share = chromium_share(idle_browser)
        if separate_cores:
            # tws serve, its workers and `tws segment` inherit this process's CPUs.
            os.sched_setaffinity(0, set(cores[:-1]))
            share = f" on core {browser_cores} alone, tws on {len(cores) - 1} other core(s)"
        print(f"cores: {len(cores)}; Chromium {chromium.version}"
              f"{share}; source 1080p25 {DURATION} s, "
              f"keyframes every 10 s; target 720p x264 {engine.PRESET} CRF {engine.CRF}, [2,2,2] + 10 s, "
              f"InitialTranscode 0; seek to {SEEK_FRACTION:.0%}; median of {repeat}", flush=True)
        for config in configs:
            cold, warm = measure(args, chromium, exe, src, config)
            figures[config] = {"cold": cold, "warm": warm}
    for config, f in figures.items():
        for key in ("startup_ms", "seek_ms"):
            c = statistics.median(x[key] for x in f["cold"])
            w = statistics.median(x[key] for x in f["warm"])
            f[key] = {"cold": c, "warm": w, "ratio": c / w if w else float("nan")}
    return figures


def print_table(figures):
    print(f"  {'hls.js config':<14} {'':<9} {'cold ms':>9} {'warm ms':>9} {'cold/warm':>10}   goal")
    for config, f in figures.items():
        for what, key, goal in (("start-up", "startup_ms", START_GOAL), ("seek 60 %", "seek_ms", SEEK_GOAL)):
            m = f[key]
            verdict = (f"<= {goal} ({'ok' if m['ratio'] <= goal else 'ABOVE GOAL'})" if config == "tws" else "")
            print(f"  {config:<14} {what:<9} {m['cold']:9.0f} {m['warm']:9.0f} {m['ratio']:10.2f}   {verdict}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--tws", help="tws binary (default: BUILD/service/tws)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (median kept)")
    ap.add_argument("--configs", default="tws,defaults", help="hls.js configurations: tws, defaults")
    ap.add_argument("--keep", action="store_true", help="keep the temporary buckets")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--verbose", action="store_true", help="print each session's page events")
    ap.add_argument("--idle-browser", action="store_true",
                    help="Chromium's scheduler autogroup at nice 19 as well as its idle class: it "
                         "gets only the CPU tws leaves (default: where autogroups are on, each "
                         "gets about half when both are busy)")
    ap.add_argument("--separate-cores", action="store_true",
                    help="Chromium on the last core, tws on the others (as on two machines)")
    args = ap.parse_args()
    figures = run(args.build, args.repeat, args.configs.split(","), args.idle_browser, args.tws,
                  args.keep, args.verbose, args.separate_cores)
    print()
    print_table(figures)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1)


if __name__ == "__main__":
    main()
