#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end HDR test: PQ and HLG sources come out as SDR, tone mapped by hdrtonemap.

Sources (ffmpeg, 10-bit HEVC in MKV, BT.2020 tags, AAC tone): testsrc2 as PQ (HDR10 with
MaxCLL 1000 cd/m²) and as HLG (no metadata), 640x360; SMPTE HD bars as PQ with MaxCLL 4000
cd/m², 1280x720 (brighter, saturated, an HD size); and a Dolby Vision profile 8.4 file as phones
record it (lib/dolby_vision.py: HLG base layer, an RPU NAL unit per frame, dvh1 sample entry with
its dvcC record in MP4), which plays from its base layer. Each goes through `tws playlist` and one
`tws segment` per segment (shuffled), at the source's size, then:

- tags: every segment's video is tagged BT.709 (HD) or BT.601 (SD, as every tws output of
  that size), never PQ/HLG/BT.2020 (ffprobe color_transfer/color_primaries/color_space);
- picture: the decoded segments against ffmpeg's tone-mapped reference of the source,
  `zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,
  zscale=t=bt709:m=bt709:r=tv` (hable is hdrtonemap's default curve): the mean absolute error
  of luma on 4x4 block means <= 8/255, and the mean chroma magnitude (mean of |U-128| and
  |V-128| over all chroma samples) within 15 % of the reference's. The figures are printed.
- the strict stream check (lib/check.py) on the output, so joins stay seamless.

TWS_E2E_ONLY=hlg (substrings of case names) runs a subset; TWS_E2E_KEEP=1 keeps the buckets.
"""

import os
import random
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import check  # noqa: E402
import dolby_vision  # noqa: E402
import media  # noqa: E402
from harness import Runner  # noqa: E402
from tws import Env  # noqa: E402

FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
REFERENCE = ("zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
             "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p")
MAX_LUMA_MAE = 8.0  # of 255, on 4x4 block means
MAX_CHROMA_DEVIATION = 0.15
HDR_TAGS = {"smpte2084", "arib-std-b67", "bt2020", "bt2020nc", "bt2020c", "bt2020-10", "bt2020-12"}
MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)"


def _hevc10(transfer, hdr10=""):
    """10-bit HEVC tagged BT.2020 with `transfer`, keyframes every 2 s, AAC audio."""
    params = (f"log-level=error:keyint=50:min-keyint=50:scenecut=0:colorprim=bt2020:"
              f"transfer={transfer}:colormatrix=bt2020nc" + hdr10)
    return (["-vf", "format=yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-crf", "20",
             "-pix_fmt", "yuv420p10le", "-x265-params", params, "-color_primaries", "bt2020",
             "-color_trc", transfer, "-colorspace", "bt2020nc", "-color_range", "tv"] + media.AAC)


def _hdr10(max_cll):
    return f":hdr10=1:max-cll={max_cll},400:master-display={MASTER_DISPLAY}"


media.RECIPES.update({
    "hdr_pq": ("src-pq.mkv", "PQ (HDR10, MaxCLL 1000), testsrc2 640x360",
               media._video_in("640x360", "25", 4) + media._audio_in(4, 48000) +
               _hevc10("smpte2084", _hdr10(1000)), "av"),
    "hdr_hlg": ("src-hlg.mkv", "HLG, testsrc2 640x360",
                media._video_in("640x360", "25", 4) + media._audio_in(4, 48000) +
                _hevc10("arib-std-b67"), "av"),
    "hdr_pq_bars": ("src-pq-bars.mkv", "PQ (HDR10, MaxCLL 4000), SMPTE HD bars 1280x720",
                    media._video_in("1280x720", "25", 3, "smptehdbars") + media._audio_in(3, 48000) +
                    _hevc10("smpte2084", _hdr10(4000)), "av"),
})


def decode_raw(inputs, vf=None):
    """Frames of yuv420p, as an (n, h*w*3/2) uint8 array, and (w, h)."""
    j = check._ffprobe_json(["-show_streams", "-select_streams", "v:0", inputs])
    w, h = int(j["streams"][0]["width"]), int(j["streams"][0]["height"])
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", inputs, "-map", "0:v:0"]
    cmd += ["-vf", vf] if vf else ["-pix_fmt", "yuv420p"]
    r = subprocess.run(cmd + ["-f", "rawvideo", "-"], capture_output=True, timeout=300)
    if r.returncode != 0:
        raise check.CheckError(f"decoding {inputs}: {r.stderr.decode()[-500:]}")
    size = w * h * 3 // 2
    n = len(r.stdout) // size
    return np.frombuffer(r.stdout[:n * size], np.uint8).reshape(n, size), (w, h)


def picture_figures(out, ref, w, h):
    """(luma MAE on 4x4 block means, chroma magnitude of out, of ref), over common frames."""
    n = min(len(out), len(ref))
    out, ref = out[:n].astype(np.float64), ref[:n].astype(np.float64)

    def blocks(frames):
        y = frames[:, :w * h].reshape(n, h // 4, 4, w // 4, 4)
        return y.mean(axis=(2, 4))

    mae = float(np.abs(blocks(out) - blocks(ref)).mean())
    chroma = [float(np.abs(x[:, w * h:] - 128).mean()) for x in (out, ref)]
    return mae, chroma[0], chroma[1]


def hdr_case(name, expect_sd, src_path=None):
    src_path = src_path or media.source(name)
    f = []
    with Env(name) as env:
        uri = env.put(src_path, f"in/{name}{os.path.splitext(src_path)[1]}")
        prefix = f"oss://media/out/{name}/{name}"
        target = {"URI": prefix, "Duration": 5, "InitialSegments": [2, 2], "InitialTranscode": 0,
                  "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 20}},
                  "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 64000}}}
        response = env.playlist({"SourceURI": uri, "Targets": [target]})
        playlist = env.path(prefix + ".m3u8")
        segs = [s["path"] for s in check.parse_playlist(playlist)["segments"]]
        order = list(range(len(segs)))
        random.Random(name).shuffle(order)
        for k in order:
            env.segment(prefix + ".m3u8", k)
        token = (response.get("VideoPlaylist") or [{}])[0].get("Token")
        duration = float(check._ffprobe_json(["-show_format", src_path])["format"]["duration"])
        fails, _summary = check.check_stream(playlist, token=token, expect_duration=duration,
                                             frame_rate=25.0)
        f += fails

        for k, seg in enumerate(segs):
            v = check._ffprobe_json(["-show_streams", "-select_streams", "v:0", seg])["streams"][0]
            tags = {key: v.get(key, "unknown") for key in
                    ("color_transfer", "color_primaries", "color_space")}
            hdr = {t for t in tags.values() if t in HDR_TAGS}
            if hdr:
                f.append(f"segment {k}: HDR colour tags {tags}")
            want = "smpte170m" if expect_sd else "bt709"
            if set(tags.values()) != {want}:
                f.append(f"segment {k}: colour tags {tags}, expected {want}")

        out, (w, h) = decode_raw("concat:" + "|".join(segs))
        ref, (rw, rh) = decode_raw(src_path, REFERENCE)
        if (w, h) != (rw, rh):
            return f + [f"output {w}x{h}, source {rw}x{rh}: the target asks for the source's size"]
        if abs(len(out) - len(ref)) > 1:
            f.append(f"{len(out)} frames out, {len(ref)} in the reference")
        mae, chroma, chroma_ref = picture_figures(out, ref, w, h)
        ratio = chroma / chroma_ref if chroma_ref else float("inf")
        print(f"     {name}: {w}x{h}, {min(len(out), len(ref))} frames: luma MAE (4x4 blocks) "
              f"{mae:.2f}/255 (max {MAX_LUMA_MAE:g}), chroma magnitude {chroma:.2f} vs reference "
              f"{chroma_ref:.2f}: ratio {ratio:.3f}", flush=True)
        if mae > MAX_LUMA_MAE:
            f.append(f"luma MAE {mae:.2f}/255 against ffmpeg's tone-mapped reference")
        if abs(ratio - 1) > MAX_CHROMA_DEVIATION:
            f.append(f"chroma magnitude {chroma:.2f}, reference {chroma_ref:.2f} (ratio {ratio:.3f})")
    return f


def main():
    run = Runner("hdr: PQ/HLG/Dolby Vision 8.4 sources tone mapped to SDR")
    run.case("PQ (HDR10) 640x360: SDR BT.601-tagged output close to ffmpeg's hable tone map",
             hdr_case, "hdr_pq", True)
    run.case("HLG 640x360: SDR BT.601-tagged output close to ffmpeg's hable tone map",
             hdr_case, "hdr_hlg", True)
    run.case("PQ (HDR10, MaxCLL 4000) SMPTE bars 1280x720: SDR BT.709-tagged output close to "
             "ffmpeg's hable tone map", hdr_case, "hdr_pq_bars", False)
    run.case("Dolby Vision 8.4 (HLG base, RPUs, dvh1/dvcC MP4) 640x360: plays from its base layer, "
             "SDR BT.601-tagged, close to ffmpeg's hable tone map of it",
             lambda: hdr_case("hdr_dv84", True, dolby_vision.source()))
    run.finish()


if __name__ == "__main__":
    main()
