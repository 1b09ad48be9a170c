#!/usr/bin/env bash
# On the GPU machine: keeps the carried chunks of tts-cuda/bench/offline/bundle.sh where later calls find them.
#   bash tts-cuda/bench/offline/chunk.sh p0 [p1 ...]
set -e
B="${GPUB:-/root/gpub}"
mkdir -p "$B"
for f in "$@"; do cp "tts-cuda/target/offline/$f" "$B/"; done
ls -la "$B"
