#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Browser end-to-end test (issue 6 "Done means" 1): the player page of `tws serve` in Debian's
Chromium (headless, driven by playwright-core: lib/browser.py, node/browser.js).

One `tws serve` (workers 2) on 127.0.0.1 with a cold master: a 480x270 30 s source with two
audio languages and a WebVTT file, two video renditions (480x270 and 240x136), two audio
renditions, one subtitle rendition; [2, 2, 2] + 6 s segments, InitialTranscode 0 (nothing
made in advance). The page is loaded from http://localhost:PORT and the playlist from
http://127.0.0.1:PORT: two origins, so every playlist and segment request is a CORS request.

  player page      GET /player, /player/player.js, /player/hls.min.js: 200 with their types;
                   the page's scripts are its own (no CDN); unknown files 404, POST 405
  cold playback    play (first frame while playing; the picture advances), seek to 60 % (the
                   first frame after it; the picture advances from there), the subtitles (the
                   WebVTT file's cue where its video frame is), the other rendition with the
                   quality picker (its size shown), the second audio track; no fatal hls.js
                   error at any point; no stall for want of data after start-up (outside the
                   seek; a stall with 0.5 s or more buffered is Chromium's own, reported
                   only); the segments came from transcodes (metrics)
  seek hint        a 120 s source, 10 s segments: right after start-up a seek to 80 % (96 s,
                   6 s into a segment not made yet) asks for it with the seek's time (t=); the
                   server makes it with a draft before that time; the picture advances from
                   96 s on
  trick play       a master of a 40 s source whose picture is a flat gray stepping every second
                   (a keyframe every 2 s): the pointer on the page's seek bar at 15 %, 50 % and
                   85 % shows a thumbnail whose time is within 2 s before the pointer's and
                   whose picture (a screenshot of the thumbnail element) has the source's gray
                   at that time (within 8 of 255); nothing of the storyboard was stored before
                   the first hover

Timeouts guard against hangs; no speed is asserted here (bench/startup.py measures it).
"""

import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import browser  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server  # noqa: E402
from tws import Env  # noqa: E402

DURATION = 30
LONG_SECONDS = 120
SEEK_FRACTION = 0.6
_AUDIO_IN, _AUDIO_MAPS = media._two_tone_audio(DURATION)
media.RECIPES.setdefault(
    "browser270", ("src-browser-270p-30s.mp4",
                   "480x270 H.264 25 fps 30 s, audio 440 Hz eng + 660 Hz fra",
                   media._video_in("480x270", "25", DURATION) + _AUDIO_IN + ["-map", "0:v"] +
                   _AUDIO_MAPS + media._x264(75) + media.AAC, "av"))
CUES = [(1.0, 4.0, "Erster Satz"), (12.0, 16.0, "Zweiter Satz"), (18.5, 24.0, "Dritter Satz")]
# Small, so that Chromium (decoding and drawing without a GPU) and the transcodes share the
# CI machine's 2 cores without starving playback.
RENDITIONS = [("270p", "480x", 270), ("136p", "240x", 136)]
STEPS_SECONDS = 40
media.RECIPES.setdefault(
    "steps", ("src-gray-steps-40s.mp4", "640x360 flat gray 16 + 5 s per second, keyframe every 2 s",
              ["-f", "lavfi", "-i", f"color=black:size=640x360:rate=25:duration={STEPS_SECONDS},"
               "geq=lum='16+5*floor(T)':cb=128:cr=128"] + media._audio_in(STEPS_SECONDS) +
              media._x264(50) + media.AAC, "av"))
media.RECIPES.setdefault(
    "long120", ("src-testsrc2-320x180-120s.mp4", "320x180 testsrc2 120 s, keyframe every 2 s",
                media._video_in("320x180", "25", LONG_SECONDS) + media._audio_in(LONG_SECONDS) +
                media._x264(50) + media.AAC, "av"))
STEP_TIMEOUT_MS = 120000


class World:
    def __init__(self):
        self.env = Env("browser")
        serve.write_config(self.env, workers=2)
        self.server = Server(self.env).start()

    def close(self):
        failures = self.server.stop()
        self.env.close()
        return failures

    def cold_master(self):
        src = self.env.put(media.source("browser270"), "in/source.mp4")
        subs = self.env.put(media.text_file("browser-deu.vtt", media.vtt_text(CUES)), "in/deu.vtt")
        targets = [{"URI": f"oss://media/out/{name}/{name}", "Duration": 6,
                    "InitialSegments": [2, 2, 2], "InitialTranscode": 0,
                    "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 28, "Resolution": res,
                                                 "ScaleType": "fit"}},
                    "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 96000},
                              "Stream": [0, 1]}}
                   for name, res, _h in RENDITIONS]
        self.server.create_playlist({"SourceURI": src, "MasterURI": "oss://media/out/master.m3u8",
                                     "SourceSubtitles": [{"URI": subs, "Language": "deu"}],
                                     "Targets": targets})
        return self.server.sign("oss://media/out/master.m3u8")


def case_page(world):
    f = []
    s = world.server
    page = s.get("/player?src=x")
    if page.status != 200 or not (page.header("content-type") or "").startswith("text/html"):
        return [f"GET /player: {page.describe()}, content-type {page.header('content-type')}"]
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', page.text())
    if sorted(scripts) != ["/player/hls.min.js", "/player/player.js"]:
        f.append(f"the page's scripts are {scripts}, want /player/hls.min.js and /player/player.js "
                 "(served by tws, no CDN)")
    for ids in ("quality", "audio", "subtitles", "startup", "seek"):
        if f'id="{ids}"' not in page.text():
            f.append(f"the page has no element id={ids}")
    for path, marker in (("/player/hls.min.js", "MANIFEST_PARSED"), ("/player/player.js", "window.tws")):
        r = s.get(path)
        ctype = r.header("content-type") or ""
        if r.status != 200 or "javascript" not in ctype or marker.encode() not in r.body:
            f.append(f"GET {path}: {r.status} {ctype}, {len(r.body)} bytes (want JavaScript with {marker})")
    if s.get("/player/nothing.js").status != 404:
        f.append("GET /player/nothing.js is not 404")
    r = s.request("POST", "/player", body=b"")
    if r.status != 405 or (r.json() or {}).get("Code") != "MethodNotAllowed":
        f.append(f"POST /player: {r.describe()}, want 405 MethodNotAllowed")
    return f


def no_fatal(step):
    stats = step.get("stats") or {}
    return [f"{step['do']}: fatal hls.js error {stats['fatal']}"] if stats.get("fatal") else []


def data_stalls(stall_log):
    """The stalls where playback ran out of data: not those with half a second or more buffered
    ahead (Chromium decoding without a GPU on a busy 2-core machine can stall on its own)."""
    out = []
    for s in stall_log or []:
        t = s.get("time", 0)
        ahead = max([end - t for start, end in s.get("buffered", []) if start <= t + 0.1] or [0])
        if ahead < 0.5:
            out.append(s)
    return out


def advancing(step, label, min_media=1.0):
    """The picture moved during a `play` step: media time and presented frames, no stall."""
    f = []
    if step.get("mediaAdvanced", 0) < min_media:
        f.append(f"{label}: media time advanced {step.get('mediaAdvanced')} s in "
                 f"{step.get('wallMs')} ms of playback (want >= {min_media})")
    if step.get("framesAdvanced", 0) < 10:
        f.append(f"{label}: {step.get('framesAdvanced')} frames presented (want >= 10)")
    return f


def progressive_appends(events):
    """Cold segments stream at the encoder's pace: the page must append them in pieces as their
    bytes arrive (16 KB pieces; hls.js's own 128 KB would hold a small segment back until its
    end), not once each is loaded. Wants some main segment appended in 3 or more pieces before
    its 'loaded'. The page's events are [ms, 'loading' | 'request' | 'appended' | 'loaded', 'main L #N' |
    'video N [ranges]' | ...]."""
    best = (0, None)
    for i, e in enumerate(events):
        if e[1] != "loading" or not e[2].startswith("main "):
            continue
        sn = e[2].rsplit("#", 1)[1]
        pieces = 0
        for later in events[i + 1:]:
            if later[1] == "loaded" and later[2].startswith("main ") and later[2].endswith(f" #{sn}"):
                break
            if later[1] == "appended" and later[2].startswith(f"video {sn} "):
                pieces += 1
        best = max(best, (pieces, sn), key=lambda b: b[0])
    if best[0] < 3:
        return [f"no main segment was appended in 3 or more pieces while it loaded (most: "
                f"{best[0]}, segment #{best[1]}): {events[:40]}"]
    return []


def case_cold_playback(world):
    f = []
    playlist_url = world.cold_master()
    page_base = browser.cross_origin(world.server.base)
    if urllib.parse.urlsplit(page_base).netloc == urllib.parse.urlsplit(playlist_url).netloc:
        return [f"the page ({page_base}) and the stream ({playlist_url}) share an origin"]
    url = browser.player_url(page_base, playlist_url, autoplay="1")
    video = "document.getElementById('video')"
    steps = [
        {"do": "open", "url": url},
        {"do": "startup", "timeoutMs": STEP_TIMEOUT_MS},
        {"do": "eval", "expr": "window.tws.events"},
        {"do": "play", "seconds": 3},
        # The quality picker: the rendition that is not playing; then its size on screen.
        {"do": "select", "id": "quality", "expr": "window.tws.level === 1 ? 0 : 1"},
        {"do": "waitFor", "timeoutMs": STEP_TIMEOUT_MS,
         "expr": f"window.tws.level === Number(document.getElementById('quality').value) && "
                 f"{video}.videoHeight === window.tws.levels[window.tws.level].height"},
        {"do": "play", "seconds": 2},
        {"do": "select", "id": "audio", "value": 1},
        {"do": "waitFor", "expr": "window.tws.audioTrack === 1", "timeoutMs": STEP_TIMEOUT_MS},
        {"do": "play", "seconds": 2},
        {"do": "seek", "fraction": SEEK_FRACTION, "timeoutMs": STEP_TIMEOUT_MS},
        {"do": "play", "seconds": 3},
        # The subtitle picker. The cue at 18.5 s of media time must be where the video's frame
        # of 18.5 s is: hls.js puts media time 0 where the buffer starts at start-up
        # (timelineStart; a B-frame stream's first DTS is before its first PTS, so not at 0).
        {"do": "select", "id": "subtitles", "value": 0},
        {"do": "waitFor", "timeoutMs": STEP_TIMEOUT_MS, "expr":
         f"Array.from({video}.textTracks).some(t => t.mode === 'showing' && t.cues && "
         "Array.from(t.cues).some(c => c.text === 'Dritter Satz' && "
         "Math.abs(c.startTime - 18.5 - window.tws.timelineStart) < 0.005))"},
        {"do": "play", "seconds": 1},
        {"do": "eval", "expr": "window.tws.events"},
    ]
    with browser.Browser() as chromium:
        results = chromium.steps(steps)
    console = [c for r in results for c in r.get("console", [])]
    for r in results:
        if r.get("error"):
            f.append(f"step {r['do']}: {r['error']}")
        f += no_fatal(r)
    if len(results) < len(steps):
        f.append(f"steps after {results[-1]['do']} not run")
    if f:
        stats = results[-1].get("stats") or {}
        return f + [f"at {stats.get('currentTime')} s, buffered {stats.get('buffered')}, "
                    f"errors {stats.get('errors')}"] + ([f"console: {console[:3]}"] if console else [])
    (opened, started, events, play1, switch, switched, play2, _audio, audio, play3, seek, play4,
     _subs, _cue, play5, late_events) = results
    if opened.get("status") != 200:
        f.append(f"the page answered {opened.get('status')}")
    st = started["stats"]
    if st.get("config") != "tws":
        f.append(f"the page ran with the {st.get('config')} hls.js configuration, want tws")
    if sorted(l["height"] for l in st.get("levels") or []) != sorted(h for *_x, h in RENDITIONS) or \
            len(st.get("audioTracks") or []) != 2 or len(st.get("subtitleTracks") or []) != 1:
        f.append(f"hls.js saw levels {st.get('levels')}, audio {st.get('audioTracks')}, "
                 f"subtitles {st.get('subtitleTracks')}; want heights 270 and 136, 2 audio, 1 subtitle")
    # Until its first frame shows, the page requests the first segment only (the next ones would
    # compete with the start for the CPU). hls.js may ask for the next one early; the page's
    # loader holds that request until the first frame.
    before = [e for e in events.get("value") or [] if e[0] < st.get("startupMs", 0)]
    requested = [e for e in before if e[1] == "request" and e[2].startswith("main ")]
    if not requested:
        f.append(f"no request of a main segment noted before the first frame: {before}")
    early = [e for e in requested if not e[2].endswith(" #0")]
    if early:
        f.append(f"before its first frame ({st.get('startupMs'):.0f} ms) the page requested {early}; "
                 f"its events until then: {before}")
    print(f"     cold start-up {st.get('startupMs'):.0f} ms, cold seek to {seek.get('to', 0):.1f} s "
          f"{(seek.get('seek') or {}).get('ms', 0):.0f} ms", flush=True)
    f += advancing(play1, "after start-up")
    # The picker's option is the rendition not playing when it was picked (ABR may have moved
    # since start-up); the waitFor saw it playing with its height on screen.
    height = switched["stats"]["videoHeight"]
    if height == switch["stats"]["videoHeight"]:
        f.append(f"the quality picker (option {switch.get('value')}) left the picture at {height} px "
                 f"(level {switch['stats']['level']} playing when it was picked)")
    f += advancing(play2, f"after switching to {height}p", 0.8)
    if audio["stats"].get("audioTracks", [{}])[1].get("lang") not in ("fr", "fra"):
        f.append(f"audio track 1 is {audio['stats'].get('audioTracks')}, want the French one")
    f += advancing(play3, "after switching the audio track", 0.8)
    seek_to = SEEK_FRACTION * DURATION
    if (seek.get("seek") or {}).get("to", 0) < seek_to - 0.5:
        f.append(f"seek: reported {seek.get('seek')}, want to >= {seek_to - 0.5}")
    f += advancing(play4, "after the seek")
    if play4["stats"]["currentTime"] < seek_to:
        f.append(f"after the seek the video is at {play4['stats']['currentTime']:.2f} s, "
                 f"before the seek point {seek_to}")
    f += advancing(play5, "with subtitles on", 0.3)
    stall_log = play5["stats"].get("stallLog") or []
    starved = data_stalls(stall_log)
    if starved:
        f.append(f"{len(starved)} stalls for want of data after start-up (outside seeks): {starved}")
    elif stall_log:
        print(f"     {len(stall_log)} stalls with data buffered (the browser's own): {stall_log}")
    f += progressive_appends(late_events.get("value") or [])
    made = world.server.metric("tws_segments_transcoded_total") or 0
    if made < 4:
        f.append(f"tws_segments_transcoded_total is {made}: the stream was not cold")
    return f


def small_target(name):
    """320 px wide H.264 + AAC in 10 s segments at out/NAME/NAME, nothing made ahead."""
    return {"URI": f"oss://media/out/{name}/{name}", "Duration": 10, "InitialTranscode": 0,
            "Video": {"TranscodeVideo": {"Codec": "h264", "Resolution": "320x"}},
            "Audio": {"TranscodeAudio": {"Codec": "aac"}}}


def case_seek_hint(world):
    f = []
    src = world.env.put(media.source("long120"), "in/long.mp4")
    world.server.create_playlist({"SourceURI": src, "Targets": [small_target("long")]})
    url = browser.player_url(browser.cross_origin(world.server.base),
                             world.server.sign("oss://media/out/long/long.m3u8"), autoplay="1")
    steps = [{"do": "open", "url": url}, {"do": "startup", "timeoutMs": STEP_TIMEOUT_MS},
             {"do": "seek", "fraction": 0.8, "timeoutMs": STEP_TIMEOUT_MS},
             {"do": "play", "seconds": 2}, {"do": "eval", "expr": "window.tws.events"}]
    with browser.Browser() as chromium:
        results = chromium.steps(steps)
    for r in results:
        if r.get("error"):
            f.append(f"step {r['do']}: {r['error']}")
        f += no_fatal(r)
    if f or len(results) < len(steps):
        return f + [f"steps run: {[r['do'] for r in results]}"]
    _opened, _started, seek, play, events = results
    seek_to = 0.8 * LONG_SECONDS
    events = events.get("value") or []
    hints = [e for e in events if e[1] == "hint"]
    if not any(seek_to - 0.5 < float(e[2].rsplit("t=", 1)[1]) <= seek_to for e in hints):
        f.append(f"no segment request carried the seek's time {seek_to} s (t=): {hints}; "
                 f"{[e for e in events if e[1] in ('seeking', 'request')]}")
    with open(world.server.stderr_path) as log:
        drafts = [l.strip() for l in log if "draft before the seek hint" in l]
    if not drafts:
        f.append("the server made no draft for the seek's segment")
    f += advancing(play, "after the seek")
    if play["stats"]["currentTime"] < seek_to:
        f.append(f"after the seek the video is at {play['stats']['currentTime']:.2f} s, before "
                 f"the seek point {seek_to}")
    print(f"     seek to {seek_to:.0f} s: {(seek.get('seek') or {}).get('ms', 0):.0f} ms; "
          f"{hints[:1]}; {drafts[:1]}", flush=True)
    return f


def gray_of_png(path):
    """Mean gray of a PNG, decoded by ffmpeg."""
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "rawvideo",
                        "-pix_fmt", "gray", "-"], capture_output=True, timeout=60)
    return sum(r.stdout) / len(r.stdout) if r.stdout else -1


def case_trick_play(world):
    f = []
    src = world.env.put(media.source("steps"), "in/steps.mp4")
    target = small_target("steps")
    world.server.create_playlist({"SourceURI": src, "MasterURI": "oss://media/out/steps.m3u8",
                                  "Targets": [target]})
    url = world.server.sign("oss://media/out/steps.m3u8")
    page = browser.player_url(browser.cross_origin(world.server.base), url)
    stored = lambda: [p for p, _s, _m in world.env.listing() if "storyboard" in p]  # noqa: E731
    b = browser.Browser()
    try:
        r = b.step({"do": "open", "url": page})
        if not r.get("ok"):
            return [f"open the page: {r.get('error')}"]
        if stored():
            f.append(f"storyboard stored before any hover: {stored()}")
        for fraction in (0.15, 0.5, 0.85):
            want = fraction * STEPS_SECONDS
            r = b.step({"do": "hover", "selector": "#scrub", "fraction": fraction})
            if not r.get("ok"):
                f.append(f"hover at {fraction}: {r.get('error')}")
                continue
            r = b.step({"do": "waitFor", "timeoutMs": STEP_TIMEOUT_MS,
                        "expr": f"window.tws.thumb && Math.abs(window.tws.thumb.time - {want}) < 0.6 "
                                "&& !document.getElementById('thumb').hidden"})
            if not r.get("ok"):
                f.append(f"no thumbnail at {want:.1f} s: {r.get('error')}")
                continue
            thumb = b.step({"do": "eval", "expr": "window.tws.thumb"}).get("value") or {}
            if not (thumb.get("start", -9) <= thumb.get("time", 0) < thumb.get("end", -9)) or \
                    thumb["time"] - thumb["start"] > 2.05:
                f.append(f"thumbnail at {want:.1f} s: cue {thumb}")
            shot = os.path.join(world.env.dir, f"thumb-{fraction}.png")
            r = b.step({"do": "shot", "selector": "#thumb-img", "path": shot})
            if not r.get("ok"):
                f.append(f"screenshot of the thumbnail at {want:.1f} s: {r.get('error')}")
                continue
            got = gray_of_png(shot)
            level = 5 * int(thumb["start"] + 0.5) * 255.0 / 219.0
            print(f"     pointer {want:.1f} s: thumbnail of {thumb['start']:.1f} s, gray {got:.1f} "
                  f"(source {level:.1f})", flush=True)
            if abs(got - level) > 8:
                f.append(f"thumbnail at {want:.1f} s shows gray {got:.1f}, the source {level:.1f}")
        if not stored():
            f.append("the storyboard was not stored")
    finally:
        b.close()
    return f


def main():
    run = Runner("browser (issue 6): the player page in Chromium")
    why = browser.available()
    if why:
        print(f"FAIL browser prerequisites: {why}")
        sys.exit(1)
    media.source("browser270")
    world = World()
    try:
        run.case("player page: /player and its scripts from tws, no CDN; 404, 405", case_page, world)
        run.case("cold playback in Chromium (cross-origin): start, seek to 60 %, rendition, audio "
                 "track and subtitle pickers; no fatal error, picture advancing, no stall", case_cold_playback,
                 world)
        run.case("seek hint: a seek to 80 % asks for its segment with t=; made with a draft; "
                 "the picture advances from there", case_seek_hint, world)
        run.case("trick play: a thumbnail of the source's picture under the pointer on the seek "
                 "bar at 15, 50 and 85 %", case_trick_play, world)
    finally:
        run.stopped(world.close())
    run.finish()


if __name__ == "__main__":
    main()
