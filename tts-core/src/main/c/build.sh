#!/usr/bin/env bash
# Builds the native library of nn.Int8Kernel, nn.CpuAttention, nn.DecoderBlockKernel, nn.HalfMatrix, nn.LogitsKernel, nn.Bf16Attention, nn.Fp32Attention, nn.LayerNorm.forwardMish, nn.SnakeKernel, nn.ThreadPools and nn.MallocTrimGuard (libtts_cpu.so) into the classes directory (called by Maven's compile phase, tts-core/pom.xml):
#   tts-core/src/main/c/build.sh <output classes dir>
# Linux x86-64 with gcc only. Elsewhere, or without gcc, it says so and builds nothing: Int8Kernel then reports
# itself unavailable and int8 weights use FBGEMM's kernel, as before.
set -euo pipefail
out="${1:?usage: build.sh <classes dir>}"
here="$(cd "$(dirname "$0")" && pwd)"
dest="$out/dev/localai/tts/core/nn/native/linux-x86_64"
if [[ "$(uname -s)" != Linux || "$(uname -m)" != x86_64 ]]; then
    echo "native kernels: not built ($(uname -s) $(uname -m); Linux x86-64 only): int8 weights use FBGEMM, decode attention LibTorch" >&2
    exit 0
fi
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "native kernels: not built (no $cc on PATH): int8 weights use FBGEMM, decode attention LibTorch" >&2
    exit 0
fi
# jni.h: from the JDK running the build (java.home is passed as JAVA_HOME), else javac's
jdk="${JAVA_HOME:-}"
if [[ -z "$jdk" || ! -f "$jdk/include/jni.h" ]]; then
    jdk="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
fi
mkdir -p "$dest"
lib="$dest/libtts_cpu.so"
if [[ -f "$lib" && -z "$(find "$here" -newer "$lib" -print -quit)" ]]; then
    exit 0 # nothing here is newer than the library
fi
# -ffp-contract=off: no fused multiply-adds, so every instruction set gives the same float bits; -fopenmp: the
# products run on LibTorch's OpenMP threads (its libgomp.so.1, loaded first, serves this library too)
"$cc" -O3 -std=gnu11 -fPIC -shared -fopenmp -ffp-contract=off -fno-strict-aliasing -Wall -Wextra \
    -I"$jdk/include" -I"$jdk/include/linux" -o "$lib.tmp" "$here"/*.c
mv -f "$lib.tmp" "$lib"
