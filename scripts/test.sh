#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what is missing, builds, and runs every test (unit + end-to-end), then all of them
# again under AddressSanitizer/UBSan, then the fuzz targets for a bounded time (scripts/fuzz.sh).
# The README's test command; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

status=0
# The sources as clang-format writes them (scripts/format.sh applies it).
bash scripts/format.sh --check || status=$?

build=${TWS_BUILD_DIR:-build}
[ -d "$build" ] || meson setup "$build" -Dwerror=true --wrap-mode=nodownload
ninja -C "$build"
logs=("$build")
meson test -C "$build" --print-errorlogs --num-processes 1 "$@" || status=$?

if [ "${TWS_SKIP_SANITIZERS:-0}" != 1 ] && [ $# -eq 0 ]; then
  # The whole suite again with tws, its plugin and the unit tests built with ASan + UBSan.
  asan=${build}-asan
  [ -d "$asan" ] || meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false --wrap-mode=nodownload
  ninja -C "$asan"
  # The unit tests with LeakSanitizer on: tests/lsan.supp names the libraries' own one-time
  # allocations (each line explained there); any other leak fails. Full stacks on malloc, so
  # that the suppressions match frames inside the libraries.
  # LeakSanitizer's own tracer now and then dies while it stops the threads at exit ("Tracer
  # caught signal 11 ... LeakSanitizer has encountered a fatal error"): that is no leak
  # found, and the run is repeated once; a leak report fails at once.
  lsan_unit() {
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
      LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp":print_suppressions=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      meson test -C "$asan" --print-errorlogs --num-processes 1 unit
  }
  if ! lsan_unit; then
    log="$asan/meson-logs/testlog.txt"
    if grep -q "LeakSanitizer has encountered a fatal error" "$log" &&
        ! grep -q "detected memory leaks" "$log"; then
      echo "LeakSanitizer's tracer failed (no leak reported): the unit tests once more"
      lsan_unit || status=$?
    else
      status=1
    fi
  fi
  # Everything under ASan + UBSan (leaks are checked in the unit tests above only).
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C "$asan" --print-errorlogs --num-processes 1 || status=$?
  logs+=("$asan")
  # libFuzzer targets, each for a bounded time from its seed corpus.
  bash scripts/fuzz.sh || status=$?
fi

# One closing line over every test run (meson's own summary is per suite).
/usr/bin/python3 - "${logs[@]}" <<'PY'
import json, os, sys
passed = failed = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        continue
    for line in open(log):
        r = json.loads(line).get("result")
        if r == "OK":
            passed += 1
        elif r not in ("SKIP", None):
            failed += 1
print(f"tests: {passed} passed, {failed} failed")
PY
exit $status
