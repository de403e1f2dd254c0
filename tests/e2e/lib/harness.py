# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tiny test runner for the e2e scripts: named cases, one line per result, and the final
summary line "N passed, M failed". A case fails on an exception or a non-empty list of
failures returned by its function."""

import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class Runner:
    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = []
        self.t0 = time.monotonic()
        only = os.environ.get("TWS_E2E_ONLY")  # comma-separated substrings of case names
        self.only = [s for s in only.split(",") if s] if only else None
        print(f"# {title}", flush=True)

    def selected(self, name):
        return self.only is None or any(s in name for s in self.only)

    def case(self, name, fn, *args, **kwargs):
        if not self.selected(name):
            return None
        t = time.monotonic()
        try:
            failures = fn(*args, **kwargs) or []
        except Exception as e:  # noqa: BLE001 - any error fails the case, with its trace
            failures = [f"{type(e).__name__}: {e}"]
            if type(e).__name__ not in ("TwsError", "CheckError"):
                frames = traceback.extract_tb(e.__traceback__)
                failures.append("  at " + " <- ".join(
                    f"{os.path.basename(fr.filename)}:{fr.lineno}" for fr in reversed(frames[-3:])))
        dt = time.monotonic() - t
        if failures:
            self.failed.append(name)
            print(f"FAIL {name} ({dt:.1f} s)", flush=True)
            for f in failures[:25]:
                print(f"     {f}", flush=True)
            if len(failures) > 25:
                print(f"     ... and {len(failures) - 25} more", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name} ({dt:.1f} s)", flush=True)
        return not failures

    def stopped(self, failures, what="server stop"):
        """Counts the failures of stopping the world (one line each), as a failed case."""
        if failures:
            print(f"FAIL {what}: " + "; ".join(failures), flush=True)
            self.failed.append(what)

    def finish(self):
        total = time.monotonic() - self.t0
        if self.failed:
            print(f"# failed: {', '.join(self.failed)}")
        print(f"# {self.title}: {total:.0f} s")
        print(f"{self.passed} passed, {len(self.failed)} failed", flush=True)
        sys.exit(1 if self.failed or self.passed == 0 else 0)
