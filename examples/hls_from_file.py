#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hls_from_file.py: the tws elements embedded in a Python application (PyGObject).

Reads a media file (or an s3:// or http(s):// URL) with rangesrc, decodes it, encodes H.264
and AAC, and writes HLS with hlssegsink (a bin around hlssegmux): 4 s segments and a VOD
playlist in OUTDIR. Each segment is printed as hlssegmux announces it.

    GST_PLUGIN_PATH=build/gst python3 examples/hls_from_file.py in.mp4 out

Debian: python3-gi gir1.2-gstreamer-1.0. Exit status 0 at the end of the stream, 1 on an
error (one line on stderr), 2 on bad usage.
"""

import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

BRANCHES = {
    "video": "queue ! videoconvert ! x264enc ! h264parse",
    "audio": "queue ! audioconvert ! audioresample ! avenc_aac ! aacparse",
}


def main(argv):
    Gst.init(None)
    if len(argv) != 3:
        print("usage: hls_from_file.py INPUT OUTDIR", file=sys.stderr)
        return 2
    pipeline = Gst.Pipeline.new("hls-from-file")
    source = Gst.ElementFactory.make("rangesrc")
    decoder = Gst.ElementFactory.make("decodebin3")
    sink = Gst.ElementFactory.make("hlssegsink")
    if not source or not decoder or not sink:
        print("hls_from_file.py: rangesrc, decodebin3 or hlssegsink missing (GST_PLUGIN_PATH?)",
              file=sys.stderr)
        return 1
    source.set_property("location", argv[1])
    sink.set_property("location", os.path.join(argv[2], "segment%05d.ts"))
    sink.set_property("playlist-location", os.path.join(argv[2], "index.m3u8"))
    sink.set_property("target-duration", 4)
    Gst.util_set_object_arg(sink, "playlist-type", "vod")
    for element in (source, decoder, sink):
        pipeline.add(element)
    source.link(decoder)

    def on_pad_added(_decoder, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        kind = caps.get_structure(0).get_name().split("/")[0]
        if kind not in BRANCHES or sink.get_static_pad(kind):
            return  # the first video and the first audio stream only
        branch = Gst.parse_bin_from_description(BRANCHES[kind], True)
        pipeline.add(branch)
        branch.get_static_pad("src").link(sink.request_pad_simple(kind))
        branch.sync_state_with_parent()
        pad.link(branch.get_static_pad("sink"))

    decoder.connect("pad-added", on_pad_added)
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    status = None
    while status is None:
        msg = bus.timed_pop(Gst.CLOCK_TIME_NONE)
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.has_name("hlssegmux-segment"):
                print(f"segment {s.get_value('index')}: start {s.get_value('start') / 1e9:.3f} s, "
                      f"{s.get_value('duration') / 1e9:.6f} s, {s.get_value('bytes')} bytes",
                      flush=True)
        elif msg.type == Gst.MessageType.ERROR:
            error, _debug = msg.parse_error()
            print(f"hls_from_file.py: {error.message}", file=sys.stderr)
            status = 1
        elif msg.type == Gst.MessageType.EOS:
            status = 0
    pipeline.set_state(Gst.State.NULL)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
