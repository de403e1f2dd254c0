#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The documentation covers the code (issue 23 "Done means" 1 and 2), read from the sources:

  api-coverage  every command `tws` dispatches (but the internal `worker`), every config key
                the config parser accepts, every error Code the service answers, every
                route of the HTTP server and every metric it exports is named in docs/API.md
  links         every relative link and every repository path in `backquotes` that looks like
                a file in README.md, docs/*.md and bench/README.md exists in the repository;
                none points outside it
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from harness import Runner  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def implemented():
    """(kind, name) pairs read from the sources."""
    out = []
    for cmd in re.findall(r'command == "([a-z-]+)"', read("service/cli/main.cpp")):
        if cmd not in ("worker", "--help", "-h", "help"):
            out.append(("command", cmd))
    for group in re.findall(r"check_keys\(kf(?:\.get\(\))?, [*a-z]+,\s*\{([^}]*)\}", read("service/core/config.cpp")):
        out += [("config key", k) for k in re.findall(r'"([a-z-]+)"', group)]
    for code in re.findall(r'return "([A-Za-z]+)";', read("service/http/http_errors.cpp")):
        if code != "InternalError":
            out.append(("error Code", code))
    server = read("service/cli/http_server.cpp")
    out += [("route", r) for r in re.findall(r'path == "(/[a-z0-9/]+)"', server)]
    out += [("route", r) for r in re.findall(r'"(/v1/[a-z]+)"', read("service/api/api.cpp"))]
    for src in ("service/core/metrics.cpp", "service/cli/http_server.cpp", "service/core/process_stats.cpp"):
        text = read(src)
        out += [("metric", m) for m in re.findall(r"# TYPE ([a-z_]+)", text)]
        out += [("metric", m) for m in re.findall(r'gauge\("([a-z_]+)"', text)]
    return sorted(set(out))


def case_api_coverage():
    doc = read("docs/API.md")
    found = implemented()
    missing = [f"{kind} {name}" for kind, name in found if name not in doc]
    kinds = {}
    for kind, _ in found:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"     read from the code: {', '.join(f'{n} {k}s' for k, n in sorted(kinds.items()))}",
          flush=True)
    f = [f"docs/API.md does not name the {m}" for m in missing]
    for kind in ("command", "config key", "error Code", "route", "metric"):
        if kinds.get(kind, 0) < 3:
            f.append(f"only {kinds.get(kind, 0)} {kind}s read from the code: the reading broke")
    return f


def case_links():
    f = []
    docs = ["README.md", "bench/README.md"] + [os.path.join("docs", d)
                                                for d in sorted(os.listdir(os.path.join(ROOT, "docs")))
                                                if d.endswith(".md")]
    checked = 0
    for rel in docs:
        text = read(rel)
        base = os.path.dirname(rel)
        if "../shared" in text:
            f.append(f"{rel} refers to ../shared, outside the repository")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            checked += 1
            path = os.path.normpath(os.path.join(ROOT, base, target))
            if not path.startswith(ROOT + os.sep) or not os.path.exists(path):
                f.append(f"{rel}: link {target} does not resolve inside the repository")
        for path in re.findall(r"`((?:service|gst|pipelines|tests|bench|deploy|scripts|docs)/[A-Za-z0-9_./-]+)`", text):
            checked += 1
            if not os.path.exists(os.path.join(ROOT, path.rstrip("/"))):
                f.append(f"{rel}: `{path}` is not in the repository")
    print(f"     {checked} links and paths in {len(docs)} documents", flush=True)
    return f


def main():
    run = Runner("the documentation covers the code (issue 23)")
    run.case("api-coverage: commands, config keys, Codes, routes, metrics in docs/API.md",
             case_api_coverage)
    run.case("links: every link and path resolves inside the repository", case_links)
    run.finish()


if __name__ == "__main__":
    main()
