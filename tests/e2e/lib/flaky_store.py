# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small S3-compatible object store on loopback that misbehaves on demand, for the
reliability tests: path-style HEAD and GET (with Range) of objects kept in memory, PUT and
DELETE. Signatures are not checked (tws signs; s3rver, in the S3 tests, checks the form).

Modes (set at any time, for every later request):
  ok                   answers as a store does
  fail_from=OFFSET     a GET whose range reaches OFFSET answers 500 InternalError
  hang_from=OFFSET     a GET whose range reaches OFFSET answers nothing until the mode
                       changes or the store stops (the client's own timeout ends it first)
  down                 every request answers 503 SlowDown
  delay=SECONDS        every HEAD and GET answers after SECONDS (a slow store)
Counts of requests by method are kept (`requests`), and of connections (`connections`)."""

import email.utils
import hashlib
import http.server
import re
import socket
import threading
import time


class FlakyStore:
    def __init__(self):
        self.objects = {}          # "bucket/key" -> bytes
        self.mode = "ok"
        self.requests = {}
        self.bytes_sent = 0  # body bytes of GET answers (what was asked for)
        self.connections = 0
        self._changed = threading.Condition()
        store = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                store.connections += 1

            def _key(self):
                return self.path.split("?", 1)[0].lstrip("/")

            def _count(self):
                store.requests[self.command] = store.requests.get(self.command, 0) + 1
                if self.command in ("HEAD", "GET") and store.mode.startswith("delay="):
                    time.sleep(float(store.mode.split("=")[1]))

            def _error(self, status, code):
                body = (f"<?xml version=\"1.0\"?><Error><Code>{code}</Code>"
                        f"<Message>{code}</Message></Error>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _head_fields(self, data):
                self.send_header("ETag", '"' + hashlib.md5(data).hexdigest() + '"')
                self.send_header("Last-Modified", email.utils.formatdate(usegmt=True))
                self.send_header("Accept-Ranges", "bytes")

            def do_HEAD(self):
                self._count()
                if store.mode == "down":
                    return self._error(503, "SlowDown")
                data = store.objects.get(self._key())
                if data is None:
                    return self._error(404, "NoSuchKey")
                self.send_response(200)
                self._head_fields(data)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()

            def do_GET(self):
                self._count()
                if store.mode == "down":
                    return self._error(503, "SlowDown")
                data = store.objects.get(self._key())
                if data is None:
                    return self._error(404, "NoSuchKey")
                first, last = 0, len(data) - 1
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if m:
                    first = int(m.group(1))
                    last = min(int(m.group(2)) if m.group(2) else last, len(data) - 1)
                    if first >= len(data):
                        return self._error(416, "InvalidRange")
                mode = store.mode
                if mode.startswith("fail_from=") and last >= int(mode.split("=")[1]):
                    return self._error(500, "InternalError")
                if mode.startswith("hang_from=") and last >= int(mode.split("=")[1]):
                    with store._changed:
                        store._changed.wait_for(lambda: store.mode != mode, timeout=600)
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                part = data[first:last + 1]
                self.send_response(206 if m else 200)
                self._head_fields(data)
                if m:
                    self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                store.bytes_sent += len(part)
                self.wfile.write(part)

            def do_PUT(self):
                self._count()
                if store.mode == "down":
                    return self._error(503, "SlowDown")
                n = int(self.headers.get("Content-Length", "0"))
                store.objects[self._key()] = self.rfile.read(n)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_DELETE(self):
                self._count()
                store.objects.pop(self._key(), None)
                self.send_response(204)
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def put(self, bucket, key, data):
        self.objects[f"{bucket}/{key}"] = data

    def set_mode(self, mode):
        with self._changed:
            self.mode = mode
            self._changed.notify_all()

    def stop(self):
        self.set_mode("stopped")
        self.httpd.shutdown()
        self.httpd.server_close()
        time.sleep(0.1)
