# SPDX-License-Identifier: LGPL-2.1-or-later
"""The environment in which a GStreamer program that is not built with the sanitizers
(gst-launch-1.0, python3 with PyGObject) loads this build's plugin when the build is (the
second pass of scripts/test.sh): the sanitizer runtimes preloaded, since ASan must come first
in a process's library list, and a GStreamer registry of their own (processes without the
preload, such as the plugin scanner of another test, mark the plugin as unloadable in theirs).
Elsewhere the environment as it is."""

import os
import subprocess

_runtimes = None


def _runtime_paths():
    global _runtimes
    if _runtimes is None:
        _runtimes = []
        for name in ("libasan.so", "libubsan.so"):
            try:
                out = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True,
                                     text=True, timeout=30).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                continue
            if os.path.isabs(out) and os.path.exists(out):
                _runtimes.append(os.path.realpath(out))
    return _runtimes


def launch_env(base=None):
    env = dict(os.environ if base is None else base)
    if "ASAN_OPTIONS" not in env:
        return env
    preload = _runtime_paths() + ([env["LD_PRELOAD"]] if env.get("LD_PRELOAD") else [])
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    registry = env.get("GST_REGISTRY_1_0") or os.path.join(
        os.environ.get("TWS_BUILD_ROOT", "/tmp"), "registry.bin")
    env["GST_REGISTRY_1_0"] = registry + ".sanitized"
    return env
