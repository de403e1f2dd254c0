#!/usr/bin/env bash
# Installs what is missing, builds, and runs tws on the embedded default (./data): makes a
# demo clip, writes its playlist and transcodes every segment, then prints where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d build ] || meson setup build
ninja -C build
tws=build/service/tws

mkdir -p data/media/demo
src=data/media/demo/source.mp4
if [ ! -s "$src" ]; then
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=30" \
    -f lavfi -i "sine=frequency=440:duration=30" -c:v libx264 -preset ultrafast -g 250 \
    -c:a aac -b:a 128k -shortest "$src"
fi
cat > data/demo-request.json <<'JSON'
{ "SourceURI": "oss://media/demo/source.mp4",
  "Targets": [{ "URI": "oss://media/demo/out/720p", "Duration": 10, "InitialSegments": [2, 2, 2],
                "Video": {"TranscodeVideo": {"Codec": "h264", "CRF": 26, "Resolution": "x720"}},
                "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 128000}} }] }
JSON
"$tws" playlist data/demo-request.json | tee data/demo-response.json
playlist=data/media/demo/out/720p.m3u8
count=$(grep -c '^#EXTINF' "$playlist")
"$tws" segment oss://media/demo/out/720p.m3u8 0 $((count - 1))
echo
echo "playlist: $playlist"
ls -1 data/media/demo/out/
echo "play it: ffplay $playlist"
