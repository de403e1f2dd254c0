#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the libFuzzer targets (tests/fuzz: clang-14, ASan + UBSan) in build-fuzz and runs
# each for TWS_FUZZ_SECONDS (default 30) from its seed corpus (tests/fuzz/corpus/NAME, read
# only: new inputs go to a temporary directory). Exit status 1 on any finding; the input that
# crashed is kept as build-fuzz/fuzz-NAME-crash-* and the log as build-fuzz/fuzz-NAME.log.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${TWS_FUZZ_BUILD_DIR:-build-fuzz}
if [ ! -d "$dir" ]; then
  CC=clang-14 CXX=clang++-14 meson setup "$dir" -Dfuzz=true -Dtests=false -Dplayer=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false --wrap-mode=nodownload
fi
ninja -C "$dir"
seconds=${TWS_FUZZ_SECONDS:-30}
status=0
for target in "$dir"/tests/fuzz/fuzz_*; do
  name=${target##*/fuzz_}
  [ -f "$target" ] && [ -x "$target" ] && [ "${name%%.*}" = "$name" ] || continue
  work=$(mktemp -d)
  log="$dir/fuzz-$name.log"
  if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$target" -max_total_time="$seconds" \
      -artifact_prefix="$dir/fuzz-$name-" "$work" "tests/fuzz/corpus/$name" > "$log" 2>&1; then
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    echo "fuzz $name: no finding in $seconds s (${runs:-?} inputs)"
  else
    echo "fuzz $name: FINDING, see $log:"
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
    status=1
  fi
  rm -rf "$work"
done
exit $status
