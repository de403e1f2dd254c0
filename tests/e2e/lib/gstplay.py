#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Plays an HLS playlist on disk through GStreamer's playbin (hlsdemux / hlsdemux2), served from
a local HTTP server (hlsdemux2 fetches over HTTP only), with fake sinks as fast as it can.

Prints one JSON line: {"ok": bool, "error": str|null, "video": seconds, "audio": seconds,
"video_frames": n, "demuxer": factory name}. Exit status 0 when EOS was reached without error.
Usage: gstplay.py PLAYLIST.m3u8 [--file] (--file: play the file:// URI instead of HTTP), or
gstplay.py http://... (play that URL as it is, e.g. a signed playlist URL of `tws serve`).
"""

import functools
import http.server
import json
import os
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}

    def log_message(self, *args):
        pass


def main():
    use_url = sys.argv[1].startswith(("http://", "https://"))
    path = sys.argv[1] if use_url else os.path.abspath(sys.argv[1])
    use_file = "--file" in sys.argv
    Gst.init(None)
    server = None
    if use_url:
        uri = path
    elif use_file:
        uri = Gst.filename_to_uri(path)
    else:
        handler = functools.partial(QuietHandler, directory=os.path.dirname(path))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        uri = f"http://127.0.0.1:{server.server_address[1]}/{os.path.basename(path)}"

    result = {"ok": False, "error": None, "video": None, "audio": None, "video_frames": 0,
              "demuxer": None}
    spans = {"video": [None, None], "audio": [None, None]}
    lock = threading.Lock()

    def handoff(kind):
        def cb(_sink, buf, _pad):
            if buf.pts == Gst.CLOCK_TIME_NONE:
                return
            end = buf.pts + (buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else 0)
            with lock:
                s = spans[kind]
                s[0] = buf.pts if s[0] is None else min(s[0], buf.pts)
                s[1] = end if s[1] is None else max(s[1], end)
                if kind == "video":
                    result["video_frames"] += 1
        return cb

    pipeline = Gst.ElementFactory.make("playbin", None)
    pipeline.set_property("uri", uri)
    for kind in ("video", "audio"):
        sink = Gst.ElementFactory.make("fakesink", None)
        sink.set_property("sync", False)
        sink.set_property("signal-handoffs", True)
        sink.connect("handoff", handoff(kind))
        pipeline.set_property(f"{kind}-sink", sink)

    def element_added(_bin, _sub, element):
        f = element.get_factory()
        if f and "hlsdemux" in f.get_name():
            result["demuxer"] = f.get_name()
    pipeline.connect("deep-element-added", element_added)

    loop = GLib.MainLoop()

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.EOS:
            result["ok"] = result["error"] is None
            loop.quit()
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            result["error"] = f"{err.message} ({dbg.splitlines()[0] if dbg else ''})"
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add_seconds(150, lambda: (result.update(error="no EOS after 150 s"), loop.quit()))
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        result["error"] = "could not start playbin"
    else:
        loop.run()
    pipeline.set_state(Gst.State.NULL)
    if server:
        server.shutdown()
    for kind, (a, b) in spans.items():
        if a is not None:
            result[kind] = (b - a) / Gst.SECOND
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
