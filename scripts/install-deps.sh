#!/usr/bin/env bash
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
  python3-botocore
  nginx
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

# s3rver, pinned by tests/e2e/node/package-lock.json, into tests/e2e/node/node_modules (ignored).
node_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/node"
if [ ! -x "$node_dir/node_modules/.bin/s3rver" ]; then
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
