#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end test of master playlists (issue 5 "Done means" 1-4), with the `tws` binary ($TWS).

The reference's three-rendition master (the seed's "Master Playlist example": Resolution 1920x /
1280x / 720x, ScaleType fit, 25 fps, CRF 26, AAC 128k / 96k / 64k, InitialSegments [2, 2, 2] +
Duration 10) made from a 1080p 14 s source (segments 2, 2, 2, 8) with two audio streams (440 Hz
"eng", 660 Hz "fra"; Audio.Stream [0, 1]) and one external WebVTT file (SourceSubtitles, "deu"):

  master make        `tws playlist` writes only playlists: the master, 3 variants, 2 audio
                     renditions (MASTER-audio-<n>.m3u8), 1 subtitle rendition (MASTER-sub-0.m3u8);
                     the response lists them; then every segment: one `tws segment` run per
                     playlist, the 720p variant and the second audio rendition one segment per
                     process in shuffled order
  master playlist    #EXT-X-MEDIA audio (GROUP-ID, NAME, LANGUAGE from the source's tags,
                     DEFAULT=YES on the first only, AUTOSELECT, CHANNELS, URI) and subtitles;
                     #EXT-X-STREAM-INF BANDWIDTH/AVERAGE-BANDWIDTH > 0, RESOLUTION (720x404 or
                     720x406), FRAME-RATE, CODECS avc1.PPCCLL as ffprobe sees the segments +
                     mp4a.40.2, AUDIO/SUBTITLES groups, URI
  master variants    the strict check (lib/check.py) with no audio; ffmpeg on the playlist
                     decodes all 350 frames; GStreamer (in the strict check) plays to the end
  master audio       the strict check with no video; ffmpeg and GStreamer play it; the tone is
                     the source stream's (440 / 660 Hz); AAC 44.1 kHz stereo above the lowest target's 64 kb/s
  master subtitles   every source cue at its time (+-1 ms) with its text; each .vtt holds exactly
                     the cues overlapping its segment; "WEBVTT", X-TIMESTAMP-MAP=MPEGTS:900000,
                     LOCAL:00:00:00.000, MPEGTS/90000 = the first video PTS of every variant
                     (within one frame); EXTINF as the first video target's
  master switching   segment k: the same first video PTS and duration in all 3 variants (within
                     one frame); each audio rendition's segment k starts within one AAC frame
  master served      `tws serve` serves the master with every URI signed and BANDWIDTH in
                     [measured peak, 2 x peak], AVERAGE-BANDWIDTH within 15% of the measured mean

Embedded subtitles, adaptive options, errors (small 320x240 sources):

  subtitles mkv      two SRT streams (eng, fra) -> MASTER-sub-0 / -1 WebVTT renditions, in order
  subtitles mp4      a mov_text stream -> a WebVTT rendition
  subtitles order    SourceSubtitles first, then the embedded streams
  adaptive           a 960x540 source with a 1920x1080 target gives 960x540 (no upscale)
  clip               SourceStartTime 3 + SourceDuration 4: 4 s long, the first frame is source
                     frame 75 (luma ramp), the last 174, the audio chirp starts at 3 s
  error ...          subtitles without MasterURI; Audio.Stream past the source's streams;
                     SourceSubtitles[0] not a subtitle file: exit 1, one stderr line naming the
                     field, nothing written

TWS_E2E_ONLY=subtitles,clip (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the
temporary buckets.
"""

import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import media  # noqa: E402
import serve  # noqa: E402
from harness import Runner  # noqa: E402
from tws import Env, TwsError  # noqa: E402

TICK = 90000
FPS = 25.0
FRAME = TICK / FPS                 # 3600 ticks
AAC_FRAME = 1024 * TICK / 44100    # ~2090 ticks
PTS_OFFSET = 900000                # media time 0 in the .ts segments (X-TIMESTAMP-MAP)
HEX32 = re.compile(r"[0-9a-f]{32}")

MASTER_URI = "oss://media/out/master.m3u8"
MASTER_PREFIX = "oss://media/out/master"          # MASTER = MasterURI without .m3u8
# (name, Resolution asked, AAC bitrate, acceptable output sizes)
TARGETS = [("1080p", "1920x", 128000, {(1920, 1080)}),
           ("720p", "1280x", 96000, {(1280, 720)}),
           ("540p", "720x", 64000, {(720, 404), (720, 406)})]
AUDIO_LANGS = ["eng", "fra"]        # the source's audio streams, in order
AUDIO_FREQS = [440.0, 660.0]
SUB_LANG = "deu"                   # the SourceSubtitles entry's Language
SRC_DURATION = 14.0
EXTINF = [2.0, 2.0, 2.0, 8.0]

# The external WebVTT file (cue times in seconds). Boundaries are at 2, 4, 6 s: cue 2 crosses
# 2 s, cue 4 crosses 6 s; no cue edge sits on a boundary.
SOURCE_CUES = [
    (0.500, 1.500, "First cue"),
    (1.800, 2.600, "Across the 2 s boundary", "across-2"),
    (3.040, 3.960, "Two lines,\nthe second one", None, "line:85%"),
    (5.000, 7.250, "Across the 6 s boundary"),
    (9.125, 10.875, "In the middle of the long segment"),
    (12.000, 13.900, "Near the end"),
]

# Embedded subtitle streams of the small sources: 6 s, segments [0, 2) and [2, ~6).
MKV_CUES = {
    "eng": [(0.500, 1.500, "Hello"), (1.700, 2.400, "Across the boundary"), (3.200, 5.500, "Later")],
    "fra": [(0.250, 1.000, "Bonjour"), (4.000, 5.000, "Très bien, à plus tard")],
}
MP4_CUES = [(0.400, 1.200, "mov_text one"), (2.500, 3.500, "mov_text two"), (4.750, 5.900, "last")]


# ----------------------------------------------------------------------------------------------
# Small helpers

def key_of(uri):
    return uri[len("oss://media/"):] if uri.startswith("oss://media/") else uri


def strip_query(u):
    return u.split("?", 1)[0]


def fmt_cue(c):
    return f"[{c['start']:.3f} --> {c['end']:.3f} {c['text']!r}]"


def source_cue(c):
    return {"start": c[0], "end": c[1], "text": c[2]}


def one_line_error(r, field, before, after):
    """Failures of an expected clear error from `tws playlist`: exit 1, exactly one stderr line
    that names `field`, the bucket unchanged."""
    f = []
    if r.rc != 1:
        f.append(f"exit status {r.rc}, want 1 (stdout {r.stdout[:200]!r})")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    if len(lines) != 1:
        f.append(f"stderr has {len(lines)} lines, want exactly one: {lines[:6]}")
    elif field not in lines[0]:
        f.append(f"the stderr line does not name {field}: {lines[0]!r}")
    if after != before:
        changed = sorted(set(x[0] for x in after) ^ set(x[0] for x in before))
        f.append(f"the bucket changed: {changed[:6]}")
    return f


def files_under(env, key_dir):
    d = env.path(key_dir)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def ffprobe_video(path):
    j = check._ffprobe_json(["-show_streams", "-select_streams", "v:0", path])
    s = j.get("streams") or []
    return s[0] if s else None


def concat(paths, dest):
    with open(dest, "wb") as out:
        for p in paths:
            with open(p, "rb") as f:
                out.write(f.read())
    return dest


def check_response_lists(resp, want_video, want_audio, want_subs):
    """Failures of the response's VideoPlaylist / AudioPlaylist / SubtitlePlaylist against the
    wanted URIs (lists of oss:// URIs, in order for audio and subtitles)."""
    f = []
    if not isinstance(resp, dict):
        return [f"response is not a JSON object: {resp!r}"]
    if resp.get("MasterURI") != MASTER_URI:
        f.append(f"response: MasterURI {resp.get('MasterURI')!r}, want {MASTER_URI}")
    if not HEX32.fullmatch(str(resp.get("Token", ""))):
        f.append(f"response: master Token {resp.get('Token')!r} is not 32 hex digits")
    for field, want, ordered in (("VideoPlaylist", want_video, False), ("AudioPlaylist", want_audio, True),
                                 ("SubtitlePlaylist", want_subs, True)):
        got = resp.get(field)
        if not isinstance(got, list):
            f.append(f"response: no {field} list (got {got!r})")
            continue
        uris = [e.get("URI") for e in got if isinstance(e, dict)]
        if (uris if ordered else sorted(uris, key=str)) != (want if ordered else sorted(want)):
            f.append(f"response: {field} URIs {uris}, want {want}")
        for e in got:
            if not isinstance(e, dict) or not HEX32.fullmatch(str(e.get("Token", ""))):
                f.append(f"response: {field} entry without a 32-hex Token: {e!r}")
    return f


def entry(resp, field, uri):
    for e in (resp or {}).get(field) or []:
        if isinstance(e, dict) and e.get("URI") == uri:
            return e
    return {}


# ----------------------------------------------------------------------------------------------
# Subtitle renditions

def check_subtitle_rendition(env, n, resp, cues, language, video_extinf, label=None,
                             video_first_pts=None):
    """The subtitle rendition MASTER-sub-<n>: its playlist (EXTINF = the first video target's,
    URIs MASTER-sub-<n>-<token>-<k>.vtt), each .vtt ("WEBVTT", X-TIMESTAMP-MAP, exactly the cues
    overlapping its range), every source cue (start, end, text) found at its time within 1 ms.
    `cues`: [{start, end, text}]. `video_first_pts`: {variant: first video PTS of segment 0}."""
    label = label or f"sub-{n}"
    uri = f"{MASTER_PREFIX}-sub-{n}.m3u8"
    path = env.path(uri)
    f = []
    e = entry(resp, "SubtitlePlaylist", uri)
    token = e.get("Token")
    if e and not same_language(e.get("Language"), language):
        f.append(f"{label}: response Language {e.get('Language')!r}, want {language!r}")
    if e and not isinstance(e.get("Index"), int):
        f.append(f"{label}: response Index {e.get('Index')!r} is not an integer")
    if not os.path.exists(path):
        return f + [f"{label}: no playlist {key_of(uri)}"]
    pl = check.parse_playlist(path)
    if pl["header"] != "#EXTM3U" or (pl["version"] or 0) < 3:
        f.append(f"{label}: playlist header {pl['header']!r}, VERSION {pl['version']}")
    if not pl["endlist"] or pl["playlist_type"] != "VOD":
        f.append(f"{label}: playlist not VOD + ENDLIST ({pl['playlist_type']}, {pl['endlist']})")
    segs = pl["segments"]
    extinf = [s["extinf"] for s in segs]
    if video_extinf is not None and (len(extinf) != len(video_extinf) or
                                     any(abs(a - b) > 1e-6 for a, b in zip(extinf, video_extinf))):
        f.append(f"{label}: EXTINF {extinf}, want the first video target's {video_extinf}")
    if segs:
        td = -(-max(extinf) // 1)
        if pl["target_duration"] != int(td):
            f.append(f"{label}: TARGETDURATION {pl['target_duration']} != ceil(max EXTINF) {int(td)}")
    name_re = re.compile(re.escape(f"master-sub-{n}-") + r"([0-9a-f]{32})-(\d+)\.vtt")
    start = 0.0
    found = []           # (segment, cue)
    timing = []          # failures of a cue whose text is there at another time
    shifts = []          # (start, end) offsets of such cues from the source's
    for k, s in enumerate(segs):
        tag = f"{label} segment {k}"
        m = name_re.fullmatch(s["uri"])
        if not m:
            f.append(f"{tag}: URI {s['uri']!r} is not master-sub-{n}-<token>-{k}.vtt (relative)")
        else:
            if int(m.group(2)) != k:
                f.append(f"{tag}: URI {s['uri']} carries index {m.group(2)}")
            if token and m.group(1) != token:
                f.append(f"{tag}: URI token {m.group(1)} != response Token {token}")
        end = start + s["extinf"]
        if not os.path.exists(s["path"]):
            f.append(f"{tag}: {os.path.basename(s['path'])} missing")
            start = end
            continue
        raw = open(s["path"], "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as ex:
            f.append(f"{tag}: not UTF-8 ({ex})")
            start = end
            continue
        if not text.startswith("WEBVTT"):
            f.append(f"{tag}: starts {text[:20]!r}, not \"WEBVTT\"")
        try:
            vtt = check.parse_webvtt(text)
        except check.CheckError as ex:
            f.append(f"{tag}: {ex}")
            start = end
            continue
        tm = vtt["timestamp_map"]
        if tm is None:
            f.append(f"{tag}: no X-TIMESTAMP-MAP in the header (header lines {vtt['header']})")
        else:
            if tm.get("MPEGTS") != PTS_OFFSET or tm.get("LOCAL") != 0.0:
                f.append(f"{tag}: X-TIMESTAMP-MAP MPEGTS {tm.get('MPEGTS')} LOCAL {tm.get('LOCAL')}, want "
                         f"MPEGTS:{PTS_OFFSET},LOCAL:00:00:00.000")
            if k == 0 and video_first_pts and tm.get("MPEGTS") is not None:
                for vname, pts in video_first_pts.items():
                    if pts is not None and abs(tm["MPEGTS"] - pts) > FRAME:
                        f.append(f"{tag}: X-TIMESTAMP-MAP MPEGTS {tm['MPEGTS']} ({tm['MPEGTS'] / TICK:.3f} s) but "
                                 f"{vname} segment 0 starts at video PTS {pts} ({pts / TICK:.3f} s): "
                                 f"more than one frame apart")
        want = [c for c in cues if c["start"] < end - 1e-9 and c["end"] > start + 1e-9]
        got = vtt["cues"]
        for c in got:
            if not c["text"].strip():
                f.append(f"{tag}: an empty cue {fmt_cue(c)}")
                continue
            match = [w for w in want if same_cue(w, c)]
            if match:
                found.append((k, match[0]))
                continue
            near = [w for w in cues if w["text"] == c["text"]]
            if near:
                shifts.append((c["start"] - near[0]["start"], c["end"] - near[0]["end"]))
            if near and not (c["start"] < end and c["end"] > start):
                timing.append(f"{tag} [{start:.3f}, {end:.3f}): cue {fmt_cue(c)} does not overlap its segment")
            elif near:
                timing.append(f"{tag} [{start:.3f}, {end:.3f}): cue {fmt_cue(c)}, the source has it at "
                              f"{fmt_cue(near[0])}")
            else:
                f.append(f"{tag} [{start:.3f}, {end:.3f}): unexpected cue {fmt_cue(c)} (no source cue has this text)")
        for w in want:
            if not any(same_cue(w, c) for c in got):
                same_text = [c for c in got if c["text"] == w["text"]]
                (timing if same_text else f).append(
                    f"{tag} [{start:.3f}, {end:.3f}): source cue {fmt_cue(w)} overlaps the segment but is missing"
                    + (f" (there is {fmt_cue(same_text[0])})" if same_text else ""))
        dup = len(got) - len({(round(c['start'], 3), round(c['end'], 3), c['text']) for c in got})
        if dup:
            f.append(f"{tag}: {dup} cue(s) repeated inside one segment")
        start = end
    never = [c for c in cues if not any(w is c for _k, w in found)]
    if shifts and never and max(max(a, b) for a, b in shifts) - min(min(a, b) for a, b in shifts) <= 0.001:
        # Every cue off by the same amount: one line says it.
        d = shifts[0][0]
        f.append(f"{label}: every cue is shifted by {d * 1000:+.1f} ms from the source's times (e.g. "
                 f"{fmt_cue(never[0])} comes out at {never[0]['start'] + d:.3f} --> {never[0]['end'] + d:.3f})")
    else:
        f += timing
        for c in never:
            f.append(f"{label}: source cue {fmt_cue(c)} appears in no segment at its time (+-1 ms)")
    return f


def same_cue(a, b):
    return abs(a["start"] - b["start"]) <= 0.001 and abs(a["end"] - b["end"]) <= 0.001 and a["text"] == b["text"]


# ----------------------------------------------------------------------------------------------
# The reference master (case 1 and 2), made once and shared by its cases

class MasterWorld:
    def __init__(self):
        self.env = None
        self.made = False
        self.setup_failures = []
        self.response = None
        self.master = None            # parsed stored master
        self.master_text = None
        self.infos = {}               # playlist key -> {k: probe_segment result}
        self.timings = []

    # names ------------------------------------------------------------------------------------
    @staticmethod
    def variant_uri(name):
        return f"oss://media/out/{name}/{name}.m3u8"

    @staticmethod
    def audio_uri(n):
        return f"{MASTER_PREFIX}-audio-{n}.m3u8"

    @staticmethod
    def sub_uri(n):
        return f"{MASTER_PREFIX}-sub-{n}.m3u8"

    def request(self, source_uri, subs_uri):
        targets = []
        for name, res, abr, _sizes in TARGETS:
            targets.append({
                "URI": f"oss://media/out/{name}/{name}", "Duration": 10, "InitialSegments": [2, 2, 2],
                "InitialTranscode": 0, "TranscodeAhead": 0,
                "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 26, "FrameRate": 25,
                                             "Resolution": res, "ScaleType": "fit"}},
                "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": abr, "SampleRate": 44100},
                          "Stream": [0, 1]}})
        return {"SourceURI": source_uri, "MasterURI": MASTER_URI,
                "SourceSubtitles": [{"URI": subs_uri, "Language": SUB_LANG}], "Targets": targets}

    def all_playlists(self):
        return ([self.variant_uri(n) for n, *_ in TARGETS] + [self.audio_uri(n) for n in range(2)] +
                [self.sub_uri(0)])

    # making -----------------------------------------------------------------------------------
    def make(self):
        if self.made:
            return self.setup_failures
        self.made = True
        try:
            self._make(self.setup_failures)
        except Exception as e:  # noqa: BLE001 - the setup's failure, repeated by every master case
            self.setup_failures.append(f"{type(e).__name__}: {e}")
        return self.setup_failures

    def _make(self, f):
        self.env = Env("master")
        serve.write_config(self.env, workers=2)   # CLI and `tws serve` share this config
        src = media.source("master1080")
        source_uri = self.env.put(src, "in/source.mp4")
        subs_uri = self.env.put(media.text_file("subs-deu.vtt", media.vtt_text(
            SOURCE_CUES, note="cue times in media seconds")), "in/subs-deu.vtt")
        before = {x[0] for x in self.env.listing()}
        t = time.monotonic()
        r = self.env.playlist_raw(self.request(source_uri, subs_uri))
        self.timings.append(("tws playlist", time.monotonic() - t))
        if r.rc != 0:
            f.append(f"tws playlist failed: {r.describe()}")
            return f
        try:
            self.response = r.json()
        except ValueError:
            f.append(f"tws playlist printed no JSON: {r.stdout[:300]!r}")
            return f
        f += check_response_lists(
            self.response, [self.variant_uri(n) for n, *_ in TARGETS],
            [self.audio_uri(0), self.audio_uri(1)], [self.sub_uri(0)])
        dur = self.response.get("Duration")
        if not isinstance(dur, (int, float)) or abs(dur - SRC_DURATION) > 0.05:
            f.append(f"response: Duration {dur!r}, want {SRC_DURATION}")
        added = sorted({x[0] for x in self.env.listing()} - before)
        want = sorted([key_of(MASTER_URI)] + [key_of(u) for u in self.all_playlists()])
        missing = sorted(set(want) - set(added))
        if missing:
            f.append(f"tws playlist did not write {missing}")
        ts = [a for a in added if a.endswith(".ts")]
        if ts:
            f.append(f"tws playlist (InitialTranscode 0) already wrote segments {ts[:4]}")
        other = [a for a in added if a not in want and not a.endswith((".ts", ".vtt"))]
        if other:
            f.append(f"tws playlist wrote unexpected objects {other[:6]}")
        if os.path.exists(self.env.path(MASTER_URI)):
            self.master_text = open(self.env.path(MASTER_URI), encoding="utf-8").read()
            try:
                self.master = check.parse_master_text(self.master_text)
            except check.CheckError as e:
                f.append(f"stored master: {e}")
        # Every segment of every playlist.
        for uri in self.all_playlists():
            path = self.env.path(uri)
            if not os.path.exists(path):
                continue
            n = len(check.parse_playlist(path)["segments"])
            if n == 0:
                f.append(f"{key_of(uri)}: no segments in the playlist")
                continue
            one_by_one = uri in (self.variant_uri("720p"), self.audio_uri(1))
            t = time.monotonic()
            try:
                if one_by_one:
                    order = list(range(n))
                    random.Random(uri).shuffle(order)
                    for k in order:
                        self.env.segment(uri, k)
                else:
                    self.env.segment(uri, 0, n - 1)
            except TwsError as e:
                f.append(f"{key_of(uri)}: {e}")
            self.timings.append((f"{os.path.basename(key_of(uri))} "
                                 f"{'one by one, shuffled' if one_by_one else f'0..{n - 1}'}",
                                 time.monotonic() - t))
        print("     " + ", ".join(f"{what} {dt:.1f} s" for what, dt in self.timings), flush=True)
        return f

    def close(self):
        if self.env:
            self.env.close()

    # reading ----------------------------------------------------------------------------------
    def need(self):
        """Raises TwsError when the master could not be made (the setup's first failure)."""
        self.make()
        if self.response is None:
            raise TwsError("no master to check: " + (self.setup_failures[0] if self.setup_failures
                                                     else "setup failed"))

    def playlist(self, uri):
        path = self.env.path(uri)
        if not os.path.exists(path):
            raise TwsError(f"no playlist {key_of(uri)}")
        return check.parse_playlist(path)

    def segment_infos(self, uri):
        """{k: probe_segment(...)} of a playlist's segments (cached; filled by check_stream)."""
        key = key_of(uri)
        if key not in self.infos:
            self.infos[key] = {k: check.probe_segment(s["path"])
                               for k, s in enumerate(self.playlist(uri)["segments"])
                               if os.path.exists(s["path"])}
        return self.infos[key]

    def first_video_pts(self):
        out = {}
        for name, *_ in TARGETS:
            try:
                v = self.segment_infos(self.variant_uri(name)).get(0, {}).get("video") or []
            except TwsError:
                v = []
            out[name] = min((p["pts"] for p in v if p["pts"] is not None), default=None)
        return out


WORLD = MasterWorld()


def case_make():
    WORLD.make()
    return list(WORLD.setup_failures)


def case_master_playlist():
    WORLD.need()
    w = WORLD
    if w.master is None:
        return [f"no stored master {key_of(MASTER_URI)} (or it does not parse): "
                + "; ".join(w.setup_failures[:2])]
    m = w.master
    f = []
    master_dir = os.path.dirname(w.env.path(MASTER_URI))

    def resolves_to(uri, want_uri, what):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri) or uri.startswith("/"):
            return [f"{what}: URI {uri!r} is not relative"]
        got = os.path.normpath(os.path.join(master_dir, urllib.parse.unquote(strip_query(uri))))
        if got != os.path.normpath(w.env.path(want_uri)):
            return [f"{what}: URI {uri!r} names {os.path.relpath(got, w.env.bucket)}, want {key_of(want_uri)}"]
        return []

    if m["header"] != "#EXTM3U":
        f.append(f"master: first line {m['header']!r}, want #EXTM3U")
    if (m["version"] or 0) < 3:
        f.append(f"master: EXT-X-VERSION {m['version']} (want >= 3)")

    # Audio renditions.
    audio = [x for x in m["media"] if x.get("TYPE") == "AUDIO"]
    subs = [x for x in m["media"] if x.get("TYPE") == "SUBTITLES"]
    others = [x for x in m["media"] if x.get("TYPE") not in ("AUDIO", "SUBTITLES")]
    if others:
        f.append(f"master: unexpected #EXT-X-MEDIA {others}")
    if len(audio) != 2:
        f.append(f"master: {len(audio)} #EXT-X-MEDIA TYPE=AUDIO, want 2 (one per source audio stream)")
    for n, a in enumerate(audio[:2]):
        what = f"master audio rendition {n}"
        f += resolves_to(a.get("URI", ""), w.audio_uri(n), what)
        want = {"GROUP-ID": "audio", "LANGUAGE": AUDIO_LANGS[n], "DEFAULT": "YES" if n == 0 else "NO",
                "AUTOSELECT": "YES", "CHANNELS": "2"}
        for k, v in want.items():
            if k == "LANGUAGE" and same_language(a.get(k), v):
                continue
            if a.get(k) != v and not (k == "DEFAULT" and n > 0 and a.get(k) is None):
                f.append(f"{what} ({a.get('URI')}): {k}={a.get(k)!r}, want {v!r}" +
                         (f" (the source audio stream {n}'s language tag)" if k == "LANGUAGE" else ""))
        if not a.get("NAME"):
            f.append(f"{what}: no NAME")
    names = [a.get("NAME") for a in audio]
    if len(set(names)) != len(names):
        f.append(f"master: audio renditions share a NAME: {names}")
    if len(subs) != 1:
        f.append(f"master: {len(subs)} #EXT-X-MEDIA TYPE=SUBTITLES, want 1 (the SourceSubtitles entry)")
    for s in subs[:1]:
        what = "master subtitle rendition 0"
        f += resolves_to(s.get("URI", ""), w.sub_uri(0), what)
        for k, v in {"GROUP-ID": "subs", "LANGUAGE": SUB_LANG, "DEFAULT": "NO", "AUTOSELECT": "YES"}.items():
            if s.get(k) != v:
                f.append(f"{what}: {k}={s.get(k)!r}, want {v!r}")
        if not s.get("NAME"):
            f.append(f"{what}: no NAME")

    # Variants.
    if len(m["variants"]) != 3:
        f.append(f"master: {len(m['variants'])} #EXT-X-STREAM-INF, want 3")
    by_target = {}
    for v in m["variants"]:
        for name, *_ in TARGETS:
            if not resolves_to(v["uri"], w.variant_uri(name), ""):
                by_target[name] = v
    for name, _res, _abr, sizes in TARGETS:
        v = by_target.get(name)
        what = f"master variant {name}"
        if v is None:
            f.append(f"{what}: no #EXT-X-STREAM-INF with URI {name}/{name}.m3u8 (URIs: "
                     f"{[x['uri'] for x in m['variants']]})")
            continue
        a = v["attrs"]
        for k in ("BANDWIDTH", "AVERAGE-BANDWIDTH"):
            if not str(a.get(k, "")).isdigit() or int(a[k]) <= 0:
                f.append(f"{what}: {k}={a.get(k)!r}, want an estimate > 0")
        res = a.get("RESOLUTION", "")
        mres = re.fullmatch(r"(\d+)x(\d+)", res)
        if not mres or (int(mres.group(1)), int(mres.group(2))) not in sizes:
            f.append(f"{what}: RESOLUTION={res!r}, want {' or '.join(f'{x}x{y}' for x, y in sorted(sizes))}")
        try:
            fr = float(a.get("FRAME-RATE", "nan"))
        except ValueError:
            fr = float("nan")
        if not abs(fr - FPS) < 0.0005:
            f.append(f"{what}: FRAME-RATE={a.get('FRAME-RATE')!r}, want 25.000")
        if a.get("AUDIO") != "audio":
            f.append(f"{what}: AUDIO={a.get('AUDIO')!r}, want \"audio\" (the audio renditions' GROUP-ID)")
        if a.get("SUBTITLES") != "subs":
            f.append(f"{what}: SUBTITLES={a.get('SUBTITLES')!r}, want \"subs\"")
        # The variant's own media: size and avc1 profile/level as ffprobe sees segment 0.
        resp_e = entry(w.response, "VideoPlaylist", w.variant_uri(name))
        if resp_e.get("Resolution") != res:
            f.append(f"{what}: response Resolution {resp_e.get('Resolution')!r} != master RESOLUTION {res!r}")
        if resp_e and str(resp_e.get("FrameRate")) != "25":
            f.append(f"{what}: response FrameRate {resp_e.get('FrameRate')!r}, want \"25\"")
        codecs = [c.strip() for c in a.get("CODECS", "").split(",") if c.strip()]
        avc = [c for c in codecs if c.startswith("avc1.")]
        if sorted(codecs, key=lambda c: c.startswith("mp4a")) != avc[:1] + ["mp4a.40.2"] or len(avc) != 1:
            f.append(f"{what}: CODECS={a.get('CODECS')!r}, want \"avc1.PPCCLL,mp4a.40.2\"")
        try:
            segs = w.playlist(w.variant_uri(name))["segments"]
        except TwsError as e:
            f.append(f"{what}: {e}")
            continue
        if not segs or not os.path.exists(segs[0]["path"]):
            f.append(f"{what}: segment 0 missing: cannot compare CODECS and RESOLUTION with the media")
            continue
        sv = ffprobe_video(segs[0]["path"])
        if sv is None:
            f.append(f"{what}: segment 0 has no video stream")
            continue
        if mres and (int(sv["width"]), int(sv["height"])) != (int(mres.group(1)), int(mres.group(2))):
            f.append(f"{what}: RESOLUTION={res} but segment 0 is {sv['width']}x{sv['height']}")
        exp = check.avc1_expectation(sv.get("profile"), sv.get("level"))
        if exp is None:
            f.append(f"{what}: segment 0 is profile {sv.get('profile')!r} level {sv.get('level')!r}: "
                     f"not an H.264 profile this test knows")
        elif avc and re.fullmatch(r"avc1\.[0-9A-Fa-f]{6}", avc[0]):
            pp, ll = avc[0][5:7].upper(), avc[0][9:11].upper()
            if (pp, ll) != exp:
                f.append(f"{what}: CODECS {avc[0]} says profile_idc 0x{pp} level_idc 0x{ll}, but segment 0 is "
                         f"{sv.get('profile')} (0x{exp[0]}) level {sv.get('level')} (0x{exp[1]})")
        elif avc:
            f.append(f"{what}: CODECS entry {avc[0]!r} is not avc1.<6 hex digits>")
    # The response's audio entries.
    for n in range(2):
        e = entry(w.response, "AudioPlaylist", w.audio_uri(n))
        if e and e.get("Channels") != 2:
            f.append(f"response AudioPlaylist {n}: Channels {e.get('Channels')!r}, want 2")
    return f


def case_variants():
    WORLD.need()
    w = WORLD
    f = []
    for name, *_ in TARGETS:
        uri = w.variant_uri(name)
        path = w.env.path(uri)
        if not os.path.exists(path):
            f.append(f"{name}: no playlist {key_of(uri)}")
            continue
        token = entry(w.response, "VideoPlaylist", uri).get("Token")
        infos = {}
        fails, summary = check.check_stream(path, expect_video=True, expect_audio=False, token=token,
                                            expect_duration=SRC_DURATION, frame_rate=FPS, infos=infos)
        w.infos[key_of(uri)] = infos
        f += [f"{name}: {x}" for x in fails]
        if summary.get("extinf") and summary["extinf"] != EXTINF:
            f.append(f"{name}: EXTINF {summary['extinf']}, want {EXTINF} (InitialSegments [2,2,2] + "
                     f"Duration 10 over 14 s)")
        if not any("missing" in x for x in fails):
            ff, info = check.ffmpeg_play_file(path)
            f += [f"{name}: {x}" for x in ff]
            if not ff and info.get("frames") != int(SRC_DURATION * FPS):
                f.append(f"{name}: ffmpeg decoded {info.get('frames')} frames from the playlist, want "
                         f"{int(SRC_DURATION * FPS)}")
        print(f"     {name}: gst {summary.get('gst', {}).get('video')} s video", flush=True)
    return f


def case_audio():
    WORLD.need()
    w = WORLD
    f = []
    for n in range(2):
        uri = w.audio_uri(n)
        label = f"audio-{n} ({AUDIO_LANGS[n]})"
        path = w.env.path(uri)
        if not os.path.exists(path):
            f.append(f"{label}: no playlist {key_of(uri)}")
            continue
        token = entry(w.response, "AudioPlaylist", uri).get("Token")
        infos = {}
        fails, summary = check.check_stream(path, expect_video=False, expect_audio=True, token=token,
                                            expect_duration=SRC_DURATION, infos=infos)
        w.infos[key_of(uri)] = infos
        f += [f"{label}: {x}" for x in fails]
        segs = check.parse_playlist(path)["segments"]
        m = [s for s in segs if not re.fullmatch(rf"master-audio-{n}-[0-9a-f]{{32}}-\d+\.ts", s["uri"])]
        if m:
            f.append(f"{label}: segment URI {m[0]['uri']!r} is not master-audio-{n}-<token>-<k>.ts")
        if any("missing" in x for x in fails):
            continue
        ff, info = check.ffmpeg_play_file(path)
        f += [f"{label}: {x}" for x in ff]
        if not ff and (info.get("seconds") is None or abs(info["seconds"] - SRC_DURATION) > 0.15):
            f.append(f"{label}: ffmpeg played {info.get('seconds')} s of the playlist, want {SRC_DURATION}")
        with tempfile.TemporaryDirectory(prefix="tws-master-audio-") as tmp:
            cat = concat([s["path"] for s in segs], os.path.join(tmp, "a.ts"))
            x = check.decode_audio(cat)
            freq = check.tone_frequency(x[len(x) // 10: -len(x) // 10 or None])
            if abs(freq - AUDIO_FREQS[n]) > 3:
                f.append(f"{label}: tone {freq:.1f} Hz, want {AUDIO_FREQS[n]:.0f} Hz (source audio stream {n}, "
                         f"{AUDIO_LANGS[n]})")
            j = check._ffprobe_json(["-show_streams", "-show_entries", "packet=size", "-select_streams", "a:0", cat])
            st = (j.get("streams") or [{}])[0]
            if st.get("codec_name") != "aac" or str(st.get("sample_rate")) != "44100" or st.get("channels") != 2:
                f.append(f"{label}: {st.get('codec_name')} {st.get('sample_rate')} Hz {st.get('channels')} ch, "
                         f"want aac 44100 Hz 2 ch")
            nbytes = sum(int(p["size"]) for p in j.get("packets", []))
            total = sum(s["extinf"] for s in segs)
            kbps = nbytes * 8 / total / 1000 if total else 0
            # A fresh AAC encoder per segment (made alone) starts below its target rate on a pure
            # tone, so the rate is only bounded: above what the lowest target (64k) would give,
            # not above the highest (128k).
            if not (64 * 1.2 < kbps <= 128 * 1.15):
                per = [round(aac_bytes(s["path"]) * 8 / s["extinf"] / 1000) for s in segs]
                f.append(f"{label}: AAC at {kbps:.1f} kb/s (sum of packet sizes / duration; per segment {per} kb/s), "
                         f"want above 77 and at most 147 kb/s (the highest TranscodeAudio Bitrate among the targets: 128k)"
                         + (" [made one segment per process]" if n == 1 else ""))
        if n == 1:
            f += same_alone_and_in_a_run(w.env, uri, segs, label)
        print(f"     {label}: clicks {summary.get('click_ratios')}, gst {summary.get('gst', {}).get('audio')} s",
              flush=True)
    return f


# GStreamer reports the language tags of source streams as ISO 639-1 where one exists (the
# RFC 5646 form HLS wants: "en"), ffmpeg writes ISO 639-2 ("eng"): the same language.
_ISO639_1 = {"eng": "en", "fra": "fr", "fre": "fr", "spa": "es", "deu": "de", "ger": "de"}


def same_language(got, want):
    norm = lambda c: _ISO639_1.get((c or "").lower(), (c or "").lower())  # noqa: E731
    return norm(got) == norm(want)


def aac_bytes(path):
    j = check._ffprobe_json(["-select_streams", "a:0", "-show_entries", "packet=size", path])
    return sum(int(p["size"]) for p in j.get("packets", []))


def same_alone_and_in_a_run(env, uri, segs, label):
    """The segments of `uri` were made one per process (shuffled): made again in one run 0..N-1
    they must have the same timing (the AAC payload differs: a fresh encoder's rate control starts
    over). The one-by-one files are put back afterwards."""
    f = []
    with tempfile.TemporaryDirectory(prefix="tws-master-alone-") as tmp:
        alone = []
        for s in segs:
            p = os.path.join(tmp, os.path.basename(s["path"]))
            os.replace(s["path"], p)
            alone.append(p)
        try:
            env.segment(uri, 0, len(segs) - 1)
            for k, (a, s) in enumerate(zip(alone, segs)):
                f += check.compare_timing(a, s["path"], f"{label} segment {k} alone vs in a run: ")
        finally:
            for a, s in zip(alone, segs):
                os.replace(a, s["path"])
    return f


def case_subtitles():
    WORLD.need()
    w = WORLD
    try:
        video_extinf = [s["extinf"] for s in w.playlist(w.variant_uri(TARGETS[0][0]))["segments"]]
    except TwsError as e:
        return [f"first video target: {e}"]
    return check_subtitle_rendition(w.env, 0, w.response, [source_cue(c) for c in SOURCE_CUES], SUB_LANG,
                                    video_extinf, label=f"sub-0 ({SUB_LANG}, external)",
                                    video_first_pts=w.first_video_pts())


def case_switching():
    WORLD.need()
    w = WORLD
    f = []
    names = [n for n, *_ in TARGETS]
    lists = {}
    for uri in [w.variant_uri(n) for n in names] + [w.audio_uri(i) for i in range(2)]:
        try:
            lists[uri] = [s["extinf"] for s in w.playlist(uri)["segments"]]
        except TwsError as e:
            f.append(str(e))
    vex = {n: lists.get(w.variant_uri(n)) for n in names}
    if len({tuple(x) for x in vex.values() if x is not None}) > 1:
        f.append(f"variants' EXTINF differ: {vex}")
    ref = vex.get(names[0]) or []
    for i in range(2):
        ax = lists.get(w.audio_uri(i))
        if ax is not None and (len(ax) != len(ref) or
                               any(abs(a - b) > AAC_FRAME / TICK + 1e-6 for a, b in zip(ax, ref))):
            f.append(f"audio-{i} EXTINF {ax} differ from the video's {ref} by more than one AAC frame")
    if f:
        return f
    vinfo = {n: w.segment_infos(w.variant_uri(n)) for n in names}
    ainfo = {i: w.segment_infos(w.audio_uri(i)) for i in range(2)}
    for k in range(len(ref)):
        starts, durs = {}, {}
        for n in names:
            v = (vinfo[n].get(k) or {}).get("video") or []
            pts = sorted(p["pts"] for p in v if p["pts"] is not None)
            if not pts:
                f.append(f"segment {k} of {n}: no video")
                continue
            steps = [b - a for a, b in zip(pts, pts[1:])]
            step = max(set(steps), key=steps.count) if steps else FRAME
            starts[n], durs[n] = pts[0], len(pts) * step
        if len(starts) < 2:
            continue
        lo, hi = min(starts.values()), max(starts.values())
        if hi - lo > FRAME:
            f.append(f"segment {k}: first video PTS differ by {(hi - lo) / 90:.1f} ms across variants "
                     f"(more than one frame): {starts}")
        dlo, dhi = min(durs.values()), max(durs.values())
        if dhi - dlo > FRAME:
            f.append(f"segment {k}: video durations differ by {(dhi - dlo) / 90:.1f} ms across variants: "
                     f"{ {n: round(d / TICK, 3) for n, d in durs.items()} } s")
        v0 = starts.get(names[0], lo)
        for i in range(2):
            a = (ainfo[i].get(k) or {}).get("audio") or []
            if not a:
                f.append(f"segment {k} of audio-{i}: no audio")
                continue
            d = a[0]["pts"] - v0
            if abs(d) > AAC_FRAME + 1:
                f.append(f"segment {k}: audio-{i} starts {d / 90:+.2f} ms from the video (PTS {a[0]['pts']} vs "
                         f"{v0}), more than one AAC frame ({AAC_FRAME / 90:.2f} ms)")
    return f


def case_served():
    WORLD.need()
    w = WORLD
    env = w.env
    f = []
    # What was measured from the stored segments.
    peaks, means = {}, {}
    for uri in [w.variant_uri(n) for n, *_ in TARGETS] + [w.audio_uri(i) for i in range(2)]:
        segs = w.playlist(uri)["segments"]
        missing = [os.path.basename(s["path"]) for s in segs if not os.path.exists(s["path"])]
        if missing or not segs:
            return [f"{key_of(uri)}: segments missing ({missing[:3]}): cannot measure the bandwidth"]
        rates = [os.path.getsize(s["path"]) * 8 / s["extinf"] for s in segs]
        peaks[uri] = max(rates)
        means[uri] = sum(os.path.getsize(s["path"]) for s in segs) * 8 / sum(s["extinf"] for s in segs)
    audio_peak = max(peaks[w.audio_uri(i)] for i in range(2))
    audio_mean = means[w.audio_uri(0)]
    stored = {}
    for v in (w.master or {}).get("variants", []):
        stored[strip_query(v["uri"])] = v["attrs"]

    srv = serve.Server(env)
    try:
        srv.start()
        r = env.run(["sign", "--config", env.config, MASTER_URI], 60)
        if r.rc != 0:
            return [f"tws sign: {r.describe()}"]
        url = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        got = srv.get(url)
        if got.status != 200:
            return [f"GET the signed master: {got.describe()}" + srv.stderr_tail()]
        text = got.text()
        try:
            m = check.parse_master_text(text)
        except check.CheckError as e:
            return [f"served master: {e}"]
        base = srv.base + serve.local_path(url)
        q = serve.query_of(url)
        uris = [x.get("URI") for x in m["media"] if x.get("URI")] + [v["uri"] for v in m["variants"]]
        for u in uris:
            full = urllib.parse.urljoin(base, u)
            want_path = urllib.parse.urlsplit(full).path
            fails = serve.check_signed_url(full, want_path)
            if fails:
                f.append(f"served master URI {u!r}: {fails[0]}")
            uq = serve.query_of(full)
            if uq.get("Expires") != q.get("Expires") or uq.get("KeyId") != q.get("KeyId"):
                f.append(f"served master URI {u!r}: Expires/KeyId {uq.get('Expires')}/{uq.get('KeyId')} != the "
                         f"master URL's {q.get('Expires')}/{q.get('KeyId')}")
        if len(m["variants"]) != 3:
            f.append(f"served master: {len(m['variants'])} variants, want 3")
        served_by_uri = {strip_query(v["uri"]): v["attrs"] for v in m["variants"]}
        if set(served_by_uri) != set(stored):
            f.append(f"served master variants {sorted(served_by_uri)} != stored {sorted(stored)}")
        for name, *_ in TARGETS:
            uri = w.variant_uri(name)
            rel = next((u for u in served_by_uri if os.path.normpath(
                os.path.join(os.path.dirname(key_of(MASTER_URI)), urllib.parse.unquote(u))) == key_of(uri)), None)
            if rel is None:
                f.append(f"served master: no variant for {key_of(uri)}")
                continue
            a = served_by_uri[rel]
            want_peak = peaks[uri] + audio_peak
            want_mean = means[uri] + audio_mean
            st = stored.get(rel, {})
            try:
                bw = int(a.get("BANDWIDTH"))
            except (TypeError, ValueError):
                f.append(f"served {name}: BANDWIDTH={a.get('BANDWIDTH')!r}")
                bw = None
            if bw is not None and not (want_peak <= bw <= 2 * want_peak):
                f.append(f"served {name}: BANDWIDTH {bw} not in [{want_peak:.0f}, {2 * want_peak:.0f}] (measured peak: "
                         f"video {peaks[uri]:.0f} + audio {audio_peak:.0f} b/s; the stored master says "
                         f"{st.get('BANDWIDTH')})")
            try:
                avg = int(a.get("AVERAGE-BANDWIDTH"))
            except (TypeError, ValueError):
                f.append(f"served {name}: AVERAGE-BANDWIDTH={a.get('AVERAGE-BANDWIDTH')!r}")
                avg = None
            if avg is not None and abs(avg - want_mean) > 0.15 * want_mean:
                f.append(f"served {name}: AVERAGE-BANDWIDTH {avg} is {100 * (avg / want_mean - 1):+.0f}% off the "
                         f"measured mean {want_mean:.0f} (video {means[uri]:.0f} + audio-0 {audio_mean:.0f} b/s; "
                         f"the stored master says {st.get('AVERAGE-BANDWIDTH')}), want within 15%")
            for k in ("RESOLUTION", "CODECS", "FRAME-RATE", "AUDIO", "SUBTITLES"):
                if a.get(k) != st.get(k):
                    f.append(f"served {name}: {k}={a.get(k)!r} but the stored master has {st.get(k)!r}")
            print(f"     {name}: served BANDWIDTH {bw} (peak {want_peak:.0f}), AVERAGE {avg} (mean {want_mean:.0f})",
                  flush=True)
        f += served_vtt_on_demand(srv, env, m, base)
    finally:
        f += srv.stop()
    return f


def served_vtt_on_demand(srv, env, m, base):
    """A deleted WebVTT segment is made again when a player asks for it: 200 text/vtt, the same
    text as before, stored again; another token in its name is a 404."""
    f = []
    subs = [x for x in m["media"] if x.get("TYPE") == "SUBTITLES" and x.get("URI")]
    if not subs:
        return ["served master: no subtitle rendition to fetch"]
    sub_url = urllib.parse.urljoin(base, subs[0]["URI"])
    got = srv.get(sub_url)
    if got.status != 200:
        return [f"GET the served subtitle playlist: {got.describe()}"]
    lines = [l for l in got.text().splitlines() if l and not l.startswith("#")]
    if len(lines) < 2:
        return [f"served subtitle playlist: {len(lines)} segments"]
    seg_url = urllib.parse.urljoin(sub_url, lines[1])
    key = urllib.parse.unquote(urllib.parse.urlsplit(seg_url).path).split("/", 2)[2]
    path = env.path(key)
    try:
        before = open(path, encoding="utf-8").read()
        os.remove(path)
    except OSError as e:
        return [f"{key}: {e}"]
    got = srv.get(seg_url)
    if got.status != 200:
        f.append(f"GET deleted {key}: {got.describe()}, want 200 (made again on demand)")
    else:
        if not (got.header("Content-Type") or "").startswith("text/vtt"):
            f.append(f"GET {key}: Content-Type {got.header('Content-Type')!r}, want text/vtt")
        if got.text() != before:
            f.append(f"GET {key}: made again, the text differs from the first one")
        if not os.path.exists(path):
            f.append(f"GET {key}: not stored again after it was made")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as out:
            out.write(before)
    token = re.search(r"-([0-9a-f]{32})-\d+\.vtt$", key)
    if token:
        wrong = key.replace(token.group(1), "0" * 32)
        r = env.run(["sign", "--config", env.config, "oss://media/" + wrong], 60)
        got = srv.get(r.stdout.strip().splitlines()[-1]) if r.rc == 0 and r.stdout.strip() else None
        if got is None or got.status != 404:
            f.append(f"GET {wrong} (signed, another token): {got.describe() if got else r.describe()}, want 404")
    print(f"     {key}: made again on demand through tws serve", flush=True)
    return f


# ----------------------------------------------------------------------------------------------
# Embedded subtitles

def register_subtitle_sources():
    """MKV with two SRT streams (eng, fra) and MP4 with one mov_text stream (eng), 320x240, 6 s.
    The MKV's audio is FLAC: no encoder delay, so ffmpeg shifts no stream and every stream starts
    at 0 (with AAC it would start video and subtitles 23 ms late, and the cue times in media time
    would be the SRT's + 23 ms)."""
    eng = media.text_file("mkv-eng.srt", media.srt_text(MKV_CUES["eng"]))
    fra = media.text_file("mkv-fra.srt", media.srt_text(MKV_CUES["fra"]))
    mp4 = media.text_file("mp4-eng.srt", media.srt_text(MP4_CUES))
    base = media._video_in("320x240", "25", 6) + media._audio_in(6, 44100)
    media.RECIPES.setdefault("subs_mkv", (
        "src-subs-2srt.mkv", "MKV: H.264 + AAC + two SRT subtitle streams (eng, fra)",
        base + ["-i", eng, "-i", fra, "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map", "3:s",
                "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=fra", "-c:s", "srt"] +
        media._x264(50) + ["-c:a", "flac", "-ac", "2"], "av"))
    media.RECIPES.setdefault("subs_mp4", (
        "src-subs-movtext.mp4", "MP4: H.264 + AAC + a mov_text subtitle stream (eng)",
        base + ["-i", mp4, "-map", "0:v", "-map", "1:a", "-map", "2:s", "-metadata:s:s:0", "language=eng",
                "-c:s", "mov_text"] + media._x264(50) + media.AAC, "av"))


def small_master_request(source_uri, subtitles=None, master=True, audio_stream=None):
    target = {"URI": "oss://media/out/v/v", "Duration": 5, "InitialSegments": [2], "InitialTranscode": 0,
              "TranscodeAhead": 0, "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "x240"}},
              "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}}
    if audio_stream is not None:
        target["Audio"]["Stream"] = audio_stream
    req = {"SourceURI": source_uri, "Targets": [target]}
    if master:
        req["MasterURI"] = MASTER_URI
    if subtitles is not None:
        req["SourceSubtitles"] = subtitles
    return req


def embedded_case(source_name, renditions):
    """renditions: [(language, [cues as (start, end, text)], what)] in the order of MASTER-sub-<n>.
    `tws playlist` (one small target + MasterURI), then `tws segment` on each subtitle playlist."""
    f = []
    with Env(f"subs-{source_name}") as env:
        src = media.source(source_name)
        uri = env.put(src, "in/src" + os.path.splitext(src)[1])
        external = [r for r in renditions if r[2] == "external"]
        subs = None
        if external:
            lang, cues, _ = external[0]
            subs = [{"URI": env.put(media.text_file(f"ext-{lang}.vtt", media.vtt_text(cues)), f"in/ext-{lang}.vtt"),
                     "Language": lang}]
        # The test source itself: ffprobe finds each authored cue at its time in its stream (media
        # time = the source's timestamps; the format starts at 0).
        j = check._ffprobe_json(["-show_format", src])
        if abs(float(j["format"].get("start_time", 0))) > 0.0005:
            f.append(f"test source {os.path.basename(src)}: starts at {j['format']['start_time']} s, not 0")
        s_index = 0
        for lang, cues, what in renditions:
            if what == "external":
                continue
            pk = check._ffprobe_json(["-select_streams", f"s:{s_index}", "-show_entries",
                                      "packet=pts_time,duration_time", src]).get("packets", [])
            times = [(float(p["pts_time"]), float(p["pts_time"]) + float(p.get("duration_time") or 0)) for p in pk]
            for a, b, text in cues:
                if not any(abs(a - x) <= 0.001 and abs(b - y) <= 0.001 for x, y in times):
                    f.append(f"test source: subtitle stream {s_index} has no packet at {a:.3f} --> {b:.3f} "
                             f"({text!r}); ffprobe: {times[:6]}")
            s_index += 1
        if f:
            return f
        resp = env.playlist(small_master_request(uri, subs))
        want = [f"{MASTER_PREFIX}-sub-{n}.m3u8" for n in range(len(renditions))]
        f += check_response_lists(resp, ["oss://media/out/v/v.m3u8"], [], want)
        have = [fn for fn in files_under(env, "out") if re.fullmatch(r"master-sub-\d+\.m3u8", fn)]
        if sorted(have) != sorted(os.path.basename(key_of(u)) for u in want):
            f.append(f"subtitle playlists written: {sorted(have)}, want {[os.path.basename(key_of(u)) for u in want]}")
        try:
            master = check.parse_master_text(open(env.path(MASTER_URI), encoding="utf-8").read())
        except (OSError, check.CheckError) as e:
            return f + [f"master: {e}"]
        msubs = [x for x in master["media"] if x.get("TYPE") == "SUBTITLES"]
        got_langs = [x.get("LANGUAGE") for x in msubs]
        if len(got_langs) != len(renditions) or not all(
                same_language(g, r[0]) for g, r in zip(got_langs, renditions)):
            f.append(f"master: SUBTITLES LANGUAGE {got_langs}, want {[r[0] for r in renditions]}")
        for n, x in enumerate(msubs[:len(renditions)]):
            if urllib.parse.unquote(strip_query(x.get("URI", ""))) != f"master-sub-{n}.m3u8":
                f.append(f"master: SUBTITLES rendition {n} URI {x.get('URI')!r}, want master-sub-{n}.m3u8")
        for v in master["variants"]:
            if v["attrs"].get("SUBTITLES") != "subs":
                f.append(f"master: variant {v['uri']} SUBTITLES={v['attrs'].get('SUBTITLES')!r}, want \"subs\"")
        video_extinf = [s["extinf"] for s in check.parse_playlist(env.path("oss://media/out/v/v.m3u8"))["segments"]]
        for n, (lang, cues, what) in enumerate(renditions):
            suri = want[n]
            if not os.path.exists(env.path(suri)):
                f.append(f"sub-{n} ({lang}, {what}): no playlist {key_of(suri)}")
                continue
            count = len(check.parse_playlist(env.path(suri))["segments"])
            r = env.segment_raw(suri, 0, max(count - 1, 0))
            if r.rc != 0:
                f.append(f"sub-{n}: {r.describe()}")
                continue
            f += check_subtitle_rendition(env, n, resp, [source_cue(c) for c in cues], lang, video_extinf,
                                          label=f"sub-{n} ({lang}, {what})")
    return f


# ----------------------------------------------------------------------------------------------
# Adaptive options

def adaptive_case():
    f = []
    with Env("adaptive") as env:
        uri = env.put(media.source("wide540"), "in/src.mp4")
        req = {"SourceURI": uri, "Targets": [{
            "URI": "oss://media/out/v/v", "Duration": 5, "InitialSegments": [2], "InitialTranscode": 0,
            "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 30, "Resolution": "1920x1080"}},
            "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}}]}
        resp = env.playlist(req)
        vp = (resp.get("VideoPlaylist") or [{}])[0]
        if vp.get("Resolution") != "960x540":
            f.append(f"response Resolution {vp.get('Resolution')!r}, want \"960x540\" (ResolutionOption adaptive: "
                     f"never above the 960x540 source)")
        pl = env.path("oss://media/out/v/v.m3u8")
        n = len(check.parse_playlist(pl)["segments"])
        env.segment("oss://media/out/v/v.m3u8", 0, n - 1)
        fails, _ = check.check_stream(pl, token=vp.get("Token"), expect_duration=4.0, frame_rate=FPS)
        f += fails
        seg0 = check.parse_playlist(pl)["segments"][0]["path"]
        if os.path.exists(seg0):
            sv = ffprobe_video(seg0)
            if sv and (int(sv["width"]), int(sv["height"])) != (960, 540):
                f.append(f"segment 0 is {sv['width']}x{sv['height']}, want 960x540 (not upscaled to 1920x1080)")
    return f


def frame_lumas(path, w=320, h=240):
    """Mean luma (Y plane, as coded) of every decoded frame of a file."""
    import numpy as np
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0", "-f", "rawvideo",
                        "-pix_fmt", "yuv420p", "-"], capture_output=True, timeout=120)
    size = w * h * 3 // 2
    data = np.frombuffer(r.stdout, dtype=np.uint8)
    if r.returncode != 0 or data.size == 0 or data.size % size:
        raise check.CheckError(f"decoding {os.path.basename(path)} as {w}x{h}: {data.size} bytes, rc {r.returncode} "
                               f"{r.stderr.decode(errors='replace').strip()[:200]}")
    return data.reshape(-1, size)[:, : w * h].mean(axis=1)


def clip_case():
    start, duration = 3.0, 4.0
    f = []
    src = media.source("ramp")
    src_luma = frame_lumas(src)          # frame N: 16 + N

    def src_frame(y):
        return int(abs(src_luma - y).argmin())
    with Env("clip") as env:
        uri = env.put(src, "in/src.mp4")
        req = {"SourceURI": uri, "SourceStartTime": start, "SourceDuration": duration, "Targets": [{
            "URI": "oss://media/out/v/v", "Duration": 5, "InitialSegments": [2], "InitialTranscode": 0,
            "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 18, "Resolution": "x240"}},
            "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}}]}
        resp = env.playlist(req)
        if not isinstance(resp.get("Duration"), (int, float)) or abs(resp["Duration"] - duration) > 0.05:
            f.append(f"response Duration {resp.get('Duration')!r}, want {duration} (SourceDuration)")
        pl_path = env.path("oss://media/out/v/v.m3u8")
        segs = check.parse_playlist(pl_path)["segments"]
        total = sum(s["extinf"] for s in segs)
        if abs(total - duration) > 1 / FPS + 1e-6:
            f.append(f"playlist: EXTINF total {total:.3f} s, want {duration} (SourceDuration)")
        env.segment("oss://media/out/v/v.m3u8", 0, len(segs) - 1)
        vp = (resp.get("VideoPlaylist") or [{}])[0]
        fails, _ = check.check_stream(pl_path, token=vp.get("Token"), expect_duration=duration, frame_rate=FPS)
        f += fails
        if any("missing" in x for x in fails):
            return f
        with tempfile.TemporaryDirectory(prefix="tws-clip-") as tmp:
            cat = concat([s["path"] for s in segs], os.path.join(tmp, "clip.ts"))
            lum = frame_lumas(cat)
            want_first, want_frames = int(round(start * FPS)), int(round(duration * FPS))
            first, last = src_frame(lum[0]), src_frame(lum[-1])
            if abs(first - want_first) > 1:
                f.append(f"video: the first output frame has luma {lum[0]:.1f} = source frame {first} "
                         f"({first / FPS:.2f} s), want frame {want_first} (SourceStartTime {start})")
            if abs(last - (want_first + want_frames - 1)) > 1:
                f.append(f"video: the last output frame is source frame {last} ({last / FPS:.2f} s), want "
                         f"{want_first + want_frames - 1} (SourceStartTime + SourceDuration - one frame)")
            if len(lum) != want_frames:
                f.append(f"video: {len(lum)} frames decoded, want {want_frames} ({duration} s at 25 fps)")
            x = check.decode_audio(cat)
            adur = len(x) / 44100
            if abs(adur - duration) > 2 * 1024 / 44100:
                f.append(f"audio: {adur:.3f} s decoded, want {duration} s (within two AAC frames)")
            # Chirp: f(t) = 300 + 100 t Hz in source time. 0.2 s windows at both ends; the start
            # one from 50 ms on (an AAC decoder starting mid-stream ramps up over its first frame).
            win, skip = int(0.2 * 44100), int(0.05 * 44100)
            for what, seg, t_src in (("start", x[skip:skip + win], start + 0.15),
                                     ("end", x[-win:], start + duration - 0.1)):
                if len(seg) < win:
                    continue
                fq = check.zero_crossing_frequency(seg)
                want = 300 + 100 * t_src
                if abs(fq - want) > 10:
                    f.append(f"audio at the clip's {what}: {fq:.0f} Hz = source time {(fq - 300) / 100:.2f} s, want "
                             f"{want:.0f} Hz ({t_src:.2f} s)")
    return f


# ----------------------------------------------------------------------------------------------
# Errors

def error_case(kind):
    with Env(f"err-{kind}") as env:
        if kind == "no-master":
            uri = env.put(media.source("subs_mkv"), "in/src.mkv")
            subs = env.put(media.text_file("ext-eng.vtt", media.vtt_text(MKV_CUES["eng"])), "in/ext.vtt")
            req, field = small_master_request(uri, [{"URI": subs, "Language": "eng"}], master=False), "MasterURI"
        elif kind == "audio-stream":
            uri = env.put(media.source("subs_mkv"), "in/src.mkv")   # one audio stream
            req, field = small_master_request(uri, audio_stream=[0, 1]), "Audio.Stream"
        else:
            uri = env.put(media.source("subs_mkv"), "in/src.mkv")
            bad = os.path.join(env.dir, "not-subtitles.vtt")
            with open(bad, "w") as fh:
                fh.write("This is not a subtitle file.\nJust text, named like one.\n" * 10)
            subs = env.put(bad, "in/not-subtitles.vtt")
            req, field = small_master_request(uri, [{"URI": subs, "Language": "eng"}]), "SourceSubtitles[0]"
        before = env.listing()
        r = env.playlist_raw(req)
        return one_line_error(r, field, before, env.listing())


# ----------------------------------------------------------------------------------------------

def main():
    run = Runner("master playlists (issue 5)")
    register_subtitle_sources()
    master_cases = ("master make", "master playlist", "master variants", "master audio", "master subtitles",
                    "master switching", "master served")
    t = time.monotonic()
    names = (["master1080"] if any(run.selected(c) for c in master_cases) else []) + \
        (["subs_mkv", "subs_mp4"] if any(run.selected(c) for c in ("subtitles mkv", "subtitles mp4", "subtitles order",
                                                                   "error")) else []) + \
        (["wide540"] if run.selected("adaptive") else []) + (["ramp"] if run.selected("clip") else [])
    for name in names:
        media.source(name)
    print(f"# sources {names}: {time.monotonic() - t:.1f} s", flush=True)
    try:
        run.case("master make: tws playlist writes the master + 3 variants + 2 audio + 1 subtitle playlists; "
                 "every segment", case_make)
        run.case("master playlist: EXT-X-MEDIA audio/subtitles, STREAM-INF RESOLUTION, CODECS, BANDWIDTH",
                 case_master_playlist)
        run.case("master variants: strict check without audio, ffmpeg and GStreamer to the end", case_variants)
        run.case("master audio renditions: strict check, ffmpeg + GStreamer, tone per language, AAC 128k",
                 case_audio)
        run.case("master subtitles: cues at their times, per-segment ranges, X-TIMESTAMP-MAP", case_subtitles)
        run.case("master switching: segment k covers the same media time in every rendition", case_switching)
        run.case("master served: BANDWIDTH/AVERAGE-BANDWIDTH from the stored segments, signed URIs", case_served)
    finally:
        WORLD.close()
    run.case("subtitles mkv: two SRT streams -> WebVTT renditions sub-0 (eng), sub-1 (fra)", embedded_case,
             "subs_mkv", [("eng", MKV_CUES["eng"], "SRT stream 0"), ("fra", MKV_CUES["fra"], "SRT stream 1")])
    run.case("subtitles mp4: a mov_text stream -> a WebVTT rendition", embedded_case,
             "subs_mp4", [("eng", MP4_CUES, "mov_text")])
    run.case("subtitles order: SourceSubtitles first, then the embedded streams", embedded_case,
             "subs_mkv", [("spa", [(1.100, 2.900, "Hola")], "external"), ("eng", MKV_CUES["eng"], "SRT stream 0"),
                          ("fra", MKV_CUES["fra"], "SRT stream 1")])
    run.case("adaptive: a 960x540 source with a 1920x1080 target gives 960x540", adaptive_case)
    run.case("clip: SourceStartTime 3 + SourceDuration 4: duration, first/last frame, audio", clip_case)
    run.case("error: SourceSubtitles without MasterURI: exit 1, one line naming MasterURI", error_case, "no-master")
    run.case("error: Audio.Stream [0, 1] on a source with one audio stream: one line naming Audio.Stream",
             error_case, "audio-stream")
    run.case("error: SourceSubtitles[0] is not a subtitle file: one line naming SourceSubtitles[0]",
             error_case, "bad-subtitles")
    run.finish()


if __name__ == "__main__":
    main()
