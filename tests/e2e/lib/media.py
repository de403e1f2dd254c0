# SPDX-License-Identifier: LGPL-2.1-or-later
"""Small test sources made with ffmpeg, cached in the build tree.

Every source carries a continuous sine tone on its audio (so a click at a segment boundary
shows in the second difference of the decoded signal) and a moving test pattern on its video.
Keyframe intervals (2-5 s) deliberately do not line up with the segment boundaries the tests
ask for (2, 4, 9 s), so that making a segment alone needs an accurate seek and a decode from
the previous keyframe.

Files are cached under $TWS_BUILD_ROOT/tests/media (or /tmp/tws-e2e-media), keyed by name and
a hash of the recipe: a changed recipe, or a missing file, makes it again.
"""

import hashlib
import os
import subprocess
import sys

FFMPEG = os.environ.get("FFMPEG", "ffmpeg")


def cache_dir():
    root = os.environ.get("TWS_BUILD_ROOT")
    d = os.path.join(root, "tests", "media") if root else "/tmp/tws-e2e-media"
    os.makedirs(d, exist_ok=True)
    return d


def _video_in(size="320x240", rate="25", duration=8, pattern="testsrc2"):
    return ["-f", "lavfi", "-i", f"{pattern}=size={size}:rate={rate}:duration={duration}"]


def _audio_in(duration=8, rate=44100, freq=440):
    # A pure tone; ffmpeg's sine source has amplitude 1/8.
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={rate}:duration={duration}"]


def _x264(gop, bframes=2):
    # B-frames on (ultrafast turns them off; -bf puts them back), closed GOP of `gop` frames.
    return ["-c:v", "libx264", "-preset", "veryfast", "-bf", str(bframes), "-g", str(gop),
            "-keyint_min", str(gop), "-sc_threshold", "0", "-crf", "30", "-pix_fmt", "yuv420p"]


AAC = ["-c:a", "aac", "-b:a", "64k", "-ac", "2"]

# 320x240, the top half white, the bottom half black: where the white half lands tells which
# way a picture was turned (orientation tests).
_ORIENT = (["-f", "lavfi", "-i", "color=black:size=320x240:rate=25:duration=2",
            "-vf", "drawbox=x=0:y=0:w=320:h=120:color=white:t=fill"] + _x264(50))

# name -> (file name, description, ffmpeg arguments after the inputs' options, kind)
# kind: "av" (video + audio), "video" (video only), "audio" (audio only)
RECIPES = {
    "avi": ("src.avi", "AVI: MPEG-4 Part 2 + MP3",
            _video_in("320x240", "25", 8) + _audio_in(8, 44100) +
            ["-c:v", "mpeg4", "-q:v", "6", "-g", "75", "-c:a", "libmp3lame", "-b:a", "64k", "-ac", "2"],
            "av"),
    "mov": ("src.mov", "MOV: H.264 with B-frames + AAC, 24 fps",
            _video_in("320x240", "24", 8) + _audio_in(8, 48000) + _x264(72) + AAC, "av"),
    "mp4": ("src.mp4", "MP4: H.264 with B-frames + AAC, 25 fps, 12 s",
            _video_in("320x240", "25", 12) + _audio_in(12, 44100) + _x264(75) + AAC, "av"),
    "mkv": ("src.mkv", "MKV: HEVC (libx265) + Opus",
            _video_in("320x240", "25", 8) + _audio_in(8, 48000) +
            ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
             "keyint=100:min-keyint=100:scenecut=0:log-level=error", "-crf", "32",
             "-c:a", "libopus", "-b:a", "48k", "-ac", "2"], "av"),
    "webm": ("src.webm", "WebM: VP9 + Opus",
             _video_in("320x240", "25", 8) + _audio_in(8, 48000) +
             ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
              "-g", "75", "-keyint_min", "75", "-c:a", "libopus", "-b:a", "48k", "-ac", "2"], "av"),
    "flv": ("src.flv", "FLV: H.264 + AAC",
            _video_in("320x240", "25", 8) + _audio_in(8, 44100) + _x264(75) + AAC, "av"),
    "mpg": ("src.mpg", "MPEG-PS: MPEG-2 + MP2",
            _video_in("320x240", "25", 8, "smptebars") + _audio_in(8, 48000) +
            ["-c:v", "mpeg2video", "-b:v", "400k", "-g", "60", "-bf", "2",
             "-c:a", "mp2", "-b:a", "128k", "-ac", "2", "-f", "vob"], "av"),
    "ts_offset": ("src.ts", "MPEG-TS with a start timestamp of 10000 s: H.264 + AAC",
                  _video_in("320x240", "25", 8) + _audio_in(8, 48000) + _x264(75) + AAC +
                  ["-output_ts_offset", "10000", "-f", "mpegts"], "av"),
    "wmv": ("src.wmv", "ASF/WMV: WMV2 + WMA v2",
            _video_in("320x240", "25", 8) + _audio_in(8, 44100) +
            ["-c:v", "wmv2", "-b:v", "300k", "-g", "75", "-c:a", "wmav2", "-b:a", "64k", "-ac", "2"],
            "av"),
    "ogg": ("src.ogv", "Ogg: Theora + Vorbis",
            _video_in("320x240", "25", 8) + _audio_in(8, 44100) +
            ["-c:v", "libtheora", "-q:v", "5", "-g", "75", "-c:a", "libvorbis", "-q:a", "2", "-ac", "2"],
            "av"),
    "rotated": ("src-rot90.mp4", "MP4 with display rotation 90 (coded 320x240)",
                _video_in("320x240", "25", 6) + _audio_in(6, 44100) + _x264(75) + AAC, "av"),
    "ntsc": ("src-2997.mp4", "MP4 at 30000/1001 fps",
             _video_in("320x240", "30000/1001", 8) + _audio_in(8, 48000) + _x264(90) + AAC, "av"),
    "nonsquare": ("src-sar.mkv", "351x241 with SAR 16:11 (MPEG-4 Part 2 + AAC in MKV)",
                  _video_in("352x240", "25", 6) + _audio_in(6, 44100) +
                  ["-vf", "scale=351:241,setsar=16/11", "-c:v", "mpeg4", "-q:v", "6", "-g", "75"] + AAC,
                  "av"),
    "interlaced": ("src-interlaced.mkv", "interlaced H.264 (TFF, 50 fields/s) + AAC",
                   _video_in("320x240", "50", 6) + _audio_in(6, 44100) +
                   ["-vf", "tinterlace=mode=interleave_top,fieldorder=tff",
                    "-flags", "+ildct+ilme", "-c:v", "libx264", "-preset", "veryfast", "-g", "50",
                    "-x264-params", "tff=1", "-pix_fmt", "yuv420p"] + AAC, "av"),
    "tenbit": ("src-10bit.mkv", "10-bit H.264 (High 10, yuv420p10le) + AAC",
               _video_in("320x240", "25", 6) + _audio_in(6, 44100) +
               ["-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p10le"] + AAC,
               "av"),
    "video_only": ("src-video-only.mp4", "MP4, video only (H.264 with B-frames)",
                   _video_in("320x240", "25", 8) + _x264(100) + ["-an"], "video"),
    "short": ("src-short.mp4", "MP4, 1.5 s long",
              _video_in("320x240", "25", 1.5) + _audio_in(1.5, 44100) + _x264(25) + AAC, "av"),
    "mp3": ("src.mp3", "audio only: MP3", _audio_in(7, 44100) + ["-c:a", "libmp3lame", "-b:a", "64k", "-ac", "2"],
            "audio"),
    "flac": ("src.flac", "audio only: FLAC", _audio_in(7, 48000) + ["-c:a", "flac", "-ac", "2"], "audio"),
    "wav": ("src.wav", "audio only: WAV (PCM s16)", _audio_in(7, 44100) + ["-c:a", "pcm_s16le", "-ac", "2"],
            "audio"),
    "m4a": ("src.m4a", "audio only: M4A (AAC)", _audio_in(7, 44100) + AAC, "audio"),
    # Sources for the ScaleType tests: plain 4:3, short.
    "scale43": ("src-scale.mp4", "320x240 H.264, 4 s, for ScaleType tests",
                _video_in("320x240", "25", 4) + _audio_in(4, 44100) + _x264(50) + AAC, "av"),
    # Orientation sources (_ORIENT), untagged and tagged rotate=90 (REMUX).
    "orient": ("src-orient.mp4", "320x240, top half white (orientation tests)", _ORIENT, "video"),
    "orient_rot90": ("src-orient-rot90.mp4",
                     "320x240, top half white, display rotation 90 (orientation tests)",
                     _ORIENT, "video"),
}

# Applied to the encoded file with stream copy: ffmpeg 5.1 writes the display matrix for the
# "rotate" tag only when copying.
REMUX = {"rotated": ["-metadata:s:v:0", "rotate=90"],
         "orient_rot90": ["-metadata:s:v:0", "rotate=90"]}

FORMATS = ["avi", "mov", "mp4", "mkv", "webm", "flv", "mpg", "ts_offset", "wmv", "ogg", "rotated",
           "ntsc", "nonsquare", "interlaced", "tenbit", "video_only", "short", "mp3", "flac", "wav", "m4a"]


def kind(name):
    return RECIPES[name][3]


def describe(name):
    return RECIPES[name][1]


def source(name):
    """Path of the cached source `name`, made first when missing or its recipe changed."""
    fname, _desc, args, _kind = RECIPES[name]
    digest = hashlib.sha256(repr((args, REMUX.get(name))).encode()).hexdigest()[:10]
    base, ext = os.path.splitext(fname)
    path = os.path.join(cache_dir(), f"{base}-{digest}{ext}")
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return path
    tmp = path + ".part" + ext
    cmd = [FFMPEG, "-nostdin", "-y", "-hide_banner", "-loglevel", "error"] + args
    # Inputs come first in `args`; mapping every input keeps audio and video together.
    cmd += ["-threads", "2", tmp]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not os.path.exists(tmp):
        raise RuntimeError(f"making source {name} failed: {' '.join(cmd)}\n{r.stderr}")
    if name in REMUX:
        tmp2 = path + ".remux" + ext
        cmd = [FFMPEG, "-nostdin", "-y", "-hide_banner", "-loglevel", "error", "-i", tmp,
               "-map", "0", "-c", "copy"] + REMUX[name] + [tmp2]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"remuxing source {name} failed: {' '.join(cmd)}\n{r.stderr}")
        os.replace(tmp2, tmp)
    os.replace(tmp, path)
    return path


def bad_sources(directory):
    """Writes the bad sources into `directory`; returns {name: path}."""
    os.makedirs(directory, exist_ok=True)
    out = {}
    good = source("mp4")  # moov at the end (no faststart): its first half has no index
    data = open(good, "rb").read()
    out["truncated.mp4"] = data[: len(data) // 2]
    rnd = bytearray()
    seed = b"tws-random"
    while len(rnd) < 65536:
        seed = hashlib.sha256(seed).digest()
        rnd += seed
    out["random.mp4"] = bytes(rnd)
    out["empty.mp4"] = b""
    out["text.mp4"] = b"This is not a video.\nJust some text in a file named like one.\n" * 20
    paths = {}
    for n, d in out.items():
        p = os.path.join(directory, n)
        with open(p, "wb") as f:
            f.write(d)
        paths[n] = p
    return paths


# ----------------------------------------------------------------------------------------------
# Sources of the master-playlist tests (test_master.py)

def _two_tone_audio(duration, freqs=(440, 660), langs=("eng", "fra")):
    """Inputs 1.. are sine tones of `freqs`; the maps and language tags that go with them."""
    inputs, maps = [], []
    for n, (f, lang) in enumerate(zip(freqs, langs)):
        inputs += _audio_in(duration, 44100, f)
        maps += ["-map", f"{n + 1}:a", f"-metadata:s:a:{n}", f"language={lang}"]
    return inputs, maps


_MASTER_AUDIO_IN, _MASTER_AUDIO_MAPS = _two_tone_audio(14)

RECIPES.update({
    # The reference's master: 1080p, 25 fps, 14 s (segments 2, 2, 2, 8), keyframes every 3 s,
    # two audio streams: 440 Hz "eng" and 660 Hz "fra".
    "master1080": ("src-master-1080p-2audio.mp4",
                   "1920x1080 H.264 25 fps 14 s, audio 440 Hz eng + 660 Hz fra",
                   _video_in("1920x1080", "25", 14) + _MASTER_AUDIO_IN + ["-map", "0:v"] +
                   _MASTER_AUDIO_MAPS + _x264(75) + AAC, "av"),
    # A 540p source for ResolutionOption adaptive (a 1080p target must not upscale it).
    "wide540": ("src-960x540.mp4", "960x540 H.264 + AAC, 4 s",
                _video_in("960x540", "25", 4) + _audio_in(4, 44100) + _x264(75) + AAC, "av"),
    # Time readable from the content: frame N has luma 16 + N everywhere (flat picture), the
    # audio is a chirp whose frequency is 300 + 100 t Hz (continuous phase: no clicks).
    "ramp": ("src-ramp.mp4", "320x240 flat luma 16+N (frame N), chirp 300+100t Hz, 8 s",
             ["-f", "lavfi", "-i",
              "color=c=black:s=320x240:r=25:d=8,format=yuv420p,geq=lum='16+25*T':cb=128:cr=128",
              "-f", "lavfi", "-i", "aevalsrc='0.125*sin(2*PI*(300*t+50*t*t))':s=44100:d=8"] +
             _x264(75) + AAC, "av"),
})


def text_file(name, text):
    """Writes `text` (UTF-8) into the media cache as NAME-<digest>.EXT (once: the digest is of
    the text) and returns its path; used as an ffmpeg input (subtitles) or copied to a bucket."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    base, ext = os.path.splitext(name)
    path = os.path.abspath(os.path.join(cache_dir(), f"{base}-{digest}{ext}"))
    if not os.path.exists(path):
        tmp = path + ".part"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    return path


def _srt_time(t):
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _vtt_time(t):
    return _srt_time(t).replace(",", ".")


def srt_text(cues):
    """cues: [(start s, end s, text)] -> SubRip text."""
    return "".join(f"{n + 1}\n{_srt_time(a)} --> {_srt_time(b)}\n{text}\n\n"
                   for n, (a, b, text, *_rest) in enumerate(cues))


def vtt_text(cues, note=None):
    """cues: [(start s, end s, text[, id[, settings]])] -> WebVTT text (an optional NOTE block
    after the header)."""
    out = "WEBVTT\n\n"
    if note:
        out += f"NOTE {note}\n\n"
    for a, b, text, *rest in cues:
        cue_id = rest[0] if rest else None
        settings = (" " + rest[1]) if len(rest) > 1 and rest[1] else ""
        out += (f"{cue_id}\n" if cue_id else "") + f"{_vtt_time(a)} --> {_vtt_time(b)}{settings}\n{text}\n\n"
    return out


if __name__ == "__main__":
    names = sys.argv[1:] or list(RECIPES)
    for n in names:
        print(n, source(n))
