#!/usr/bin/env bash
# On the GPU machine: keeps the carried chunks of tts-cuda/bench/offline/bundle.sh where later calls find them.
#   bash tts-cuda/bench/offline/chunk.sh p0 [p1 ...]
set -e
mkdir -p /root/gpub
for f in "$@"; do cp "tts-cuda/target/offline/$f" /root/gpub/; done
ls -la /root/gpub
