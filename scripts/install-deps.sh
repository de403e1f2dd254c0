#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the Debian bookworm packages tws needs to build, run and test.
# Idempotent: only missing packages are installed.
set -euo pipefail

packages=(
  meson ninja-build pkg-config g++ git curl
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libgtest-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  ffmpeg python3 python3-numpy python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  python3-botocore libseccomp-dev
  nginx wrk chromium
  clang-14 libclang-rt-14-dev clang-format-14
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js + npm for s3rver (the e2e S3 server): Debian's, unless a node with npm is already there.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, pinned by their package-lock.json files, into node_modules folders (ignored):
# hls.js for the player page (compiled into tws: install before building), s3rver and
# playwright-core for the end-to-end tests. Again only when the lock file changed.
root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in "$root/service/player" "$root/tests/e2e/node"; do
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error &&
       cp package-lock.json node_modules/.package-lock.json.installed)
  fi
done
