#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Formats every C and C++ source of the tree with clang-format (.clang-format at the root).
# `scripts/format.sh --check` changes nothing and fails on any file that differs: what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(git ls-files -z '*.c' '*.cpp' '*.h' ':!:subprojects/*')
if [ "${1:-}" = "--check" ]; then
  if ! clang-format-14 --dry-run --Werror "${files[@]}" 2>/tmp/tws-format-check.$$; then
    n=$(grep -c ': error: code should be clang-formatted' /tmp/tws-format-check.$$ || true)
    grep ': error: code should be clang-formatted' /tmp/tws-format-check.$$ | cut -d: -f1 |
      sort -u | sed 's/^/not formatted: /' >&2
    echo "format: $n places differ from clang-format; run scripts/format.sh" >&2
    rm -f /tmp/tws-format-check.$$
    exit 1
  fi
  rm -f /tmp/tws-format-check.$$
  echo "format: ${#files[@]} files as clang-format writes them"
else
  clang-format-14 -i "${files[@]}"
fi
