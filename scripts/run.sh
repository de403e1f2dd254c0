#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what is missing, builds, and runs `tws serve` on the embedded default (./data):
# makes a demo clip, creates its playlist over HTTP and prints a signed URL that plays in
# ffplay, VLC, Safari and hls.js. The server stays in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d build ] || meson setup build --wrap-mode=nodownload
ninja -C build
tws=build/service/tws

mkdir -p data/media/demo
src=data/media/demo/source.mp4
if [ ! -s "$src" ]; then
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=30" \
    -f lavfi -i "sine=frequency=440:duration=30" -c:v libx264 -preset ultrafast -g 250 \
    -c:a aac -b:a 128k -shortest "$src"
fi
"$tws" sign oss://media/demo/source.mp4 >/dev/null  # creates data/tws.conf on first use
token=$(sed -n 's/^tokens *= *\([^;]*\).*/\1/p' data/tws.conf | head -1)

log=data/serve.log
"$tws" serve > >(tee data/serve.out) 2> "$log" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 100); do grep -q '^listening on ' data/serve.out 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' data/serve.out | head -1)
[ -n "$base" ] || { echo "tws serve did not start; see $log" >&2; exit 1; }

curl -sS --fail-with-body -X POST -H "Authorization: Bearer $token" "$base/v1/playlists" -d '
{ "SourceURI": "oss://media/demo/source.mp4",
  "MasterURI": "oss://media/demo/out/master.m3u8",
  "Targets": [{ "URI": "oss://media/demo/out/720p", "Duration": 10, "InitialSegments": [2, 2, 2],
                "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 26, "Resolution": "x720"}},
                "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 128000}} }] }' \
  | tee data/demo-response.json
echo
url=$("$tws" sign oss://media/demo/out/master.m3u8 --expires 86400)
player="$base/player?src=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$url")"
echo
echo "server: $base (log: $log)"
echo "player: $player"
echo "play:   ffplay '$url'"
echo "        (or open the playlist URL in VLC or Safari)"
echo "Ctrl-C stops the server."
wait $server
