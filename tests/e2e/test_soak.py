#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Connections never leak (issue 19 "Done means" 1, and the connection limits): one `tws serve`
run with `ulimit -n 256` (lib/serve.py) and short connection timeouts.

  soak        2,000 requests of every kind (lib/soak.py: API, playlist, stored segment, Range,
              HEAD, 401/403/404/413, aborts mid-stream, connections that send nothing or half a
              header, keep-alive runs, cold segments and cold aborts), most on a new connection
              each, over 4 client threads: every one answered as it should be; afterwards the
              server's open descriptors are exactly those after the warm-up, its threads no
              more (GLib's idle pool threads may exit meanwhile), its
              RSS within 48 MB of it, and /metrics reports the same descriptor count.
  idle        40 idle keep-alive connections and 20 stopped inside their headers: closed by
              the server within keepalive-timeout / request-timeout (2 s here) and a margin;
              the descriptors back to the baseline.
  cap         300 connections opened at once against a server whose limit is 256 descriptors:
              those past the cap get 503 (or are closed at once), none hangs, the server keeps
              answering, and when they are gone the descriptors are back to the baseline.

Timeouts guard against hangs; nothing here measures speed.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import media  # noqa: E402
import serve  # noqa: E402
import soak  # noqa: E402
from harness import Runner  # noqa: E402
from serve import Server  # noqa: E402
from tws import Env  # noqa: E402

NOFILE = 256
TIMEOUTS = 2  # [server] keepalive-timeout and request-timeout
REQUESTS = int(os.environ.get("TWS_SOAK_REQUESTS", "2000"))


class World:
    def __init__(self):
        self.env = Env("soak")
        serve.write_config(self.env, workers=2, extra="")
        text = open(self.env.config).read().replace(
            "[server]\n", f"[server]\nkeepalive-timeout = {TIMEOUTS}\n"
                          f"request-timeout = {TIMEOUTS}\n", 1)
        open(self.env.config, "w").write(text)
        self.server = Server(self.env).start(nofile=NOFILE)
        self.pid = self.server.proc.pid
        self.traffic = soak.Traffic(self.server, self.env, media.source("mp4"))
        self.baseline = None

    def close(self):
        failures = self.server.stop()
        self.env.close()
        return failures

    def settle_to_baseline(self, label, timeout=30.0):
        """Failures unless the descriptors come back to the baseline exactly and the threads to
        at most the baseline (GLib's pools let a thread idle for 15 s before it exits, so a
        pool thread alive at the baseline may be gone later; more threads would be a leak)."""
        deadline = time.monotonic() + timeout
        while True:
            now = soak.proc_figures(self.pid)
            ok = now[0] == self.baseline[0] and now[1] <= self.baseline[1]
            if ok or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if not ok:
            return [f"{label}: {now[0]} descriptors and {now[1]} threads, against {self.baseline[0]} "
                    f"and {self.baseline[1]} after the warm-up ({describe_fds(self.pid)})"]
        return []


def describe_fds(pid):
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target else "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return "open: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))


def case_soak(w):
    f = []
    t = w.traffic
    # Warm-up: every kind at least once, then the figures to come back to.
    warm = t.mix(200, cold_every=40, seed=7)
    f += [f"warm-up {m}" for m in t.run(warm)]
    w.baseline = soak.wait_settled(w.pid)
    print(f"     baseline after {len(warm)} warm-up requests: {w.baseline[0]} descriptors, "
          f"{w.baseline[1]} threads, RSS {w.baseline[2] / 1e6:.1f} MB", flush=True)
    t0 = time.monotonic()
    kinds = t.mix(REQUESTS, cold_every=100, seed=11)
    f += t.run(kinds)
    dt = time.monotonic() - t0
    if not w.server.alive():
        return f + ["tws serve exited during the soak" + w.server.stderr_tail()]
    f += w.settle_to_baseline(f"after {REQUESTS} requests")
    after = soak.proc_figures(w.pid)
    print(f"     {REQUESTS} requests in {dt:.1f} s ({', '.join(f'{k} {v}' for k, v in sorted(t.counts.items()))}); "
          f"after: {after[0]} descriptors, {after[1]} threads, RSS {after[2] / 1e6:.1f} MB", flush=True)
    if after[2] - w.baseline[2] > 48e6 and not serve.sanitized():
        f.append(f"RSS grew {(after[2] - w.baseline[2]) / 1e6:.1f} MB over the soak (bound 48 MB)")
    # /metrics counts the same descriptors (its own connection is one more).
    m = w.server.metrics()
    reported = serve.metric_sum(m, "process_open_fds")
    for name in ("process_max_fds", "process_threads", "process_resident_memory_bytes"):
        if serve.metric_sum(m, name) is None:
            f.append(f"/metrics has no {name}")
    if serve.metric_sum(m, "process_max_fds") != NOFILE:
        f.append(f"process_max_fds is {serve.metric_sum(m, 'process_max_fds')}, want {NOFILE}")
    if reported is None or abs(reported - (w.baseline[0] + 1)) > 1:
        f.append(f"process_open_fds reports {reported}; /proc shows {w.baseline[0]} and the "
                 "scrape's own connection")
    return f


def case_idle(w):
    if w.baseline is None:
        return ["needs the soak case's baseline"]
    f = []
    s = w.server
    idle, half = [], []
    for _ in range(40):
        c = socket.create_connection((s.host, s.port), 30)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.append(c)
    for _ in range(20):
        c = socket.create_connection((s.host, s.port), 30)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        half.append(c)
    t0 = time.monotonic()
    for c in idle:  # the response, then the connection stays open (keep-alive) ...
        data = c.recv(4096)
        if not data.startswith(b"HTTP/1.1 200"):
            f.append(f"an idle connection's request got {data[:40]!r}")
    # ... until the server closes it: each socket reads EOF within the timeout and a margin.
    closed = 0
    for c in idle + half:
        c.settimeout(max(0.1, TIMEOUTS + 5 - (time.monotonic() - t0)))
        try:
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    closed += 1
                    break
        except (socket.timeout, ConnectionResetError):
            if isinstance(sys.exc_info()[1], ConnectionResetError):
                closed += 1
        c.close()
    dt = time.monotonic() - t0
    print(f"     {closed} of {len(idle) + len(half)} idle and half-header connections closed by "
          f"the server within {dt:.1f} s (timeouts {TIMEOUTS} s)", flush=True)
    if closed != len(idle) + len(half):
        f.append(f"the server closed {closed} of {len(idle) + len(half)} idle and half-header "
                 f"connections within {TIMEOUTS + 5} s")
    f += w.settle_to_baseline("after the idle connections")
    return f


def case_cap(w):
    if w.baseline is None:
        return ["needs the soak case's baseline"]
    f = []
    s = w.server
    held = []
    refused = 0
    for _ in range(300):
        try:
            held.append(socket.create_connection((s.host, s.port), 10))
        except OSError:
            refused += 1
    opened = soak.proc_figures(w.pid)[0]
    # The server answers /healthz on a fresh connection? It may be past the cap: then a 503.
    r_status = None
    try:
        r_status = s.get("/healthz", timeout=10).status
    except OSError as e:
        f.append(f"/healthz at the cap: {e}")
    if r_status not in (200, 503):
        f.append(f"/healthz at the cap: HTTP {r_status}, want 200 or 503")
    answered = 0
    for c in held:
        c.settimeout(TIMEOUTS + 5)
        try:
            data = c.recv(4096)
            if data.startswith(b"HTTP/1.1 503") or not data:
                answered += 1
        except socket.timeout:
            pass  # held under the cap: closed by the keep-alive timeout below
        except ConnectionResetError:
            answered += 1
    for c in held:
        c.close()
    if not w.server.alive():
        return f + ["tws serve exited at the connection cap" + s.stderr_tail()]
    print(f"     300 connections: the server held {opened} descriptors; {refused} refused by the kernel, {answered} turned away or "
          f"closed by the server; /healthz at the cap: {r_status}", flush=True)
    if answered == 0:
        f.append("no connection past the cap was turned away")
    r = s.get("/healthz", timeout=30)
    if r.status != 200:
        f.append(f"/healthz after the cap: HTTP {r.status}")
    f += w.settle_to_baseline("after the connections at the cap")
    m = w.server.metrics()
    if not serve.metric_sum(m, "tws_http_connections_refused_total"):
        f.append("tws_http_connections_refused_total did not count the refusals")
    return f


def main():
    run = Runner("connections never leak: soak under ulimit -n 256 (issue 19)")
    media.source("mp4")
    w = World()
    try:
        run.case(f"soak: {REQUESTS} requests of every kind, descriptors and threads back to the "
                 "warm-up level", case_soak, w)
        run.case("idle: keep-alive and half-header connections closed at their timeouts",
                 case_idle, w)
        run.case("cap: 300 connections at once under 256 descriptors; the server keeps answering",
                 case_cap, w)
    finally:
        run.stopped(w.close())
    run.finish()


if __name__ == "__main__":
    main()
