# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sources of the upload matrix (test_upload_matrix.py): what people really upload, from
phones, web sites, cameras and editors, broadcast captures, old RealMedia/Windows Media files
and audio-only files; and the cut uploads (files truncated part way).

Every source is small (a few seconds, 320x240 or so) and made with ffmpeg from the same inputs
as lib/media.py (a continuous 440 Hz tone, a moving test pattern). The recipes are registered
into media.RECIPES (and media.REMUX for the rotation tag), so media.source(name) makes and
caches them like the others.

UPLOADS: name -> (group, expected output frame rate or None for "whatever the grid is").
"""

import os

import media
from media import AAC, _audio_in, _video_in, _x264

_V = _video_in
_A = _audio_in


def _x265(keyint, pix_fmt="yuv420p", tag="hvc1"):
    return ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
            f"keyint={keyint}:min-keyint={keyint}:scenecut=0:log-level=error", "-crf", "32",
            "-pix_fmt", pix_fmt, "-tag:v", tag]


def _mp3(rate=44100, ch=2):
    return ["-c:a", "libmp3lame", "-b:a", "64k", "-ar", str(rate), "-ac", str(ch)]


AC3 = ["-c:a", "ac3", "-b:a", "128k", "-ac", "2"]
MP2 = ["-c:a", "mp2", "-b:a", "128k", "-ac", "2"]
OPUS = ["-c:a", "libopus", "-b:a", "48k", "-ac", "2"]
VORBIS = ["-c:a", "libvorbis", "-q:a", "2", "-ac", "2"]

# Phone VFR, jittered: 27 fps on average, each frame's time moved by up to +-2.5 ms on a
# 90 kHz time base, so that frame durations range over ~1/31 .. 1/24 s.
_VFR_JITTER = ["-vf", "settb=1/90000,setpts='(N/27+0.0025*sin(N*1.7))/TB'", "-fps_mode", "vfr",
               "-enc_time_base:v", "1/90000", "-video_track_timescale", "90000"]
# Phone VFR, dropped frames: a 30 fps capture where every 5th and every 7th frame was
# dropped (the camera's frame rate fell to ~21-26 fps in places); timestamps kept.
_VFR_DROPS = ["-vf", "select='not(eq(mod(n\\,5)\\,3))*not(eq(mod(n\\,7)\\,5))'", "-fps_mode", "vfr",
              "-video_track_timescale", "30000"]

# name -> (file name, description, ffmpeg args, kind, group, output frame rate)
_U = {
    # -- phones ---------------------------------------------------------------------------
    "phone_vfr_jitter": ("up-phone-vfr-jitter.mp4", "MP4: H.264 VFR (frame times jitter, 24-31 fps) + AAC",
                         _V("320x240", "27", 6) + _A(6, 48000) + _VFR_JITTER + _x264(60) + AAC,
                         "av", "phones", None),
    "phone_vfr_drops": ("up-phone-vfr-drops.mp4", "MP4: H.264 VFR (30 fps with dropped frames) + AAC",
                        _V("320x240", "30", 6) + _A(6, 48000) + _VFR_DROPS + _x264(60) + AAC,
                        "av", "phones", None),
    "phone_hevc10_rot": ("up-phone-hevc10-rot90.mov",
                         "MOV: HEVC Main10 (yuv420p10le, hvc1) rotate 90 + AAC",
                         _V("320x240", "30", 5) + _A(5, 48000) + _x265(60, "yuv420p10le") + AAC,
                         "av", "phones", 30.0),
    "phone_hevc_mov": ("up-phone-hevc.mov", "MOV: HEVC Main (hvc1) + AAC",
                       _V("320x240", "30", 5) + _A(5, 44100) + _x265(60) + AAC, "av", "phones", 30.0),
    "phone_aac51": ("up-phone-aac51.mp4", "MP4: H.264 + AAC 5.1 (6 channels)",
                    _V("320x240", "30", 5) + _A(5, 48000) + _x264(60) +
                    ["-c:a", "aac", "-b:a", "192k", "-ac", "6"], "av", "phones", 30.0),
    "phone_3gp": ("up-phone-h263.3gp", "3GP: H.263 176x144 + AAC mono",
                  _V("176x144", "15", 5) + _A(5, 22050) +
                  ["-c:v", "h263", "-q:v", "6", "-g", "30", "-c:a", "aac", "-b:a", "32k", "-ac", "1"],
                  "av", "phones", 15.0),
    # -- web ------------------------------------------------------------------------------
    "web_flv_h264": ("up-web-h264.flv", "FLV: H.264 + AAC",
                     _V("320x240", "25", 6) + _A(6, 44100) + _x264(75) + AAC, "av", "web", 25.0),
    "web_flv1_mp3": ("up-web-flv1.flv", "FLV: Sorenson Spark (FLV1) + MP3",
                     _V("320x240", "25", 6) + _A(6, 44100) +
                     ["-c:v", "flv", "-q:v", "5", "-g", "75"] + _mp3(), "av", "web", 25.0),
    "web_webm_vp8": ("up-web-vp8.webm", "WebM: VP8 + Vorbis",
                     _V("320x240", "25", 6) + _A(6, 48000) +
                     ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k",
                      "-g", "75", "-keyint_min", "75"] + VORBIS, "av", "web", 25.0),
    "web_webm_vp9": ("up-web-vp9.webm", "WebM: VP9 + Opus",
                     _V("320x240", "25", 6) + _A(6, 48000) +
                     ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
                      "-g", "75", "-keyint_min", "75"] + OPUS, "av", "web", 25.0),
    "web_av1_mp4": ("up-web-av1.mp4", "MP4: AV1 (SVT-AV1) + AAC",
                    _V("320x240", "25", 5) + _A(5, 48000) +
                    ["-c:v", "libsvtav1", "-preset", "12", "-crf", "50", "-g", "60",
                     "-pix_fmt", "yuv420p"] + AAC, "av", "web", 25.0),
    "web_av1_webm": ("up-web-av1.webm", "WebM: AV1 (libaom) + Opus",
                     _V("320x240", "25", 5) + _A(5, 48000) +
                     ["-c:v", "libaom-av1", "-cpu-used", "8", "-usage", "realtime", "-row-mt", "1",
                      "-b:v", "150k", "-g", "60", "-pix_fmt", "yuv420p"] + OPUS, "av", "web", 25.0),
    "web_fmp4": ("up-web-frag.mp4", "fragmented MP4 (frag_keyframe+empty_moov): H.264 + AAC",
                 _V("320x240", "25", 6) + _A(6, 44100) + _x264(50) + AAC +
                 ["-movflags", "frag_keyframe+empty_moov+default_base_moof"], "av", "web", 25.0),
    "web_faststart": ("up-web-faststart.mp4", "faststart MP4: H.264 with 3 B-frames + AAC",
                      _V("320x240", "25", 6) + _A(6, 44100) + _x264(75, bframes=3) + AAC +
                      ["-movflags", "+faststart"], "av", "web", 25.0),
    "web_mkv_h264_ac3": ("up-web-h264-ac3.mkv", "MKV: H.264 + AC3 (a typical download)",
                         _V("320x240", "24", 6) + _A(6, 48000) + _x264(48) + AC3, "av", "web", 24.0),
    "web_ts_hevc": ("up-web-hevc.ts", "MPEG-TS: HEVC + AAC",
                    _V("320x240", "25", 6) + _A(6, 48000) + _x265(50, tag="hev1") + AAC +
                    ["-f", "mpegts"], "av", "web", 25.0),
    # -- cameras and editors --------------------------------------------------------------
    "cam_mjpeg_avi": ("up-cam-mjpeg.avi", "AVI: MJPEG + PCM s16le",
                      _V("320x240", "30", 4) + _A(4, 48000) +
                      ["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p", "-c:a", "pcm_s16le",
                       "-ac", "2"], "av", "cameras", 30.0),
    "cam_prores_mov": ("up-cam-prores.mov", "MOV: ProRes 422 Proxy (prores_ks) + PCM s24le",
                       _V("320x240", "25", 4) + _A(4, 48000) +
                       ["-c:v", "prores_ks", "-profile:v", "0", "-pix_fmt", "yuv422p10le",
                        "-c:a", "pcm_s24le", "-ac", "2"], "av", "cameras", 25.0),
    "cam_dv_pal": ("up-cam-pal.dv", "raw DV: PAL dvvideo 720x576 + PCM (-target pal-dv)",
                   _V("720x576", "25", 4) + _A(4, 48000) + ["-target", "pal-dv", "-ac", "2"],
                   "av", "cameras", 25.0),
    "cam_dv_ntsc_avi": ("up-cam-ntsc-dv.avi", "AVI: NTSC dvvideo 720x480 4:1:1 (4:3, SAR 8:9) + PCM",
                        _V("720x480", "30000/1001", 4) + _A(4, 48000) +
                        ["-vf", "setsar=8/9", "-c:v", "dvvideo", "-pix_fmt", "yuv411p", "-c:a", "pcm_s16le",
                         "-ac", "2"],
                        "av", "cameras", 30000 / 1001),
    "cam_mov_pcm": ("up-cam-screen.mov", "MOV: H.264 + PCM s16le (screen recorder)",
                    _V("320x240", "30", 5) + _A(5, 48000) + _x264(30, bframes=0) +
                    ["-c:a", "pcm_s16le", "-ac", "2"], "av", "cameras", 30.0),
    "cam_xvid_avi": ("up-cam-xvid.avi", "AVI: MPEG-4 ASP (XVID tag, B-frames) + MP3",
                     _V("320x240", "25", 6) + _A(6, 44100) +
                     ["-c:v", "mpeg4", "-vtag", "XVID", "-q:v", "5", "-bf", "2", "-g", "75"] + _mp3(),
                     "av", "cameras", 25.0),
    # -- broadcast ------------------------------------------------------------------------
    "bc_mpeg2_ts_i": ("up-bc-mpeg2-i.ts", "MPEG-TS: interlaced MPEG-2 (TFF 704x576i) + MP2",
                      _V("704x576", "50", 4) + _A(4, 48000) +
                      ["-vf", "tinterlace=mode=interleave_top,fieldorder=tff", "-c:v", "mpeg2video",
                       "-flags", "+ilme+ildct", "-top", "1", "-b:v", "2M", "-g", "12", "-bf", "2"] +
                      MP2 + ["-f", "mpegts"], "av", "broadcast", 25.0),
    "bc_m2ts": ("up-bc.m2ts", "M2TS: H.264 + AC3 (mpegts_m2ts_mode)",
                _V("320x240", "25", 5) + _A(5, 48000) + _x264(50) + AC3 +
                ["-f", "mpegts", "-mpegts_m2ts_mode", "1"], "av", "broadcast", 25.0),
    "bc_vob": ("up-bc.vob", "VOB: MPEG-2 + AC3",
               _V("352x288", "25", 5, "smptebars") + _A(5, 48000) +
               ["-c:v", "mpeg2video", "-b:v", "800k", "-g", "15", "-bf", "2"] + AC3 + ["-f", "vob"],
               "av", "broadcast", 25.0),
    "bc_ts_h264_i": ("up-bc-h264-i.ts", "MPEG-TS: interlaced H.264 (TFF, MBAFF) + AC3",
                     _V("320x240", "50", 4) + _A(4, 48000) +
                     ["-vf", "tinterlace=mode=interleave_top,fieldorder=tff", "-flags", "+ildct+ilme",
                      "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-x264-params", "tff=1",
                      "-pix_fmt", "yuv420p"] + AC3 + ["-f", "mpegts"], "av", "broadcast", 25.0),
    # -- RealMedia and Windows Media ------------------------------------------------------
    "rm_rv20_ac3": ("up-rv20.rm", "RealMedia: RV20 + AC3",
                    _V("320x240", "25", 5) + _A(5, 44100) +
                    ["-c:v", "rv20", "-b:v", "300k", "-g", "50"] + AC3, "av", "real/wm", 25.0),
    "rm_rv10_ac3": ("up-rv10.rm", "RealMedia: RV10 + AC3",
                    _V("320x240", "25", 5) + _A(5, 44100) +
                    ["-c:v", "rv10", "-b:v", "300k", "-g", "50"] + AC3, "av", "real/wm", 25.0),
    "asf_wmv2": ("up-wmv2.wmv", "ASF (.wmv): WMV2 + WMA v2",
                 _V("320x240", "25", 5) + _A(5, 44100) +
                 ["-c:v", "wmv2", "-b:v", "300k", "-g", "75", "-c:a", "wmav2", "-b:a", "64k", "-ac", "2"],
                 "av", "real/wm", 25.0),
    "asf_msmpeg4v3": ("up-msmpeg4v3.asf", "ASF (.asf): MS-MPEG4 v3 (DivX 3) + WMA v2",
                      _V("320x240", "25", 5) + _A(5, 44100) +
                      ["-c:v", "msmpeg4", "-b:v", "300k", "-g", "75", "-c:a", "wmav2", "-b:a", "64k",
                       "-ac", "2"], "av", "real/wm", 25.0),
    "asf_wmv1": ("up-wmv1.asf", "ASF (.asf): WMV1 + WMA v1",
                 _V("320x240", "25", 5) + _A(5, 44100) +
                 ["-c:v", "wmv1", "-b:v", "300k", "-g", "75", "-c:a", "wmav1", "-b:a", "64k", "-ac", "2"],
                 "av", "real/wm", 25.0),
    # -- audio only -----------------------------------------------------------------------
    "a_mp3": ("up-a.mp3", "MP3 (LAME, 44.1 kHz stereo)", _A(5, 44100) + _mp3(), "audio", "audio", None),
    "a_mp3_cover": ("up-a-cover.mp3", "MP3 with ID3 cover art (attached PNG picture)",
                    _A(5, 44100) + ["-f", "lavfi", "-i", "color=red:size=200x200:duration=1",
                                    "-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:v", "png",
                                    "-disposition:v", "attached_pic", "-id3v2_version", "3"] + _mp3(),
                    "audio", "audio", None),
    "a_alac": ("up-a-alac.m4a", "M4A: ALAC", _A(5, 44100) + ["-c:a", "alac", "-ac", "2"],
               "audio", "audio", None),
    "a_opus": ("up-a.opus", "Ogg Opus (.opus)", _A(5, 48000) + OPUS, "audio", "audio", None),
    "a_wav_24_96": ("up-a-24-96.wav", "WAV: PCM s24le 96 kHz",
                    _A(5, 96000) + ["-c:a", "pcm_s24le", "-ar", "96000", "-ac", "2"], "audio", "audio", None),
    "a_aiff": ("up-a.aiff", "AIFF: PCM s16be", _A(5, 44100) + ["-c:a", "pcm_s16be", "-ac", "2"],
               "audio", "audio", None),
    "a_adts": ("up-a.aac", "ADTS AAC (.aac)", _A(5, 44100) + AAC + ["-f", "adts"], "audio", "audio", None),
    "a_ac3": ("up-a.ac3", "raw AC3 (.ac3)", _A(5, 48000) + AC3, "audio", "audio", None),
    "a_eac3": ("up-a.eac3", "raw E-AC3 (.eac3)", _A(5, 48000) + ["-c:a", "eac3", "-b:a", "96k", "-ac", "2"],
               "audio", "audio", None),
    "a_mp2": ("up-a.mp2", "MPEG-1 Layer II (.mp2)", _A(5, 48000) + MP2, "audio", "audio", None),
    "a_wma": ("up-a.wma", "ASF (.wma): WMA v2", _A(5, 44100) + ["-c:a", "wmav2", "-b:a", "64k", "-ac", "2"],
              "audio", "audio", None),
    "a_flac": ("up-a.flac", "FLAC 24-bit 48 kHz",
               _A(5, 48000) + ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24", "-ac", "2"],
               "audio", "audio", None),
    "a_vorbis": ("up-a.ogg", "Ogg Vorbis (.ogg)", _A(5, 44100) + VORBIS, "audio", "audio", None),
    "a_wav_mono": ("up-a-mono.wav", "WAV: PCM s16le mono 44.1 kHz",
                   _A(5, 44100) + ["-c:a", "pcm_s16le", "-ac", "1"], "audio", "audio", None),
    "a_wav_8k": ("up-a-voice-8k.wav", "WAV: PCM s16le mono 8 kHz (voice memo)",
                 _A(5, 8000) + ["-c:a", "pcm_s16le", "-ac", "1"], "audio", "audio", None),
    "a_wav_float": ("up-a-float.wav", "WAV: 32-bit float stereo 48 kHz",
                    _A(5, 48000) + ["-c:a", "pcm_f32le", "-ac", "2"], "audio", "audio", None),
    # -- sources of the cut uploads (cut to 60 % by the test) -----------------------------
    "cut_mp4": ("up-cut-src.mp4", "MP4 without faststart (moov at the end): H.264 + AAC",
                _V("320x240", "25", 8) + _A(8, 44100) + _x264(50) + AAC, "av", "cut", 25.0),
    "cut_mkv": ("up-cut-src.mkv", "MKV: H.264 + AAC",
                _V("320x240", "25", 8) + _A(8, 44100) + _x264(50) + AAC, "av", "cut", 25.0),
    "cut_ts": ("up-cut-src.ts", "MPEG-TS: H.264 + AAC",
               _V("320x240", "25", 8) + _A(8, 44100) + _x264(50) + AAC + ["-f", "mpegts"], "av", "cut", 25.0),
    "cut_flv": ("up-cut-src.flv", "FLV: H.264 + AAC",
                _V("320x240", "25", 8) + _A(8, 44100) + _x264(50) + AAC, "av", "cut", 25.0),
}

for _name, (_f, _d, _args, _kind, _group, _fps) in _U.items():
    media.RECIPES.setdefault(_name, (_f, _d, _args, _kind))
media.REMUX.setdefault("phone_hevc10_rot", ["-metadata:s:v:0", "rotate=90"])

UPLOADS = [n for n, u in _U.items() if u[4] != "cut"]
CUTS = [n for n, u in _U.items() if u[4] == "cut"]


def group(name):
    return _U[name][4]


def frame_rate(name):
    return _U[name][5]


def cut(name, directory, fraction=0.6):
    """A copy of source `name` cut to `fraction` of its bytes, in `directory`; its path."""
    src = media.source(name)
    data = open(src, "rb").read()
    path = os.path.join(directory, "cut-" + os.path.basename(src))
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * fraction)])
    return path


if __name__ == "__main__":
    import sys
    for n in sys.argv[1:] or list(_U):
        print(n, media.source(n), flush=True)
