# SPDX-License-Identifier: LGPL-2.1-or-later
"""Debian's Chromium on the tws player page, through tests/e2e/node/browser.js (playwright-core,
headless): Browser() starts one Chromium; step({...}) sends one step and returns what it
reported, with the page's window.tws figures (start-up and seek times, frames presented,
stalls, hls.js errors, levels and tracks). Used by test_browser.py and bench/startup.py, bench/cost.py."""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "node", "browser.js")
CHROMIUM = os.environ.get("TWS_CHROMIUM", "/usr/bin/chromium")
START_TIMEOUT = 120
STEP_MARGIN = 60   # seconds on top of a step's own timeout before the driver counts as hung


class BrowserError(Exception):
    pass


def available():
    """None when Chromium, node and playwright-core are there; else why not."""
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (scripts/install-deps.sh installs Debian's chromium)"
    if not shutil.which("node"):
        return "no node on PATH"
    if not os.path.isdir(os.path.join(HERE, "..", "node", "node_modules", "playwright-core")):
        return "tests/e2e/node/node_modules/playwright-core is missing (scripts/install-deps.sh)"
    return None


class Browser:
    """One headless Chromium for a series of steps (see node/browser.js)."""

    def __init__(self, idle=False, idle_group=False, cpus=None):
        """idle: the browser runs at the idle scheduling class (SCHED_IDLE, which its own
        priority changes do not undo). That puts it behind the server only where both share a
        scheduler autogroup, and playwright starts Chromium in a session (so an autogroup) of its
        own: where autogroups are on, the two then get about half the CPU each when both are
        busy. idle_group: Chromium's autogroups get the weakest weight too (idle_autogroups), so
        it gets only the CPU the server leaves. cpus: the CPUs Chromium may run on (a taskset
        list such as "1"), as if it ran on a machine of its own."""
        cmd = ["node", DRIVER, CHROMIUM]
        if idle:
            cmd = ["chrt", "--idle", "0"] + cmd
        if cpus:
            cmd = ["taskset", "-c", cpus] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        hello = self._read(START_TIMEOUT)
        if not hello.get("ready"):
            self.close()
            raise BrowserError(f"Chromium did not start: {hello.get('error')}")
        self.version = hello.get("version")
        self.idle_groups = idle_autogroups(self.proc.pid) if idle_group else 0


    def _read(self, timeout):
        line = [None]
        t = threading.Thread(target=lambda: line.__setitem__(0, self.proc.stdout.readline()),
                             daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            self.close()
            raise BrowserError(f"the Chromium driver answered nothing in {timeout} s")
        if not line[0]:
            err = self.proc.stderr.read()[-1500:] if self.proc.poll() is not None else ""
            raise BrowserError(f"the Chromium driver ended: {err.strip()}")
        try:
            return json.loads(line[0])
        except ValueError as e:
            raise BrowserError(f"the Chromium driver said {line[0][:300]!r}") from e

    def step(self, step):
        self.proc.stdin.write(json.dumps(step) + "\n")
        self.proc.stdin.flush()
        wait = step.get("timeoutMs", 30000) / 1000 + step.get("seconds", 0) + STEP_MARGIN
        return self._read(wait)

    def steps(self, steps):
        """Runs steps until one fails; returns the results (a failed one last)."""
        out = []
        for s in steps:
            out.append(self.step(s))
            if not out[-1].get("ok"):
                break
        return out

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(30)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def descendants(root):
    """Process ids below `root` (from /proc)."""
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    parent[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid]
        out += kids
        todo += kids
    return out


def idle_autogroups(root):
    """Gives the scheduler autogroups of `root`'s descendants other than ours the weakest
    weight (autogroup nice 19); returns how many. Where autogroups are on
    (/proc/sys/kernel/sched_autogroup_enabled), the scheduler first shares the CPU between
    sessions, then between tasks: Chromium, which playwright starts in a session of its own,
    would get half the CPU against the server whatever its tasks' class."""
    def group(pid):
        try:
            with open(f"/proc/{pid}/autogroup") as f:
                return f.read().split()[0]
        except OSError:
            return None
    ours, done = group(os.getpid()), set()
    for pid in descendants(root):
        g = group(pid)
        if g is None or g == ours or g in done:
            continue
        for attempt in range(20):  # the kernel takes one change per 100 ms from non-admins
            try:
                with open(f"/proc/{pid}/autogroup", "w") as f:
                    f.write("19")
                done.add(g)
                break
            except BlockingIOError:
                time.sleep(0.11)
            except OSError:
                break
    return len(done)


def player_url(page_base, playlist_url, **params):
    """The player page at `page_base` (scheme://host:port) playing `playlist_url`."""
    return f"{page_base}/player?" + urllib.parse.urlencode({"src": playlist_url, **params})


def cross_origin(url, host="localhost"):
    """The same server under another host name: another origin, so CORS is exercised."""
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, f"{host}:{u.port}", u.path, u.query, u.fragment))
