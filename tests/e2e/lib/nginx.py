# SPDX-License-Identifier: LGPL-2.1-or-later
"""Debian's nginx (/usr/sbin/nginx) on loopback in front of `tws serve` nodes, for the cluster
test. It runs as a non-daemon child (`-p DIR -c DIR/nginx.conf -e DIR/error.log -g 'daemon
off;'`) with its pid file, logs and temp paths in its own temporary directory; nothing outside
that directory is read or written besides the system's mime-less defaults.

The http-context part is deploy/nginx/tws.conf itself, with its `server HOST:PORT` lines in
the upstream replaced by the nodes and `listen 80;` by 127.0.0.1:PORT, so the test exercises
the shipped proxy settings (hash $uri consistent, proxy_buffering off, timeouts, headers).
The access log records each request's $uri and $upstream_addr, to see which node got what."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

NGINX = os.environ.get("TWS_NGINX", "/usr/sbin/nginx")
START_TIMEOUT = 30
STOP_TIMEOUT = 30


class NginxError(Exception):
    pass


def free_port():
    """A TCP port free on 127.0.0.1 right now (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_site(template, nodes, port):
    """deploy/nginx/tws.conf with the upstream's servers = `nodes` ("127.0.0.1:P") and the
    listen address 127.0.0.1:`port`."""
    m = re.search(r"upstream\s+tws\s*\{(.*?)\n\}", template, re.S)
    if not m:
        raise NginxError("no `upstream tws { ... }` block in the nginx site config")
    body = m.group(1)
    lines = [l for l in body.split("\n") if not re.match(r"\s*server\s", l)]
    first_server = next((i for i, l in enumerate(body.split("\n")) if re.match(r"\s*server\s", l)),
                        None)
    if first_server is None:
        raise NginxError("the upstream has no `server` line")
    lines[first_server:first_server] = [f"    server {n} max_fails=3 fail_timeout=10s;"
                                        for n in nodes]
    text = template[:m.start(1)] + "\n".join(lines) + template[m.end(1):]
    text, n = re.subn(r"^(\s*)listen\s+80\s*;", rf"\g<1>listen 127.0.0.1:{port};", text,
                      flags=re.M)
    if n != 1:
        raise NginxError("the site config has no single `listen 80;` line")
    return text


class Nginx:
    """site_template_path + nodes: the shipped proxy config in front of tws nodes. site: a
    server block of its own instead ("{port}" in it becomes the port). workers: nginx worker
    processes."""

    def __init__(self, site_template_path=None, nodes=(), port=None, site=None, workers=1):
        self.dir = tempfile.mkdtemp(prefix="tws-nginx-")
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.nodes = list(nodes)
        self.proc = None
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.access_log = os.path.join(self.dir, "access.log")
        if site is None:
            with open(site_template_path) as f:
                site = render_site(f.read(), self.nodes, self.port)
        else:
            site = site.replace("{port}", str(self.port))
        with open(os.path.join(self.dir, "tws-site.conf"), "w") as f:
            f.write(site)
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(self.dir, "tmp", d))
        user = "user root root;\n" if os.geteuid() == 0 else ""  # workers read DIR (0700)
        with open(self.conf, "w") as f:
            f.write(f"{user}"
                    f"worker_processes {workers};\n"
                    f"pid {self.dir}/nginx.pid;\n"
                    f"error_log {self.error_log} info;\n"
                    "events { worker_connections 256; }\n"
                    "http {\n"
                    "    default_type application/octet-stream;\n"
                    "    log_format up '$request_method $uri $status $upstream_addr "
                    "$upstream_status $request_time';\n"
                    f"    access_log {self.access_log} up;\n"
                    f"    client_body_temp_path {self.dir}/tmp/client_body;\n"
                    f"    proxy_temp_path {self.dir}/tmp/proxy;\n"
                    f"    fastcgi_temp_path {self.dir}/tmp/fastcgi;\n"
                    f"    uwsgi_temp_path {self.dir}/tmp/uwsgi;\n"
                    f"    scgi_temp_path {self.dir}/tmp/scgi;\n"
                    f"    include {self.dir}/tws-site.conf;\n"
                    "}\n")

    @property
    def base(self):
        return f"http://{self.host}:{self.port}"

    def _cmd(self, *extra):
        return [NGINX, "-p", self.dir + "/", "-c", self.conf, "-e", self.error_log,
                "-g", "daemon off;", *extra]

    def start(self):
        if not os.access(NGINX, os.X_OK):
            raise NginxError(f"{NGINX} is not installed (scripts/install-deps.sh installs nginx)")
        t = subprocess.run(self._cmd("-t", "-q"), capture_output=True, text=True, timeout=30)
        if t.returncode != 0:
            raise NginxError(f"nginx -t: {t.stderr.strip()[-800:]}")
        self._out = open(os.path.join(self.dir, "nginx.stderr"), "wb")
        self.proc = subprocess.Popen(self._cmd(), stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._out)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NginxError(f"nginx exited {self.proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise NginxError(f"nginx did not listen on {self.base} in {START_TIMEOUT} s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGQUIT (graceful), then SIGKILL after STOP_TIMEOUT; removes the directory unless
        TWS_E2E_KEEP is set."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGQUIT)
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            self.proc = None
        if os.environ.get("TWS_E2E_KEEP"):
            print(f"# kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=8):
        out = []
        for p in (self.error_log, os.path.join(self.dir, "nginx.stderr")):
            try:
                lines = open(p, "rb").read().decode(errors="replace").strip().splitlines()
                out += [l for l in lines if "[notice]" not in l and "[info]" not in l][-n:]
            except OSError:
                pass
        return " | ".join(out) if out else "(nginx logs empty)"

    def access(self):
        """[(method, uri, status, upstream_addr)] from the access log, in order."""
        rows = []
        try:
            text = open(self.access_log, "rb").read().decode(errors="replace")
        except OSError:
            return rows
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 4:
                rows.append((parts[0], parts[1], parts[2], parts[3]))
        return rows
