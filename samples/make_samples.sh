#!/usr/bin/env bash
# Rebuild the sample videos in samples/ from ffmpeg test sources and espeak-ng speech.
# Needs: ffmpeg, espeak-ng. Output is deterministic enough for tests (speech text is fixed).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# talk.mp4: 8 s moving test pattern with a spoken sentence (English, espeak-ng).
espeak-ng -v en-us -s 150 -w "$tmp/speech.wav" \
  "Hello. My name is Ada. The meeting starts at nine tomorrow, in room four."
ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc2=size=320x240:rate=25:duration=8" \
  -i "$tmp/speech.wav" -af "apad" -t 8 -c:v libx264 -pix_fmt yuv420p -crf 30 -c:a aac -b:a 48k \
  -ar 16000 -ac 1 talk.mp4

# silent.mp4: 5 s of colour bars with no audio track.
ffmpeg -nostdin -loglevel error -y -f lavfi -i "smptebars=size=320x240:rate=25:duration=5" \
  -c:v libx264 -pix_fmt yuv420p -crf 30 -an silent.mp4
ls -l talk.mp4 silent.mp4
